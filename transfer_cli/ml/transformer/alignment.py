"""Which wordpieces belong to which token, from the fast tokenizer's character offsets.

A wordpiece belongs to every token whose characters its offsets overlap. That one
rule covers the tokenizer families: WordPiece offsets are the piece's own characters;
byte-level BPE ("Ġword") and SentencePiece ("▁word") offsets may include the space
before the word (RoBERTa with trim_offsets=False, XLM-R, T5), and spaces belong to no
token's characters, so they change nothing. Special tokens ([CLS], <s>, </s>) and
zero-width pieces belong to no token; whitespace tokens get no wordpieces; a token
whose characters the tokenizer dropped (control characters, zero-width spaces in
BERT) gets none either. A piece covering two tokens ([UNK] for "york🚀") belongs to both."""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy
from thinc.types import Ragged

from ...tokens import Doc, Span
from ...tokens import attrs as A
from ...tokens.columns import COL


@dataclass
class SpanEncoding:
    """One span's wordpieces: ids, the pieces' strings, character offsets relative to the
    span's text (n × 2), 1 for special tokens, and token type ids."""

    ids: List[int]
    strings: List[str]
    offsets: numpy.ndarray
    special: numpy.ndarray
    type_ids: List[int]

    def __len__(self) -> int:
        return len(self.ids)


class DocChars:
    """A doc's token character ranges, and which tokens are whitespace."""

    def __init__(self, doc: Doc) -> None:
        self.starts = doc.cols[:, COL[A.IDX]].astype("int64")
        self.ends = doc.token_ends
        self.is_space = numpy.fromiter((word.isspace() for word in doc.words), dtype=bool, count=len(doc))


def span_alignment(chars: DocChars, span: Span, encoding: SpanEncoding) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(token index in the doc, wordpiece position in the span) for each wordpiece–token
    pair of one span, ordered by wordpiece."""
    if not len(span) or not len(encoding):
        return numpy.zeros((0,), dtype="int64"), numpy.zeros((0,), dtype="int64")
    offset = span.start_char
    starts = chars.starts[span.start:span.end] - offset
    ends = chars.ends[span.start:span.end] - offset
    wp_starts, wp_ends = encoding.offsets[:, 0], encoding.offsets[:, 1]
    usable = (encoding.special == 0) & (wp_ends > wp_starts)
    # the first token ending after the piece starts, the last starting before it ends
    first = numpy.searchsorted(ends, wp_starts, side="right")
    last = numpy.searchsorted(starts, wp_ends, side="left") - 1
    counts = numpy.where(usable, numpy.maximum(last - first + 1, 0), 0)
    positions = numpy.repeat(numpy.arange(len(encoding), dtype="int64"), counts)
    # token = first token of its piece + its rank among that piece's tokens
    group_starts = numpy.cumsum(counts) - counts
    ranks = numpy.arange(positions.shape[0], dtype="int64") - numpy.repeat(group_starts, counts)
    tokens = numpy.repeat(first, counts) + ranks + span.start
    keep = ~chars.is_space[tokens]
    return tokens[keep], positions[keep]


def batch_alignment(docs: Sequence[Doc], spans: Sequence[Sequence[Span]],
                    encodings: Sequence[Sequence[SpanEncoding]], padded_length: int) -> Ragged:
    """The alignment of a batch: for every token of every doc (in order), the rows of
    last_hidden_state.reshape(-1, width) (spans × padded_length) of its wordpieces, in
    span order then wordpiece order."""
    all_tokens, all_rows = [], []
    token_offset = row = 0
    for doc, doc_spans, doc_encodings in zip(docs, spans, encodings):
        chars = DocChars(doc)
        for span, encoding in zip(doc_spans, doc_encodings):
            tokens, positions = span_alignment(chars, span, encoding)
            all_tokens.append(tokens + token_offset)
            all_rows.append(positions + row * padded_length)
            row += 1
        token_offset += len(doc)
    if not all_tokens:
        return Ragged(numpy.zeros((0, 1), dtype="int32"), numpy.zeros((token_offset,), dtype="int32"))
    tokens = numpy.concatenate(all_tokens)
    rows = numpy.concatenate(all_rows)
    order = numpy.lexsort((rows, tokens))
    lengths = numpy.bincount(tokens, minlength=token_offset).astype("int32")
    return Ragged(rows[order].astype("int32").reshape((-1, 1)), lengths)
