"""Pretrain a tok2vec on raw text with one system for a CPU-time budget; report words/s.

    python pretrain.py --system spacy|transfer-cli --config pretrain.cfg --raw-text text.jsonl \
        --output out/ --seconds 1200 [--vectors vec/]

transfer-cli: `init_pretraining` + `run_pretraining` (what `transfer-cli pretrain --max-time`
runs), with the module's clock read as this process's CPU time (time.process_time), so
`max_time` is a CPU-time budget on a shared machine; model-last.bin is saved at its end.
spaCy: `spacy.training.pretrain.pretrain` (what `spacy pretrain` runs) on its own filled
config, stopped after the first update that ends past the same CPU-time budget (spaCy has no
time limit). Words = the tokens of the docs that went through an update; the clock starts at
the loop (config loading and model initialization excluded for both).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Dict

from _common import emit, not_available


class CpuClock:
    """`time` with perf_counter reading this process's CPU time (all its threads)."""

    perf_counter = staticmethod(time.process_time)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class BudgetSpent(Exception):
    pass


def run_ours(args: argparse.Namespace) -> Dict[str, Any]:
    try:
        from transfer_cli.config.loading import load_config
        from transfer_cli.training import pretrain as engine
    except ImportError as e:
        not_available(f"transfer_cli.training.pretrain is not importable ({e})")
    overrides: Dict[str, Any] = {"paths.raw_text": args.raw_text}
    if args.vectors:
        overrides["paths.vectors"] = args.vectors
    setup = engine.init_pretraining(load_config(Path(args.config), overrides))
    engine.time = CpuClock()
    wall, cpu = time.perf_counter(), time.process_time()
    summary = engine.run_pretraining(setup, Path(args.output), max_time=args.seconds, quiet=True)
    return {"words": summary.progress.words, "cpu_seconds": time.process_time() - cpu,
            "wall_seconds": time.perf_counter() - wall, "steps": summary.progress.step,
            "stopped": summary.stopped, "weights": str(Path(args.output) / "model-last.bin")}


def run_spacy(args: argparse.Namespace) -> Dict[str, Any]:
    import spacy.training.pretrain as engine
    from spacy.util import load_config

    # as `spacy pretrain` loads it: overrides first, then interpolated
    config = load_config(Path(args.config), overrides={"paths.raw_text": args.raw_text}, interpolate=False)
    config = config.interpolate()
    update = engine.make_update
    counted: Dict[str, Any] = {"words": 0, "steps": 0, "cpu": None, "wall": None}

    def timed_update(model, docs, optimizer, objective):  # type: ignore[no-untyped-def]
        if counted["cpu"] is None:
            counted["cpu"], counted["wall"] = time.process_time(), time.perf_counter()
        loss = update(model, docs, optimizer, objective)
        counted["words"] += sum(len(doc) for doc in docs)
        counted["steps"] += 1
        if time.process_time() - counted["cpu"] >= args.seconds:
            raise BudgetSpent
        return loss

    engine.make_update = timed_update
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    stopped = "max_epochs"
    try:
        engine.pretrain(config, output, silent=True)
    except BudgetSpent:
        stopped = "max_time"
    return {"words": counted["words"], "cpu_seconds": time.process_time() - counted["cpu"],
            "wall_seconds": time.perf_counter() - counted["wall"], "steps": counted["steps"], "stopped": stopped}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--raw-text", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--seconds", type=float, required=True, help="CPU-time budget")
    parser.add_argument("--vectors", default=None)
    args = parser.parse_args()
    result = run_ours(args) if args.system == "transfer-cli" else run_spacy(args)
    result["words_per_cpu_second"] = result["words"] / result["cpu_seconds"]
    result["words_per_second"] = result["words"] / result["wall_seconds"]
    emit(result)


if __name__ == "__main__":
    main()
