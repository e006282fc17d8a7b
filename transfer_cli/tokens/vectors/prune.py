"""Pruning a vectors table: keep its first (most frequent) rows and send every other
row to its nearest kept row by cosine similarity.

The search is exact and batched: the kept rows are normalized once, then each block
of removed rows is one matrix product against them (block x kept similarities)
followed by an argmax, so the work is a few large BLAS calls, never a Python loop
over words. Normalizing the removed rows does not change which kept row is nearest,
so only the winning similarity is divided by the row's norm.
"""
from typing import Callable, Optional, Tuple

import numpy

# bytes of the (block x kept) similarity matrix: big enough for efficient products,
# small enough to stay a modest share of memory
_SIMILARITY_BYTES = 32 * 1024 * 1024


def nearest_rows(data: numpy.ndarray, n_keep: int, *, batch_size: int = 0,
                 progress: Optional[Callable[[int], None]] = None) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """For each row i >= n_keep of data: (the kept row < n_keep most similar to it,
    that cosine similarity). Rows of zeros get row 0 and similarity 0."""
    n_rows = data.shape[0]
    n_remove = max(0, n_rows - n_keep)
    nearest = numpy.zeros(n_remove, dtype=numpy.int64)
    scores = numpy.zeros(n_remove, dtype=numpy.float32)
    if not n_remove:
        return nearest, scores
    kept = numpy.asarray(data[:n_keep], dtype=numpy.float32)
    norms = numpy.linalg.norm(kept, axis=1)
    norms[norms == 0] = 1.0
    kept_t = numpy.ascontiguousarray((kept / norms[:, None]).T)
    if batch_size <= 0:
        batch_size = max(64, _SIMILARITY_BYTES // (4 * n_keep))
    sims = numpy.empty((batch_size, n_keep), dtype=numpy.float32)
    for begin in range(0, n_remove, batch_size):
        block = numpy.asarray(data[n_keep + begin:n_keep + begin + batch_size], dtype=numpy.float32)
        out = sims[:len(block)]
        numpy.matmul(block, kept_t, out=out)
        best = out.argmax(axis=1)
        best_sims = out[numpy.arange(len(block)), best]
        block_norms = numpy.linalg.norm(block, axis=1)
        nearest[begin:begin + len(block)] = best
        scores[begin:begin + len(block)] = numpy.divide(best_sims, block_norms, out=numpy.zeros_like(best_sims),
                                                        where=block_norms > 0)
        if progress is not None:
            progress(len(block))
    return nearest, numpy.clip(scores, -1.0, 1.0)
