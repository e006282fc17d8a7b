"""The training loop: batches → nlp.update → optimizer step → periodic evaluation →
keep the best by the weighted score → stop on max_steps / max_epochs / patience.
Library code: progress and results go to the `log_step` callback, never to stdout."""
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from thinc.api import Optimizer

from ..errors import DataError
from ..scoring import weighted_score


@dataclass
class TrainingSettings:
    """The [training] settings the loop reads. No defaults here: they are
    config/default_config.cfg's, filled into every config."""
    dropout: float
    accumulate_gradient: int
    patience: int
    max_epochs: int
    max_steps: int
    eval_frequency: int
    frozen_components: List[str]
    annotating_components: List[str]
    score_weights: Dict[str, Optional[float]]
    before_update: Optional[Callable[[Any, Dict[str, Any]], None]]


@dataclass
class StepInfo:
    """What a logger sees after each step; `scores` is set on evaluation steps."""
    epoch: int
    step: int
    words: int
    losses: Dict[str, float]
    scores: Optional[Dict[str, Any]] = None
    score: Optional[float] = None
    best_score: Optional[float] = None
    is_best: bool = False
    words_per_second: Optional[float] = None
    seconds: float = 0.0


def subdivide(batch: List, n: int) -> List[List]:
    """Split a batch into n parts for gradient accumulation."""
    if n <= 1:
        return [batch]
    size = max(1, (len(batch) + n - 1) // n)
    return [batch[i:i + size] for i in range(0, len(batch), size)]


def epoch_batches(train_corpus: Callable[[Any], Iterable], nlp, batcher: Callable, max_epochs: int,
                  seed: Optional[int]) -> Iterator[Tuple[int, List]]:
    """(epoch, batch) pairs; each epoch re-reads and shuffles the corpus (max_epochs 0: forever;
    seed null: a different order each run)."""
    rng = random.Random(seed)
    epoch = 0
    while max_epochs <= 0 or epoch < max_epochs:
        examples = list(train_corpus(nlp))
        if not examples:
            raise DataError("The training corpus holds no examples: check [paths] train / [corpora.train]")
        rng.shuffle(examples)
        for batch in batcher(examples):
            if batch:
                yield epoch, batch
        epoch += 1


def train_loop(nlp, optimizer: Optimizer, train_corpus: Callable[[Any], Iterable],
               dev_corpus: Callable[[Any], Iterable], batcher: Callable, settings: TrainingSettings, *,
               seed: Optional[int], on_step: Optional[Callable[[StepInfo], None]] = None,
               on_best: Optional[Callable[[StepInfo], None]] = None) -> Optional[StepInfo]:
    """Train until a stop condition; returns the best evaluation's StepInfo.
    KeyboardInterrupt propagates to the caller, which saves model-last."""
    exclude = set(settings.frozen_components)
    annotates = set(settings.annotating_components)
    dev_examples = list(dev_corpus(nlp))
    if not dev_examples:
        raise DataError("The development corpus holds no examples: check [paths] dev / [corpora.dev]")
    losses: Dict[str, float] = {}
    best: Optional[StepInfo] = None
    words_since_eval = 0
    words_total = 0
    step = 0
    clock = time.perf_counter()
    start_time = clock
    for epoch, batch in epoch_batches(train_corpus, nlp, batcher, settings.max_epochs, seed):
        if settings.before_update is not None:
            settings.before_update(nlp, {"step": step, "epoch": epoch})
        for part in subdivide(batch, settings.accumulate_gradient):
            nlp.update(part, drop=settings.dropout, losses=losses, exclude=exclude, annotates=annotates)
        nlp.finish_update(optimizer, exclude=exclude)
        if hasattr(optimizer, "step_schedules"):
            optimizer.step_schedules()
        n_words = sum(len(eg.predicted) for eg in batch)
        words_since_eval += n_words
        words_total += n_words
        step += 1
        info = StepInfo(epoch=epoch, step=step, words=words_total, losses=dict(losses))
        is_eval_step = step % settings.eval_frequency == 0 or (settings.max_steps and step >= settings.max_steps)
        if is_eval_step:
            elapsed = time.perf_counter() - clock
            info.words_per_second = words_since_eval / elapsed if elapsed > 0 else 0.0
            with _averaged(nlp, optimizer):
                scores = nlp.evaluate(_fresh(dev_examples))
            info.scores = scores
            info.score = weighted_score(scores, settings.score_weights)
            if best is None or info.score > best.score:
                info.is_best = True
                best = info
            info.best_score = best.score
            info.seconds = time.perf_counter() - start_time
            if info.is_best and on_best is not None:
                with _averaged(nlp, optimizer):
                    on_best(info)
            losses = {}
            words_since_eval = 0
            clock = time.perf_counter()
        if on_step is not None:
            on_step(info)
        if settings.max_steps and step >= settings.max_steps:
            break
        if is_eval_step and settings.patience and best is not None and step - best.step >= settings.patience:
            break
    return best


def _fresh(examples: List) -> List:
    """Examples whose predicted side is reset, so evaluation never sees stale annotation."""
    return [type(eg)(eg.predicted.blank_copy(), eg.reference) for eg in examples]


class _averaged:
    """Use the optimizer's parameter averages (if any) while evaluating or saving."""

    def __init__(self, nlp, optimizer: Optimizer) -> None:
        self.models = [c.model for _, c in nlp.components if getattr(c, "is_trainable", False)]
        self.optimizer = optimizer
        self._stack: List = []

    def __enter__(self) -> None:
        if getattr(self.optimizer, "averages", None):
            for model in self.models:
                context = model.use_params(self.optimizer.averages)
                context.__enter__()
                self._stack.append(context)

    def __exit__(self, *exc) -> None:
        while self._stack:
            self._stack.pop().__exit__(*exc)


def write_log_line(path: Path, info: StepInfo) -> None:
    """Append one evaluation to the JSONL training log."""
    record = {"epoch": info.epoch, "step": info.step, "words": info.words, "losses": info.losses,
              "scores": {k: v for k, v in (info.scores or {}).items() if _jsonable(v)},
              "score": info.score, "is_best": info.is_best, "words_per_second": info.words_per_second,
              "seconds": round(info.seconds, 3)}
    with Path(path).open("a", encoding="utf8") as f:
        f.write(json.dumps(record) + "\n")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
