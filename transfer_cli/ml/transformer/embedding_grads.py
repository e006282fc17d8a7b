"""Embedding gradients added in place, for fine-tuning a transformer on CPU.

torch's backward of an embedding lookup builds a dense gradient the size of the whole
table (MiniLM's 30,522 x 384 words: 47 MB, fresh pages from the OS every time), which
autograd then adds into the parameter's .grad: for a batch run as several sub-batches,
that was 5% of a training step, to move a few hundred rows. While
`embedding_grads_in_place` is active, F.embedding on a CPU parameter that requires grad
adds its rows' gradients straight into the parameter's .grad with index_add_ (allocating
.grad once, as autograd would); the result is the same sum. Only lookups without
max_norm, scale_grad_by_freq or sparse are handled; the others, and other devices, go to
torch unchanged. What it bypasses is autograd's accumulation of that parameter (its
tensor hooks, torch.autograd.grad on it): the training step backpropagates with
backward(), which only needs .grad."""
import contextlib
import functools
from typing import Any, Iterator, Optional, Tuple


@functools.lru_cache(maxsize=1)
def _embedding_grads_mode_type() -> type:
    """The TorchFunctionMode class, built on first use: torch is imported then, not when
    this module is (the CLI's config commands never load torch)."""
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    class _LookupAddingGrads(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, ids: torch.Tensor, weight: torch.Tensor,  # type: ignore[override]
                    padding_idx: Optional[int]) -> torch.Tensor:
            ctx.save_for_backward(ids)
            ctx.weight, ctx.padding_idx = weight, padding_idx
            return F.embedding(ids, weight, padding_idx)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> Tuple[None, None, None]:  # type: ignore[override]
            (ids,) = ctx.saved_tensors
            weight = ctx.weight
            flat_ids = ids.reshape(-1)
            rows = grad.reshape(flat_ids.shape[0], -1)
            if ctx.padding_idx is not None:
                # as torch: the padding row gets no gradient
                real = flat_ids != ctx.padding_idx
                flat_ids, rows = flat_ids[real], rows[real]
            if weight.grad is None:
                weight.grad = torch.zeros_like(weight)
            weight.grad.index_add_(0, flat_ids, rows.to(weight.grad.dtype))
            return None, None, None

    class _EmbeddingGradsMode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func is F.embedding:
                replaced = self._embedding_call(*args, **kwargs)
                if replaced is not None:
                    return replaced
            return func(*args, **kwargs)

        def _embedding_call(self, input: torch.Tensor, weight: torch.Tensor, padding_idx: Optional[int] = None,
                            max_norm: Optional[float] = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                            sparse: bool = False) -> Optional[torch.Tensor]:
            if max_norm is not None or scale_grad_by_freq or sparse or not torch.is_grad_enabled() \
                    or not (weight.is_leaf and weight.requires_grad) or weight.device.type != "cpu":
                return None
            if padding_idx is not None and padding_idx < 0:
                padding_idx += weight.shape[0]
            return _LookupAddingGrads.apply(input, weight, padding_idx)

    return _EmbeddingGradsMode


@contextlib.contextmanager
def embedding_grads_in_place() -> Iterator[None]:
    """CPU embedding lookups whose backward adds into the parameter's .grad while active."""
    with _embedding_grads_mode_type()():
        yield
