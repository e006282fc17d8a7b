"""BLAS thread limits for the hot paths. Our matrices are small (width ~100, a few
thousand rows): OpenBLAS's worker threads cost more than they save, and on a busy
machine they spin against each other (training measured 4-7x slower with the
default thread count). Training and prediction therefore run with one BLAS thread,
as spaCy's single-threaded BLIS does; TRANSFER_CLI_BLAS_THREADS=N changes that."""
import os
from contextlib import contextmanager
from typing import Iterator, Optional

_controller = None


def blas_threads() -> Optional[int]:
    value = os.environ.get("TRANSFER_CLI_BLAS_THREADS", "1")
    if value.strip().lower() in ("", "0", "default", "none"):
        return None  # leave the library's own setting
    return max(1, int(value))


@contextmanager
def limited_blas_threads() -> Iterator[None]:
    """Run the block with the configured number of BLAS threads (numpy must be imported)."""
    limit = blas_threads()
    if limit is None:
        yield
        return
    with blas_threads_set_to(limit):
        yield


@contextmanager
def blas_threads_set_to(threads: int) -> Iterator[None]:
    """Run the block with numpy's BLAS on `threads` threads."""
    global _controller
    if _controller is None:
        import numpy  # noqa: F401  (threadpoolctl finds the BLAS numpy has loaded)
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=max(1, int(threads)), user_api="blas"):
        yield
