"""Pretraining: the efficiency tagger's tok2vec pretrained on raw text, then the EWT tagger
trained on 1,000 sentences with vs without the weights; pretraining words/s vs `spacy pretrain`."""
from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from harness import OURS, SPACY, Context, MeasurementError, NotAvailable, Row

SECONDS = float(os.environ.get("BENCH_PRETRAIN_SECONDS", "1200"))  # CPU-time budget per pretraining
SEEDS = tuple(range(int(os.environ.get("BENCH_PRETRAIN_SEEDS", "3"))))
STEPS = int(os.environ.get("BENCH_PRETRAIN_STEPS", "1000"))
LIMIT = 1000  # EWT training sentences
RAW_FILES = ("raw_en.jsonl", "wiki_en.jsonl")
VECTORS_OBJECTIVE = ("[pretraining.objective]\n@architectures = \"spacy.PretrainVectors.v1\"\n"
                     "maxout_pieces = 3\nhidden_size = 300\nloss = \"cosine\"\n")

TITLE = "Pretraining: the tagger with vs without pretrained tok2vec weights; pretrain words/s"
DESCRIPTION = (
    f"Pretraining: the tok2vec of transfer-cli's efficiency tagger config (`init-config -p tagger -o efficiency` "
    f"+ `fill-config --pretraining`) on `pretrain_text/raw_en.jsonl` + `wiki_en.jsonl` (concatenated into one "
    f"JSONL file, which spaCy's reader needs), for a budget of {SECONDS:,.0f} s of CPU time "
    f"(BENCH_PRETRAIN_SECONDS; the process's CPU time, not wall time: the machine is shared), once with the "
    f"characters objective and once with the vectors objective (`spacy.PretrainVectors.v1`, cosine) on the "
    f"top-50k GloVe rows keyed by LOWER (`init-vectors en glove.6B.50d.top50k.txt.gz vec --attr LOWER`, the "
    f"table the tagger then uses through `include_static_vectors`). `spacy pretrain` (spaCy's own function) "
    f"runs on spaCy's filled config (`spacy init config -p tagger -o efficiency` + `spacy init fill-config "
    f"--pretraining`, characters objective) and the same file for the same CPU budget. Words/s = tokens that "
    f"went through an update / CPU seconds of the loop (initialization excluded). Tagger: the same configs "
    f"trained on the first {LIMIT:,} EWT train sentences, scored on EWT dev, seeds "
    f"{', '.join(map(str, SEEDS))} (BENCH_PRETRAIN_SEEDS), {STEPS:,} steps (BENCH_PRETRAIN_STEPS), evaluated "
    f"5 times, best dev accuracy; with vs without `--paths.init_tok2vec` (the only difference). Error reduction "
    f"is relative to the base (no vectors, no pretraining). transfer-cli only: spaCy's tagger figures for this "
    f"setup are in the issue (base 86.14, GloVe 87.28, 600 s of characters pretraining 86.44)."
)


def run(ctx: Context) -> List[Row]:
    folder = ctx.work_dir / "pretrain"
    folder.mkdir(parents=True, exist_ok=True)
    raw = _raw_text(ctx, folder)
    vectors = _vectors(ctx, folder)
    configs = {"characters": _our_config(ctx, folder / "characters.cfg", None)}
    if vectors is not None:
        configs["vectors"] = _our_config(ctx, folder / "vectors.cfg", vectors)
    spacy_config = _spacy_config(ctx, folder / "spacy.cfg")

    def pretrain(system: str, config: Path, name: str, vectors: Optional[Path] = None) -> Any:
        args = ["--config", config, "--raw-text", raw, "--output", _fresh(folder / f"out_{name}"),
                "--seconds", SECONDS]
        # the budget is CPU time; on a busy machine the wall time is longer
        timeout, ctx.timeout = ctx.timeout, max(ctx.timeout, 4 * SECONDS + 900)
        try:
            return ctx.measure(system, "pretrain.py", args + (["--vectors", vectors] if vectors else []))
        finally:
            ctx.timeout = timeout

    runs = {"spacy characters": pretrain(SPACY, spacy_config, "spacy"),
            "characters": pretrain(OURS, configs["characters"], "characters")}
    if vectors is not None:
        runs["vectors"] = pretrain(OURS, configs["vectors"], "vectors", vectors)
    rows = _speed_rows(runs)
    rows += _tagger_rows(ctx, configs, runs, vectors)
    return rows


def _fresh(path: Path) -> Path:
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    return path


def _raw_text(ctx: Context, folder: Path) -> Path:
    target = folder / "pretrain_text.jsonl"
    with target.open("wb") as out:
        for name in RAW_FILES:
            out.write((ctx.data_dir / "pretrain_text" / name).read_bytes())
    return target


def _vectors(ctx: Context, folder: Path) -> Optional[Path]:
    source = ctx.data_dir / "vectors" / "glove.6B.50d.top50k.txt.gz"
    if not source.exists():
        return None
    target = _fresh(folder / "glove_lower")
    _run([ctx.pythons[OURS], "-m", "transfer_cli", "init-vectors", "en", source, target, "--attr", "LOWER", "--quiet"])
    return target


