"""Time a system's `apply` command over a JSONL file with N worker processes.

    python apply_processes.py --system spacy|transfer-cli --model DIR/model-best --input texts.jsonl \
        --output out.spacy --n-process N [--batch-size 1000] [--repeats 2]

Each repeat runs `python -m spacy apply` / `python -m transfer_cli apply MODEL INPUT OUTPUT
--n-process N --batch-size B` as a child process, timed from start to exit (time.perf_counter):
interpreter start-up, model loading, worker start-up, reading, annotating and writing the
.spacy file. The best repeat is reported. Words = tokens of the docs in the output (read back
with the system's own DocBin after the timing); sha256 = of the output bytes, so the harness can
check that N processes write what one does.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List

from _common import emit


def count_words(system: str, path: Path) -> int:
    if system == "spacy":
        import spacy
        from spacy.tokens import DocBin

        vocab: Any = spacy.blank("en").vocab
        return sum(len(doc) for doc in DocBin().from_disk(path).get_docs(vocab))
    import transfer_cli
    from transfer_cli.tokens.docbin import DocBin as OurDocBin

    return sum(len(doc) for doc in OurDocBin().from_disk(path).get_docs(transfer_cli.blank("en").vocab))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    module = "spacy" if args.system == "spacy" else "transfer_cli"
    cmd = [sys.executable, "-m", module, "apply", args.model, args.input, str(args.output),
           "--n-process", str(args.n_process), "--batch-size", str(args.batch_size), "--force"]
    if args.system == "transfer-cli":
        cmd.append("--quiet")
    times: List[float] = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-2000:] + proc.stdout[-2000:])
            sys.exit(proc.returncode)
    n_words = count_words(args.system, args.output)
    emit({
        "n_process": args.n_process,
        "batch_size": args.batch_size,
        "n_words": n_words,
        "seconds_best": min(times),
        "seconds_all": times,
        "words_per_second": n_words / min(times),
        "sha256": hashlib.sha256(args.output.read_bytes()).hexdigest(),
    })


if __name__ == "__main__":
    main()
