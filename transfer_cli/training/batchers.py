"""Batchers: split a stream of examples into minibatches. Sizes may be ints or
thinc schedules (e.g. compounding.v1), read once per batch."""
import itertools
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, TypeVar, Union

from ..config.registry import registry

ItemT = TypeVar("ItemT")
Sizing = Union[int, Sequence[int], Iterator[float]]  # thinc 8.3 schedules are generators


def size_stream(size: Sizing) -> Iterator[int]:
    """Batch sizes one after another; a finite list keeps repeating its last value."""
    if isinstance(size, (int, float)):
        return itertools.repeat(int(size))
    if isinstance(size, (list, tuple)):
        if not size:
            raise ValueError("batch size list is empty")
        return (int(s) for s in itertools.chain(size, itertools.repeat(size[-1])))
    return (int(s) for s in size)


def default_length(item: Any) -> int:
    """Length of an Example or Doc in tokens."""
    if hasattr(item, "reference") and hasattr(item, "predicted"):
        return len(item.predicted)
    return len(item)


def minibatch_by_words(items: Iterable[ItemT], size: Sizing, *, tolerance: float = 0.2,
                       discard_oversize: bool = False,
                       get_length: Optional[Callable[[ItemT], int]] = None) -> Iterator[List[ItemT]]:
    """Batches of about `size` words. The item that crosses `size` joins the batch when
    the total stays within `size × (1 + tolerance)`, and closes it; otherwise it opens
    the next batch. An item longer than that limit on its own is yielded alone (or
    dropped with discard_oversize)."""
    get_length = get_length or default_length
    sizes = size_stream(size)
    target = next(sizes)
    batch: List[ItemT] = []
    batch_words = 0
    for item in items:
        n = get_length(item)
        if n > target * (1 + tolerance):
            if not discard_oversize:
                yield [item]
            continue
        if batch_words + n <= target:
            batch.append(item)
            batch_words += n
            continue
        if batch_words + n <= target * (1 + tolerance):
            batch.append(item)
            yield batch
            batch, batch_words = [], 0
        else:
            yield batch
            batch, batch_words = [item], n
        target = next(sizes)
    if batch:
        yield batch


def minibatch_by_sequence(items: Iterable[ItemT], size: Sizing) -> Iterator[List[ItemT]]:
    """Batches of `size` items."""
    sizes = size_stream(size)
    iterator = iter(items)
    while True:
        batch = list(itertools.islice(iterator, next(sizes)))
        if not batch:
            return
        yield batch


def minibatch_by_padded_size(items: Iterable[ItemT], size: Sizing, *, buffer: int = 256,
                             discard_oversize: bool = False,
                             get_length: Optional[Callable[[ItemT], int]] = None) -> Iterator[List[ItemT]]:
    """Batches whose padded size (longest item × number of items) stays under `size`;
    items are sorted by length within a buffer so padding stays small."""
    get_length = get_length or default_length
    sizes = size_stream(size)
    iterator = iter(items)
    while True:
        chunk = list(itertools.islice(iterator, buffer))
        if not chunk:
            return
        chunk.sort(key=get_length)
        target = next(sizes)
        batch: List[ItemT] = []
        longest = 0
        for item in chunk:
            n = get_length(item)
            if n > target:
                if not discard_oversize:
                    yield [item]
                continue
            if batch and max(longest, n) * (len(batch) + 1) > target:
                yield batch
                target = next(sizes)
                batch, longest = [], 0
            batch.append(item)
            longest = max(longest, n)
        if batch:
            yield batch


class Batcher:
    """What a registered batcher returns: `batcher(items)` → batches. A size schedule
    (e.g. compounding.v1) is one generator shared by every call, so it runs on from
    epoch to epoch; `position` counts the sizes taken from it, and `set_position` moves
    a fresh one there, so a resumed run continues the schedule where it stopped."""

    def __init__(self, split: Callable[[Iterable, Sizing], Iterator[List]], size: Sizing) -> None:
        self._split = split
        self._size: Sizing = size
        self._counted: Optional[_CountedSizes] = None
        if not isinstance(size, (int, float, list, tuple)):  # a schedule: the one stateful kind
            self._counted = _CountedSizes(size)
            self._size = self._counted

    def __call__(self, items: Iterable) -> Iterator[List]:
        return self._split(items, self._size)

    @property
    def position(self) -> int:
        return self._counted.taken if self._counted is not None else 0

    def set_position(self, position: int) -> None:
        """Skip the first `position` sizes of a schedule that nothing has read yet."""
        if self._counted is None or position == 0:
            return
        if self._counted.taken:
            raise ValueError("the batch size schedule has been read already")
        for _ in itertools.islice(self._counted, position):
            pass


class _CountedSizes:
    """A size schedule that counts the values taken from it."""

    def __init__(self, sizes: Iterable) -> None:
        self._sizes = iter(sizes)
        self.taken = 0

    def __iter__(self) -> "_CountedSizes":
        return self

    def __next__(self) -> Any:
        value = next(self._sizes)
        self.taken += 1
        return value


@registry.batchers("spacy.batch_by_words.v1")
def configure_minibatch_by_words(*, size: Sizing, tolerance: float = 0.2, discard_oversize: bool = False,
                                 get_length: Optional[Callable] = None) -> Batcher:
    """spacy.batch_by_words.v1"""
    return Batcher(lambda items, sizes: minibatch_by_words(items, sizes, tolerance=tolerance,
                                                           discard_oversize=discard_oversize,
                                                           get_length=get_length), size)


@registry.batchers("spacy.batch_by_sequence.v1")
def configure_minibatch_by_sequence(*, size: Sizing, get_length: Optional[Callable] = None) -> Batcher:
    """spacy.batch_by_sequence.v1"""
    return Batcher(minibatch_by_sequence, size)


@registry.batchers("spacy.batch_by_padded.v1")
def configure_minibatch_by_padded_size(*, size: Sizing, buffer: int = 256, discard_oversize: bool = False,
                                       get_length: Optional[Callable] = None) -> Batcher:
    """spacy.batch_by_padded.v1"""
    return Batcher(lambda items, sizes: minibatch_by_padded_size(items, sizes, buffer=buffer,
                                                                 discard_oversize=discard_oversize,
                                                                 get_length=get_length), size)
