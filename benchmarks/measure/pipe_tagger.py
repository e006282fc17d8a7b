"""Run a trained pipeline over raw texts with `nlp.pipe`; report words/second and a tag digest.

    python pipe_tagger.py --system spacy|transfer-cli --model DIR/model-best --texts texts.json \
        [--batch-size 1000] [--repeats 3] [--tags-out tags.json]

The pipeline is loaded once (untimed: `spacy.load` / `transfer_cli.load`); each repeat times
(time.perf_counter) `list(nlp.pipe(texts, batch_size=...))`, tokenizer included, and the best
repeat is reported. Words = tokens of the returned docs (each system's own tokenization).
The predicted tag of every token goes to --tags-out so the harness can compare the systems.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any, Callable, List

from _common import emit, not_available


def load(system: str, path: str) -> Any:
    if system == "spacy":
        import spacy

        return spacy.load(path)
    try:
        import transfer_cli

        loader: Callable[[str], Any] = transfer_cli.load  # type: ignore[attr-defined]
    except (ImportError, AttributeError) as e:
        not_available(f"transfer_cli.load is not importable yet ({type(e).__name__}: {e})")
    return loader(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tags-out", default=None)
    args = parser.parse_args()
    with open(args.texts, encoding="utf8") as f:
        texts: List[str] = json.load(f)
    nlp = load(args.system, args.model)
    times = []
    docs: List[Any] = []
    for _ in range(args.repeats):
        docs = []
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        times.append(time.perf_counter() - start)
    n_words = sum(len(doc) for doc in docs)
    if args.tags_out:
        with open(args.tags_out, "w", encoding="utf8") as f:
            json.dump([[[t.idx, t.tag_] for t in doc] for doc in docs], f)
    emit({
        "n_texts": len(texts),
        "n_words": n_words,
        "batch_size": args.batch_size,
        "seconds_best": min(times),
        "seconds_all": times,
        "words_per_second": n_words / min(times),
        "repeats": args.repeats,
        "pipe_names": list(nlp.pipe_names),
    })


if __name__ == "__main__":
    main()
