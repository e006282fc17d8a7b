"""Train a tok2vec+tagger pipeline with one system, then evaluate its model-best with that system's CLI.

    python train_tagger.py --system spacy|transfer-cli --train train.spacy --dev dev.spacy \
        --output DIR --max-steps N --eval-frequency M

The config is the one the system's own init-config writes (`-p tagger -o efficiency`, English),
generated here by the system's CLI into DIR/config.cfg; only max_steps and eval_frequency are
overridden (and the corpus paths). Training runs in this process through the system's Python API,
the same calls its `train` command makes (spaCy: load_config → init_nlp → training.loop.train;
transfer-cli: load_config → train_from_config), so this process's peak RSS is the training RSS.

Timing (time.perf_counter), the same instrumentation for both systems:
- init_seconds: building and initializing the pipeline (labels from the data);
- train_seconds: the training call minus every "overhead" interval, each interval running from the
  start of an `nlp.evaluate` call to the next `nlp.update` call (or the end of training): that takes
  out evaluation on dev, checkpoint saving and logging, whatever each loop does between the two;
- words: tokens of every example passed to `nlp.update` (counted by a wrapper), so
  words_per_second = words / train_seconds; words_per_cpu_second uses this process's CPU time
  (time.process_time, all threads) over the same intervals, steadier on a shared machine. spaCy's console logger prints no words/s, so the
  figure comes from this wrapper for both; transfer-cli's own training_log.jsonl words_per_second
  (which excludes evaluation the same way) is reported beside it as a cross-check.
After training, `evaluate DIR/model-best DEV --output metrics.json` runs in a child process
(not counted in this process's peak RSS).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from _common import emit, not_available


class Clock:
    """Wraps nlp.update / nlp.evaluate on the instance to split training time from overhead."""

    def __init__(self) -> None:
        self.words = 0
        self.updates = 0
        self.overhead = 0.0
        self.overhead_cpu = 0.0
        self.overhead_start: Optional[float] = None
        self.overhead_cpu_start = 0.0
        self.evals: List[Dict[str, Any]] = []

    def close_overhead(self) -> None:
        if self.overhead_start is not None:
            self.overhead += time.perf_counter() - self.overhead_start
            self.overhead_cpu += time.process_time() - self.overhead_cpu_start
            self.overhead_start = None

    def instrument(self, nlp: Any) -> None:
        update, evaluate = nlp.update, nlp.evaluate

        def timed_update(examples: Any, *args: Any, **kwargs: Any) -> Any:
            self.close_overhead()
            examples = list(examples)
            self.words += sum(len(eg.predicted) for eg in examples)
            self.updates += 1
            return update(examples, *args, **kwargs)

        def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
            if self.overhead_start is None:
                self.overhead_start = time.perf_counter()
                self.overhead_cpu_start = time.process_time()
            scores = evaluate(*args, **kwargs)
            self.evals.append({"updates": self.updates, "words": self.words, "tag_acc": scores.get("tag_acc"),
                               "ents_f": scores.get("ents_f")})
            return scores

        nlp.update = timed_update
        nlp.evaluate = timed_evaluate


def run_cli(args: List[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " ".join((proc.stderr + proc.stdout).strip().splitlines()[-5:])[-400:]
        raise SystemExit(f"{' '.join(args[:2])} failed ({proc.returncode}): {tail}")


def make_config(system: str, path: Path) -> None:
    if system == "spacy":
        run_cli(["spacy", "init", "config", "-p", "tagger", "-o", "efficiency", "-l", "en", str(path), "--force"])
    else:
        run_cli(["transfer_cli", "init-config", str(path), "-p", "tagger", "-o", "efficiency", "--lang", "en", "--force"])


def train_spacy(config_path: Path, output: Path, overrides: Dict[str, Any], clock: Clock) -> Tuple[float, float]:
    from spacy import util
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_nlp

    start, start_cpu = time.perf_counter(), time.process_time()
    config = util.load_config(config_path, overrides=overrides, interpolate=False)
    nlp = init_nlp(config, use_gpu=-1)
    init = (time.perf_counter() - start, time.process_time() - start_cpu)
    clock.instrument(nlp)
    output.mkdir(parents=True, exist_ok=True)  # as `spacy train` does before training
    train_nlp(nlp, output, use_gpu=-1, stdout=sys.stderr, stderr=sys.stderr)
    return init


def train_ours(config_path: Path, output: Path, overrides: Dict[str, Any], clock: Clock) -> Tuple[float, float]:
    try:
        from transfer_cli.config.loading import load_config
        from transfer_cli.training.train import train_from_config
    except ImportError as e:
        not_available(f"transfer_cli training is not importable yet ({e})")
    start, start_cpu = time.perf_counter(), time.process_time()
    init = [0.0, 0.0]
    config = load_config(config_path, overrides)

    def on_setup(setup: Any) -> None:  # called once the pipeline is initialized
        init[:] = [time.perf_counter() - start, time.process_time() - start_cpu]
        clock.instrument(setup.nlp)

    train_from_config(config, output, stdout=sys.stderr, stderr=sys.stderr, on_setup=on_setup)
    return init[0], init[1]


def log_words_per_second(log_path: Path) -> Optional[float]:
    """transfer-cli's own figure: total words / sum of per-evaluation (words / words_per_second)."""
    if not log_path.exists():
        return None
    lines = [json.loads(ln) for ln in log_path.read_text(encoding="utf8").splitlines() if ln.strip()]
    seconds, words, previous = 0.0, 0, 0
    for line in lines:
        delta = line["words"] - previous
        previous = line["words"]
        if line.get("words_per_second"):
            seconds += delta / line["words_per_second"]
            words += delta
    return words / seconds if seconds else None


