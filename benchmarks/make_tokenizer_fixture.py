"""Write tests/fixtures/tokenizer_expected.json: the tokens our own tokenizer gives, to hold later
versions to them (run once; the output is committed).

    PYTHONPATH=<checkout of the version to record> .venv/bin/python benchmarks/make_tokenizer_fixture.py COMMIT

It was written by the tokenizer of commit d2d6a07, the last one before tokenizing became linear
in the text (issue 15): the rewrite had to give the same tokens on all text. Deterministic; it
reads only repo files (sample_data/). It records, for `create_tokenizer("en")` and
`create_tokenizer("xx")`:

  cases    250 varied strings with their tokens (see tokens_of): hand-picked
           hard cases, the EWT dev sentences richest in punctuation, random strings of tricky
           pieces, long chunks of affixes (longer than the tokenizer's affix window) and runs of
           130 characters of one kind ('!', '...', emoji, hyphens, URL-like strings); "xx" is
           null where its tokens are those of "en"
  digests  for every distinct text in sample_data/ (EWT `# text` lines, the wiki text, the textcat
           and NER texts): sha1 of the text -> sha1 of its tokens (see tokens_digest), so that the
           test can check thousands of texts without storing their tokens
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any, Dict, List

from transfer_cli.lang import create_tokenizer

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "tokenizer_expected.json"
LANGS = ("en", "xx")

HARD_CASES = [
    "", " ", "a", "...", "!!!", "?!?!", "(((a)))", "\"'hello'\"", "30°C.", "US$5 C$10 5US$", "U.S.A. USA. usa.",
    "Hi:):) :-)) (: ):", "''quoted''", "‘single’ “double”", "a--b a---b a—b a–b a~b", "hello......", "wait…… what…",
    "5km/h 3kg. 10mbar 2GB", "he's John's JOHN'S", "https://user:pw@example.com:8080/a/b?c=d#e.", "mail me@x.org!",
    "192.168.0.1 8.8.8.8. 10.0.0.1", "don't can't won’t y'all gonna", "e.g. i.e. Dr. Mrs. etc.", "C++ <3 </3 ^_^ ಠ_ಠ",
    "¯\\(ツ)/¯ (╯°□°）╯︵┻━┻", "😀😀😀 👍🏽! ❤️‍🔥", "2+2=4 10-20 3*4 2^8", "end.Start and/or key=value a,b",
    "¿Qué? ¡Sí! «non» 「はい」", "\u00a0\u2009\u3000x\u200by", "tab\tline\nnew\r\nline", "  lead and trail  ",
    "$100 €5 £3 ¥7 ₹9", "+1 +a 1+ a+", "50% 3² 1.5x", ":::///---...", "a.b.c.d.e.f.g", "x" * 70 + ".",
]
PIECES = ["a", "Z", "I", "don", "'t", "n't", "'s", "’", "“", "”", '"', "'", ".", "..", "…", ",", ":", ";", "!",
          "?", "(", ")", "[", "]", "-", "--", "—", "/", "$", "%", "+", "°C", "²", "0", "12", "3.5", "1,000",
          "km", "am", "http://", "www.", ".com", "/p?q=1", "e.g.", "Dr.", "U.S.", ":)", ":-(", "<3", "o.O",
          "é", "ß", "Ω", "ж", "中", "ا", "ह", "😀", "👍🏽", "❤", "→", "\u200b", "\u00a0", " ", " ", " ", "  ",
          "\n", "\t", "US$", "kg", "km/h", "USA", "'S", "……", "...", "=", "<", "&", "#", "*", "_", "@", "user@",
          "https://", "192.168.0.1", "8.8.8.8", ":8080", "example.org", "«", "»", "¿", "¡", "(((", ")))", "'''",
          "!!!", "-_-", "^_^", ":'(", "xD", "C++", "a.", "10am", "p.m.", "§", "–", "|", "{", "}", "’s", "ca"]
AFFIXES = ["(", "!", "...", ".", "..", "…", "……", "'s", "km", "5", "A", "B", "USA", "U.S.", "°C", "US$", "$",
           "😀", "'", '"', "+", "%", "²", ")", "]", "-", "—", "a", "é", "Ж", "中", ":)", "<3", "«", "»", "¿",
           "=", "*", "&", "#", ",", ":", ";", "?", "x.com", "http://", "a@b", "/", "1.", "a.", "p.m.", "n't",
           "don't", "Dr.", "мбар", "C++", "''"]
RUNS = ["!", "...", "((((", "'''", ".", "-", "—", "😀", "a-", "a.", ":)", "'s", "1.", "!?", "a:@", "x.com/"]


def tokens_of(tokenizer: Any, text: str) -> List[Any]:
    """Each token as [text, whitespace, norm], or as its text alone when it has no trailing
    whitespace and its norm is its lower-cased text."""
    return [t.text if not t.whitespace_ and t.norm_ == t.text.lower() else [t.text, t.whitespace_, t.norm_]
            for t in tokenizer(text)]


def tokens_digest(tokens: List[Any]) -> str:
    return hashlib.sha1(json.dumps(tokens, ensure_ascii=False).encode("utf8")).hexdigest()[:12]


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf8")).hexdigest()[:12]


def sample_texts() -> List[str]:
    texts: List[str] = []
    for path in sorted((REPO / "sample_data").rglob("*")):
        if path.suffix == ".conllu":
            texts += [line[len("# text = "):].rstrip("\n") for line in path.open(encoding="utf8")
                      if line.startswith("# text = ")]
        elif path.suffix == ".jsonl":
            texts += [json.loads(line)["text"] for line in path.open(encoding="utf8") if line.strip()]
    return list(dict.fromkeys(texts))


def cases() -> List[str]:
    rng = random.Random(15)
    out = list(HARD_CASES)
    dev = REPO / "sample_data" / "en_ewt" / "dev.conllu"
    ewt = [line[len("# text = "):].rstrip("\n") for line in dev.open(encoding="utf8") if line.startswith("# text = ")]
    out += sorted(ewt, key=lambda t: -sum(not (c.isalnum() or c.isspace()) for c in t))[:40]
    out += ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 16))) for _ in range(100)]
    for _ in range(40):  # one chunk, longer than the affix window, mostly affixes
        few = [rng.choice(AFFIXES) for _ in range(rng.randint(1, 4))]
        out.append("".join(rng.choice(few) for _ in range(rng.randint(30, 120))))
    for run in RUNS:
        out.append((run * 130)[:130])
        out.append("w " + (run * 100)[:100] + "x y")
    out.append("".join(rng.choice("!?.,;:()[]{}\"'«»…—–-/$%+=*&#@😀") for _ in range(130)))
    return list(dict.fromkeys(out))


def main() -> None:
    written_by = sys.argv[1] if len(sys.argv) > 1 else "unknown"
    data: Dict[str, Any] = {"written_by": f"transfer_cli.lang.create_tokenizer(lang) of commit {written_by}",
                            "cases": [], "digests": {}}
    tokenizers = {lang: create_tokenizer(lang) for lang in LANGS}
    for text in cases():
        en, xx = (tokens_of(tokenizers[lang], text) for lang in LANGS)
        data["cases"].append({"text": text, "en": en, "xx": None if xx == en else xx})
    for lang in LANGS:
        data["digests"][lang] = {text_digest(t): tokens_digest(tokens_of(tokenizers[lang], t)) for t in sample_texts()}
    # one case (one digest) a line: readable diffs, no indentation inside the token lists
    lines = [json.dumps(case, ensure_ascii=False) for case in data["cases"]]
    head = json.dumps(data["written_by"], ensure_ascii=False)
    digests = {lang: [json.dumps({k: v}) [1:-1] for k, v in table.items()] for lang, table in data["digests"].items()}
    OUT.write_text('{"written_by": ' + head + ',\n"cases": [\n' + ",\n".join(lines) + '\n],\n"digests": {\n'
                   + ",\n".join(f'"{lang}": {{\n' + ",\n".join(rows) + "\n}" for lang, rows in digests.items())
                   + "\n}}\n", encoding="utf8")
    json.loads(OUT.read_text(encoding="utf8"))  # well-formed
    print(f"{OUT}: {len(data['cases'])} cases, {len(data['digests']['en'])} sample texts")


if __name__ == "__main__":
    main()
