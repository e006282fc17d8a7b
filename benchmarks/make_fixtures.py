"""Write the spaCy-produced test fixtures under tests/fixtures/ (run once; the output is committed).

This is the one place where spaCy 3.8 produces facts our tests compare against. It runs in the
benchmark venv only (spaCy is never imported by transfer_cli/ or tests/):

    .venv-bench/bin/python benchmarks/make_fixtures.py

It reads only repo files (sample_data/en_ewt/*.conllu) and writes:

  tests/fixtures/spacy_docbin.spacy           a DocBin (store_user_data=False) of 20 docs built from
                                              the EWT excerpt: words, spaces, tags, pos, morphs,
                                              lemmas, heads, deps, sentence starts, entities (full,
                                              partly missing, missing), a kb_id, doc.cats, an empty
                                              doc and a doc with unknown spaces
  tests/fixtures/spacy_docbin_expected.json   what spaCy reads back from that file, per doc
  tests/fixtures/spacy_en_tokens.json         spacy.blank("en") tokenization of ~370 raw texts
                                              (EWT dev `# text` lines + hand-picked hard cases)
  tests/fixtures/spacy_configs/*.cfg          `spacy init config` output and its
                                              `spacy init fill-config` version (*.filled.cfg), and
                                              the quickstart partial config (*.partial.cfg) with its
                                              filled version (*.partial.filled.cfg)

Deterministic: a re-run with the same spaCy version writes identical files.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import spacy
from spacy.tokens import Doc, DocBin, Span

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
EWT_TRAIN = REPO / "sample_data" / "en_ewt" / "train.conllu"
EWT_DEV = REPO / "sample_data" / "en_ewt" / "dev.conllu"
GENRES = ("answers", "email", "newsgroup", "reviews", "weblog")
ANNOTATIONS = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "SENT_START", "ENT_IOB")

# (file stem, `spacy init config` arguments)
CONFIGS: List[Tuple[str, List[str]]] = [
    ("tagger_eff", ["-p", "tagger", "-o", "efficiency"]),
    ("tagger_acc", ["-p", "tagger", "-o", "accuracy"]),
    ("ner_eff", ["-p", "ner", "-o", "efficiency"]),
    ("ner_acc", ["-p", "ner", "-o", "accuracy"]),
    ("textcat", ["-p", "textcat"]),
    ("textcat_multilabel", ["-p", "textcat_multilabel"]),
    ("senter", ["-p", "senter"]),
    ("tagger_ner_textcat_senter", ["-p", "tagger,ner,textcat,senter"]),
    ("tagger_ner_gpu", ["-p", "tagger,ner", "--gpu"]),
    ("tagger_pretraining", ["-p", "tagger", "--pretraining"]),
]

# Hard cases for the tokenizer, beside the EWT dev sentences.
HARD_TEXTS: List[str] = [
    # contractions and apostrophes
    "I can't believe it's not butter.",
    "We'll see; they'd've gone by then.",
    "Don't you dare! Y'all ain't ready.",
    "I'm gonna go, wanna come? Lemme know. Gimme five.",
    "It's 5 o'clock somewhere, rock 'n' roll.",
    "'Tis the season, said James' friend about the dogs' bowls.",
    "I'M SHOUTING AND I CAN'T STOP, WON'T STOP.",
    "You shouldn't've. Cannot. Let's go! Whaddya think?",
    "The '90s were fun; back in the 1990s.",
    "He said 'hello' and left.",
    "she's, he's, we're, they're, you've, who'd, what's, there's",
    # URLs and e-mail addresses
    "Visit https://www.example.com/path?x=1&y=2#frag now.",
    "Go to www.google.com or http://foo.bar/baz.",
    "(see example.org) and ftp://files.example.net/a.txt",
    "Read https://en.wikipedia.org/wiki/Foo_(bar) first.",
    "Mail me at john.doe@example.com.",
    "Contact: <jane_smith+tag@corp.co.uk>, thanks!",
    # emoticons and emoji
    "Great :) but sad :-( and winking ;)",
    "<3 you :P xD ^_^ o.O :'( =) (: :D",
    "Shrug ¯\\_(ツ)_/¯ ok",
    "emoji 😀👍🏽 in text, flags 🇺🇸 too",
    # abbreviations
    "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3rd.",
    "The U.S.A. and the U.K. signed it.",
    "Fruit, e.g. apples, i.e. the red ones, etc. are fine.",
    "Smith vs. Jones, No. 5, St. Louis, Acme Inc. and Ph.D. students in N.Y.C.",
    "Mt. Everest, Sept. 2001, approx. 3 ft. tall",
    # numbers and units
    "It weighs 5kg and costs $10.50.",
    "Speed 10km/h, 3.5mm thick, 100% sure, €20 or £5.99.",
    "He is 5'11\" tall and has 1,000,000 fans.",
    "Meet at 3:30pm on the 12th, 2x faster, -5°C outside.",
    "Add 1/2 cup; call +1-555-123-4567 for 10-15 people.",
    "The score was 3-2 and the ratio 2:1 in 2014/15.",
    "It's 9:00am. Version 2.0.1 ships with 64GB.",
    "#1 hit, 2nd place, 3rd time, 4th of July",
    # quotes and brackets
    "\"Hello,\" she said. \"Goodbye.\"",
    "“Curly quotes” and ‘single ones’ too.",
    "``LaTeX quotes'' and ''two singles''",
    "(parenthetical) [brackets] {braces} <angles>",
    "Really?! No way!!! Why??",
    # hyphens and dashes
    "A state-of-the-art e-mail co-operative.",
    "It was well--known — and pre- and post-war – mostly.",
    "A-1 non-English -hyphen at start, end- too",
    # ellipses
    "Wait... what?",
    "Hmm… so.... and then . . . nothing.",
    # symbols
    "a/b and/or foo_bar",
    "#hashtag @mention $$$ C++ and C# are 3+4=7 languages",
    "AT&T, Q&A, R&D and <html> tags",
    "50% off!!! only $5/month*",
    # whitespace
    "  leading and trailing  ",
    "multiple   spaces here",
    "tab\tseparated\twords",
    "new\nline and\n\nparagraph",
    "non\u00a0breaking space",
    "zero\u200bwidth joiner",
    "",
    " ",
    # odd Unicode
    "naïve café résumé mañana",
    "Zürich’s coöperation",
    "東京 is Tokyo.",
    "Ελληνικά και русский язык.",
    "Arabic العربية text.",
    "fullwidth ＡＢＣ１２３ and ligature ﬁne",
    "Ω ≈ 3.14 ± 0.01 → done",
    "Ä Ö Ü ß ø æ å",
    # mixed
    "OMG!!! Best. Pizza. Ever. 10/10 would eat again :)",
    "lol idk tbh... u r so rite!!1",
    "I luv it — 5 stars. Would recommend!!!",
    "The CEO (John) said: \"We're up 5% Y/Y.\"",
    "Re: [PATCH 2/3] fix foo() in bar.c",
    "$100,000.00 USD (approx.)",
    "He scored 3 goals; she, 4.",
    "Mr.Smith and Mrs.Jones",
    "end of sentence.Next one",
    "i.e.,",
    "U.S.",
    "e.g.",
]


# --------------------------------------------------------------------------- CoNLL-U


def read_conllu(path: Path) -> List[Dict[str, Any]]:
    """Sentences of a CoNLL-U file as syntactic words (empty nodes dropped; MWT words kept,
    only the last word of a multiword token takes the token's SpaceAfter)."""
    sents = []
    for block in path.read_text(encoding="utf8").strip("\n").split("\n\n"):
        sent: Dict[str, Any] = {"words": [], "spaces": [], "lemmas": [], "pos": [], "tags": [],
                                "morphs": [], "heads": [], "deps": [], "has_mwt": False}
        mwt_end, mwt_space = 0, True
        for line in block.split("\n"):
            if line.startswith("# sent_id = "):
                sent["genre"] = line[len("# sent_id = "):].split("-", 1)[0]
            if line.startswith("# text = "):
                sent["text"] = line[len("# text = "):]
            if line.startswith("#"):
                continue
            c = line.split("\t")
            if "." in c[0]:
                continue
            if "-" in c[0]:
                mwt_end = int(c[0].split("-")[1])
                sent["has_mwt"] = True
                mwt_space = "SpaceAfter=No" not in c[9]
                continue
            wid = int(c[0])
            sent["words"].append(c[1])
            if wid < mwt_end:
                space = False
            elif wid == mwt_end:
                space = mwt_space
            else:
                space = "SpaceAfter=No" not in c[9]
            sent["spaces"].append(space)
            sent["lemmas"].append(c[2])
            sent["pos"].append(c[3])
            sent["tags"].append(c[4])
            sent["morphs"].append("" if c[5] == "_" else c[5])
            sent["heads"].append(int(c[6]) - 1)  # -1: root
            sent["deps"].append(c[7])
        sents.append(sent)
    return sents


def rule_entities(sent_pos: List[str], offset: int) -> List[Tuple[int, int, str]]:
    """Token spans of PROPN runs (NAME) and NUM runs (NUMBER), as in sample_data/ner."""
    labels = {"PROPN": "NAME", "NUM": "NUMBER"}
    ents, i = [], 0
    while i < len(sent_pos):
        label = labels.get(sent_pos[i])
        j = i + 1
        while label and j < len(sent_pos) and sent_pos[j] == sent_pos[i]:
            j += 1
        if label:
            ents.append((offset + i, offset + j, label))
        i = j
    return ents


# --------------------------------------------------------------------------- DocBin fixture


def make_doc(vocab, sents: List[Dict[str, Any]], parse: bool = True, morph: bool = True) -> Doc:
    """One Doc from consecutive sentences; heads made absolute over the whole doc."""
    words, spaces, tags, pos, morphs, lemmas, heads, deps, starts = [], [], [], [], [], [], [], [], []
    for s in sents:
        off = len(words)
        words += s["words"]
        spaces += s["spaces"]
        spaces[-1] = True if s is not sents[-1] else spaces[-1]
        tags += s["tags"]
        pos += s["pos"]
        morphs += s["morphs"]
        lemmas += s["lemmas"]
        heads += [off + (h if h >= 0 else i) for i, h in enumerate(s["heads"])]
        deps += ["ROOT" if h < 0 else d for h, d in zip(s["heads"], s["deps"])]
        starts += [True] + [False] * (len(s["words"]) - 1)
    return Doc(
        vocab,
        words=words,
        spaces=spaces,
        tags=tags,
        pos=pos,
        morphs=morphs if morph else None,
        lemmas=lemmas,
        heads=heads if parse else None,
        deps=deps if parse else None,
        sent_starts=None if parse else starts,
    )


def one_hot(genre: str) -> Dict[str, float]:
    return {g: float(g == genre) for g in GENRES}


def build_docs(vocab) -> List[Tuple[Doc, str]]:
    """20 docs, each with a note saying which case it covers."""
    sents = read_conllu(EWT_TRAIN)
    with_mwt = [s for s in sents if s["has_mwt"]]
    with_names = [s for s in sents if "PROPN" in s["pos"] and "NUM" in s["pos"] and len(s["words"]) < 30]
    # interleave the genres so the cats differ between docs
    by_genre = [[s for s in with_names if s["genre"] == g] for g in GENRES]
    with_names = [s for group in zip(*by_genre) for s in group]
    short = [s for s in sents if 3 <= len(s["words"]) <= 12]
    out: List[Tuple[Doc, str]] = []

    # 0-5: one sentence, full annotation, entities set everywhere (O outside), genre cats
    for s in with_names[:6]:
        doc = make_doc(vocab, [s])
        doc.ents = [Span(doc, a, b, label=lab) for a, b, lab in rule_entities(s["pos"], 0)]
        doc.cats = one_hot(s["genre"])
        out.append((doc, "one sentence, full annotation, entities, cats"))
    # 6-9: several sentences in one doc, full annotation, entities
    for k in range(4):
        group = sents[40 + 7 * k: 40 + 7 * k + 2 + k % 2]
        doc = make_doc(vocab, group)
        ents, off = [], 0
        for s in group:
            ents += rule_entities(s["pos"], off)
            off += len(s["words"])
        doc.ents = [Span(doc, a, b, label=lab) for a, b, lab in ents]
        out.append((doc, f"{len(group)} sentences, full annotation, entities"))
    # 10-11: multiword tokens split into syntactic words (no space between the parts), no entity annotation
    for s in with_mwt[:2]:
        out.append((make_doc(vocab, [s]), "multiword tokens as words; entity annotation missing"))
    # 12: entity annotation missing
    out.append((make_doc(vocab, sents[100:102]), "entity annotation missing (ent_iob 0 everywhere)"))
    # 13-14: entity annotation partly missing: entities set, only the first half known to be O
    for s in with_names[6:8]:
        doc = make_doc(vocab, [s])
        spans = [Span(doc, a, b, label=lab) for a, b, lab in rule_entities(s["pos"], 0)]
        half = len(doc) // 2
        outside = [Span(doc, i, i + 1) for i in range(half) if not any(sp.start <= i < sp.end for sp in spans)]
        doc.set_ents(spans, outside=outside, default="missing")
        doc.cats = {**one_hot(s["genre"]), "long": float(len(doc) > 15)}
        out.append((doc, "entities partly missing (tokens after the middle unknown), cats"))
    # 15: an entity with a knowledge-base id and an entity id
    s = with_names[8]
    doc = make_doc(vocab, [s])
    a, b, lab = rule_entities(s["pos"], 0)[0]
    doc.ents = [Span(doc, a, b, label=lab, kb_id="Q42", span_id="name-1")]
    out.append((doc, "one entity with kb_id and ent_id"))
    # 16-17: no parse: tags, pos, morphs (16 only) and explicit sentence starts
    out.append((make_doc(vocab, sents[200:203], parse=False), "no parse, explicit sentence starts"))
    out.append((make_doc(vocab, sents[210:212], parse=False, morph=False), "no parse, no morphs, sentence starts"))
    # 18: words only, spaces unknown (Doc built without spaces)
    s = short[0]
    out.append((Doc(vocab, words=s["words"]), "words only, spaces unknown, no annotation"))
    # 19: the empty doc
    empty = Doc(vocab, words=[])
    empty.cats = {"empty": 1.0}
    out.append((empty, "empty doc with cats"))
    return out


def describe(doc: Doc) -> Dict[str, Any]:
    """What spaCy holds for a doc, in plain JSON types."""
    has_sents = doc.has_annotation("SENT_START") or doc.has_annotation("DEP")
    return {
        "text": doc.text,
        "words": [t.text for t in doc],
        "spaces": [bool(t.whitespace_) for t in doc],
        "has_unknown_spaces": bool(doc.has_unknown_spaces),
        "tags": [t.tag_ for t in doc],
        "pos": [t.pos_ for t in doc],
        "morphs": [str(t.morph) for t in doc],
        "lemmas": [t.lemma_ for t in doc],
        "norms": [t.norm_ for t in doc],
        "heads": [t.head.i for t in doc],
        "deps": [t.dep_ for t in doc],
        "sent_starts": [t.is_sent_start for t in doc],
        "sents": [[s.start, s.end] for s in doc.sents] if has_sents and len(doc) else [],
        "ents": [[e.start, e.end, e.label_] for e in doc.ents],
        "ent_kb_ids": [e.kb_id_ for e in doc.ents],
        "ent_ids": [e.id_ for e in doc.ents],
        "ent_iob": [t.ent_iob_ for t in doc],
        "ent_types": [t.ent_type_ for t in doc],
        "cats": dict(doc.cats),
        "has_annotation": {a: bool(doc.has_annotation(a)) for a in ANNOTATIONS},
    }


def write_docbin() -> None:
    nlp = spacy.blank("en")
    built = build_docs(nlp.vocab)
    db = DocBin(store_user_data=False)
    for doc, _ in built:
        db.add(doc)
    path = FIXTURES / "spacy_docbin.spacy"
    db.to_disk(path)
    # Read back into a fresh vocab, exactly as a user of spaCy would.
    fresh = spacy.blank("en")
    docs = list(DocBin().from_disk(path).get_docs(fresh.vocab))
    assert len(docs) == len(built)
    expected = {
        "spacy_version": spacy.__version__,
        "written_by": "benchmarks/make_fixtures.py",
        "docbin_attrs": [{v: k for k, v in spacy.attrs.IDS.items()}[a] for a in db.attrs],
        "docbin_attr_ids": list(db.attrs),
        "store_user_data": False,
        "docs": [{"note": note, **describe(doc)} for (_, note), doc in zip(built, docs)],
    }
    (FIXTURES / "spacy_docbin_expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf8"
    )


# --------------------------------------------------------------------------- tokenizer fixture


def write_tokens() -> None:
    nlp = spacy.blank("en")
    dev_texts = [s["text"] for s in read_conllu(EWT_DEV)]
    cases = [("ewt_dev", t) for t in dev_texts] + [("hard_case", t) for t in HARD_TEXTS]
    rows = []
    for source, text in cases:
        doc = nlp.make_doc(text)
        rows.append({
            "source": source,
            "text": text,
            "words": [t.text for t in doc],
            "spaces": [bool(t.whitespace_) for t in doc],
            "idx": [t.idx for t in doc],
        })
        assert "".join(t.text_with_ws for t in doc) == text
    out = {
        "spacy_version": spacy.__version__,
        "tokenizer": 'spacy.blank("en").make_doc(text)',
        "written_by": "benchmarks/make_fixtures.py",
        "texts": rows,
    }
    (FIXTURES / "spacy_en_tokens.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf8")


# --------------------------------------------------------------------------- configs


def run_spacy(args: List[str]) -> None:
    subprocess.run([sys.executable, "-m", "spacy", *args], check=True, stdout=subprocess.DEVNULL)


def quickstart_template(args: List[str]) -> str:
    """The partial config spaCy's training quickstart gives for these arguments: the jinja template
    that `spacy init config` renders before it auto-fills (same template, same variables)."""
    import re

    from jinja2 import Template
    from spacy.cli.init_config import RECOMMENDATIONS, TEMPLATE_PATH, RecommendationSchema

    pipeline = args[args.index("-p") + 1].split(",")
    optimize = args[args.index("-o") + 1] if "-o" in args else "efficiency"
    reco = RecommendationSchema(**RECOMMENDATIONS["en"]).model_dump()
    variables = {
        "lang": "en",
        "components": pipeline,
        "optimize": optimize,
        "hardware": "gpu" if "--gpu" in args else "cpu",
        "transformer_data": reco["transformer"],
        "word_vectors": reco["word_vectors"],
        "has_letters": reco["has_letters"],
    }
    text = Template(TEMPLATE_PATH.read_text(encoding="utf8")).render(variables).strip()
    return re.sub(r"\n\n\n+", "\n\n", text) + "\n"


def write_configs() -> None:
    folder = FIXTURES / "spacy_configs"
    folder.mkdir(exist_ok=True)
    for stem, args in CONFIGS:
        fill_args = ["--pretraining"] if "--pretraining" in args else []
        raw = folder / f"{stem}.cfg"
        run_spacy(["init", "config", str(raw), "-l", "en", *args, "--force"])
        run_spacy(["init", "fill-config", str(raw), str(folder / f"{stem}.filled.cfg"), *fill_args])
        partial = folder / f"{stem}.partial.cfg"
        partial.write_text(quickstart_template(args), encoding="utf8")
        run_spacy(["init", "fill-config", str(partial), str(folder / f"{stem}.partial.filled.cfg"), *fill_args])
    lines = [
        f"# Configs written by spaCy {spacy.__version__} (benchmarks/make_fixtures.py)",
        "",
        "`NAME.cfg` is the output of `python -m spacy init config NAME.cfg -l en ARGS`;",
        "`NAME.filled.cfg` is that file after `python -m spacy init fill-config NAME.cfg NAME.filled.cfg`",
        "(with `--pretraining` for the pretraining config). spaCy's `init config` already auto-fills, so the",
        "two are identical: that is itself a fact to test against.",
        "`NAME.partial.cfg` is the quickstart template spaCy renders for the same arguments before it",
        "auto-fills (what the training quickstart widget gives); `NAME.partial.filled.cfg` is",
        "`spacy init fill-config NAME.partial.cfg NAME.partial.filled.cfg` of it.",
        "",
        "| name | ARGS |",
        "|---|---|",
    ]
    lines += [f"| `{stem}` | `{' '.join(args)}` |" for stem, args in CONFIGS]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf8")


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_docbin()
    write_tokens()
    write_configs()


if __name__ == "__main__":
    main()
