"""Time one system's blank English tokenizer on long bad input: runs of punctuation, emoji,
URL-like strings, one token without spaces, at growing lengths.

    python tokenize_long_inputs.py --system spacy|transfer-cli --lengths 1000,10000,50000
        [--repeats 3] [--budget 30]

Each measurement builds a fresh pipeline (untimed: its caches must not know the text), then times
(time.perf_counter) one `nlp.make_doc(text)`; the best of --repeats is reported as
`seconds:KIND:LENGTH`. Once one length of a kind takes longer than --budget seconds, the longer
lengths of that kind are skipped (reported as 0: a quadratic tokenizer would take minutes).
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Any, Callable, Dict

from _common import emit, not_available

# kind -> text of a given length (the same text for both systems)
KINDS: Dict[str, Callable[[int], str]] = {
    "'!'": lambda n: "!" * n,
    "mixed punctuation": lambda n: "".join(random.Random(0).choice("!?,;:()[]{}\"'«»…—–") for _ in range(n)),
    "'((((' after a word": lambda n: "word" + "(" * (n - 4),
    "emoji": lambda n: "😀" * n,
    "em dashes": lambda n: "—" * n,
    "one token, no spaces": lambda n: ("ab1" * n)[:n],
    "':@' (URL-like)": lambda n: (":@" * n)[:n],
}


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
    parser.add_argument("--lengths", default="1000,10000,50000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args()
    lengths = sorted(int(x) for x in args.lengths.split(","))
    load_pipeline(args.system)  # import and first construction outside the measured passes
    result: Dict[str, Any] = {}
    for kind, make_text in KINDS.items():
        over_budget = False
        for length in lengths:
            key = f"seconds:{kind}:{length}"
            if over_budget:
                result[key] = 0.0
                continue
            text = make_text(length)
            times = []
            for _ in range(args.repeats):
                make_doc = load_pipeline(args.system)
                start = time.perf_counter()
                make_doc(text)
                times.append(time.perf_counter() - start)
                if times[-1] > args.budget:
                    break
            result[key] = min(times)
            over_budget = result[key] > args.budget
    # the harness keeps each key's best value over rounds: report speeds (higher is better)
    emit({"kinds": list(KINDS), "lengths": lengths,
          **{"chars_per_second" + key[len("seconds"):]: (int(key.rsplit(":", 1)[1]) / s if s else 0.0)
             for key, s in result.items()}})


if __name__ == "__main__":
    main()
