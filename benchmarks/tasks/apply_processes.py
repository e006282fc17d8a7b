"""`apply` with 1 and 2 processes: the EWT tagger over EWT's raw sentences."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Union

from harness import OURS, SPACY, Context, NotAvailable, Row

from ._ewt import texts_and_gold_spans
from .tagger_ewt import convert

# The tagger_ewt task's models when it has run (work/tagger_ewt/SYSTEM-1/train/model-best);
# otherwise each system trains its init-config tagger for TRAIN_STEPS here: inference speed
# depends on the network's size, not on how long it trained.
TRAIN_STEPS = int(os.environ.get("BENCH_APPLY_TRAIN_STEPS", 300))
# Sentences to annotate: EWT train then dev (14,545 sentences, 232k words), COPIES times over
# (a worker's start-up costs seconds: a longer input shows what the second process brings), or the
# first BENCH_APPLY_TEXTS of them.
COPIES = int(os.environ.get("BENCH_APPLY_COPIES", 2))
N_TEXTS = int(os.environ.get("BENCH_APPLY_TEXTS", 0)) or None
BATCH_SIZE = 1000
PROCESSES = (1, 2)

TITLE = "apply with 1 and 2 processes: EWT tagger over raw sentences"
DESCRIPTION = (
    "Each system's own `apply MODEL texts.jsonl out.spacy --n-process N --batch-size 1000` (spaCy: `python -m spacy "
    f"apply`; ours: `python -m transfer_cli apply`) on the raw sentences of EWT train and dev, {COPIES} times over "
    "(BENCH_APPLY_COPIES), one JSONL line each (BENCH_APPLY_TEXTS limits them), with the tok2vec + tagger model "
    f"of the tagger_ewt task (or, when that has not run, each system's init-config tagger trained here for "
    f"{TRAIN_STEPS} steps; BENCH_APPLY_TRAIN_STEPS). "
    "Timed from the command's start to its exit (interpreter start-up, model loading, worker start-up, reading, "
    "annotating, writing), one run per measurement, 2 measurements per system and N alternating, the faster kept. "
    "spaCy's --n-process N starts N workers beside the main process; ours annotates in the main process and "
    "N-1 workers. Words = tokens in the output. The speed-up is words/s with 2 processes over words/s with 1; "
    "each worker's start-up (a fresh interpreter, torch and thinc imported, the model loaded) is part of it. "
    "'identical' compares the bytes of the .spacy file written with 2 processes and with 1."
)

Result = Union[Dict[str, Any], NotAvailable]


def models(ctx: Context) -> Dict[str, Result]:
    """Each system's model-best: the tagger_ewt task's, or one trained here (with
    BENCH_REUSE_TRAINING=1, the one trained here by an earlier run)."""
    found: Dict[str, Result] = {}
    missing = []
    for system in (SPACY, OURS):
        path = ctx.work_dir / "tagger_ewt" / f"{system}-1" / "train" / "model-best"
        trained_here = ctx.work_dir / "apply_processes" / system
        if path.is_dir():
            found[system] = {"output": str(path.parent.parent)}
        elif os.environ.get("BENCH_REUSE_TRAINING") and (trained_here / "train" / "model-best").is_dir():
            found[system] = {"output": str(trained_here)}
        else:
            missing.append(system)
    if missing:
        train, dev = convert(ctx, "train"), convert(ctx, "dev")
        out_root = ctx.work_dir / "apply_processes"
        for system in missing:
            found[system] = ctx.measure(system, "train_tagger.py", [
                "--train", train, "--dev", dev, "--output", out_root / system, "--max-steps", TRAIN_STEPS,
                "--eval-frequency", TRAIN_STEPS])
    return found


def run(ctx: Context) -> List[Row]:
    texts: List[str] = []
    for split in ("train", "dev"):
        texts += texts_and_gold_spans(ctx.data_dir / "en_ewt" / f"en_ewt-ud-{split}.conllu")[0]
    texts = (texts * COPIES)[:N_TEXTS]
    source = ctx.work_dir / "apply_texts.jsonl"
    source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf8")
    trained = models(ctx)

    results: Dict[int, Dict[str, Result]] = {}
    for n in PROCESSES:
        def args_for(system: str, n: int = n) -> List[Any]:
            model = Path(trained[system]["output"]) / "train" / "model-best"  # type: ignore[index]
            return ["--model", model, "--input", source, "--output", ctx.work_dir / f"apply_{system}_{n}.spacy",
                    "--n-process", n, "--batch-size", BATCH_SIZE, "--repeats", 1]

        ready = [s for s in (SPACY, OURS) if not isinstance(trained[s], NotAvailable)]
        results[n] = {s: trained[s] for s in (SPACY, OURS) if s not in ready}
        if ready:
            measured = ctx.compare("apply_processes.py", args_for, maximize=["words_per_second"], rounds=2)
            results[n].update({s: measured[s] for s in ready})

    def value(system: str, n: int, key: str) -> Any:
        result = results[n][system]
        return result if isinstance(result, NotAvailable) else result[key]

    def speedup(system: str) -> Any:
        one, two = value(system, 1, "words_per_second"), value(system, 2, "words_per_second")
        for missing in (one, two):
            if isinstance(missing, NotAvailable):
                return missing
        return two / one

    def identical(system: str) -> Any:
        one, two = value(system, 1, "sha256"), value(system, 2, "sha256")
        return ("yes" if one == two else "no") if isinstance(one, str) and isinstance(two, str) else None

    n_words = value(OURS, 1, "n_words")
    words_note = f"{len(texts):,} texts" + (f", {n_words:,} tokens (ours)" if isinstance(n_words, int) else "")
    return [
        Row("apply, 1 process: words/s (whole command)", value(OURS, 1, "words_per_second"),
            value(SPACY, 1, "words_per_second"), notes=words_note),
        Row("apply --n-process 2: words/s (whole command)", value(OURS, 2, "words_per_second"),
            value(SPACY, 2, "words_per_second"),
            notes="spaCy: 2 workers beside the main process; ours: the main process and 1 worker"),
        Row("speed-up of --n-process 2 over 1", speedup(OURS), speedup(SPACY), fmt="{:.2f}x",
            notes="words/s with 2 processes / words/s with 1, per system"),
        Row("output with 2 processes identical to 1 (bytes of out.spacy)", identical(OURS), identical(SPACY),
            higher_is_better=None),
    ]
