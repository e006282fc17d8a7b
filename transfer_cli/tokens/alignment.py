"""Alignment between two tokenizations of the same text, by character offsets.

x2y[i] lists the y tokens that share characters with x token i (and y2x the reverse),
stored as ragged index arrays. Each token is a character range; since both token
sequences are sorted and non-overlapping, the y tokens overlapping an x token form a
contiguous run found by two binary searches, so the whole alignment is O(n log n)
numpy work, never a token-by-token comparison of the two sides.

When the two texts differ only in whitespace, offsets are counted over non-whitespace
characters (a whitespace-only token then aligns to nothing). Any other difference
means the docs are not two tokenizations of one text: a DataError that shows where."""
from typing import List, Sequence, Tuple

import numpy

from ..errors import DataError


class AlignmentArray:
    """A ragged array of int32 indices: row i is data[starts[i]:starts[i] + lengths[i]]."""

    __slots__ = ("data", "lengths", "starts")

    def __init__(self, data: numpy.ndarray, lengths: numpy.ndarray) -> None:
        self.data = numpy.asarray(data, dtype="int32")
        self.lengths = numpy.asarray(lengths, dtype="int32")
        self.starts = numpy.zeros(len(self.lengths), dtype="int64")
        if len(self.lengths) > 1:
            self.starts[1:] = numpy.cumsum(self.lengths[:-1])

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> numpy.ndarray:
        start = self.starts[i]
        return self.data[start:start + self.lengths[i]]

    def to_lists(self) -> List[List[int]]:
        return [self[i].tolist() for i in range(len(self))]


class Alignment:
    """x2y and y2x between two tokenizations (x usually the predicted Doc's words)."""

    def __init__(self, x2y: AlignmentArray, y2x: AlignmentArray) -> None:
        self.x2y = x2y
        self.y2x = y2x

    @classmethod
    def from_strings(cls, x_words: Sequence[str], y_words: Sequence[str],
                     x_spaces: Sequence[bool] = None, y_spaces: Sequence[bool] = None) -> "Alignment":
        """Align two word sequences; spaces default to none (words concatenated)."""
        x_spaces = [False] * len(x_words) if x_spaces is None else x_spaces
        y_spaces = [False] * len(y_words) if y_spaces is None else y_spaces
        x_text = _text(x_words, x_spaces)
        y_text = _text(y_words, y_spaces)
        x_starts, x_ends = _ranges(x_words, x_spaces)
        y_starts, y_ends = _ranges(y_words, y_spaces)
        if x_text != y_text:
            x_keep = _non_space_prefix(x_text)
            y_keep = _non_space_prefix(y_text)
            if _strip_space(x_text) != _strip_space(y_text):
                raise DataError(_mismatch_message(x_text, y_text))
            x_starts, x_ends = x_keep[x_starts], x_keep[x_ends]
            y_starts, y_ends = y_keep[y_starts], y_keep[y_ends]
        x2y = _overlaps(x_starts, x_ends, y_starts, y_ends)
        y2x = _overlaps(y_starts, y_ends, x_starts, x_ends)
        return cls(x2y, y2x)

    @classmethod
    def from_docs(cls, x_doc, y_doc) -> "Alignment":
        return cls.from_strings(x_doc.words, y_doc.words, x_doc.spaces, y_doc.spaces)

    def is_one_to_one(self) -> bool:
        """True when the two sides are the same tokenization (every token maps to one)."""
        return (len(self.x2y) == len(self.y2x) and bool((self.x2y.lengths == 1).all())
                and bool((self.x2y.data == numpy.arange(len(self.x2y))).all()))


def _text(words: Sequence[str], spaces: Sequence[bool]) -> str:
    return "".join(w + " " if s else w for w, s in zip(words, spaces))


def _ranges(words: Sequence[str], spaces: Sequence[bool]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    lengths = numpy.fromiter((len(w) for w in words), dtype="int64", count=len(words))
    steps = lengths + numpy.asarray(spaces, dtype="int64").reshape(-1)[:len(words)]
    starts = numpy.zeros(len(words), dtype="int64")
    if len(words) > 1:
        starts[1:] = numpy.cumsum(steps)[:-1]
    return starts, starts + lengths


def _is_space(text: str) -> numpy.ndarray:
    return numpy.fromiter((c.isspace() for c in text), dtype=bool, count=len(text))


def _non_space_prefix(text: str) -> numpy.ndarray:
    """Position p -> number of non-whitespace characters before p (for p in 0..len)."""
    counts = numpy.zeros(len(text) + 1, dtype="int64")
    counts[1:] = numpy.cumsum(~_is_space(text))
    return counts


def _strip_space(text: str) -> str:
    return "".join(text.split())


def _mismatch_message(x_text: str, y_text: str) -> str:
    x_stripped, y_stripped = _strip_space(x_text), _strip_space(y_text)
    i = 0
    limit = min(len(x_stripped), len(y_stripped))
    while i < limit and x_stripped[i] == y_stripped[i]:
        i += 1
    # position i of the stripped texts, located in the originals
    x_pos = numpy.searchsorted(_non_space_prefix(x_text)[1:], i + 1) if i < len(x_stripped) else len(x_text)
    y_pos = numpy.searchsorted(_non_space_prefix(y_text)[1:], i + 1) if i < len(y_stripped) else len(y_text)

    x_pos, y_pos = int(x_pos), int(y_pos)
    return ("the two tokenizations are of different texts (beyond whitespace): first difference after "
            f"{x_text[max(0, x_pos - 20):x_pos]!r}, at character {x_pos} of the first text "
            f"({x_text[x_pos:x_pos + 20]!r}) and character {y_pos} of the second ({y_text[y_pos:y_pos + 20]!r})")


def _overlaps(a_starts: numpy.ndarray, a_ends: numpy.ndarray, b_starts: numpy.ndarray,
              b_ends: numpy.ndarray) -> AlignmentArray:
    """For each range of a, the indices of the non-empty ranges of b overlapping it."""
    lo = numpy.searchsorted(b_ends, a_starts, side="right")  # first b ending after a starts
    hi = numpy.searchsorted(b_starts, a_ends, side="left")  # first b starting at/after a ends
    hi = numpy.where(a_ends > a_starts, numpy.maximum(hi, lo), lo)  # empty a: nothing
    lengths = hi - lo
    total = int(lengths.sum())
    offsets = numpy.zeros(len(lengths), dtype="int64")
    if len(lengths) > 1:
        offsets[1:] = numpy.cumsum(lengths)[:-1]
    data = numpy.repeat(lo - offsets, lengths) + numpy.arange(total, dtype="int64")
    nonempty = (b_ends > b_starts)[data] if total else numpy.zeros(0, dtype=bool)
    if total and not nonempty.all():  # whitespace-only b tokens align to nothing
        row = numpy.repeat(numpy.arange(len(lengths)), lengths)
        lengths = numpy.bincount(row[nonempty], minlength=len(lengths))
        data = data[nonempty]
    return AlignmentArray(data, lengths)
