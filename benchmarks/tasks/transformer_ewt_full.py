"""Fine-tuning MiniLM + tagger on all of EWT train beside spacy-transformers: dev accuracy and
training words/s for the same number of steps (the transformer task's rows use 2,000 sentences)."""
from __future__ import annotations

from typing import Any, List

from harness import OURS, SPACY, Context, Row

from ._train_and_pipe import convert_ewt, field
from .transformer_ewt import DEV_SENTENCES, EVAL_FREQUENCY, STEPS, TRAIN, _convert_subset

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
    words = "; ".join(f"{short}: {trained[s]['updates']:,} updates, {trained[s]['words']:,} words"
                      for s, short in ((SPACY, "spaCy"), (OURS, "ours")) if isinstance(trained[s], dict))
    return [
        Row("MiniLM + tagger, fine-tuned on all of EWT train: dev XPOS accuracy, `evaluate model-best`, %",
            field(trained[OURS], "evaluate", "tag_acc", scale=100), field(trained[SPACY], "evaluate", "tag_acc", scale=100),
            fmt="{:.2f}", notes=f"target: >= spaCy; {STEPS} steps"),
        Row("MiniLM + tagger, fine-tuned on all of EWT train: training words/s (excl. init, evaluation, saving)",
            field(trained[OURS], "words_per_second"), field(trained[SPACY], "words_per_second"),
            notes="target: >= 1.3x; " + words),
        Row("MiniLM + tagger, fine-tuned on all of EWT train: training peak RSS, MB",
            field(trained[OURS], "train_peak_rss_mb"), field(trained[SPACY], "train_peak_rss_mb"), fmt="{:,.1f}",
            higher_is_better=False),
    ]
