"""Peak memory of `convert` and `apply` at two input sizes: flat when the readers stream
and the `.spacy` output is written in batches."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Union

from harness import OURS, SPACY, Context, NotAvailable, Row

from ._ewt import texts_and_gold_spans
from .apply_processes import models

# Input sizes in MB (BENCH_MEMORY_SIZES_MB, comma-separated): the JSONL files are EWT train's raw
# sentences, one {"text": ...} per line, repeated until the file has that many bytes.
# ("none": only the long-document row)
SIZES_MB = [float(s) for s in os.environ.get("BENCH_MEMORY_SIZES_MB", "10,100").split(",")
            if s.strip() and s.strip() != "none"]
# apply runs the tagger over every line (~20M words at 100 MB: tens of minutes per system);
# BENCH_MEMORY_APPLY_SIZES_MB limits it to some of the sizes (default: all)
APPLY_SIZES_MB = [float(s) for s in os.environ.get("BENCH_MEMORY_APPLY_SIZES_MB", "").split(",") if s.strip()] \
    or SIZES_MB
# spaCy's apply is ~3x slower than ours (an hour at 100 MB here): BENCH_MEMORY_SPACY_APPLY_SIZES_MB runs
# its apply at some of those sizes only (default: the same as ours)
SPACY_APPLY_SIZES_MB = [float(s) for s in os.environ.get("BENCH_MEMORY_SPACY_APPLY_SIZES_MB", "").split(",")
                        if s.strip()] or APPLY_SIZES_MB

# One long document: EWT train's raw sentences joined into a single text of this many
# characters (just under both systems' default nlp.max_length of 1,000,000): ~200,000 tokens.
LONG_DOC_CHARS = 999_000

TITLE = "Peak memory of convert and apply as the input grows"
DESCRIPTION = (
    "Peak RSS (the command's own ru_maxrss, read with os.wait4 by a parent that runs it) of "
    "`convert texts.jsonl OUT --lang en` (ours; spaCy's convert has no JSONL reader) and of "
    "`apply MODEL texts.jsonl out.spacy` (both systems; the model of the apply_processes task: the tagger_ewt "
    "task's tok2vec + tagger, or one trained for it) on JSONL files of "
    f"{' and '.join(f'{s:g}' for s in SIZES_MB)} MB (BENCH_MEMORY_SIZES_MB): EWT train's raw sentences, one per "
    "line, repeated to the size. One run per system and size: peak RSS does not drift like time does. "
    "Flat means the figure does not grow with the input. The long-document row runs `apply` over a JSONL of "
    f"one text: EWT train's sentences joined to {LONG_DOC_CHARS:,} characters (~200,000 tokens)."
)

Result = Union[Dict[str, Any], NotAvailable]


def make_input(ctx: Context, size_mb: float) -> Path:
    path = ctx.work_dir / f"memory_texts_{size_mb:g}mb.jsonl"
    target = int(size_mb * 1e6)
    if path.exists() and path.stat().st_size >= target:
        return path
    texts = texts_and_gold_spans(ctx.data_dir / "en_ewt" / "en_ewt-ud-train.conllu")[0]
    lines = [(json.dumps({"text": t}, ensure_ascii=False) + "\n").encode("utf8") for t in texts]
    size = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        i = 0
        while size < target:
            out.write(lines[i % len(lines)])
            size += len(lines[i % len(lines)])
            i += 1
    tmp.replace(path)
    return path


def make_long_document(ctx: Context) -> Path:
    path = ctx.work_dir / "memory_long_document.jsonl"
    if path.exists():
        return path
    texts = texts_and_gold_spans(ctx.data_dir / "en_ewt" / "en_ewt-ud-train.conllu")[0]
    pieces, size = [], 0
    while size < LONG_DOC_CHARS:
        text = texts[len(pieces) % len(texts)]
        pieces.append(text)
        size += len(text) + 1
    text = " ".join(pieces)
    text = text[:text.rindex(" ", 0, LONG_DOC_CHARS)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"text": text}, ensure_ascii=False) + "\n", encoding="utf8")
    tmp.replace(path)
    return path


def apply_peak(ctx: Context, trained: Dict[str, Result], system: str, source: Path, output_name: str) -> Result:
    """Peak memory of `system`'s apply of its trained model over `source` (or why it cannot run)."""
    if isinstance(trained[system], NotAvailable):
        return trained[system]
    model = Path(trained[system]["output"]) / "train" / "model-best"  # type: ignore[index]
    return ctx.measure(system, "memory_convert_apply.py", [
        "--command", "apply", "--model", model, "--input", source, "--output", ctx.work_dir / output_name])


def peak(results: Dict[str, Result], system: str) -> Any:
    result = results[system]
    return result if isinstance(result, NotAvailable) else result["command_peak_rss_mb"]


def note(results: Dict[str, Result]) -> str:
    ours = results[OURS]
    if isinstance(ours, NotAvailable):
        return ""
    return f"ours: {ours['seconds']:,.0f} s, {ours['output_mb']:,.1f} MB .spacy written"


def run(ctx: Context) -> List[Row]:
    inputs = {size: make_input(ctx, size) for size in SIZES_MB}
    trained = models(ctx)
    rows: List[Row] = []
    for size, source in inputs.items():
        converted: Dict[str, Result] = {}
        for system in (SPACY, OURS):
            converted[system] = ctx.measure(system, "memory_convert_apply.py", [
                "--command", "convert", "--input", source, "--output", ctx.work_dir / f"memory_convert_{system}"])
        applied: Dict[str, Result] = {}
        for system in (SPACY, OURS):
            if size not in APPLY_SIZES_MB:
                applied[system] = NotAvailable(f"not run at {size:g} MB (BENCH_MEMORY_APPLY_SIZES_MB)")
            elif system == SPACY and size not in SPACY_APPLY_SIZES_MB:
                applied[system] = NotAvailable(f"not run at {size:g} MB (BENCH_MEMORY_SPACY_APPLY_SIZES_MB)")
            else:
                applied[system] = apply_peak(ctx, trained, system, source, f"memory_apply_{system}.spacy")
        rows.append(Row(f"convert {size:g} MB JSONL: peak RSS, MB", peak(converted, OURS), peak(converted, SPACY),
                        fmt="{:,.1f}", higher_is_better=False, notes=note(converted)))
        rows.append(Row(f"apply {size:g} MB JSONL → .spacy: peak RSS, MB", peak(applied, OURS),
                        peak(applied, SPACY), fmt="{:,.1f}", higher_is_better=False, notes=note(applied)))
    long_doc = make_long_document(ctx)
    applied = {system: apply_peak(ctx, trained, system, long_doc, f"memory_apply_long_{system}.spacy")
               for system in (SPACY, OURS)}
    rows.append(Row("apply one ~200,000-token document → .spacy: peak RSS, MB", peak(applied, OURS),
                    peak(applied, SPACY), fmt="{:,.1f}", higher_is_better=False, notes=note(applied)))
    return rows
