"""Train the CNN tagger with transfer-cli in K processes and report its training words/s.

    python train_parallel.py --system transfer-cli --workers K --train train.spacy --dev dev.spacy \
        --output DIR --max-steps N --eval-frequency M

The config is `transfer-cli init-config -p tagger -o efficiency` (tok2vec: hash embeddings and
a maxout CNN, then the tagger), written to DIR/config.cfg. Training runs as
`python -m transfer_cli train CONFIG --output DIR/train --n-workers K` (K = 1: the ordinary
single-process run; K > 1: data-parallel ranks started through torchrun's launcher), with one
thread per process for torch, OpenMP and BLAS (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MKL_NUM_THREADS, TRANSFER_CLI_BLAS_THREADS = 1).

Words/s come from rank 0's training_log.jsonl: every evaluation line carries the words of the
global batches since the previous evaluation and the words/s over that interval (the clock
restarts after each evaluation, so evaluation and saving are left out). words_per_second is
over all intervals; steady_words_per_second leaves out the first, which also holds the
start-up (the ranks exchanging their initial weights, first-step allocations).
Only transfer-cli has data-parallel training; spaCy reports "not available".
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from _common import emit, not_available

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TRANSFER_CLI_BLAS_THREADS")


def run(args: List[str], env: Dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "transfer_cli", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = " ".join((proc.stderr + proc.stdout).strip().splitlines()[-5:])[-400:]
        raise SystemExit(f"transfer_cli {args[0]} failed ({proc.returncode}): {tail}")


def speed(lines: List[Dict[str, Any]], skip: int) -> Optional[float]:
    """Words / seconds over the evaluation intervals after the first `skip`."""
    seconds, words, previous = 0.0, 0, 0
    for i, line in enumerate(lines):
        delta, previous = line["words"] - previous, line["words"]
        if i >= skip and line.get("words_per_second"):
            seconds += delta / line["words_per_second"]
            words += delta
    return words / seconds if seconds else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--dev", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--max-steps", type=int, required=True)
    parser.add_argument("--eval-frequency", type=int, required=True)
    args = parser.parse_args()
    if args.system == "spacy":
        not_available("spaCy has no data-parallel training (spacy-ray aside)")
    output: Path = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{key: "1" for key in THREAD_VARIABLES}}
    config = output / "config.cfg"
    run(["init-config", str(config), "-p", "tagger", "-o", "efficiency", "--lang", "en", "--force"], env)
    train = ["train", str(config), "--output", str(output / "train"), "--quiet",
             "--paths.train", str(args.train.resolve()), "--paths.dev", str(args.dev.resolve()),
             "--training.max_steps", str(args.max_steps), "--training.eval_frequency", str(args.eval_frequency)]
    if args.workers > 1:
        train += ["--n-workers", str(args.workers)]
    start = time.perf_counter()
    run(train, env)
    total_seconds = time.perf_counter() - start
    log = output / "train" / "training_log.jsonl"
    lines = [json.loads(line) for line in log.read_text(encoding="utf8").splitlines() if line.strip()]
    emit({
        "workers": args.workers,
        "max_steps": args.max_steps,
        "eval_frequency": args.eval_frequency,
        "steps": lines[-1]["step"] if lines else 0,
        "words": lines[-1]["words"] if lines else 0,
        "words_per_second": speed(lines, 0),
        "steady_words_per_second": speed(lines, 1),
        "best_tag_acc": max((line["scores"].get("tag_acc") or 0.0 for line in lines), default=None),
        "total_seconds": total_seconds,
        # the largest single child process (a rank, or the one training process)
        "child_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1),
        "threads": {key: env[key] for key in THREAD_VARIABLES},
    })


if __name__ == "__main__":
    main()
