"""What a transformer produces for a batch of docs, and for each doc.

`FullTransformerBatch` is the output of the transformer model for a batch: the spans
that went through the model (grouped per doc), their wordpieces, the model's output
arrays (padded: n_spans × max_wordpieces × width) and `align`, which maps every token
of every doc to the rows of `last_hidden_state.reshape(-1, width)` of its wordpieces.
`split_by_doc()` cuts it into one `TransformerData` per doc (stored as
`doc._.trf_data`); `unsplit_by_doc()` puts per-doc gradients back in the batch layout.

The names and shapes follow spacy-transformers' public API, so code written against
`doc._.trf_data` there reads the same here. Arrays are numpy (or cupy on GPU); this
module never imports torch."""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy
from thinc.api import get_array_module
from thinc.types import Floats2d, Ints2d, Ragged
from thinc.util import to_numpy

from ...tokens import Span

# The key of the output that listeners read; tensors[0] is always this array.
LAST_HIDDEN_STATE = "last_hidden_state"


class ModelOutput(OrderedDict):
    """A transformers-style model output: an ordered dict whose keys are also
    attributes (`output.last_hidden_state`), holding arrays (or tuples of arrays, for
    `hidden_states` and `attentions`). Keys whose value is None are left out."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if value is None:
            self.pop(key, None)
        else:
            super().__setitem__(key, value)

    def to_tuple(self) -> Tuple[Any, ...]:
        return tuple(self.values())

    def __reduce__(self):  # pickle/copy as a plain ordered dict of the items
        return (self.__class__, (list(self.items()),))


@dataclass
class WordpieceBatch:
    """The wordpieces of a batch of spans, padded: `input_ids`, `attention_mask` (1.0 for
    real wordpieces, 0.0 for padding) and `token_type_ids` are n_spans × max_length;
    `strings` and `lengths` are unpadded (special tokens such as [CLS] included)."""

    strings: List[List[str]]
    input_ids: Ints2d
    attention_mask: Floats2d
    lengths: List[int]
    token_type_ids: Optional[Ints2d] = None

    def __len__(self) -> int:
        return len(self.strings)

    @property
    def max_length(self) -> int:
        return int(self.input_ids.shape[1]) if len(self.input_ids.shape) == 2 else 0

    def __getitem__(self, index: slice) -> "WordpieceBatch":
        """The spans `index` (a slice), padded to their own longest."""
        if not isinstance(index, slice):
            raise TypeError("WordpieceBatch is indexed by slices")
        lengths = self.lengths[index]
        width = max(lengths, default=0)
        return WordpieceBatch(
            strings=self.strings[index], input_ids=self.input_ids[index, :width],
            attention_mask=self.attention_mask[index, :width], lengths=lengths,
            token_type_ids=None if self.token_type_ids is None else self.token_type_ids[index, :width])

    @classmethod
    def empty(cls) -> "WordpieceBatch":
        return cls(strings=[], input_ids=numpy.zeros((0, 0), dtype="int32"),
                   attention_mask=numpy.zeros((0, 0), dtype="float32"), lengths=[],
                   token_type_ids=None)

    @classmethod
    def from_lists(cls, strings: List[List[str]], ids: List[Sequence[int]], *, pad_id: int = 0,
                   type_ids: Optional[List[Sequence[int]]] = None) -> "WordpieceBatch":
        """Pad unpadded id lists into a batch."""
        lengths = [len(row) for row in ids]
        width = max(lengths, default=0)
        input_ids = numpy.full((len(ids), width), pad_id, dtype="int32")
        attention_mask = numpy.zeros((len(ids), width), dtype="float32")
        token_type_ids = None if type_ids is None else numpy.zeros((len(ids), width), dtype="int32")
        for i, row in enumerate(ids):
            input_ids[i, :len(row)] = row
            attention_mask[i, :len(row)] = 1.0
            if token_type_ids is not None:
                token_type_ids[i, :len(row)] = type_ids[i]
        return cls(strings=strings, input_ids=input_ids, attention_mask=attention_mask, lengths=lengths,
                   token_type_ids=token_type_ids)

    def to_dict(self) -> Dict[str, Any]:
        return {"strings": self.strings, "input_ids": to_numpy(self.input_ids),
                "attention_mask": to_numpy(self.attention_mask), "lengths": list(self.lengths),
                "token_type_ids": None if self.token_type_ids is None else to_numpy(self.token_type_ids)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "WordpieceBatch":
        return cls(strings=[list(s) for s in data["strings"]], input_ids=numpy.asarray(data["input_ids"]),
                   attention_mask=numpy.asarray(data["attention_mask"]), lengths=[int(n) for n in data["lengths"]],
                   token_type_ids=(None if data.get("token_type_ids") is None
                                   else numpy.asarray(data["token_type_ids"])))


def empty_align(n_tokens: int = 0) -> Ragged:
    """An alignment where each of n_tokens tokens has no wordpieces."""
    return Ragged(numpy.zeros((0, 1), dtype="int32"), numpy.zeros((n_tokens,), dtype="int32"))


@dataclass
class TransformerData:
    """The transformer's output for one doc (`doc._.trf_data`).

    `model_output.last_hidden_state` is n_spans × max_wordpieces × width, where
    max_wordpieces is the longest of this doc's spans, so a doc of one span has exactly
    one row per wordpiece. `align[i].data` are the rows of
    `last_hidden_state.reshape(-1, width)` for token i (none for whitespace tokens and
    for characters the tokenizer drops)."""

    wordpieces: WordpieceBatch
    model_output: ModelOutput
    align: Ragged

    @property
    def tensors(self) -> List[Any]:
        """The output arrays in order; tensors[0] is last_hidden_state."""
        return list(self.model_output.to_tuple())

    @property
    def width(self) -> int:
        if LAST_HIDDEN_STATE in self.model_output:
            return int(self.model_output.last_hidden_state.shape[-1])
        for tensor in self.tensors:
            if hasattr(tensor, "shape") and len(tensor.shape) == 3:
                return int(tensor.shape[-1])
        raise ValueError("Cannot find the width: this TransformerData has no 3-dimensional output")

    @property
    def tokens(self) -> Dict[str, Any]:
        """The wordpieces in the older spacy-transformers layout (input_ids,
        attention_mask, input_texts), for code written against it."""
        return {"input_ids": self.wordpieces.input_ids, "attention_mask": self.wordpieces.attention_mask,
                "input_texts": self.wordpieces.strings}

    @classmethod
    def empty(cls) -> "TransformerData":
        """No wordpieces, no outputs, no tokens."""
        return cls(wordpieces=WordpieceBatch.empty(), model_output=ModelOutput(), align=empty_align())

    @classmethod
    def zeros(cls, length: int, width: int, *, xp: Any = numpy) -> "TransformerData":
        """A doc of `length` tokens with no spans: a 0 × 0 × width output and no rows
        for any token."""
        output = ModelOutput(last_hidden_state=xp.zeros((0, 0, width), dtype="float32"))
        return cls(wordpieces=WordpieceBatch.empty(), model_output=output, align=empty_align(length))

    def to_dict(self) -> Dict[str, Any]:
        """A msgpack-able dict (numpy arrays, lists, strings)."""
        return {"wordpieces": self.wordpieces.to_dict(),
                "model_output": {key: _arrays_to_numpy(value) for key, value in self.model_output.items()},
                "align": {"data": to_numpy(self.align.dataXd), "lengths": to_numpy(self.align.lengths)}}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "TransformerData":
        output = ModelOutput()
        for key, value in data["model_output"].items():
            output[key] = _arrays_from_lists(value)
        align_data = numpy.asarray(data["align"]["data"], dtype="int32").reshape((-1, 1))
        align = Ragged(align_data, numpy.asarray(data["align"]["lengths"], dtype="int32"))
        return cls(wordpieces=WordpieceBatch.from_dict(data["wordpieces"]), model_output=output, align=align)

    def copy(self) -> "TransformerData":
        output = ModelOutput()
        for key, value in self.model_output.items():
            output[key] = _copy_arrays(value)
        wp = self.wordpieces
        wordpieces = WordpieceBatch(
            strings=[list(s) for s in wp.strings], input_ids=wp.input_ids.copy(),
            attention_mask=wp.attention_mask.copy(), lengths=list(wp.lengths),
            token_type_ids=None if wp.token_type_ids is None else wp.token_type_ids.copy())
        align = Ragged(self.align.dataXd.copy(), self.align.lengths.copy())
        return TransformerData(wordpieces=wordpieces, model_output=output, align=align)


@dataclass
class FullTransformerBatch:
    """The transformer's output for a batch of docs.

    `spans[d]` are the spans of doc d that went through the model, in order; the
    flat list of all spans (`flat_spans`) indexes the first axis of the output arrays
    and of `wordpieces`. `align` has one entry per token of every doc, in doc order."""

    spans: List[List[Span]]
    wordpieces: WordpieceBatch
    model_output: ModelOutput
    align: Ragged
    cached_doc_data: Optional[List[TransformerData]] = field(default=None, repr=False)
    # tokens per doc; needed where a doc has no spans (else read from the spans' docs)
    doc_lengths: Optional[List[int]] = field(default=None, repr=False)

    @classmethod
    def empty(cls, nr_docs: int) -> "FullTransformerBatch":
        batch = cls(spans=[[] for _ in range(nr_docs)], wordpieces=WordpieceBatch.empty(),
                    model_output=ModelOutput(), align=empty_align(), doc_lengths=[0] * nr_docs)
        batch.cached_doc_data = [TransformerData.empty() for _ in range(nr_docs)]
        return batch

    @property
    def flat_spans(self) -> List[Span]:
        return [span for doc_spans in self.spans for span in doc_spans]

    @property
    def tensors(self) -> List[Any]:
        return list(self.model_output.to_tuple())

    @property
    def width(self) -> int:
        return int(self.model_output.last_hidden_state.shape[-1])

    @property
    def doc_data(self) -> List[TransformerData]:
        """One TransformerData per doc (computed once)."""
        if self.cached_doc_data is None:
            self.cached_doc_data = self.split_by_doc()
        return self.cached_doc_data

    def _doc_ranges(self) -> List[Tuple[int, int, int, int, int]]:
        """For each doc: (first span, end span, first token, end token, its longest span
        in wordpieces) in the batch layout."""
        ranges = []
        span_start = token_start = 0
        for doc_i, doc_spans in enumerate(self.spans):
            span_end = span_start + len(doc_spans)
            if self.doc_lengths is not None:
                n_tokens = self.doc_lengths[doc_i]
            else:
                n_tokens = len(doc_spans[0].doc) if doc_spans else 0
            width = max(self.wordpieces.lengths[span_start:span_end], default=0)
            ranges.append((span_start, span_end, token_start, token_start + n_tokens, width))
            span_start, token_start = span_end, token_start + n_tokens
        return ranges

    def split_by_doc(self) -> List[TransformerData]:
        """One TransformerData per doc: its spans' rows of each output, cut to its own
        longest span, with `align` renumbered to those rows."""
        n_spans, padded = len(self.wordpieces), self.wordpieces.max_length
        align_data = self.align.dataXd.reshape((-1,))
        token_offsets = numpy.concatenate([[0], numpy.cumsum(to_numpy(self.align.lengths))]).astype("int64")
        doc_data = []
        for doc_i, (s0, s1, t0, t1, width) in enumerate(self._doc_ranges()):
            if s0 == s1:
                width_out = self.width if LAST_HIDDEN_STATE in self.model_output else 0
                doc_data.append(TransformerData.zeros(t1 - t0, width_out, xp=get_array_module(align_data)))
                continue
            output = ModelOutput()
            for key, value in self.model_output.items():
                output[key] = _slice_spans(value, s0, s1, width, n_spans)
            rows = align_data[token_offsets[t0]:token_offsets[t1]]
            span_i, position = rows // max(padded, 1), rows % max(padded, 1)
            local = ((span_i - s0) * width + position).astype("int32").reshape((-1, 1))
            align = Ragged(local, self.align.lengths[t0:t1].copy())
            doc_data.append(TransformerData(wordpieces=self.wordpieces[s0:s1], model_output=output, align=align))
        return doc_data

    def unsplit_by_doc(self, arrays: List[List[Any]]) -> "FullTransformerBatch":
        """Per-doc arrays back in the batch layout, e.g. the gradients of each doc's
        tensors for the backward pass: arrays[d][k] is shaped like doc d's tensors[k].
        Returns a FullTransformerBatch with this batch's spans, wordpieces and align whose
        model_output holds, under the key of tensors[k], one array per k in the batch
        layout (zero in padding and where a doc gave none)."""
        ranges = self._doc_ranges()
        if len(arrays) != len(ranges):
            raise ValueError(f"unsplit_by_doc: expected arrays for {len(ranges)} docs, got {len(arrays)}")
        n_spans, padded = len(self.wordpieces), self.wordpieces.max_length
        keys = list(self.model_output.keys())
        output = ModelOutput()
        for k in range(max((len(doc_arrays) for doc_arrays in arrays), default=0)):
            pieces = [(r, doc_arrays[k]) for r, doc_arrays in zip(ranges, arrays)
                      if len(doc_arrays) > k and doc_arrays[k] is not None and r[0] != r[1]]
            if not pieces:
                continue
            key = keys[k] if k < len(keys) else f"tensor_{k}"
            output[key] = _unsplit(pieces, n_spans, padded)
        return FullTransformerBatch(spans=self.spans, wordpieces=self.wordpieces, model_output=output,
                                    align=self.align, doc_lengths=self.doc_lengths)


def _unsplit(pieces: List[Tuple[Tuple[int, int, int, int, int], Any]], n_spans: int, padded: int) -> Any:
    """One output in the batch layout from (doc range, that doc's array) pairs; tuples
    (hidden_states, attentions) element by element."""
    sample = pieces[0][1]
    if isinstance(sample, (tuple, list)):
        return tuple(_unsplit([(r, piece[i]) for r, piece in pieces], n_spans, padded) for i in range(len(sample)))
    xp = get_array_module(sample)
    if sample.ndim == 3:
        full = xp.zeros((n_spans, padded) + tuple(sample.shape[2:]), dtype=sample.dtype)
    elif sample.ndim == 4:
        full = xp.zeros((n_spans, sample.shape[1], padded, padded), dtype=sample.dtype)
    else:
        full = xp.zeros((n_spans,) + tuple(sample.shape[1:]), dtype=sample.dtype)
    for (s0, s1, _, _, _), piece in pieces:
        if piece.ndim == 3:
            full[s0:s1, :piece.shape[1]] = piece
        elif piece.ndim == 4:
            full[s0:s1, :, :piece.shape[2], :piece.shape[3]] = piece
        else:
            full[s0:s1] = piece
    return full


def _slice_spans(value: Any, s0: int, s1: int, width: int, n_spans: int) -> Any:
    """Spans s0..s1 of one output, cut to `width` wordpieces: spans × wordpieces × width
    arrays (last_hidden_state, hidden_states) along axis 1, spans × heads × wordpieces ×
    wordpieces arrays (attentions) along the last two, spans × width arrays (pooler
    output) by row only. Copies, not views: a doc's data must not keep its whole batch's
    arrays alive."""
    if isinstance(value, (tuple, list)):
        return tuple(_slice_spans(v, s0, s1, width, n_spans) for v in value)
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) == 0 or shape[0] != n_spans:
        return value
    if len(shape) == 3:
        return value[s0:s1, :width].copy()
    if len(shape) == 4:
        return value[s0:s1, :, :width, :width].copy()
    return value[s0:s1].copy()


def _arrays_to_numpy(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_arrays_to_numpy(v) for v in value]
    return to_numpy(value)


def _arrays_from_lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_arrays_from_lists(v) for v in value)
    return numpy.asarray(value)


def _copy_arrays(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_copy_arrays(v) for v in value)
    return value.copy()


__all__ = ["FullTransformerBatch", "ModelOutput", "TransformerData", "WordpieceBatch", "LAST_HIDDEN_STATE",
           "empty_align"]

