"""Train transfer-cli's efficiency tagger on EWT with or without static vectors; report dev accuracy.

    python train_tagger_vectors.py --system transfer-cli --train train.conllu --dev dev.conllu \
        --seed 0 --max-steps 600 [--limit 1000] [--vectors vec/]

The config is `init_config(pipeline=["tagger"], optimize="efficiency", vectors=...)`: the
same config either way except `include_static_vectors` and `[initialize] vectors`.
Evaluates every --eval-frequency steps and reports the best dev tag accuracy.
"""
from __future__ import annotations

import argparse
import time

from _common import emit, not_available


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["transfer-cli"], required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=600)
    parser.add_argument("--eval-frequency", type=int, default=100)
    parser.add_argument("--limit", type=int, default=0, help="training sentences (0: all)")
    parser.add_argument("--vectors", default=None)
    args = parser.parse_args()
    try:
        from transfer_cli.config.loading import load_config_from_str
        from transfer_cli.config.quickstart import init_config
        from transfer_cli.training.train import train_from_config
    except ImportError as e:
        not_available(f"training is not importable ({e})")
    config = init_config(pipeline=["tagger"], optimize="efficiency", vectors=args.vectors)
    overrides = {"paths.train": args.train, "paths.dev": args.dev, "system.seed": args.seed,
                 "training.seed": args.seed, "training.max_steps": args.max_steps,
                 "training.eval_frequency": args.eval_frequency, "training.patience": 0,
                 "corpora.train.limit": args.limit}
    config = load_config_from_str(config.to_str(), overrides)
    start = time.perf_counter()
    summary = train_from_config(config, None, quiet=True)
    emit({"tag_acc": summary["best_scores"]["tag_acc"], "best_step": summary["best_step"],
          "seconds": time.perf_counter() - start, "seed": args.seed, "vectors": args.vectors,
          "limit": args.limit, "max_steps": args.max_steps})


if __name__ == "__main__":
    main()
