"""Where a MiniLM fine-tuning step's time goes, in each system: torch operators timed inside nlp.update."""
from __future__ import annotations

import os
from typing import Any, List

from harness import OURS, SPACY, Context, Row

from ._train_and_pipe import convert_ewt
from .transformer_ewt import DEV_SENTENCES, TRAIN, TRAIN_SENTENCES, _convert_subset

STEPS = int(os.environ.get("BENCH_TRF_OPTIME_STEPS", 20))

TITLE = "Transformer fine-tuning: where a step's time goes, beside spacy-transformers"
DESCRIPTION = (
    f"The fine-tuned run of the transformer task (MiniLM + tagger, each system's own `init-config -p tagger --gpu`, "
    f"the first {TRAIN_SENTENCES:,} EWT train sentences) for {STEPS} steps (BENCH_TRF_OPTIME_STEPS), every "
    "`nlp.update` run under a torch dispatch mode that times each ATen operator, forward and backward "
    "(benchmarks/measure/op_times.py); transfer-cli runs its linear layers with torch's products here "
    "(TRANSFER_CLI_CPU_MATMUL=torch: numpy's products would not be ATen operators). Seconds per 1,000 training words: in matrix products (mm, addmm, bmm: the "
    "linear layers and attention), in every other torch operator, and outside any operator (training time, as in "
    "the transformer task, minus operator time: the optimizer step, batching, alignment, Python). The timing adds "
    "a few microseconds per operator to both systems, so these runs are not the words/s runs. The matrix products "
    "are the same kernels in both systems (torch's fp32 GEMM): the time a system spends in them bounds how much "
    "faster it can train than the other."
)


def run(ctx: Context) -> List[Row]:
    train = _convert_subset(ctx, "train", TRAIN_SENTENCES)
    dev = _convert_subset(ctx, "dev", DEV_SENTENCES) if DEV_SENTENCES else convert_ewt(ctx, "dev")
    out_root = ctx.work_dir / "transformer_optimes"

    def args(system: str) -> List[Any]:
        # one evaluation, after the last step (outside the timed updates)
        return ["--variant", "finetune", "--train", train, "--dev", dev, "--output", out_root / system,
                "--max-steps", STEPS, "--eval-frequency", STEPS, "--op-times"]

    timed = ctx.compare(TRAIN, args, maximize=["train_seconds"], rounds=1)

    def per_kilo_word(system: str, part: str) -> Any:
        result = timed[system]
        if not isinstance(result, dict):
            return result
        times = result["op_times"]
        seconds = {"matmul": times["matmul_seconds"], "other": times["other_op_seconds"],
                   "outside": result["train_seconds"] - times["op_seconds"],
                   "total": result["train_seconds"]}[part]
        return 1000.0 * seconds / max(result["words"], 1)

    def detail(system: str, key: str, fmt: str) -> str:
        result = timed[system]
        return fmt.format(result["op_times"][key]) if isinstance(result, dict) else "n/a"

    def gflop_per_kilo_word(system: str) -> str:
        result = timed[system]
        if not isinstance(result, dict):
            return "n/a"
        return f"{1000.0 * result['op_times']['matmul_gflop'] / max(result['words'], 1):.1f}"

    def top(system: str) -> str:
        result = timed[system]
        if not isinstance(result, dict):
            return "n/a"
        return ", ".join(f"{name} {seconds:.2f}" for name, seconds in result["op_times"]["top_ops"][:6])

    rows = [
        Row("seconds per 1,000 words in torch matrix products", per_kilo_word(OURS, "matmul"),
            per_kilo_word(SPACY, "matmul"), fmt="{:.3f}", higher_is_better=False,
            notes=f"GFLOP per 1,000 words: ours {gflop_per_kilo_word(OURS)}, spaCy {gflop_per_kilo_word(SPACY)}; "
                  f"GFLOP/s: ours {detail(OURS, 'matmul_gflops', '{:.1f}')}, "
                  f"spaCy {detail(SPACY, 'matmul_gflops', '{:.1f}')}"),
        Row("seconds per 1,000 words in other torch operators", per_kilo_word(OURS, "other"),
            per_kilo_word(SPACY, "other"), fmt="{:.3f}", higher_is_better=False,
            notes=f"dropout masks (bernoulli_): ours {detail(OURS, 'dropout_rng_seconds', '{:.2f}')} s, spaCy "
                  f"{detail(SPACY, 'dropout_rng_seconds', '{:.2f}')} s"),
        Row("seconds per 1,000 words outside torch operators", per_kilo_word(OURS, "outside"),
            per_kilo_word(SPACY, "outside"), fmt="{:.3f}", higher_is_better=False,
            notes="optimizer step, batching, alignment, Python, and the timing's own cost"),
        Row("seconds per 1,000 words, all training", per_kilo_word(OURS, "total"), per_kilo_word(SPACY, "total"),
            fmt="{:.3f}", higher_is_better=False,
            notes=f"slowest operators (s): ours {top(OURS)}; spaCy {top(SPACY)}"),
    ]
    return rows
