"""Train and evaluate an entity recognizer with one system; report accuracy and speeds.

    python ner_conll.py --system spacy|transfer-cli --config ner_eff.cfg \
        --train train.spacy --dev dev.spacy --max-steps 2000 [--repeats 3]

Both systems load the same spaCy-written config (`spacy init config -p ner -o efficiency`)
and the same .spacy files, and run the same loop: each epoch the corpus is read and
shuffled (random.Random(seed + epoch)), the configured batcher cuts it, and every batch
goes through `nlp.update(batch, drop=dropout, sgd=optimizer)` and
`optimizer.step_schedules()` until max_steps. Training words/s = words in those batches /
seconds inside those calls (reading, shuffling and batching excluded; no evaluation
during training). Then: dev scores from `nlp.evaluate`, and inference words/s of
`nlp.pipe` over the dev texts (tokenizer included) and over pre-tokenized dev docs
(components only), best of `repeats` passes each.
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Any, Dict, Tuple

from _common import emit, not_available


def setup_spacy(config_path: str, overrides: Dict[str, Any]) -> Tuple[Any, Any, Any, Any, Any, float]:
    import spacy  # noqa: F401
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, registry, resolve_dot_names

    config = load_config(config_path, overrides=overrides, interpolate=False)
    nlp = init_nlp(config)
    interpolated = config.interpolate()
    T = registry.resolve(interpolated["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = resolve_dot_names(interpolated, [T["train_corpus"], T["dev_corpus"]])
    return nlp, T["optimizer"], train_corpus, dev_corpus, T["batcher"], float(T["dropout"])


def setup_ours(config_path: str, overrides: Dict[str, Any]) -> Tuple[Any, Any, Any, Any, Any, float]:
    try:
        from transfer_cli.config.loading import load_config
        from transfer_cli.training.initialize import init_pipeline
    except ImportError as e:
        not_available(f"transfer_cli training is not importable ({e})")
    try:
        from transfer_cli.pipeline import ner  # noqa: F401
    except ImportError as e:
        not_available(f"transfer_cli.pipeline.ner is not importable yet ({e})")
    config = load_config(config_path, overrides=overrides)
    setup = init_pipeline(config)
    training = setup.training
    return (setup.nlp, setup.optimizer, setup.train_corpus, setup.dev_corpus, training["batcher"],
            float(training.get("dropout", 0.1)))


def train(nlp: Any, optimizer: Any, train_corpus: Any, batcher: Any, dropout: float, max_steps: int,
          seed: int) -> Dict[str, Any]:
    step = epoch = words = 0
    seconds = 0.0
    losses: Dict[str, float] = {}
    while step < max_steps:
        examples = list(train_corpus(nlp))
        random.Random(seed + epoch).shuffle(examples)
        for batch in batcher(examples):
            if not batch:
                continue
            n_words = sum(len(eg.predicted) for eg in batch)
            start = time.perf_counter()
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
            if hasattr(optimizer, "step_schedules"):
                optimizer.step_schedules()
            seconds += time.perf_counter() - start
            words += n_words
            step += 1
            if step >= max_steps:
                break
        epoch += 1
    return {"train_steps": step, "train_epochs": epoch, "train_words": words, "train_seconds": seconds,
            "train_words_per_second": words / seconds if seconds else 0.0,
            "final_losses": {k: float(v) for k, v in losses.items()}}


def best_pass(run: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    overrides = {"paths.train": args.train, "paths.dev": args.dev, "training.max_steps": args.max_steps}
    setup = setup_spacy if args.system == "spacy" else setup_ours
    nlp, optimizer, train_corpus, dev_corpus, batcher, dropout = setup(args.config, overrides)
    result = train(nlp, optimizer, train_corpus, batcher, dropout, args.max_steps, args.seed)

    dev = list(dev_corpus(nlp))
    scores = nlp.evaluate(dev)
    texts = [eg.reference.text for eg in dev]
    n_words = sum(len(doc) for doc in nlp.pipe(texts))
    text_seconds = best_pass(lambda: list(nlp.pipe(texts)), args.repeats)
    docs = [nlp.make_doc(text) for text in texts]
    doc_seconds = best_pass(lambda: list(nlp.pipe([d.copy() for d in docs])), args.repeats)
    copy_seconds = best_pass(lambda: [d.copy() for d in docs], args.repeats)
    result.update({
        "ents_f": scores.get("ents_f"), "ents_p": scores.get("ents_p"), "ents_r": scores.get("ents_r"),
        "ents_per_type": scores.get("ents_per_type"),
        "dev_docs": len(dev), "dev_words": n_words,
        "infer_words_per_second": n_words / text_seconds,
        "infer_docs_words_per_second": n_words / max(doc_seconds - copy_seconds, 1e-9),
    })
    emit(result)


if __name__ == "__main__":
    main()
