"""Text classification on SST-2 (BOW and ensemble): dev accuracy, training and inference speed."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

from harness import OURS, SPACY, Context, Row

from ._train_and_pipe import SCRIPT, field, speed_rows, spacy_config, train_and_pipe

# The configs' own max_steps is 20000 with patience 1600; these caps keep the run to minutes on
# 2 cores (the BOW model peaks within ~1,500 steps; both systems stop earlier on patience).
BOW_STEPS = int(os.environ.get("BENCH_TEXTCAT_BOW_STEPS", 4000))
ENSEMBLE_STEPS = int(os.environ.get("BENCH_TEXTCAT_ENSEMBLE_STEPS", 2000))
EVAL_FREQUENCY = 200  # the configs' own value
# spaCy's accuracy config names the en_core_web_lg vectors, which are not installed here, and a
# 256-wide, 8-deep tok2vec; the ensemble run uses the efficiency sizes and no static vectors.
ENSEMBLE_OVERRIDES = {"paths.vectors": None, "components.tok2vec.model.embed.include_static_vectors": False,
                      "components.tok2vec.model.encode.width": 96, "components.tok2vec.model.encode.depth": 4}

TITLE = "Text classification (textcat) on SST-2: accuracy and speed, BOW and ensemble"
DESCRIPTION = (
    "SST-2 train (6,920) / dev (872) JSONL → .spacy once by spaCy (`spacy.blank(\"en\")` tokens, cats "
    "{pos, neg}); both systems train the same config file written by `spacy init config -p textcat`: "
    f"`-o efficiency` = spacy.TextCatBOW.v3 (unigrams), max_steps {BOW_STEPS} (BENCH_TEXTCAT_BOW_STEPS); "
    "`-o accuracy` = spacy.TextCatEnsemble.v2 listening to a tok2vec, run with "
    + ", ".join(f"`{k} = {v}`" for k, v in ENSEMBLE_OVERRIDES.items())
    + f", max_steps {ENSEMBLE_STEPS} (BENCH_TEXTCAT_ENSEMBLE_STEPS). eval_frequency {EVAL_FREQUENCY}, patience "
    "1600 as configured; training in-process through each system's API, one run per system. Accuracy = "
    "share of dev texts whose top-scoring label is the gold label, computed by the measurement script from "
    "each system's model-best predictions. Inference: model-best loaded once; `nlp.pipe(docs, batch_size=1000)` "
    "over the dev texts tokenized beforehand (the component's work), and over the raw texts. Targets: accuracy "
    ">= spaCy's with the same architecture (BOW >= 80%), inference words/s >= 1.5x. BENCH_REUSE_TRAINING=1 re-measures inference with the models of the last training run."
)


def prepare(ctx: Context, split: str) -> Path:
    source = ctx.data_dir / "sst2" / f"{split}.jsonl"
    target = ctx.work_dir / f"sst2_{split}.spacy"
    if not (target.exists() and target.stat().st_mtime >= source.stat().st_mtime):
        result = ctx.measure(SPACY, SCRIPT, ["prepare-jsonl", "--jsonl", source, "--out", target])
        if not isinstance(result, dict):
            raise RuntimeError(f"converting {source} with spaCy failed: {getattr(result, 'reason', result)}")
    return target


def run(ctx: Context) -> List[Row]:
    train, dev = prepare(ctx, "train"), prepare(ctx, "dev")
    rows: List[Row] = []
    for label, optimize, steps, overrides in (("BOW", "efficiency", BOW_STEPS, {}),
                                              ("ensemble", "accuracy", ENSEMBLE_STEPS, ENSEMBLE_OVERRIDES)):
        config = spacy_config(ctx, "textcat", optimize, f"textcat_sst2_{label.lower()}")
        results = train_and_pipe(ctx, name=f"textcat_sst2_{label.lower()}", task="textcat", config=config,
                                 train=train, dev=dev, max_steps=steps, eval_frequency=EVAL_FREQUENCY,
                                 score_keys=["cats_score", "cats_micro_f"], overrides=overrides)
        trained, piped = results["train"], results["pipe"]
        target = "target: >= spaCy" + (" and >= 80%" if label == "BOW" else "")
        rows += [
            Row(f"{label}: dev accuracy of model-best, %", field(piped[OURS], "accuracy", scale=100),
                field(piped[SPACY], "accuracy", scale=100), fmt="{:.2f}", notes=target),
            Row(f"{label}: best dev cats_score (macro F) during training, %",
                field(trained[OURS], "best", "cats_score", scale=100),
                field(trained[SPACY], "best", "cats_score", scale=100), fmt="{:.2f}",
                notes=f"evaluated every {EVAL_FREQUENCY} steps by each system's own scorer"),
        ]
        rows += speed_rows(results, label, min(ctx.repeats, 5))
    return rows
