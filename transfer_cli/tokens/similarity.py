"""Vectors of tokens, spans and docs, and cosine similarity between any two of them.

A token's vector is the row of `vocab.vectors` for its key (the table's key
attribute: ORTH unless the table was made with --attr LOWER/NORM), zeros when the
word has none; a span's or doc's vector is the mean of its tokens' vectors. The
Doc's tensor (tok2vec output) is not used. All tokens of a span are looked up in one
batch. Token, Span and Doc get these as the TokenRunVectors mixin, Lexeme as
HasSimilarity."""
from typing import Any, Tuple

import numpy

from . import attrs as A


def key_attr(vectors: Any) -> int:
    return A.intify_attr(getattr(vectors, "attr", "ORTH") or "ORTH")


def token_vectors(doc: Any, start: int, end: int) -> numpy.ndarray:
    """(end - start, dims) float32 vectors of doc[start:end]."""
    vectors = doc.vocab.vectors
    keys = doc.to_array(key_attr(vectors))[start:end]
    return vectors.get_batch(keys, strings=doc.vocab.strings)


def tokens_have_vectors(doc: Any, start: int, end: int) -> numpy.ndarray:
    vectors = doc.vocab.vectors
    if vectors.is_empty:
        return numpy.zeros(end - start, dtype=bool)
    if vectors.mode == "floret":
        return numpy.ones(end - start, dtype=bool)
    return vectors.find(keys=doc.to_array(key_attr(vectors))[start:end]) >= 0


def mean_vector(doc: Any, start: int, end: int) -> numpy.ndarray:
    if end <= start:
        return numpy.zeros(doc.vocab.vectors.dims, dtype=numpy.float32)
    return token_vectors(doc, start, end).mean(axis=0, dtype=numpy.float32)


def l2_norm(vector: numpy.ndarray) -> float:
    return float(numpy.sqrt(numpy.dot(vector.astype(numpy.float64), vector.astype(numpy.float64))))


def cosine_similarity(a: Any, b: Any) -> float:
    """Cosine similarity of two objects with a .vector (Token, Span, Doc, Lexeme);
    0.0 when either vector is all zeros."""
    u = numpy.asarray(a.vector, dtype=numpy.float64)
    v = numpy.asarray(b.vector, dtype=numpy.float64)
    if u.shape != v.shape:
        raise ValueError(f"cannot compare vectors of width {u.shape[-1:]} and {v.shape[-1:]}")
    norms = numpy.linalg.norm(u) * numpy.linalg.norm(v)
    if norms == 0:
        return 0.0
    return float(numpy.clip(numpy.dot(u, v) / norms, -1.0, 1.0))


class HasSimilarity:
    """vector_norm and similarity() for a class with a `vector`."""

    __slots__ = ()
    vector: numpy.ndarray

    @property
    def vector_norm(self) -> float:
        return l2_norm(self.vector)

    def similarity(self, other: Any) -> float:
        return cosine_similarity(self, other)


class TokenRunVectors(HasSimilarity):
    """The static vectors of a run of tokens doc[start:end] (a Token, Span or Doc): the
    mean of their rows (a single token's row itself), and whether any token has one."""

    __slots__ = ()

    def _token_run(self) -> Tuple[Any, int, int]:
        """(doc, start, end) of the run."""
        raise NotImplementedError

    @property
    def vector(self) -> numpy.ndarray:
        return mean_vector(*self._token_run())

    @property
    def has_vector(self) -> bool:
        return bool(tokens_have_vectors(*self._token_run()).any())
