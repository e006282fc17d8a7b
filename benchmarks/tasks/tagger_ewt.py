"""Tagger training on EWT: dev XPOS accuracy, training and inference speed, peak memory."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Union

from harness import OURS, SPACY, Context, NotAvailable, Row

from ._ewt import texts_and_gold_spans

# 2000 steps: about 620k training words, 3 epochs of EWT train (204k words), because the config's
# batch size compounds from 100 words by 1.001 per step (~270 words at step 1000, ~740 at 2000); 1000
# steps see 165k words (0.8 epoch) and reach ~91% dev XPOS. That is enough for the training speed to
# settle and takes about 10 minutes for both systems on 2 cores. Raise it (the configs' own max_steps
# is 20000) with BENCH_TAGGER_STEPS; BENCH_TAGGER_EVAL_FREQ changes the evaluation interval.
DEFAULT_STEPS = 2000
DEFAULT_EVAL_FREQUENCY = 200  # the value both init-config files write
STEPS = int(os.environ.get("BENCH_TAGGER_STEPS", DEFAULT_STEPS))
EVAL_FREQUENCY = int(os.environ.get("BENCH_TAGGER_EVAL_FREQ", DEFAULT_EVAL_FREQUENCY))
# Training runs per system, alternating spaCy / transfer-cli; the run with the best words/s is reported
# (its own accuracy and model). 1 by default: a run takes minutes.
TRAIN_ROUNDS = int(os.environ.get("BENCH_TAGGER_ROUNDS", 1))

TITLE = "Tagger (tok2vec + tagger) trained on EWT: accuracy, speed, memory"
DESCRIPTION = (
    "Each system trains the config its own init-config writes (`spacy init config -p tagger -o efficiency` / "
    f"`transfer-cli init-config -p tagger -o efficiency`, English) for the same max_steps ({STEPS}; "
    f"BENCH_TAGGER_STEPS) and eval_frequency ({EVAL_FREQUENCY}), on EWT train/dev converted once by "
    "`spacy convert --converter conllu -n 10` (both systems read the same .spacy files). Training runs "
    "in-process through each system's training API (the calls its `train` command makes), one fresh "
    f"process per system, spaCy first ({TRAIN_ROUNDS} run(s) each, alternating; BENCH_TAGGER_ROUNDS). "
    "Training words/s = words passed to `nlp.update` / training time, "
    "where training time excludes initialization and every interval from an `nlp.evaluate` call to the "
    "next `nlp.update` (dev evaluation, checkpoint saving, logging): the same instrumentation for both. "
    "Accuracy: best dev tag_acc seen during training, and each system's `evaluate model-best dev.spacy`. "
    "Inference: `nlp.pipe(texts, batch_size=1000)` over the 2,001 EWT dev raw texts (tokenizer included), "
    "model loaded once outside the timing, best of 3 passes per process, 2 processes per system "
    "alternating. Peak RSS = the process's ru_maxrss (imports, corpus and model included). "
    "Targets: accuracy within 0.3 points of spaCy or better, training words/s >= 1.0x, inference "
    "words/s >= 1.5x, peak RSS <= 1.0x."
)


def convert(ctx: Context, split: str) -> Path:
    """EWT `split` as a .spacy file written by spaCy's converter (once; reused while up to date)."""
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


Result = Union[Dict[str, Any], NotAvailable]


def _field(result: Result, *keys: str, scale: float = 1.0) -> Any:
    if isinstance(result, NotAvailable):
        return result
    value: Any = result
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value * scale if isinstance(value, (int, float)) else value


def _tag_agreement(paths: Dict[str, Path]) -> Any:
    """Share of tokens (same start offset in the same text) given the same tag by both models."""
    tags = {s: json.loads(p.read_text(encoding="utf8")) for s, p in paths.items()}
    same = total = 0
    for ours, theirs in zip(tags[OURS], tags[SPACY]):
        theirs_by_start = dict((start, tag) for start, tag in theirs)
        for start, tag in ours:
            if start in theirs_by_start:
                total += 1
                same += tag == theirs_by_start[start]
    return 100.0 * same / total if total else None


