"""Convert a vectors file with one system's init-vectors; report time and peak memory.

    python init_vectors.py --system spacy|transfer-cli --input glove.txt --output out/ [--prune N]

Runs each CLI command's function in this process: spaCy's `init vectors`
(`spacy.cli.init_pipeline.init_vectors_cli`) or transfer-cli's `init-vectors`
(`transfer_cli.cli.init_vectors.init_vectors_cli`). The time is
the conversion call (perf_counter), imports excluded; the memory is the process's peak RSS,
imports included (both import thinc and torch). Afterwards the output is loaded and its
table shape reported, so the harness can check both systems wrote the same table.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from _common import emit, not_available


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--prune", type=int, default=-1)
    args = parser.parse_args()
    output = Path(args.output)
    if output.exists():
        shutil.rmtree(output)
    if args.system == "spacy":
        import logging

        from spacy.cli.init_pipeline import init_vectors_cli

        logging.disable(logging.WARNING)
        start = time.perf_counter()
        init_vectors_cli("en", Path(args.input), output, prune=args.prune, truncate=0, mode="default", name=None,
                         verbose=False, jsonl_loc=None, attr="ORTH")
        seconds = time.perf_counter() - start
        rss = _peak()
        import spacy

        vectors = spacy.load(output).vocab.vectors
        shape, n_keys = vectors.shape, len(vectors.key2row)
    else:
        try:
            from transfer_cli.cli.init_vectors import init_vectors_cli
            # the command imports its engine when it runs (so --help stays light): import it
            # here, outside the timing, as spaCy's import is above
            import transfer_cli.training.init_vectors  # noqa: F401
        except ImportError as e:
            not_available(f"transfer_cli.cli.init_vectors is not importable yet ({e})")
        start = time.perf_counter()
        init_vectors_cli("en", Path(args.input), output, truncate=0, prune=args.prune, name=None, mode="default",
                         attr="ORTH", quiet=True, verbose=False)
        seconds = time.perf_counter() - start
        rss = _peak()
        from transfer_cli.tokens.vectors import Vectors

        vectors = Vectors().from_disk(output / "vocab" / "vectors")
        shape, n_keys = vectors.shape, vectors.n_keys
    shutil.rmtree(output, ignore_errors=True)
    emit({"seconds": seconds, "conversion_peak_rss_mb": rss, "rows": shape[0], "dims": shape[1], "keys": n_keys})


def _peak() -> float:
    from _common import peak_rss_mb

    return round(peak_rss_mb(), 1)


if __name__ == "__main__":
    main()
