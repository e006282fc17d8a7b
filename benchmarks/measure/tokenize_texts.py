"""Tokenize raw texts with one system's blank English pipeline; report speed and token spans.

    python tokenize_texts.py --system spacy|transfer-cli --texts texts.json --spans-out spans.json

texts.json is a JSON list of strings. Each repeat builds a fresh pipeline (untimed), then times
(time.perf_counter) two passes of `nlp.make_doc(text)` over every text: the first with the
tokenizer's caches cold, as on unseen text, the second warm (the same texts again). The best
cold and the best warm pass are reported.
The (start, end) character span of every token goes to --spans-out for the agreement check.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any, Callable, List

from _common import emit, not_available


def load_pipeline(system: str) -> Callable[[str], Any]:
    if system == "spacy":
        import spacy

        return spacy.blank("en").make_doc
    try:
        import transfer_cli

        nlp = transfer_cli.blank("en")  # type: ignore[attr-defined]
    except (ImportError, AttributeError, NotImplementedError) as e:
        not_available(f"transfer_cli.blank('en') is not importable yet ({type(e).__name__}: {e})")
    return nlp.make_doc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--spans-out", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with open(args.texts, encoding="utf8") as f:
        texts: List[str] = json.load(f)
    load_pipeline(args.system)  # import and first construction outside the measured passes
    cold, warm = [], []
    docs: List[Any] = []
    for _ in range(args.repeats):
        make_doc = load_pipeline(args.system)
        for times in (cold, warm):
            start = time.perf_counter()
            docs = [make_doc(text) for text in texts]
            times.append(time.perf_counter() - start)
    n_tokens = sum(len(doc) for doc in docs)
    spans = [[[t.idx, t.idx + len(t.text)] for t in doc] for doc in docs]
    with open(args.spans_out, "w", encoding="utf8") as f:
        json.dump(spans, f)
    emit({
        "n_texts": len(texts),
        "n_tokens": n_tokens,
        "seconds_cold": min(cold),
        "seconds_warm": min(warm),
        "tokens_per_second": n_tokens / min(cold),
        "tokens_per_second_warm": n_tokens / min(warm),
        "repeats": args.repeats,
    })


if __name__ == "__main__":
    main()
