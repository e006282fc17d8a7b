"""Sentence segmentation (senter) on EWT: sentence F, training and inference speed."""
from __future__ import annotations

import os
from typing import List

from harness import OURS, SPACY, Context, Row

from ._train_and_pipe import convert_ewt, field, speed_rows, spacy_config, train_and_pipe

STEPS = int(os.environ.get("BENCH_SENTER_STEPS", 3000))
EVAL_FREQUENCY = 200  # the config's own value

TITLE = "Sentence segmentation (senter) on EWT: sentence F and speed"
DESCRIPTION = (
    "EWT train/dev converted once by `spacy convert --converter conllu -n 10` (10 sentences per doc, so "
    "there are boundaries to find). Both systems train the config file written by `spacy init config -p "
    f"senter` (spacy.Tagger.v2 over a HashEmbedCNN of width 12, depth 1) for max_steps {STEPS} "
    f"(BENCH_SENTER_STEPS; the config's own is 20000, patience 1600), eval_frequency {EVAL_FREQUENCY}, one run "
    "per system. Sentence P/R/F of model-best over (start char, end char) spans of the dev docs, computed "
    "the same way for both by the measurement script; the best sents_f each system's scorer reported during "
    "training beside it. Inference as for the other tasks: `nlp.pipe(docs, batch_size=1000)` over "
    "pre-tokenized dev texts and over raw texts. Target: sentence F within 1 point of spaCy's. BENCH_REUSE_TRAINING=1 re-measures inference with the models of the last training run."
)


def run(ctx: Context) -> List[Row]:
    train, dev = convert_ewt(ctx, "train"), convert_ewt(ctx, "dev")
    config = spacy_config(ctx, "senter", "efficiency", "senter_ewt")
    results = train_and_pipe(ctx, name="senter_ewt", task="senter", config=config, train=train, dev=dev,
                             max_steps=STEPS, eval_frequency=EVAL_FREQUENCY, score_keys=["sents_f", "sents_p"])
    trained, piped = results["train"], results["pipe"]
    return [
        Row("dev sentence F of model-best, %", field(piped[OURS], "sents_f", scale=100),
            field(piped[SPACY], "sents_f", scale=100), fmt="{:.2f}", notes="target: within 1 point of spaCy"),
        Row("dev sentence P / R of model-best, %",
            _pr(piped[OURS]), _pr(piped[SPACY]), higher_is_better=None),
        Row("best dev sents_f during training, %", field(trained[OURS], "best", "sents_f", scale=100),
            field(trained[SPACY], "best", "sents_f", scale=100), fmt="{:.2f}",
            notes=f"each system's own scorer, every {EVAL_FREQUENCY} steps"),
    ] + speed_rows(results, "senter", min(ctx.repeats, 5))


def _pr(result):
    if not isinstance(result, dict):
        return result
    return f"{100 * result['sents_p']:.2f} / {100 * result['sents_r']:.2f}"
