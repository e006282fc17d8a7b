"""sample_data/ is present, parses, is documented and stays within its 2 MB budget.

Checked with the standard library only, so a broken excerpt is reported here and not as a
puzzling failure in some reader's test.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import List

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
BUDGET_BYTES = 2_000_000
EWT = ["en_ewt/train.conllu", "en_ewt/dev.conllu"]
GENRES = {"answers", "email", "newsgroup", "reviews", "weblog"}
DATA_FILES = EWT + [
    "ner/train.jsonl",
    "ner/dev.jsonl",
    "textcat/train.jsonl",
    "textcat/dev.jsonl",
    "raw/wiki_en.jsonl",
    "vectors/glove_small.txt",
]


def _jsonl(name: str) -> List[dict]:
    rows = []
    with (SAMPLE / name).open(encoding="utf8") as f:
        for n, line in enumerate(f, 1):
            assert line.strip(), f"{name}:{n}: empty line"
            rows.append(json.loads(line))
    return rows


def _sentences(name: str) -> List[List[str]]:
    text = (SAMPLE / name).read_text(encoding="utf8")
    assert text.endswith("\n\n"), f"{name} must end with a blank line"
    return [block.split("\n") for block in text.strip("\n").split("\n\n")]


def test_total_size_within_budget() -> None:
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total <= BUDGET_BYTES, f"sample_data holds {total:,} bytes, budget {BUDGET_BYTES:,}"


@pytest.mark.parametrize("name", DATA_FILES)
def test_file_exists_and_is_documented(name: str) -> None:
    path = SAMPLE / name
    assert path.is_file() and path.stat().st_size > 0
    assert (path.parent / "SOURCE.md").is_file(), f"{path.parent.name}/ has no SOURCE.md"
    readme = (SAMPLE / "README.md").read_text(encoding="utf8")
    assert f"`{name}`" in readme, f"README.md does not list {name}"
    assert f"{path.stat().st_size:,}" in readme, f"README.md gives a stale size for {name}"


@pytest.mark.parametrize("name", EWT)
def test_conllu_is_well_formed(name: str) -> None:
    sentences = _sentences(name)
    assert len(sentences) >= 200
    n_mwt = n_empty = 0
    for lines in sentences:
        comments = [ln for ln in lines if ln.startswith("#")]
        assert any(c.startswith("# sent_id = ") for c in comments)
        text = next(c for c in comments if c.startswith("# text = "))[len("# text = "):]
        rows = [ln.split("\t") for ln in lines if not ln.startswith("#")]
        assert all(len(r) == 10 for r in rows), f"{name}: a token line without 10 columns near {text!r}"
        words = [r for r in rows if r[0].isdigit()]
        assert [int(r[0]) for r in words] == list(range(1, len(words) + 1))
        assert all(0 <= int(r[6]) <= len(words) for r in words)
        assert sum(r[6] == "0" for r in words) == 1, f"{name}: not one root in {text!r}"
        # The surface tokens (multiword-token lines replace their words) rebuild "# text".
        rebuilt, skip_to = "", 0
        for r in rows:
            if "." in r[0]:
                n_empty += 1
                continue
            if "-" in r[0]:
                n_mwt += 1
                skip_to = int(r[0].split("-")[1])
            elif int(r[0]) <= skip_to:
                continue
            rebuilt += r[1] + ("" if "SpaceAfter=No" in r[9] else " ")
        assert rebuilt.rstrip(" ") == text
    assert n_mwt > 0 and n_empty > 0, f"{name} should include multiword tokens and empty nodes"


@pytest.mark.parametrize("split", ["train", "dev"])
def test_ner_spans_are_valid(split: str) -> None:
    rows = _jsonl(f"ner/{split}.jsonl")
    assert len(rows) == len(_sentences(f"en_ewt/{split}.conllu"))
    labels = set()
    for row in rows:
        assert set(row) == {"text", "entities"}
        last_end = 0
        for start, end, label in row["entities"]:
            assert last_end <= start < end <= len(row["text"])
            span = row["text"][start:end]
            assert span == span.strip(), f"entity with outer whitespace: {span!r}"
            labels.add(label)
            last_end = end
    assert labels == {"NAME", "NUMBER"}


@pytest.mark.parametrize("split", ["train", "dev"])
def test_textcat_labels(split: str) -> None:
    rows = _jsonl(f"textcat/{split}.jsonl")
    assert all(set(r) == {"text", "label"} and r["text"].strip() for r in rows)
    assert {r["label"] for r in rows} == GENRES
    texts = [ln[len("# text = "):] for s in _sentences(f"en_ewt/{split}.conllu") for ln in s if ln.startswith("# text = ")]
    assert [r["text"] for r in rows] == texts


def test_raw_text() -> None:
    rows = _jsonl("raw/wiki_en.jsonl")
    assert len(rows) >= 100
    assert all(set(r) == {"text"} and len(r["text"].split()) > 5 for r in rows)


def test_vectors_table() -> None:
    words = []
    with (SAMPLE / "vectors/glove_small.txt").open(encoding="utf8") as f:
        for n, line in enumerate(f, 1):
            fields = line.rstrip("\n").split(" ")
            assert len(fields) == 51, f"glove_small.txt:{n}: {len(fields)} fields, expected 51"
            assert all(math.isfinite(float(x)) for x in fields[1:])
            words.append(fields[0])
    assert len(words) == len(set(words)) >= 500
    assert words[0] == "the" and {"i", "you", "and", "."} <= set(words)
    assert all(w == w.lower() and not re.search(r"\s", w) for w in words)