def evaluate_best(system: str, model: Path, dev: Path, out: Path) -> Dict[str, Any]:
    module = "spacy" if system == "spacy" else "transfer_cli"
    start = time.perf_counter()
    force = [] if system == "spacy" else ["--force"]  # a repeated round replaces its metrics file
    run_cli([module, "evaluate", str(model), str(dev), "--output", str(out), *force])
    seconds = time.perf_counter() - start
    metrics = json.loads(out.read_text(encoding="utf8"))
    return {"tag_acc": metrics.get("tag_acc"), "ents_f": metrics.get("ents_f"), "speed": metrics.get("speed"),
            "cli_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--dev", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--max-steps", type=int, required=True)
    parser.add_argument("--eval-frequency", type=int, required=True)
    args = parser.parse_args()
    output: Path = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    config_path = output / "config.cfg"
    make_config(args.system, config_path)
    overrides = {"paths.train": str(args.train.resolve()), "paths.dev": str(args.dev.resolve()),
                 "training.max_steps": args.max_steps, "training.eval_frequency": args.eval_frequency}
    clock = Clock()
    trainer: Callable[..., Tuple[float, float]] = train_spacy if args.system == "spacy" else train_ours
    start, start_cpu = time.perf_counter(), time.process_time()
    init_seconds, init_cpu = trainer(config_path, output / "train", overrides, clock)
    clock.close_overhead()
    total_seconds = time.perf_counter() - start
    train_seconds = total_seconds - init_seconds - clock.overhead
    train_cpu_seconds = time.process_time() - start_cpu - init_cpu - clock.overhead_cpu
    result: Dict[str, Any] = {
        "max_steps": args.max_steps,
        "eval_frequency": args.eval_frequency,
        "updates": clock.updates,
        "words": clock.words,
        "init_seconds": init_seconds,
        "train_seconds": train_seconds,
        "overhead_seconds": clock.overhead,
        "total_seconds": total_seconds,
        "words_per_second": clock.words / train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "words_per_cpu_second": clock.words / train_cpu_seconds,
        "output": str(output),
        "evals": clock.evals,
        "best_tag_acc": max((e["tag_acc"] for e in clock.evals if e["tag_acc"] is not None), default=None),
        "log_words_per_second": log_words_per_second(output / "train" / "training_log.jsonl"),
        "torch_imported": "torch" in sys.modules,
        "threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ},
    }
    # ru_maxrss is taken now, before the evaluate child runs (children do not count toward SELF anyway).
    from _common import peak_rss_mb

    result["train_peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["evaluate"] = evaluate_best(args.system, output / "train" / "model-best", args.dev.resolve(),
                                       output / "metrics_dev.json")
    emit(result)


if __name__ == "__main__":
    main()
