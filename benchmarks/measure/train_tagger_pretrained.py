"""Train transfer-cli's efficiency tagger from a pretraining config, with or without the
pretrained tok2vec weights; report dev accuracy.

    python train_tagger_pretrained.py --system transfer-cli --config pretrain.cfg --train train.conllu \
        --dev dev.conllu --seed 0 --max-steps 1000 --limit 1000 [--init-tok2vec model-last.bin] [--vectors vec/]

The config is the one pretraining used (init-config -p tagger -o efficiency, fill-config
--pretraining), so both runs have the same network; the only difference is
`paths.init_tok2vec`. Evaluates every --eval-frequency steps and reports the best dev tag accuracy.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Dict

from _common import emit, not_available


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["transfer-cli"], required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--eval-frequency", type=int, default=200)
    parser.add_argument("--limit", type=int, default=0, help="training sentences (0: all)")
    parser.add_argument("--init-tok2vec", default=None)
    parser.add_argument("--vectors", default=None)
    args = parser.parse_args()
    try:
        from transfer_cli.config.loading import load_config
        from transfer_cli.training.train import train_from_config
    except ImportError as e:
        not_available(f"training is not importable ({e})")
    overrides: Dict[str, Any] = {
        "paths.train": args.train, "paths.dev": args.dev, "system.seed": args.seed, "training.seed": args.seed,
        "training.max_steps": args.max_steps, "training.eval_frequency": args.eval_frequency,
        "training.patience": 0, "corpora.train.limit": args.limit, "paths.init_tok2vec": args.init_tok2vec}
    if args.vectors:
        overrides["paths.vectors"] = args.vectors
    config = load_config(args.config, overrides)
    start = time.perf_counter()
    summary = train_from_config(config, None, quiet=True)
    emit({"tag_acc": summary["best_scores"]["tag_acc"], "best_step": summary["best_step"],
          "seconds": time.perf_counter() - start, "seed": args.seed, "init_tok2vec": args.init_tok2vec})


if __name__ == "__main__":
    main()
