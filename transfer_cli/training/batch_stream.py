"""The training batches, epoch after epoch, and where in them training is.

Each epoch reads the training corpus again, shuffles it with the loop's own
random.Random(seed) and splits it with the batcher. What an epoch's batches depend
on is recorded when the epoch opens (the shuffling generator's state, the global
generators' states, which augmenters draw from while the corpus is read, and the
batcher's place in its size schedule), so a resumed run rebuilds the same epoch and
skips the batches already trained on. A batcher that cannot say where its schedule is
(one registered by a user) gets every epoch since the first rebuilt instead.

With `group` K (data-parallel training over K processes), a step's batch is the next K
batches of the batcher together: the batcher sizes each process's share, as batch sizes
do in torch's DistributedDataParallel, so each process has a full batch's work per step."""
import itertools
import random
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from ..errors import DataError
from . import random_states


class BatchStream:
    def __init__(self, train_corpus: Callable[[Any], Iterable], nlp: Any, batcher: Callable, max_epochs: int,
                 seed: Optional[int], group: int = 1) -> None:
        if group < 1:
            raise ValueError(f"BatchStream: group must be at least 1, not {group}")
        self.corpus = train_corpus
        self.nlp = nlp
        self.batcher = batcher
        self.max_epochs = max_epochs   # 0 or less: no limit
        self.group = group             # batcher batches per step
        self.epoch = 0                 # the epoch being read
        self.taken = 0                 # batches taken from it
        self._shuffle = random.Random(seed)  # seed null: another order each run
        self._starts: List[Dict[str, Any]] = []  # how the open epoch (or each epoch so far) began
        self._batches: Optional[Iterator[List]] = None
        self._keeps_position = hasattr(batcher, "position") and hasattr(batcher, "set_position")

    def __iter__(self) -> Iterator[Tuple[int, List]]:
        """(epoch, batch) pairs until max_epochs; a batch joins `group` batches of the
        batcher (fewer at the end of an epoch)."""
        while True:
            if self._batches is None:
                if 0 < self.max_epochs <= self.epoch:
                    return
                self._batches = self._open_epoch()
            while True:
                parts = list(itertools.islice(self._batches, self.group))
                if not parts:
                    break
                self.taken += len(parts)
                yield self.epoch, parts[0] if len(parts) == 1 else [eg for part in parts for eg in part]
            self._batches = None
            self.epoch += 1
            self.taken = 0

    def position(self) -> Dict[str, Any]:
        """Where the stream is, in plain values (see restore)."""
        return {"epoch": self.epoch, "taken": self.taken, "starts": list(self._starts)}

    def restore(self, position: Dict[str, Any]) -> None:
        """Continue after the batches `position` counts: rebuild the epochs it recorded and
        skip what was taken. Leaves the global random generators as the last rebuilt epoch
        left them: the caller restores the ones it saved afterwards."""
        starts = position["starts"]
        self._starts = []
        for i, start in enumerate(starts):
            self.epoch = start["epoch"]
            batches = self._open_epoch(start)
            if i < len(starts) - 1:  # an earlier epoch, rebuilt for the batcher's sake
                for _ in batches:
                    pass
                continue
            for taken in range(position["taken"]):
                if next(batches, None) is None:
                    raise DataError(f"epoch {self.epoch} of the training corpus has fewer batches ({taken}) than "
                                    f"the checkpoint had trained on ({position['taken']}): were the corpus or the "
                                    f"batcher changed since it was saved?")
            self._batches = batches
        self.epoch, self.taken = position["epoch"], position["taken"]

    def _open_epoch(self, start: Optional[Dict[str, Any]] = None) -> Iterator[List]:
        """Read and shuffle the corpus for self.epoch; its non-empty batches. `start`:
        rebuild an epoch from what was recorded when it first opened."""
        if start is None:
            start = {"epoch": self.epoch, "shuffle": _shuffle_state_to_msg(self._shuffle.getstate()),
                     "random": random_states.to_msg(random_states.capture()),
                     "batcher": self.batcher.position if self._keeps_position else None}
        else:
            self._shuffle.setstate(_shuffle_state_from_msg(start["shuffle"]))
            random_states.restore(random_states.from_msg(start["random"]))
            if self._keeps_position:  # a fresh batcher, moved to where the epoch began
                self.batcher.set_position(start["batcher"])
        self._starts = [start] if self._keeps_position else self._starts + [start]
        examples = list(self.corpus(self.nlp))
        if not examples:
            raise DataError("The training corpus holds no examples: check [paths] train / [corpora.train]")
        self._shuffle.shuffle(examples)
        return (batch for batch in self.batcher(examples) if batch)


def _shuffle_state_to_msg(state: Tuple) -> List:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _shuffle_state_from_msg(msg: List) -> Tuple:
    version, internal, gauss_next = msg
    return version, tuple(internal), gauss_next
