"""Spans to wordpieces, with every span cut to fit the model.

The fast tokenizer's Rust backend encodes the span texts in one call (special tokens
added, character offsets kept). A span with more wordpieces than the model takes is
cut at token boundaries into spans that fit; a single token that alone is too long
keeps its first wordpieces. So a span getter can return spans of any length and a doc
of any length goes through."""
from typing import Any, List, Sequence, Tuple

import numpy

from ...tokens import Doc, Span
from .alignment import DocChars, SpanEncoding, span_alignment


def encode_texts(tokenizer: Any, texts: Sequence[str]) -> List[SpanEncoding]:
    backend = tokenizer.backend_tokenizer
    # Calling the Hugging Face tokenizer with padding/truncation leaves them set on the
    # backend: switch them off, spans are cut here and padded in the WordpieceBatch.
    if backend.padding is not None:
        backend.no_padding()
    if backend.truncation is not None:
        backend.no_truncation()
    encodings = backend.encode_batch(list(texts))
    return [SpanEncoding(ids=e.ids, strings=e.tokens, offsets=numpy.asarray(e.offsets, dtype="int64").reshape((-1, 2)),
                         special=numpy.asarray(e.special_tokens_mask, dtype="int8"), type_ids=e.type_ids)
            for e in encodings]


def encode_spans(tokenizer: Any, docs: Sequence[Doc], spans: Sequence[Sequence[Span]], max_length: int
                 ) -> Tuple[List[List[Span]], List[List[SpanEncoding]]]:
    """(spans, their encodings) per doc: empty spans dropped, spans longer than
    max_length wordpieces cut into several."""
    flat = [span for doc_spans in spans for span in doc_spans if len(span)]
    encoded = dict(zip(map(id, flat), encode_texts(tokenizer, [span.text for span in flat])))
    out_spans: List[List[Span]] = []
    out_encodings: List[List[SpanEncoding]] = []
    for doc, doc_spans in zip(docs, spans):
        chars = None
        fitted: List[Tuple[Span, SpanEncoding]] = []
        for span in doc_spans:
            if not len(span):
                continue
            encoding = encoded[id(span)]
            if len(encoding) <= max_length:
                fitted.append((span, encoding))
                continue
            chars = chars or DocChars(doc)
            fitted.extend(_fit(tokenizer, chars, span, encoding, max_length))
        out_spans.append([span for span, _ in fitted])
        out_encodings.append([encoding for _, encoding in fitted])
    return out_spans, out_encodings


def _fit(tokenizer: Any, chars: DocChars, span: Span, encoding: SpanEncoding, max_length: int
         ) -> List[Tuple[Span, SpanEncoding]]:
    """A too-long span as spans of at most max_length wordpieces each."""
    if len(span) == 1:
        return [(span, truncate(encoding, max_length))]
    budget = max(1, max_length - int(encoding.special.sum()))
    pieces = _cut(span, *span_alignment(chars, span, encoding), budget)
    if len(pieces) == 1:  # no cut found from the offsets: halve
        middle = span.start + len(span) // 2
        pieces = [span.doc[span.start:middle], span.doc[middle:span.end]]
    fitted = []
    for piece, piece_encoding in zip(pieces, encode_texts(tokenizer, [p.text for p in pieces])):
        if len(piece_encoding) <= max_length:
            fitted.append((piece, piece_encoding))
        else:
            fitted.extend(_fit(tokenizer, chars, piece, piece_encoding, max_length))
    return fitted


def _cut(span: Span, tokens: numpy.ndarray, positions: numpy.ndarray, budget: int) -> List[Span]:
    """Cut `span` at token boundaries so each piece's wordpieces (first to last, as
    encoded in the whole span) number at most `budget`."""
    n = len(span)
    first = numpy.full(n, numpy.iinfo("int64").max, dtype="int64")
    last = numpy.full(n, -1, dtype="int64")
    numpy.minimum.at(first, tokens - span.start, positions)
    numpy.maximum.at(last, tokens - span.start, positions)
    pieces = []
    start, piece_first = 0, None
    for i in range(n):
        if last[i] < 0:  # no wordpieces: goes with the piece it is in
            continue
        if piece_first is None:
            piece_first = first[i]
        elif last[i] - piece_first + 1 > budget:
            pieces.append(span.doc[span.start + start:span.start + i])
            start, piece_first = i, first[i]
    pieces.append(span.doc[span.start + start:span.end])
    return pieces


def truncate(encoding: SpanEncoding, max_length: int) -> SpanEncoding:
    """The first wordpieces of a span, keeping its leading and trailing special tokens."""
    special = encoding.special
    n = len(encoding)
    lead = int(numpy.argmin(special)) if not special.all() else n
    trail = int(numpy.argmin(special[::-1])) if not special.all() else 0
    keep_middle = max(0, max_length - lead - trail)
    keep = list(range(min(lead, max_length))) + list(range(lead, lead + keep_middle)) + list(range(n - trail, n))
    keep = keep[:max_length] if len(keep) > max_length else keep
    return SpanEncoding(ids=[encoding.ids[i] for i in keep], strings=[encoding.strings[i] for i in keep],
                        offsets=encoding.offsets[keep], special=encoding.special[keep],
                        type_ids=[encoding.type_ids[i] for i in keep])