def _our_config(ctx: Context, path: Path, vectors: Optional[Path]) -> Path:
    base = path.with_suffix(".base.cfg")
    cli = [ctx.pythons[OURS], "-m", "transfer_cli"]
    _run(cli + ["init-config", base, "-p", "tagger", "-o", "efficiency", "-F"]
         + (["--vectors", vectors] if vectors else []))
    _fresh(path)
    _run(cli + ["fill-config", base, path, "--pretraining"])
    if vectors is not None:
        text = path.read_text(encoding="utf8")
        start = text.index("[pretraining.objective]\n")
        end = text.index("\n[", start) + 1
        path.write_text(text[:start] + VECTORS_OBJECTIVE + "\n" + text[end:], encoding="utf8")
    return path


def _spacy_config(ctx: Context, path: Path) -> Path:
    base = path.with_suffix(".base.cfg")
    ctx.spacy_cli(["init", "config", base, "-p", "tagger", "-o", "efficiency", "-F"])
    ctx.spacy_cli(["init", "fill-config", base, path, "--pretraining"])
    return path


def _run(cmd: Sequence[Any]) -> None:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise MeasurementError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-400:]}")


def _field(result: Any, key: str) -> Any:
    return result if isinstance(result, NotAvailable) else result[key]


def _speed_rows(runs: Dict[str, Any]) -> List[Row]:
    ours, theirs = runs["characters"], runs["spacy characters"]
    notes = f"target >= 1.2x `spacy pretrain`; CPU budget {SECONDS:,.0f} s"
    if not isinstance(ours, NotAvailable) and not isinstance(theirs, NotAvailable):
        notes += (f"; transfer-cli {ours['words']:,} words in {ours['steps']:,} updates, {ours['wall_seconds']:,.0f} s "
                  f"wall; spaCy {theirs['words']:,} words in {theirs['steps']:,} updates, "
                  f"{theirs['wall_seconds']:,.0f} s wall")
    rows = [Row("pretraining words per CPU second, characters objective", _field(ours, "words_per_cpu_second"),
                _field(theirs, "words_per_cpu_second"), notes=notes),
            Row("pretraining words per wall second, characters objective", _field(ours, "words_per_second"),
                _field(theirs, "words_per_second"),
                notes="wall clock of the same runs (shared machine: the CPU figure is the comparison)")]
    vec = runs.get("vectors")
    if vec is not None:
        rows.append(Row("pretraining words per CPU second, vectors objective (GloVe, LOWER)",
                        _field(vec, "words_per_cpu_second"), None,
                        notes="" if isinstance(vec, NotAvailable) else
                        f"{vec['words']:,} words in {vec['steps']:,} updates, {vec['wall_seconds']:,.0f} s wall; "
                        f"spaCy not run with this objective"))
    return rows


def _tagger_rows(ctx: Context, configs: Dict[str, Path], runs: Dict[str, Any], vectors: Optional[Path]) -> List[Row]:
    train = ctx.data_dir / "en_ewt" / "en_ewt-ud-train.conllu"
    dev = ctx.data_dir / "en_ewt" / "en_ewt-ud-dev.conllu"
    # label: (config, weights, vectors)
    variants: Dict[str, Any] = {"base": (configs["characters"], None, None)}
    if not isinstance(runs["characters"], NotAvailable):
        variants["characters pretraining"] = (configs["characters"], runs["characters"]["weights"], None)
    if vectors is not None:
        variants["GloVe vectors (LOWER)"] = (configs["vectors"], None, vectors)
        if not isinstance(runs["vectors"], NotAvailable):
            variants["GloVe vectors + vectors pretraining"] = (configs["vectors"], runs["vectors"]["weights"], vectors)
    scores: Dict[str, List[float]] = {variant: [] for variant in variants}
    for seed in SEEDS:
        for variant, (config, weights, table) in variants.items():
            args = ["--config", config, "--train", train, "--dev", dev, "--seed", seed, "--max-steps", STEPS,
                    "--eval-frequency", max(1, STEPS // 5), "--limit", LIMIT]
            args += (["--init-tok2vec", weights] if weights else []) + (["--vectors", table] if table else [])
            result = ctx.measure(OURS, "train_tagger_pretrained.py", args)
            if isinstance(result, NotAvailable):
                return [Row(f"tagger, {variant}", result, None, higher_is_better=None)]
            scores[variant].append(100.0 * result["tag_acc"])
    targets = {"characters pretraining": f"target >= 10% within {1200:,} s of CPU pretraining",
               "GloVe vectors + vectors pretraining": "target >= 22% (more than vectors alone)"}
    rows = []
    for variant, values in scores.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        rows.append(Row(f"tagger dev tag acc %, {LIMIT:,} EWT sentences, {variant} (mean of {len(values)} seeds)",
                        statistics.mean(values), None, fmt="{:.2f}",
                        notes=f"sd {spread:.2f}; seeds {', '.join(f'{v:.2f}' for v in values)}; {STEPS:,} steps"))
    error_base = 100.0 - statistics.mean(scores["base"])
    for variant, values in scores.items():
        if variant == "base":
            continue
        error = 100.0 - statistics.mean(values)
        reduction = 100.0 * (error_base - error) / error_base if error_base else 0.0
        rows.append(Row(f"tagger error reduction % vs base, {variant}", reduction, None, fmt="{:.1f}",
                        notes=f"error {error_base:.2f}% -> {error:.2f}%"
                              + (f"; {targets[variant]}" if variant in targets else "")
                              + (f"; pretrained {SECONDS:,.0f} CPU s" if "pretraining" in variant else "")))
    return rows
