"""Write the licensed excerpts under sample_data/ from the full data sets in DATA_DIR.

Run once by a maintainer (the output is committed); tests and the demo only read
sample_data/. Standard library only, deterministic (fixed seed), so a re-run on the
same inputs writes byte-identical files:

    python benchmarks/make_sample_data.py --data-dir ../shared/data

What it writes and why each choice was made is in sample_data/README.md. The whole
folder must stay under 2 MB, so the byte budgets below decide the excerpt sizes.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import re
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "sample_data"
SEED = 0

# Byte budgets (the folder's total must stay below 2,000,000 bytes).
EWT_TRAIN_BYTES = 880_000
EWT_DEV_BYTES = 230_000
WIKI_BYTES = 150_000
GLOVE_ROWS = 700
DOC_SENTS = 25  # at most the first 25 sentences of a document, so the excerpt spans many documents
GENRES = ("answers", "email", "newsgroup", "reviews", "weblog")


# --------------------------------------------------------------------------- CoNLL-U


def read_conllu_docs(path: Path) -> List[List[str]]:
    """Split a CoNLL-U file into documents (lists of sentence blocks, verbatim)."""
    docs: List[List[str]] = []
    for block in path.read_text(encoding="utf8").split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if block.startswith("# newdoc") or not docs:
            docs.append([])
        docs[-1].append(block + "\n\n")
    return docs


def genre_of(block: str) -> str:
    sent_id = re.search(r"^# sent_id = (\S+)", block, re.M)
    assert sent_id is not None, block[:200]
    return sent_id.group(1).split("-", 1)[0]


def has_empty_node(doc: List[str]) -> bool:
    return any(re.search(r"^\d+\.\d+\t", s, re.M) for s in doc)


def pick_documents(docs: List[List[str]], budget: int, rng: random.Random) -> List[List[str]]:
    """The opening sentences of randomly drawn documents, stratified by genre in proportion to the
    source, kept in source order. Each unit starts at its document's `# newdoc` line, so blocks stay
    verbatim. One unit with empty nodes (IDs like 8.1) is always included so readers meet them.
    """
    total_sents = sum(len(d) for d in docs)
    share = {g: sum(len(d) for d in docs if genre_of(d[0]) == g) / total_sents for g in GENRES}
    docs = [doc[:DOC_SENTS] for doc in docs]
    by_genre: Dict[str, List[int]] = collections.defaultdict(list)
    for i, doc in enumerate(docs):
        by_genre[genre_of(doc[0])].append(i)
    for ids in by_genre.values():
        rng.shuffle(ids)
    chosen: List[int] = []
    empty = [i for i in range(len(docs)) if has_empty_node(docs[i])]
    if empty:
        chosen.append(min(empty, key=lambda i: sum(len(s) for s in docs[i])))
    size = lambda ids: sum(len(s.encode("utf8")) for i in ids for s in docs[i])  # noqa: E731
    for genre in GENRES:
        genre_budget = budget * share[genre]
        used = size([i for i in chosen if genre_of(docs[i][0]) == genre])
        for i in by_genre[genre]:
            if i in chosen:
                continue
            doc_bytes = size([i])
            if used + doc_bytes > genre_budget:
                continue
            chosen.append(i)
            used += doc_bytes
    return [docs[i] for i in sorted(chosen)]


def surface_tokens(block: str) -> Tuple[str, List[dict]]:
    """The sentence text and its syntactic words, each with the character span of its surface token."""
    text = re.search(r"^# text = (.*)$", block, re.M).group(1)  # type: ignore[union-attr]
    words: List[dict] = []
    pos = 0
    mwt_end = 0
    mwt_span: Optional[Tuple[int, int]] = None
    for line in block.split("\n"):
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        tid = cols[0]
        if "." in tid:
            continue  # empty node: no surface form
        if "-" in tid:
            start_id, end_id = (int(x) for x in tid.split("-"))
            start = text.index(cols[1], pos)
            assert text[pos:start].strip() == "", (text, cols[1])
            mwt_span = (start, start + len(cols[1]))
            mwt_end = end_id
            pos = mwt_span[1]
            continue
        wid = int(tid)
        if mwt_span is not None and wid <= mwt_end:
            span = mwt_span
        else:
            mwt_span = None
            start = text.index(cols[1], pos)
            assert text[pos:start].strip() == "", (text, cols[1])
            span = (start, start + len(cols[1]))
            pos = span[1]
        words.append({"form": cols[1], "upos": cols[3], "start": span[0], "end": span[1]})
    return text, words


# --------------------------------------------------------------------------- derived sets


def entity_spans(words: List[dict]) -> List[List]:
    """Transparent rule: a maximal run of PROPN words is a NAME, a maximal run of NUM words a NUMBER.

    A hyphen between two PROPN words joins them (Al-Zaman is one NAME).
    """
    labels = {"PROPN": "NAME", "NUM": "NUMBER"}
    ents: List[List] = []
    i = 0
    while i < len(words):
        label = labels.get(words[i]["upos"])
        if label is None:
            i += 1
            continue
        j = i + 1
        while j < len(words):
            if words[j]["upos"] == words[i]["upos"]:
                j += 1
            elif (
                label == "NAME"
                and words[j]["form"] == "-"
                and j + 1 < len(words)
                and words[j + 1]["upos"] == "PROPN"
                and words[j]["start"] == words[j - 1]["end"]
                and words[j + 1]["start"] == words[j]["end"]
            ):
                j += 2
            else:
                break
        start, end = words[i]["start"], words[j - 1]["end"]
        if ents and ents[-1][1] > start:  # two runs inside one multiword token: keep the first
            i = j
            continue
        ents.append([start, end, label])
        i = j
    return ents


def write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def sentences(docs: List[List[str]]) -> Iterator[str]:
    for doc in docs:
        yield from doc


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    data: Path = args.data_dir
    rng = random.Random(SEED)

    ewt = OUT / "en_ewt"
    ewt.mkdir(parents=True, exist_ok=True)
    train = pick_documents(read_conllu_docs(data / "en_ewt" / "en_ewt-ud-train.conllu"), EWT_TRAIN_BYTES, rng)
    dev = pick_documents(read_conllu_docs(data / "en_ewt" / "en_ewt-ud-dev.conllu"), EWT_DEV_BYTES, rng)
    for name, docs in (("train", train), ("dev", dev)):
        (ewt / f"{name}.conllu").write_text("".join(sentences(docs)), encoding="utf8")
    shutil.copyfile(data / "en_ewt" / "LICENSE.txt", ewt / "LICENSE.txt")

    ner = OUT / "ner"
    textcat = OUT / "textcat"
    ner.mkdir(exist_ok=True)
    textcat.mkdir(exist_ok=True)
    for name, docs in (("train", train), ("dev", dev)):
        parsed = [(genre_of(s), *surface_tokens(s)) for s in sentences(docs)]
        write_jsonl(ner / f"{name}.jsonl", ({"text": t, "entities": entity_spans(w)} for _, t, w in parsed))
        write_jsonl(textcat / f"{name}.jsonl", ({"text": t, "label": g} for g, t, _ in parsed))

    raw = OUT / "raw"
    raw.mkdir(exist_ok=True)
    wiki_lines = (data / "pretrain_text" / "wiki_en.jsonl").read_text(encoding="utf8").splitlines(keepends=True)
    order = list(range(len(wiki_lines)))
    rng.shuffle(order)
    keep: List[int] = []
    used = 0
    for i in order:
        n = len(wiki_lines[i].encode("utf8"))
        if used + n > WIKI_BYTES:
            continue
        keep.append(i)
        used += n
    (raw / "wiki_en.jsonl").write_text("".join(wiki_lines[i] for i in sorted(keep)), encoding="utf8")

    vectors = OUT / "vectors"
    vectors.mkdir(exist_ok=True)
    counts: collections.Counter = collections.Counter()
    for block in sentences(train + dev):
        counts.update(w["form"].lower() for w in surface_tokens(block)[1])
    with gzip.open(data / "vectors" / "glove.6B.50d.top50k.txt.gz", "rt", encoding="utf8") as f:
        glove = {line.split(" ", 1)[0]: (n, line) for n, line in enumerate(f)}
    frequent = [w for w, _ in counts.most_common() if w in glove][:GLOVE_ROWS]
    rows = sorted((glove[w] for w in frequent), key=lambda r: r[0])
    (vectors / "glove_small.txt").write_text("".join(line for _, line in rows), encoding="utf8")
    covered = sum(counts[w] for w in frequent)
    print(
        f"train {sum(len(d) for d in train)} sents / {len(train)} docs, dev {sum(len(d) for d in dev)} sents / "
        f"{len(dev)} docs, wiki {len(keep)} records, glove {len(rows)} rows covering "
        f"{covered / sum(counts.values()):.1%} of excerpt tokens"
    )


if __name__ == "__main__":
    main()
