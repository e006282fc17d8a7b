"""A transformer's linear layers on CPU through numpy's BLAS, where that is faster.

Fine-tuning a transformer on CPU is mostly matrix products: for MiniLM, 70% of a step
is the linear layers' three products (forward, input gradient, weight gradient). torch
runs them with the BLAS it was built with (MKL in the PyPI wheels), which on AMD
processors takes its AVX2 path; the OpenBLAS in numpy's wheels picks its kernels by
CPU model. On this project's benchmark machine (AMD EPYC, Zen 5) numpy's products ran
1.2x as fast as torch's with OpenBLAS held to its AVX2 kernels (OPENBLAS_CORETYPE=
Haswell), 2.2x with its AVX-512 ones. While `blas_linear` is active, F.linear on CPU
float32 tensors runs its products with numpy.matmul into torch tensors (no copies; the
backward computes the same gradients), on as many threads as torch uses, but only where
a one-time measurement in this process (at that thread count) found numpy's product
faster, by 10%, than torch's; elsewhere (an Intel CPU with MKL's AVX-512 path, say)
nothing changes. The choice is kept in training checkpoints, so a resumed run rounds as
the stopped one did; TRANSFER_CLI_CPU_MATMUL=torch|numpy overrides both."""
import contextlib
import functools
import os
import time
from typing import Any, Iterator, Optional, Tuple

import numpy

from ...errors import ConfigError
from ..blas_threads import blas_threads_set_to

ENV_CHOICE = "TRANSFER_CLI_CPU_MATMUL"
CHOICES = ("numpy", "torch")
# the product the measurement times: a batch of wordpieces through a 384 -> 1536 layer
_PROBE_SHAPE = (256, 384, 1536)
_pinned: Optional[str] = None  # a resumed run's choice (pin_cpu_matmul)
_chosen: Optional[str] = None  # the last choice blas_linear went by in this process


def pin_cpu_matmul(choice: Optional[str]) -> None:
    """Go by `choice` ("numpy" or "torch"; None: measure again) instead of a measurement,
    unless TRANSFER_CLI_CPU_MATMUL is set: what a checkpoint saved."""
    global _pinned
    _pinned = choice if choice in CHOICES else None


def cpu_matmul_choice() -> Optional[str]:
    """The library the linear layers' products last ran with in this process, or None."""
    return _chosen


def numpy_matmul_is_faster(threads: int = 1) -> bool:
    """Whether numpy's products are to be used: TRANSFER_CLI_CPU_MATMUL, else a pinned
    choice, else whether numpy.matmul beat torch.mm by 10% on `threads` threads each
    (measured once per thread count)."""
    choice = os.environ.get(ENV_CHOICE, "").strip().lower()
    if choice in CHOICES:
        return choice == "numpy"
    if choice:
        raise ConfigError(f"{ENV_CHOICE} must be 'numpy' or 'torch' (or unset, to measure which is faster), "
                          f"not {os.environ[ENV_CHOICE]!r}")
    if _pinned is not None:
        return _pinned == "numpy"
    return _measured_numpy_faster(threads)


@functools.lru_cache(maxsize=None)
def _measured_numpy_faster(threads: int) -> bool:
    import torch

    m, k, n = _PROBE_SHAPE
    a = numpy.random.default_rng(0).random((m, k), dtype=numpy.float32)
    b = numpy.random.default_rng(1).random((k, n), dtype=numpy.float32)
    out = numpy.empty((m, n), dtype=numpy.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)

    def best_of(run: Any) -> float:
        run()  # first call: thread pools, kernel choice
        times = []
        for _ in range(5):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    with torch.no_grad():
        torch_seconds = best_of(lambda: torch.mm(ta, tb))
    numpy_seconds = best_of(lambda: numpy.matmul(a, b, out=out))
    return numpy_seconds < 0.9 * torch_seconds


@functools.lru_cache(maxsize=1)
def _blas_linear_mode_type() -> type:
    """The TorchFunctionMode class, built on first use: torch is imported then, not when
    this module is (the CLI's config commands never load torch)."""
    import torch
    import torch.nn.functional as F
    from torch.autograd.function import once_differentiable
    from torch.overrides import TorchFunctionMode

    def product(a: torch.Tensor, b: numpy.ndarray, shape: Tuple[int, int]) -> torch.Tensor:
        """a @ b by numpy into a new torch tensor (a: 2-D float32 CPU tensor, b: numpy view)."""
        out = torch.empty(shape, dtype=torch.float32)
        numpy.matmul(a.detach().numpy(), b, out=out.numpy())
        return out

    class _NumpyLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor,  # type: ignore[override]
                    bias: Optional[torch.Tensor]) -> torch.Tensor:
            rows = x.reshape(-1, x.shape[-1]).contiguous()
            out = product(rows, weight.detach().numpy().T, (rows.shape[0], weight.shape[0]))
            if bias is not None:
                out.add_(bias)
            ctx.save_for_backward(rows, weight)
            ctx.input_shape, ctx.has_bias = x.shape, bias is not None
            return out.view(*x.shape[:-1], weight.shape[0])

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:  # type: ignore[override]
            rows, weight = ctx.saved_tensors
            grad_rows = grad.reshape(-1, grad.shape[-1]).contiguous()
            d_x = d_weight = d_bias = None
            if ctx.needs_input_grad[0]:
                d_x = product(grad_rows, weight.detach().numpy(), (grad_rows.shape[0], weight.shape[1]))
                d_x = d_x.view(ctx.input_shape)
            if ctx.needs_input_grad[1]:
                d_weight = product(grad_rows.t(), rows.detach().numpy(), tuple(weight.shape))
            if ctx.has_bias and ctx.needs_input_grad[2]:
                d_bias = grad_rows.sum(0)
            return d_x, d_weight, d_bias

    def plain(tensor: Optional[torch.Tensor]) -> bool:
        return tensor is None or (tensor.device.type == "cpu" and tensor.dtype == torch.float32
                                  and tensor.layout == torch.strided)

    class _BlasLinearMode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func is F.linear:
                replaced = self._linear_call(*args, **kwargs)
                if replaced is not None:
                    return replaced
            return func(*args, **kwargs)

        def _linear_call(self, input: torch.Tensor, weight: torch.Tensor,
                         bias: Optional[torch.Tensor] = None) -> Optional[torch.Tensor]:
            if weight.dim() != 2 or input.dim() < 2 or input.shape[-1] != weight.shape[1] or input.numel() == 0 \
                    or not (plain(input) and plain(weight) and plain(bias)):
                return None
            return _NumpyLinear.apply(input, weight, bias)

    return _BlasLinearMode


@contextlib.contextmanager
def blas_linear() -> Iterator[None]:
    """F.linear on CPU float32 tensors by numpy's BLAS, on torch's number of threads, while
    active, where that is faster here."""
    global _chosen
    import torch

    threads = torch.get_num_threads()
    with blas_threads_set_to(threads):
        use_numpy = numpy_matmul_is_faster(threads)
        _chosen = CHOICES[0] if use_numpy else CHOICES[1]
        if not use_numpy:
            yield
            return
        with _blas_linear_mode_type()():
            yield
