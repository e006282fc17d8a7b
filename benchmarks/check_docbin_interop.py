"""Check that `.spacy` files pass both ways between transfer-cli and spaCy 3.8.

Run with the benchmark venv (spaCy is imported here, never by transfer_cli/ or tests/):

    .venv-bench/bin/python benchmarks/check_docbin_interop.py [--data-dir ../shared/data]

Our side runs in the project venv (`.venv/bin/python`, or $PYTHON) as subprocesses.
Checks, each printed with its result (exit status 1 if any fails):
  1. our spaCy symbol table (transfer_cli/tokens/spacy_symbols.py) equals spacy.symbols.NAMES
  2. `transfer-cli convert en_ewt-ud-dev.conllu -n 10` holds 2,001 sentences and 25,147 tokens
  3. spaCy reads our converted file: per doc identical to what `spacy convert` made from the
     same CoNLL-U (words, spaces, tags, pos, morphs, lemmas, heads, deps, sentence starts)
  4. we read spaCy's converted file: identical words, tags, pos, morphs, heads, deps, sentence starts
  5. we read the spaCy-written fixture tests/fixtures/spacy_docbin.spacy and write it back;
     spaCy reads our file and finds what tests/fixtures/spacy_docbin_expected.json records
  6. a doc we build with symbol-valued strings (word "X", label PERSON, dep nsubj), a span
     group, cats and user data reads back in spaCy as built
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import spacy
import spacy.symbols
from spacy.tokens import DocBin

REPO = Path(__file__).resolve().parent.parent
OUR_PYTHON = os.environ.get("PYTHON", str(REPO / ".venv" / "bin" / "python"))
FIELDS = ("words", "spaces", "tags", "pos", "morphs", "lemmas", "heads", "deps", "sent_starts")

failures: List[str] = []


def report(name: str, ok: bool, detail: str = "") -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else ""))
    if not ok:
        failures.append(name)


def ours(code: str, *args: str) -> Any:
    """Run code in our venv; it prints one JSON value."""
    out = subprocess.run([OUR_PYTHON, "-c", code, *args], cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"our side failed:\n{out.stderr}")
    return json.loads(out.stdout)


def spacy_fields(doc) -> Dict[str, list]:
    return {"words": [t.text for t in doc], "spaces": [bool(t.whitespace_) for t in doc],
            "tags": [t.tag_ for t in doc], "pos": [t.pos_ for t in doc], "morphs": [str(t.morph) for t in doc],
            "lemmas": [t.lemma_ for t in doc], "heads": [t.head.i for t in doc], "deps": [t.dep_ for t in doc],
            "sent_starts": [bool(t.is_sent_start) for t in doc]}


OUR_FIELDS = '''
def fields(doc):
    return {"words": doc.words, "spaces": doc.spaces, "tags": [t.tag_ for t in doc], "pos": [t.pos_ for t in doc],
            "morphs": [t.morph for t in doc], "lemmas": [t.lemma_ for t in doc], "heads": [t.head.i for t in doc],
            "deps": [t.dep_ for t in doc], "sent_starts": [bool(t.is_sent_start) for t in doc]}
'''


def compare(name: str, got: List[Dict[str, list]], expected: List[Dict[str, list]], fields=FIELDS) -> None:
    if len(got) != len(expected):
        report(name, False, f"{len(got)} docs vs {len(expected)}")
        return
    bad: Dict[str, int] = {}
    example = ""
    for i, (g, e) in enumerate(zip(got, expected)):
        for field in fields:
            if g[field] != e[field]:
                bad[field] = bad.get(field, 0) + 1
                if not example:
                    diffs = [(k, a, b) for k, (a, b) in enumerate(zip(g[field], e[field])) if a != b][:3]
                    example = f"doc {i} {field}: {diffs or (len(g[field]), len(e[field]))}"
    n_tokens = sum(len(d["words"]) for d in expected)
    report(name, not bad, f"{len(got)} docs, {n_tokens} tokens, fields {', '.join(fields)}"
           + (f"; mismatching docs per field {bad}; e.g. {example}" if bad else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    dev = Path(args.data_dir) / "en_ewt" / "en_ewt-ud-dev.conllu"
    nlp = spacy.blank("en")
    tmp = Path(tempfile.mkdtemp(prefix="docbin-interop-"))

    # 1. symbol table
    ns: Dict[str, Any] = {}
    exec((REPO / "transfer_cli" / "tokens" / "spacy_symbols.py").read_text(), ns)
    report("symbol table equals spacy.symbols.NAMES", ns["SYMBOL_NAMES"] == list(spacy.symbols.NAMES),
           f"{len(ns['SYMBOL_NAMES'])} symbols")

    # 2. both converters on EWT dev
    (tmp / "spacy").mkdir()
    subprocess.run([sys.executable, "-m", "spacy", "convert", str(dev), str(tmp / "spacy"), "-n", "10",
                    "-c", "conllu"], check=True, capture_output=True)
    subprocess.run([str(Path(OUR_PYTHON).parent / "transfer-cli"), "convert", str(dev), str(tmp / "ours"), "-n", "10"],
                   check=True, capture_output=True)
    spacy_file = tmp / "spacy" / f"{dev.stem}.spacy"
    our_file = tmp / "ours" / f"{dev.stem}.spacy"
    spacy_docs = [spacy_fields(d) for d in DocBin().from_disk(spacy_file).get_docs(nlp.vocab)]
    our_docs_in_spacy = list(DocBin().from_disk(our_file).get_docs(nlp.vocab))
    n_sents = sum(len(list(d.sents)) for d in our_docs_in_spacy)
    n_tokens = sum(len(d) for d in our_docs_in_spacy)
    report("our convert of EWT dev -n 10: 2,001 sentences, 25,147 tokens (as read by spaCy)",
           (n_sents, n_tokens) == (2001, 25147), f"{n_sents} sentences, {n_tokens} tokens, "
           f"{len(our_docs_in_spacy)} docs")

    # 3. spaCy reads our file: the same as spacy convert's, "_" lemmas (EWT's goeswith words) included
    compare("spaCy reads our .spacy: same as spacy convert",
            [spacy_fields(d) for d in our_docs_in_spacy], spacy_docs)

    # 4. we read spaCy's file
    code = OUR_FIELDS + '''
import json, sys
from transfer_cli.tokens import Vocab
from transfer_cli.tokens.docbin import DocBin
print(json.dumps([fields(d) for d in DocBin().from_disk(sys.argv[1]).get_docs(Vocab())]))
'''
    compare("we read spaCy's .spacy: same as spaCy reads it", ours(code, str(spacy_file)), spacy_docs)

    # 5. the spaCy-written fixture, passed through our DocBin, read by spaCy
    fixture = REPO / "tests" / "fixtures" / "spacy_docbin.spacy"
    expected = json.loads((REPO / "tests" / "fixtures" / "spacy_docbin_expected.json").read_text())["docs"]
    rewritten = tmp / "fixture_rewritten.spacy"
    code = '''
import json, sys
from transfer_cli.tokens import Vocab
from transfer_cli.tokens.docbin import DocBin
docs = list(DocBin().from_disk(sys.argv[1]).get_docs(Vocab()))
DocBin(docs=docs).to_disk(sys.argv[2])
print(json.dumps(len(docs)))
'''
    ours(code, str(fixture), str(rewritten))
    got = []
    for doc in DocBin().from_disk(rewritten).get_docs(nlp.vocab):
        fields = spacy_fields(doc)
        fields["ents"] = [[e.start, e.end, e.label_] for e in doc.ents]
        fields["ent_kb_ids"] = [e.kb_id_ for e in doc.ents]
        fields["cats"] = doc.cats
        fields["sent_starts"] = [t.is_sent_start for t in doc]
        got.append(fields)
    compare("spaCy reads the fixture after our read + write", got, expected,
            FIELDS + ("ents", "ent_kb_ids", "cats"))

    # 6. symbol-valued strings, span groups, cats, user data
    built = tmp / "built.spacy"
    code = '''
import json, sys
from transfer_cli.tokens import Doc, Span, Vocab
from transfer_cli.tokens.docbin import DocBin
doc = Doc(Vocab(), words=["X", "met", "Ann", "in", "Paris", "."], spaces=[True, True, True, True, False, False],
          tags=["NNP", "VBD", "NNP", "IN", "NNP", "."], pos=["PROPN", "VERB", "PROPN", "ADP", "PROPN", "PUNCT"],
          morphs=["Number=Sing", "Tense=Past|Mood=Ind", "", "", "Number=Sing", ""],
          lemmas=["X", "meet", "Ann", "in", "Paris", "."], heads=[1, 1, 1, 4, 1, 1],
          deps=["nsubj", "ROOT", "dobj", "case", "obl", "punct"], sent_starts=[True] + [False] * 5,
          ents=["U-PERSON", "O", "U-PERSON", "O", "U-GPE", "O"])
doc.cats = {"travel": 1.0, "sport": 0.0}
doc.spans["sc"] = [Span(doc, 0, 3, label="MEETING"), Span(doc, 4, 5, label="LOC", kb_id="Q90")]
doc.user_data["source"] = "interop check"
DocBin(store_user_data=True, docs=[doc]).to_disk(sys.argv[1])
print(json.dumps(1))
'''
    ours(code, str(built))
    doc = next(DocBin().from_disk(built).get_docs(nlp.vocab))
    got_built = {**spacy_fields(doc), "ents": [(e.text, e.label_) for e in doc.ents], "cats": doc.cats,
                 "spans": [(s.text, s.label_, s.kb_id_) for s in doc.spans["sc"]],
                 "user_data": doc.user_data.get("source")}
    want = {"words": ["X", "met", "Ann", "in", "Paris", "."], "tags": ["NNP", "VBD", "NNP", "IN", "NNP", "."],
            "pos": ["PROPN", "VERB", "PROPN", "ADP", "PROPN", "PUNCT"],
            "morphs": ["Number=Sing", "Mood=Ind|Tense=Past", "", "", "Number=Sing", ""],
            "heads": [1, 1, 1, 4, 1, 1], "deps": ["nsubj", "ROOT", "dobj", "case", "obl", "punct"],
            "ents": [("X", "PERSON"), ("Ann", "PERSON"), ("Paris", "GPE")], "cats": {"travel": 1.0, "sport": 0.0},
            "spans": [("X met Ann", "MEETING", ""), ("Paris", "LOC", "Q90")], "user_data": "interop check"}
    diffs = {k: (got_built[k], v) for k, v in want.items() if got_built[k] != v}
    report("spaCy reads a doc we built (symbols, spans, cats, user data)", not diffs, str(diffs) if diffs else "")

    print(f"\n{len(failures)} failed" if failures else "\nall checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
