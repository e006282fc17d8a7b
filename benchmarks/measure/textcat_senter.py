"""Text classification and sentence segmentation benchmarks, one system per process.

    python textcat_senter.py --system spacy prepare-jsonl --jsonl train.jsonl --out train.spacy
    python textcat_senter.py --system S train --config config.cfg --train T --dev D --output DIR \
        --max-steps N --eval-frequency M --score-key cats_score [--override key=json ...]
    python textcat_senter.py --system S pipe --task textcat|senter --model DIR --dev D [--repeats 3]

prepare-jsonl (spaCy only): `{"text","label"}` lines → a .spacy file, texts tokenized by
spacy.blank("en"), cats {label: 1.0, every other label seen: 0.0}; both systems then read it.

train: the config file is the same for both systems (written once by `spacy init config`);
training runs in-process through the system's Python API (spaCy: load_config → init_nlp →
training.loop.train; transfer-cli: load_config → train_from_config). train_seconds excludes
initialization and every interval from an `nlp.evaluate` call to the next `nlp.update`
(evaluation, saving, logging), words = tokens passed to nlp.update.

pipe: loads DIR (model-best) once, then times `nlp.pipe(docs, batch_size)` over docs already
tokenized (the components' work; fresh docs each pass, made outside the timing) and
`nlp.pipe(texts, batch_size)` (tokenizer included), best of the repeats. Quality is computed
here the same way for both systems from the predicted docs: textcat accuracy (top-scoring
label = gold label), senter sentence P/R/F over (start char, end char) spans.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from _common import emit, not_available, peak_rss_mb


# --------------------------------------------------------------------------- system access
def load_pipeline(system: str, path: Path) -> Any:
    if system == "spacy":
        import spacy

        return spacy.load(path)
    try:
        import transfer_cli
    except ImportError as e:
        not_available(f"transfer_cli is not importable ({e})")
    return transfer_cli.load(path)


def read_docbin(system: str, path: Path, vocab: Any) -> List[Any]:
    if system == "spacy":
        from spacy.tokens import DocBin
    else:
        from transfer_cli.tokens.docbin import DocBin
    return list(DocBin().from_disk(path).get_docs(vocab))


# --------------------------------------------------------------------------- prepare
def prepare_jsonl(args: argparse.Namespace) -> None:
    if args.system != "spacy":
        raise SystemExit("prepare-jsonl runs with spaCy (the .spacy files are written once, by spaCy)")
    import spacy
    from spacy.tokens import DocBin

    records = [json.loads(line) for line in Path(args.jsonl).read_text(encoding="utf8").splitlines() if line.strip()]
    labels = list(dict.fromkeys(str(r["label"]) for r in records))
    nlp = spacy.blank("en")
    docbin = DocBin()
    for record in records:
        doc = nlp.make_doc(record["text"])
        doc.cats = {label: float(label == str(record["label"])) for label in labels}
        docbin.add(doc)
    docbin.to_disk(args.out)
    emit({"n_docs": len(records), "labels": labels})


# --------------------------------------------------------------------------- train
class Clock:
    """Wraps nlp.update / nlp.evaluate on the instance to split training time from overhead."""

    def __init__(self, score_keys: List[str]) -> None:
        self.score_keys = score_keys
        self.words = 0
        self.updates = 0
        self.overhead = 0.0
        self.overhead_start: Optional[float] = None
        self.evals: List[Dict[str, Any]] = []

    def close_overhead(self) -> None:
        if self.overhead_start is not None:
            self.overhead += time.perf_counter() - self.overhead_start
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
            scores = evaluate(*args, **kwargs)
            self.evals.append({"updates": self.updates, "words": self.words,
                               **{k: scores.get(k) for k in self.score_keys}})
            return scores

        nlp.update = timed_update
        nlp.evaluate = timed_evaluate


def train_spacy(config_path: Path, output: Path, overrides: Dict[str, Any], clock: Clock) -> float:
    from spacy import util
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_nlp

    start = time.perf_counter()
    config = util.load_config(config_path, overrides=overrides, interpolate=False)
    nlp = init_nlp(config, use_gpu=-1)
    init_seconds = time.perf_counter() - start
    clock.instrument(nlp)
    output.mkdir(parents=True, exist_ok=True)
    train_nlp(nlp, output, use_gpu=-1, stdout=sys.stderr, stderr=sys.stderr)
    return init_seconds


def train_ours(config_path: Path, output: Path, overrides: Dict[str, Any], clock: Clock) -> float:
    try:
        from transfer_cli.config.loading import load_config
        from transfer_cli.training.train import train_from_config
    except ImportError as e:
        not_available(f"transfer_cli training is not importable yet ({e})")
    start = time.perf_counter()
    init_seconds = {"value": 0.0}
    config = load_config(config_path, overrides)

    def on_setup(setup: Any) -> None:
        init_seconds["value"] = time.perf_counter() - start
        clock.instrument(setup.nlp)

    train_from_config(config, output, stdout=sys.stderr, stderr=sys.stderr, on_setup=on_setup)
    return init_seconds["value"]


def train(args: argparse.Namespace) -> None:
    overrides: Dict[str, Any] = {"paths.train": str(Path(args.train).resolve()),
                                 "paths.dev": str(Path(args.dev).resolve()),
                                 "training.max_steps": args.max_steps, "training.eval_frequency": args.eval_frequency}
    for item in args.override or []:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value)
    clock = Clock(args.score_key)
    trainer: Callable[..., float] = train_spacy if args.system == "spacy" else train_ours
    output = Path(args.output).resolve()
    start = time.perf_counter()
    init_seconds = trainer(Path(args.config), output, overrides, clock)
    clock.close_overhead()
    total = time.perf_counter() - start
    train_seconds = total - init_seconds - clock.overhead
    main_key = args.score_key[0]
    best = max((e for e in clock.evals if e.get(main_key) is not None), key=lambda e: e[main_key], default=None)
    emit({
        "updates": clock.updates,
        "words": clock.words,
        "init_seconds": init_seconds,
        "train_seconds": train_seconds,
        "total_seconds": total,
        "words_per_second": clock.words / train_seconds if train_seconds > 0 else None,
        "evals": clock.evals,
        "best": best,
        "train_peak_rss_mb": round(peak_rss_mb(), 1),
    })


# --------------------------------------------------------------------------- pipe
def _top(cats: Dict[str, float]) -> Optional[str]:
    return max(cats.items(), key=lambda it: it[1])[0] if cats else None


def _sent_spans(doc: Any) -> List[Tuple[int, int]]:
    return [(s.start_char, s.end_char) for s in doc.sents]


def quality(task: str, gold_docs: List[Any], pred_docs: List[Any]) -> Dict[str, Any]:
    if task == "textcat":
        correct = sum(_top(p.cats) == _top(g.cats) for p, g in zip(pred_docs, gold_docs))
        return {"accuracy": correct / len(gold_docs)}
    tp = fp = fn = 0
    for pred, gold in zip(pred_docs, gold_docs):
        pred_spans, gold_spans = set(_sent_spans(pred)), set(_sent_spans(gold))
        tp += len(pred_spans & gold_spans)
        fp += len(pred_spans - gold_spans)
        fn += len(gold_spans - pred_spans)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"sents_p": p, "sents_r": r, "sents_f": 2 * p * r / (p + r) if p + r else 0.0}


def pipe(args: argparse.Namespace) -> None:
    nlp = load_pipeline(args.system, Path(args.model))
    gold_docs = read_docbin(args.system, Path(args.dev), nlp.vocab)
    texts = [doc.text for doc in gold_docs]
    docs_times, text_times = [], []
    predicted: List[Any] = []
    for _ in range(args.repeats):
        docs = [nlp.make_doc(text) for text in texts]
        start = time.perf_counter()
        predicted = list(nlp.pipe(docs, batch_size=args.batch_size))
        docs_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        list(nlp.pipe(texts, batch_size=args.batch_size))
        text_times.append(time.perf_counter() - start)
    n_words = sum(len(doc) for doc in predicted)
    emit({
        "n_docs": len(texts),
        "n_words": n_words,
        "words_per_second": n_words / min(docs_times),
        "words_per_second_from_text": n_words / min(text_times),
        **quality(args.task, gold_docs, predicted),
    })


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare-jsonl")
    p.add_argument("--jsonl", required=True)
    p.add_argument("--out", required=True)
    t = commands.add_parser("train")
    t.add_argument("--config", required=True)
    t.add_argument("--train", required=True)
    t.add_argument("--dev", required=True)
    t.add_argument("--output", required=True)
    t.add_argument("--max-steps", type=int, required=True)
    t.add_argument("--eval-frequency", type=int, required=True)
    t.add_argument("--score-key", action="append", required=True, help="first = the one that picks the best")
    t.add_argument("--override", action="append", help="key=JSON value")
    q = commands.add_parser("pipe")
    q.add_argument("--task", choices=["textcat", "senter"], required=True)
    q.add_argument("--model", required=True)
    q.add_argument("--dev", required=True)
    q.add_argument("--batch-size", type=int, default=1000)
    q.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    {"prepare-jsonl": prepare_jsonl, "train": train, "pipe": pipe}[args.command](args)


if __name__ == "__main__":
    main()
