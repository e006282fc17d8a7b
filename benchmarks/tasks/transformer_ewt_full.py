"""Fine-tuning MiniLM + tagger on all of EWT train beside spacy-transformers: dev accuracy and
training words/s for the same number of steps (the transformer task's rows use 2,000 sentences)."""
from __future__ import annotations

from typing import Any, List

from harness import Context, Row

from ._train_and_pipe import convert_ewt
from .transformer_ewt import DEV_SENTENCES, EVAL_FREQUENCY, STEPS, TRAIN, _convert_subset, trained_rows

TITLE = "Transformer (all-MiniLM-L6-v2) fine-tuned on all of EWT train beside spacy-transformers"
DESCRIPTION = (
    "As the fine-tuned rows of the transformer task, on all of EWT train (spaCy's conllu converter, -n 10) instead "
    f"of its first 2,000 sentences: each system's own `init-config -p tagger --gpu`, the MiniLM directory, {STEPS} "
    f"steps (BENCH_TRF_STEPS), evaluated every {EVAL_FREQUENCY} steps on "
    f"{'all of EWT dev' if not DEV_SENTENCES else f'the first {DEV_SENTENCES:,} dev sentences'} (BENCH_TRF_DEV). "
    "Training words/s: words passed to nlp.update / training time without initialization, evaluation and saving. "
    "Target: training words/s >= 1.3x spacy-transformers at equal or better accuracy."
)


def run(ctx: Context) -> List[Row]:
    if STEPS <= 0:
        return []
    train = convert_ewt(ctx, "train")
    dev = _convert_subset(ctx, "dev", DEV_SENTENCES) if DEV_SENTENCES else convert_ewt(ctx, "dev")
    out_root = ctx.work_dir / "transformer_ewt_full"

    def train_args(system: str) -> List[Any]:
        return ["--variant", "finetune", "--train", train, "--dev", dev, "--output", out_root / system,
                "--max-steps", STEPS, "--eval-frequency", EVAL_FREQUENCY]

    trained = ctx.compare(TRAIN, train_args, maximize=["train_seconds"], rounds=1)
    return trained_rows("MiniLM + tagger, fine-tuned on all of EWT train", trained,
                        f"target: >= spaCy; {STEPS} steps", "target: >= 1.3x; ")
