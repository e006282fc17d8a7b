"""Faster dropout for fine-tuning a transformer on CPU.

torch draws CPU dropout masks with bernoulli_, one Mersenne-Twister number per element
(about 13 ns an element here): for MiniLM that was 8% of a training step, most of it
in the attention probabilities, which SDPA drops out inside its math kernel. While
`fast_cpu_dropout` is active, F.dropout and F.scaled_dot_product_attention with
dropout on CPU tensors draw their masks from numpy's SFC64 generator instead, 16 bits
an element (about 2.5 ns an element with the masking); masks are kept as bool tensors,
as torch keeps them. An element is dropped with probability round(p * 65536) / 65536,
within 8e-6 of p, and the kept ones are scaled by the inverse of the exact keep rate,
so the expectation is unchanged. The generator is seeded from torch's, so a seeded run
draws the same masks. Other devices and calls pass through untouched, and the model
and its config are not changed (nothing of this is saved)."""
import contextlib
import functools
from typing import Any, Iterator, Optional, Tuple

import numpy

_RANGE = 1 << 16  # mask values are uint16


@functools.lru_cache(maxsize=1)
def _dropout_mode_type() -> type:
    """The TorchFunctionMode class, built on first use: torch is imported then, not when
    this module is (the CLI's config commands never load torch)."""
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    class _KeepMask(torch.autograd.Function):
        """x where the mask keeps it (scaled), else 0; the same in backward."""

        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, keep: torch.Tensor, scale: float) -> torch.Tensor:  # type: ignore[override]
            ctx.save_for_backward(keep)
            ctx.scale = scale
            return torch.where(keep, x * scale, 0.0)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> Tuple[torch.Tensor, None, None]:  # type: ignore[override]
            (keep,) = ctx.saved_tensors
            return torch.where(keep, grad * ctx.scale, 0.0), None, None

    class _CpuDropoutMode(TorchFunctionMode):
        def __init__(self, seed: int) -> None:
            super().__init__()
            self.bits = numpy.random.SFC64(seed)

        def dropout(self, x: torch.Tensor, p: float) -> torch.Tensor:
            threshold = min(int(round(p * _RANGE)), _RANGE - 1)
            n = x.numel()
            raw = self.bits.random_raw((n + 3) // 4).view(numpy.uint16)[:n]
            keep = torch.from_numpy(raw >= threshold).view(x.shape)
            return _KeepMask.apply(x, keep, _RANGE / (_RANGE - threshold))

        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func is F.dropout:
                replaced = self._dropout_call(*args, **kwargs)
            elif func is F.scaled_dot_product_attention:
                replaced = self._attention_call(*args, **kwargs)
            else:
                replaced = None
            return func(*args, **kwargs) if replaced is None else replaced

        def _dropout_call(self, input: torch.Tensor, p: float = 0.5, training: bool = True,
                          inplace: bool = False) -> Optional[torch.Tensor]:
            if not training or inplace or not 0.0 < p < 1.0 or input.device.type != "cpu":
                return None
            return self.dropout(input, p)

        def _attention_call(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                            attn_mask: Optional[torch.Tensor] = None, dropout_p: float = 0.0, is_causal: bool = False,
                            scale: Optional[float] = None, enable_gqa: bool = False) -> Optional[torch.Tensor]:
            """SDPA's math path (what CPU SDPA runs when it drops out), with this mode's masks."""
            if not 0.0 < dropout_p < 1.0 or is_causal or enable_gqa or query.device.type != "cpu" \
                    or query.shape[-3] != key.shape[-3]:
                return None
            scale = query.shape[-1] ** -0.5 if scale is None else scale
            # scores is this call's own tensor (the scaling keeps nothing for backward): mask it in place
            scores = torch.matmul(query, key.transpose(-2, -1)) * scale
            if attn_mask is not None and attn_mask.dtype == torch.bool:
                scores.masked_fill_(~attn_mask, torch.finfo(scores.dtype).min)
            elif attn_mask is not None:
                scores.add_(attn_mask)
            probs = torch.softmax(scores, dim=-1)
            if attn_mask is not None and attn_mask.dtype == torch.bool:
                # as SDPA: a query that may attend to nothing gets zeros, not a uniform average
                attends_to_nothing = ~attn_mask.any(dim=-1, keepdim=True)
                if bool(attends_to_nothing.any()):
                    probs = probs.masked_fill(attends_to_nothing, 0.0)
            return torch.matmul(self.dropout(probs, dropout_p), value)

    return _CpuDropoutMode


@contextlib.contextmanager
def fast_cpu_dropout(seed: Optional[int] = None) -> Iterator[None]:
    """CPU dropout (F.dropout, SDPA's dropout_p) with faster masks while active; the
    generator is seeded with `seed`, or from torch's generator when None."""
    import torch

    if seed is None:
        seed = int(torch.randint(0, 2**62, (1,)).item())
    with _dropout_mode_type()(seed):
        yield
