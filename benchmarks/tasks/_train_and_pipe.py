"""Shared by the textcat and senter benchmarks: one config written by spaCy's `init config`,
trained by both systems on the same .spacy files, then each model-best timed and scored
(measure/textcat_senter.py does the work, one process per system and measurement)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from harness import OURS, SPACY, Context, NotAvailable, Row

SCRIPT = "textcat_senter.py"
Result = Union[Dict[str, Any], NotAvailable]


def convert_ewt(ctx: Context, split: str) -> Path:
    """EWT `split` as a .spacy file of 10-sentence docs written by spaCy's converter (cached)."""
    source = ctx.data_dir / "en_ewt" / f"en_ewt-ud-{split}.conllu"
    target = ctx.work_dir / f"en_ewt-ud-{split}.spacy"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    tmp = ctx.work_dir / f"convert_tmp_{split}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ctx.spacy_cli(["convert", source, tmp, "--converter", "conllu", "-n", "10"])
    (tmp / f"en_ewt-ud-{split}.spacy").replace(target)
    shutil.rmtree(tmp)
    return target


def spacy_config(ctx: Context, pipeline: str, optimize: str, name: str) -> Path:
    path = ctx.work_dir / f"{name}.cfg"
    ctx.spacy_cli(["init", "config", path, "-p", pipeline, "-o", optimize, "-l", "en", "--force"])
    return path


def field(result: Result, *keys: str, scale: float = 1.0) -> Any:
    if isinstance(result, NotAvailable):
        return result
    value: Any = result
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value * scale if isinstance(value, (int, float)) else value


def train_and_pipe(ctx: Context, *, name: str, task: str, config: Path, train: Path, dev: Path, max_steps: int,
                   eval_frequency: int, score_keys: Sequence[str], overrides: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Dict[str, Result]]:
    """{"train": {system: result}, "pipe": {system: result}}: one training process per system
    (spaCy first), then two alternating inference processes per system. With
    BENCH_REUSE_TRAINING=1 the models and figures of the last training run are reused."""
    out_root = ctx.work_dir / name

    def train_args(system: str) -> List[Any]:
        args: List[Any] = ["train", "--config", config, "--train", train, "--dev", dev,
                           "--output", out_root / system, "--max-steps", max_steps,
                           "--eval-frequency", eval_frequency]
        for key in score_keys:
            args += ["--score-key", key]
        for key, value in (overrides or {}).items():
            args += ["--override", f"{key}={json.dumps(value)}"]
        return args

    saved = {system: out_root / system / "train_result.json" for system in (SPACY, OURS)}
    if os.environ.get("BENCH_REUSE_TRAINING") and all(path.exists() for path in saved.values()):
        # re-measure inference only, with the models of the last training run
        trained: Dict[str, Result] = {s: json.loads(p.read_text(encoding="utf8")) for s, p in saved.items()}
    else:
        trained = ctx.compare(SCRIPT, train_args, maximize=["train_seconds"], rounds=1)
    for system, result in trained.items():
        if not isinstance(result, NotAvailable):
            saved[system].write_text(json.dumps(result, indent=1), encoding="utf8")

    def pipe_args(system: str) -> List[Any]:
        return ["pipe", "--task", task, "--model", out_root / system / "model-best", "--dev", dev,
                "--batch-size", 1000, "--repeats", min(ctx.repeats, 5)]

    ready = {s for s, r in trained.items() if not isinstance(r, NotAvailable)}
    piped: Dict[str, Result] = {s: trained[s] for s in (SPACY, OURS) if s not in ready}
    if ready:
        measured = ctx.compare(SCRIPT, pipe_args, maximize=["words_per_second", "words_per_second_from_text"],
                               rounds=2)
        piped.update({s: measured[s] for s in ready})
    return {"train": trained, "pipe": piped}


def speed_rows(results: Dict[str, Dict[str, Result]], label: str, n_repeats: int) -> List[Row]:
    trained, piped = results["train"], results["pipe"]
    notes = []
    for system, short in ((SPACY, "spaCy"), (OURS, "ours")):
        if not isinstance(trained[system], NotAvailable):
            notes.append(f"{short}: {trained[system]['updates']:,} updates, {trained[system]['words']:,} words")
    return [
        Row(f"{label}: inference words/s, nlp.pipe over tokenized docs", field(piped[OURS], "words_per_second"),
            field(piped[SPACY], "words_per_second"),
            notes=f"target: >= 1.5x; the components' work (docs made outside the timing); batch 1000; "
                  f"best of {2 * n_repeats} passes in 2 processes"),
        Row(f"{label}: inference words/s, nlp.pipe over texts (tokenizer included)",
            field(piped[OURS], "words_per_second_from_text"), field(piped[SPACY], "words_per_second_from_text"),
            notes="same texts every pass (tokenizer caches warm)"),
        Row(f"{label}: training words/s (excl. init, evaluation, saving)", field(trained[OURS], "words_per_second"),
            field(trained[SPACY], "words_per_second"), notes="; ".join(notes)),
        Row(f"{label}: training wall time incl. init and evaluation, s", field(trained[OURS], "total_seconds"),
            field(trained[SPACY], "total_seconds"), fmt="{:,.1f}", higher_is_better=False),
        Row(f"{label}: inference peak RSS, MB", field(piped[OURS], "peak_rss_mb"), field(piped[SPACY], "peak_rss_mb"),
            fmt="{:,.1f}", higher_is_better=False, notes="model loaded, imports included"),
    ]
