"""Span getters: how a transformer cuts each doc into the spans it reads.

A span getter takes a list of docs and returns, for each doc, a list of spans. The
configured names are spacy-transformers' (registry `span_getters`); a user getter is
registered the same way in a file passed with --code. Spans too long for the model
are cut further by the model itself (model.py), so no getter can make it crash."""
from typing import Callable, List

from ...config.registry import registry
from ...errors import ConfigError
from ...tokens import Doc, Span

SpanGetter = Callable[[List[Doc]], List[List[Span]]]


@registry.span_getters("spacy-transformers.doc_spans.v1")
def configure_get_doc_spans() -> SpanGetter:
    """Each doc is one span."""
    return get_doc_spans


def get_doc_spans(docs: List[Doc]) -> List[List[Span]]:
    return [[doc[:]] for doc in docs]


@registry.span_getters("spacy-transformers.sent_spans.v1")
def configure_get_sent_spans() -> SpanGetter:
    """Each sentence is one span (the docs need sentence boundaries: a senter or
    sentencizer before the transformer)."""
    return get_sent_spans


def get_sent_spans(docs: List[Doc]) -> List[List[Span]]:
    return [list(doc.sents) for doc in docs]


@registry.span_getters("spacy-transformers.strided_spans.v1")
def configure_strided_spans(window: int = 128, stride: int = 96) -> SpanGetter:
    """Windows of `window` tokens starting every `stride` tokens; the last window ends
    at the end of the doc. Tokens in two windows get the rows of both (the listener's
    pooling averages them)."""
    if not isinstance(window, int) or window < 1:
        raise ConfigError(f"strided_spans.v1: window must be a positive number of tokens, got {window!r}")
    if not isinstance(stride, int) or not 1 <= stride <= window:
        raise ConfigError(f"strided_spans.v1: stride must be between 1 and window ({window}) so every token is "
                          f"in a window, got {stride!r}")

    def get_strided_spans(docs: List[Doc]) -> List[List[Span]]:
        return [strided_spans(doc, window, stride) for doc in docs]

    return get_strided_spans


def strided_spans(doc: Doc, window: int, stride: int) -> List[Span]:
    spans = []
    start = 0
    while True:
        end = min(start + window, len(doc))
        spans.append(doc[start:end])
        if end >= len(doc):
            return spans
        start += stride
