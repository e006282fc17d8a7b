"""Data-parallel training: the CNN tagger's training words/s on EWT in 1 and in 2 processes."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Union

from harness import OURS, Context, MeasurementError, NotAvailable, Row

# The same length as the tagger task (2000 steps, evaluated every 200): the config's batch size
# compounds from 100 words by 1.001 per step, so the later steps carry several hundred words.
STEPS = int(os.environ.get("BENCH_PARALLEL_STEPS", 2000))
EVAL_FREQUENCY = int(os.environ.get("BENCH_PARALLEL_EVAL_FREQ", 200))
ROUNDS = int(os.environ.get("BENCH_PARALLEL_ROUNDS", 1))  # each round: 1 process, then 2
WORKERS = (1, 2)
# sentences per document (`convert -n`): 10 as in the tagger task; 1 gives the shards finer
# grain (a step's global batch holds ~2 ten-sentence documents early on, which no split into
# whole documents can balance)
DOC_SENTENCES = (10, 1)

TITLE = "Data-parallel training: CNN tagger on EWT, 1 vs 2 processes (CPU)"
DESCRIPTION = (
    "transfer-cli only (spaCy has no data-parallel training). The config `init-config -p tagger -o efficiency` "
    f"(hash embeddings + maxout CNN tok2vec, tagger) trains for {STEPS} steps (BENCH_PARALLEL_STEPS), evaluated "
    f"every {EVAL_FREQUENCY}, on EWT train converted by `transfer-cli convert -n 10`, once as one process "
    "(`train`) and once as two gloo ranks (`train --n-workers 2`: a step's global batch is the batcher's next 2 batches, "
    "each rank training about half of it by words, gradients summed by one all-reduce per step). The 2-process run "
    f"takes {STEPS // 2} steps, evaluated every {EVAL_FREQUENCY // 2}: the same batches as the single process's "
    f"{STEPS} steps (the batch-size schedule advances per batch), so both read the same words in the same batches. Every process runs one thread (OMP_NUM_THREADS, "
    "OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, TRANSFER_CLI_BLAS_THREADS = 1). Words/s are rank 0's "
    "training_log.jsonl figures (global batch words; evaluation and saving excluded), over the intervals after "
    f"the first evaluation (the first holds the start-up); {ROUNDS} round(s) alternating 1 and 2 processes "
    "(BENCH_PARALLEL_ROUNDS), best kept. Target: 2 processes >= 1.6x one process on a 2-core machine "
    "(benchmarks/measure/train_parallel.py). The same rows again with EWT converted by `-n 1` (one sentence per "
    "document): the shards can then be split evenly, while with `-n 10` a global batch holds 1-6 documents (2.3 "
    "on average over the 1000 steps), and the busier rank trains ~17% more words than an even half."
)

Result = Union[Dict[str, Any], NotAvailable]


def convert(ctx: Context, split: str, sentences: int = 10) -> Path:
    """EWT `split` as .spacy (`sentences` sentences per doc), converted by transfer-cli once."""
    source = ctx.data_dir / "en_ewt" / f"en_ewt-ud-{split}.conllu"
    suffix = "" if sentences == 10 else f"-n{sentences}"
    target = ctx.work_dir / "parallel" / f"en_ewt-ud-{split}{suffix}.spacy"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    tmp = ctx.work_dir / "parallel" / f"convert_tmp_{split}{suffix}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [ctx.pythons[OURS], "-m", "transfer_cli", "convert", str(source), str(tmp), "-n", str(sentences)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.timeout)
    if proc.returncode != 0:
        raise MeasurementError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-400:]}")
    (tmp / f"en_ewt-ud-{split}.spacy").replace(target)
    shutil.rmtree(tmp)
    return target


def field(result: Result, key: str) -> Any:
    return result if isinstance(result, NotAvailable) else result.get(key)


def run(ctx: Context) -> List[Row]:
    rows: List[Row] = []
    for sentences in DOC_SENTENCES:
        rows += run_corpus(ctx, sentences)
    return rows


def run_corpus(ctx: Context, sentences: int) -> List[Row]:
    train, dev = convert(ctx, "train", sentences), convert(ctx, "dev", sentences)
    tag = "" if sentences == 10 else f" (-n {sentences})"
    suffix = "" if sentences == 10 else f"-n{sentences}"
    best: Dict[int, Result] = {}
    for round_ in range(ROUNDS):
        for workers in WORKERS:
            result = ctx.measure(OURS, "train_parallel.py", [
                "--workers", workers, "--train", train, "--dev", dev,
                "--output", ctx.work_dir / "parallel" / f"workers{workers}-{round_}{suffix}",
                # K processes train K of the batcher's batches per step: the same batches in 1/K the steps
                "--max-steps", STEPS // workers, "--eval-frequency", EVAL_FREQUENCY // workers])
            previous = best.get(workers)
            if previous is None or isinstance(previous, NotAvailable) or (
                    not isinstance(result, NotAvailable)
                    and result["steady_words_per_second"] > previous["steady_words_per_second"]):
                best[workers] = result
    one, two = best[1], best[2]
    speedup = None
    if not isinstance(one, NotAvailable) and not isinstance(two, NotAvailable):
        speedup = two["steady_words_per_second"] / one["steady_words_per_second"]
    rows = []
    for workers, result in ((1, one), (2, two)):
        label = ("1 process" if workers == 1 else f"{workers} processes") + tag
        notes = "" if isinstance(result, NotAvailable) else (
            f"all intervals: {result['words_per_second']:,.0f}; {result['steps']:,} steps, "
            f"{result['words']:,} words")
        rows.append(Row(f"training words/s, {label}", field(result, "steady_words_per_second"), None, notes=notes))
    rows.append(Row(f"speed-up, 2 processes / 1{tag}", speedup, None, fmt="{:.2f}x",
                    notes="target: >= 1.6x on 2 cores, one thread per process" if not tag
                    else "one sentence per document: shards of about equal words"))
    for workers, result in ((1, one), (2, two)):
        label = ("1 process" if workers == 1 else f"{workers} processes") + tag
        rows.append(Row(f"dev tag accuracy, {label}, %", None if isinstance(result, NotAvailable)
                        else 100 * result["best_tag_acc"], None, fmt="{:.2f}",
                        notes=("best evaluation; the same batches as 1 process, 2 per step"
                               if workers == 2 else "best evaluation")))
        rows.append(Row(f"wall time incl. start-up and evaluation, {label}, s", field(result, "total_seconds"),
                        None, fmt="{:,.1f}", higher_is_better=False))
    return rows
