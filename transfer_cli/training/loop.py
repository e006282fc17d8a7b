"""The training loop: batches → nlp.update → optimizer step → periodic evaluation →
keep the best by the weighted score → stop on max_steps / max_epochs / patience.
Library code: progress and results go to the `log_step` callback, never to stdout."""
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from thinc.api import Optimizer

from ..errors import DataError
from ..fileio import signals_deferred
from ..scoring import weighted_score
from . import random_states
from .batch_stream import BatchStream
from .distributed import DataParallel


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
    checkpoint_frequency: int
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


@dataclass
class TrainingState:
    """Where training is between two steps: what a checkpoint holds besides the weights
    and the optimizer. `pending_eval`: the step's weights are updated but its
    evaluation has not run (a stop during it); a resumed run runs it first."""
    step: int = 0
    epoch: int = 0
    words: int = 0
    words_since_eval: int = 0
    losses: Dict[str, float] = field(default_factory=dict)
    best: Optional[StepInfo] = None
    seconds: float = 0.0             # since training started, across resumes
    seconds_since_eval: float = 0.0
    position: Dict[str, Any] = field(default_factory=dict)  # BatchStream.position()
    random: Optional[random_states.RandomStates] = None
    pending_eval: bool = False


def train_loop(nlp, optimizer: Optimizer, train_corpus: Callable[[Any], Iterable],
               dev_corpus: Callable[[Any], Iterable], batcher: Callable, settings: TrainingSettings, *,
               seed: Optional[int], on_step: Optional[Callable[[StepInfo], None]] = None,
               on_best: Optional[Callable[[StepInfo], None]] = None,
               on_checkpoint: Optional[Callable[[TrainingState], None]] = None,
               resume: Optional[TrainingState] = None,
               parallel: Optional[DataParallel] = None) -> Optional[StepInfo]:
    """Train until a stop condition; returns the best evaluation's StepInfo.
    `on_checkpoint` gets the state after the last complete step every
    checkpoint_frequency steps, at the end and on KeyboardInterrupt (which then
    propagates to the caller, which saves model-last). `resume`: continue from a
    checkpoint's state (the weights and optimizer already restored).
    With `parallel` (data-parallel training), this rank trains on its shard of each batch,
    gradients are summed over the ranks before each optimizer step, and rank 0 evaluates."""
    exclude = set(settings.frozen_components)
    annotates = set(settings.annotating_components)
    evaluates = parallel is None or parallel.is_main
    dev_examples = list(dev_corpus(nlp)) if evaluates else []
    if evaluates and not dev_examples:
        raise DataError("The development corpus holds no examples: check [paths] dev / [corpora.dev]")
    if parallel is not None:
        parallel.prepare(nlp, exclude, start_step=resume.step if resume is not None else 0)
    stream = BatchStream(train_corpus, nlp, batcher, settings.max_epochs, seed,
                         group=1 if parallel is None else parallel.world_size)
    state = resume if resume is not None else TrainingState()
    if resume is not None:
        stream.restore(resume.position)
        random_states.restore(resume.random)
    losses: Dict[str, float] = dict(state.losses)
    best: Optional[StepInfo] = state.best
    words_since_eval, words_total, step, epoch = state.words_since_eval, state.words, state.step, state.epoch
    clock = time.perf_counter() - state.seconds_since_eval
    start_time = time.perf_counter() - state.seconds
    saved_step = state.step if resume is not None else 0

    def snapshot(pending_eval: bool) -> TrainingState:
        now = time.perf_counter()
        return TrainingState(step, epoch, words_total, words_since_eval, dict(losses), best, now - start_time,
                             now - clock, stream.position(), random_states.capture(), pending_eval)

    def finish_step(info: StepInfo, is_eval_step: bool) -> bool:
        """Evaluate if it is time, report the step; whether training should stop."""
        nonlocal best, losses, words_since_eval, clock
        if is_eval_step:
            elapsed = time.perf_counter() - clock
            info.words_per_second = words_since_eval / elapsed if elapsed > 0 else 0.0
            if evaluates:
                with _averaged(nlp, optimizer):
                    info.scores = nlp.evaluate(_fresh(dev_examples))
                info.score = weighted_score(info.scores, settings.score_weights)
            if parallel is not None:  # every rank keeps the same best and patience
                info.score = parallel.share_score(info.score)
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
        return _stops(info.step, is_eval_step, best, settings)

    def checkpoint(state: TrainingState) -> None:
        nonlocal saved_step
        if on_checkpoint is not None and state.step > saved_step:
            on_checkpoint(state)
            saved_step = state.step

    boundary = state
    try:
        if resume is not None:
            if resume.pending_eval:
                stopped = finish_step(StepInfo(epoch=epoch, step=step, words=words_total, losses=dict(losses)), True)
                boundary = snapshot(False)
                if stopped:
                    return best
            elif step and _stops(step, _is_eval_step(step, settings), best, settings):
                return best  # the run had finished
        for epoch, batch in stream:
            if settings.before_update is not None:
                settings.before_update(nlp, {"step": step, "epoch": epoch})
            own = batch if parallel is None else parallel.shard(batch)
            step_losses = losses if parallel is None else {}
            for part in subdivide(own, settings.accumulate_gradient):
                nlp.update(part, drop=settings.dropout, losses=step_losses, exclude=exclude, annotates=annotates)
            if parallel is not None:
                parallel.reduce_gradients(step_losses, batch)
                for name, value in step_losses.items():
                    losses[name] = losses.get(name, 0.0) + value
            with signals_deferred():  # a stop lands before or after the weights change, never halfway
                nlp.finish_update(optimizer, exclude=exclude)
                if hasattr(optimizer, "step_schedules"):
                    optimizer.step_schedules()
                n_words = sum(len(eg.predicted) for eg in batch)
                words_since_eval += n_words
                words_total += n_words
                step += 1
                is_eval_step = _is_eval_step(step, settings)
                boundary = snapshot(pending_eval=is_eval_step)
            stopped = finish_step(StepInfo(epoch=epoch, step=step, words=words_total, losses=dict(losses)),
                                  is_eval_step)
            boundary = snapshot(False)
            if settings.checkpoint_frequency and step % settings.checkpoint_frequency == 0:
                checkpoint(boundary)
            if stopped:
                break
    except KeyboardInterrupt:
        checkpoint(boundary)
        raise
    checkpoint(boundary)
    return best


def _is_eval_step(step: int, settings: TrainingSettings) -> bool:
    return step % settings.eval_frequency == 0 or bool(settings.max_steps and step >= settings.max_steps)


def _stops(step: int, is_eval_step: bool, best: Optional[StepInfo], settings: TrainingSettings) -> bool:
    """max_steps reached, or patience steps without a better score (checked on evaluation steps)."""
    if settings.max_steps and step >= settings.max_steps:
        return True
    return bool(is_eval_step and settings.patience and best is not None and step - best.step >= settings.patience)


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