def run(ctx: Context) -> List[Row]:
    train, dev = convert(ctx, "train"), convert(ctx, "dev")
    texts, _ = texts_and_gold_spans(ctx.data_dir / "en_ewt" / "en_ewt-ud-dev.conllu")
    texts_path = ctx.work_dir / "tagger_dev_texts.json"
    texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf8")
    out_root = ctx.work_dir / "tagger_ewt"

    runs = {SPACY: 0, OURS: 0}

    def train_args(system: str) -> List[Any]:
        runs[system] += 1  # each round trains into its own directory: the reported run keeps its model
        return ["--train", train, "--dev", dev, "--output", out_root / f"{system}-{runs[system]}",
                "--max-steps", STEPS, "--eval-frequency", EVAL_FREQUENCY]

    trained = ctx.compare("train_tagger.py", train_args, maximize=["words_per_second"], rounds=TRAIN_ROUNDS)
    for system, result in trained.items():
        if not isinstance(result, NotAvailable):
            (Path(result["output"]) / "train_result.json").write_text(json.dumps(result, indent=1), encoding="utf8")

    tags_paths = {s: ctx.work_dir / f"tagger_tags_{s}.json" for s in (SPACY, OURS)}

    def pipe_args(system: str) -> List[Any]:
        return ["--model", Path(trained[system]["output"]) / "train" / "model-best", "--texts", texts_path,
                "--batch-size", 1000, "--repeats", 3, "--tags-out", tags_paths[system]]

    ready = {s for s, r in trained.items() if not isinstance(r, NotAvailable)}
    inferred: Dict[str, Result] = {s: trained[s] for s in (SPACY, OURS) if s not in ready}
    if ready:
        measured = ctx.compare("pipe_tagger.py", pipe_args, maximize=["words_per_second"], rounds=2)
        inferred.update({s: measured[s] for s in ready})

    spacy_train = trained[SPACY]
    words_note = ""
    if not isinstance(spacy_train, NotAvailable):
        words_note = (f"spaCy: {spacy_train['updates']:,} updates, {spacy_train['words']:,} words; ")
    if not isinstance(trained[OURS], NotAvailable):
        words_note += f"ours: {trained[OURS]['updates']:,} updates, {trained[OURS]['words']:,} words"
    log_wps = _field(trained[OURS], "log_words_per_second")
    both_inferred = all(not isinstance(inferred[s], NotAvailable) for s in (SPACY, OURS))
    agreement = _tag_agreement(tags_paths) if both_inferred else inferred[OURS]
    pipe_words = "" if isinstance(inferred[SPACY], NotAvailable) else \
        f"{inferred[SPACY]['n_words']:,} spaCy tokens in {len(texts):,} texts"
    if both_inferred:
        pipe_words += f"; ours {inferred[OURS]['n_words']:,}"
    return [
        Row("dev XPOS accuracy (tag_acc), best evaluation during training, %",
            _field(trained[OURS], "best_tag_acc", scale=100), _field(trained[SPACY], "best_tag_acc", scale=100),
            fmt="{:.2f}", notes=f"target: >= spaCy - 0.3; {STEPS} steps, evaluated every {EVAL_FREQUENCY}"),
        Row("dev XPOS accuracy, `evaluate model-best dev.spacy`, %",
            _field(trained[OURS], "evaluate", "tag_acc", scale=100),
            _field(trained[SPACY], "evaluate", "tag_acc", scale=100),
            fmt="{:.2f}", notes="each system's own evaluate command on its model-best"),
        Row("training words/s (excl. init, evaluation, saving)", _field(trained[OURS], "words_per_second"),
            _field(trained[SPACY], "words_per_second"),
            notes=f"target: >= 1.0x; {words_note}"
                  + (f"; ours per training_log.jsonl: {log_wps:,.0f}" if isinstance(log_wps, float) else "")),
        Row("training words/CPU-second (same intervals, process CPU time)",
            _field(trained[OURS], "words_per_cpu_second"), _field(trained[SPACY], "words_per_cpu_second"),
            notes="time.process_time (all threads of the process): less sensitive to other load on the machine"),
        Row("training wall time, whole run incl. init and evaluation, s", _field(trained[OURS], "total_seconds"),
            _field(trained[SPACY], "total_seconds"), fmt="{:,.1f}", higher_is_better=False,
            notes="config generation and the final evaluate command not included"),
        Row("training peak RSS, MB", _field(trained[OURS], "train_peak_rss_mb"),
            _field(trained[SPACY], "train_peak_rss_mb"), fmt="{:,.1f}", higher_is_better=False,
            notes="target: <= 1.0x; training process, imports and corpora included"),
        Row("inference words/s, nlp.pipe (batch 1000, tokenizer included)", _field(inferred[OURS], "words_per_second"),
            _field(inferred[SPACY], "words_per_second"),
            notes=f"target: >= 1.5x; best of 6 passes in 2 processes; {pipe_words}"),
        Row("inference peak RSS, MB", _field(inferred[OURS], "peak_rss_mb"), _field(inferred[SPACY], "peak_rss_mb"),
            fmt="{:,.1f}", higher_is_better=False, notes="target: <= 1.0x; model loaded, imports included"),
        Row("predicted tags agreeing with spaCy's model, %", agreement, "reference", fmt="{:.2f}",
            higher_is_better=None, notes="tokens at the same offset in both systems' docs; two separately trained models"),
    ]
