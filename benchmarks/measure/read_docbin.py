"""Read a .spacy file into Docs with one system's DocBin; report speed and a content digest.

    python read_docbin.py --system spacy|transfer-cli --path corpus.spacy --digest-out digest.json

Each repeat times `DocBin().from_disk(path)` plus materialising every Doc with
`get_docs(vocab)` (a fresh vocab per repeat, made outside the timing); best of the repeats.
After timing, each doc's words, tags, POS, entities and sentence starts are hashed so the
harness can check both systems read the same content.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from typing import Any, Callable, List, Tuple

from _common import emit, not_available


def load_reader(system: str) -> Tuple[Callable[[], Any], Callable[[], Any]]:
    """(make a DocBin, make a vocab) for the system."""
    if system == "spacy":
        import spacy
        from spacy.tokens import DocBin

        return DocBin, lambda: spacy.blank("en").vocab
    try:
        from transfer_cli.tokens.docbin import DocBin as OurDocBin
    except ImportError as e:
        not_available(f"transfer_cli.tokens.docbin is not importable yet ({e})")

    def our_vocab() -> Any:
        import transfer_cli

        if hasattr(transfer_cli, "blank"):
            return transfer_cli.blank("en").vocab
        from transfer_cli.tokens.vocab import Vocab

        return Vocab()

    return OurDocBin, our_vocab


def digest(doc: Any) -> str:
    content = [
        [t.text for t in doc],
        [t.tag_ for t in doc],
        [t.pos_ for t in doc],
        [[e.start, e.end, e.label_] for e in doc.ents],
        [bool(t.is_sent_start) for t in doc],
    ]
    return hashlib.sha1(json.dumps(content).encode("utf8")).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--digest-out", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    make_docbin, make_vocab = load_reader(args.system)
    times = []
    docs: List[Any] = []
    for _ in range(args.repeats):
        vocab = make_vocab()
        docs = []
        start = time.perf_counter()
        docs = list(make_docbin().from_disk(args.path).get_docs(vocab))
        times.append(time.perf_counter() - start)
    n_tokens = sum(len(doc) for doc in docs)
    with open(args.digest_out, "w", encoding="utf8") as f:
        json.dump([digest(doc) for doc in docs], f)
    emit({
        "n_docs": len(docs),
        "n_tokens": n_tokens,
        "seconds_best": min(times),
        "tokens_per_second": n_tokens / min(times),
        "repeats": args.repeats,
    })


if __name__ == "__main__":
    main()
