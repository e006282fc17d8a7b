"""Faster dropout for fine-tuning a transformer on CPU.

torch draws CPU dropout masks with bernoulli_, one Mersenne-Twister number per element
(about 13 ns an element here): for MiniLM that was 8% of a training step, most of it
in the attention probabilities, which SDPA drops out inside its math kernel. While
`fast_cpu_dropout` is active, F.dropout and F.scaled_dot_product_attention with
dropout on CPU tensors draw their masks from numpy's SFC64 generator instead, 16 bits
an element. An element is dropped with probability round(p * 65536) / 65536, within
8e-6 of p, and the kept ones are scaled by the inverse of the exact keep rate, so the
expectation is unchanged. The mask is applied as one multiplication by a float tensor
of 0 and that scale (kept for backward): torch.where and masked_fill with a bool mask
run about ten times slower than a multiplication on CPU. For the same reason attention
adds a bool attn_mask as an additive bias, built once per mask. The generator is seeded
from torch's, so a seeded run draws the same masks. Other devices and calls pass
through untouched, and the model and its config are not changed (nothing of this is
saved)."""
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

    numpy_types = {torch.float32: numpy.float32, torch.float64: numpy.float64}

    class _CpuDropoutMode(TorchFunctionMode):
        def __init__(self, seed: int) -> None:
            super().__init__()
            self.bits = numpy.random.SFC64(seed)
            # the last bool attn_mask seen and its additive bias: a model passes one mask to every layer
            self.bias_of: Tuple[Optional[torch.Tensor], Any] = (None, None)

        def dropout(self, x: torch.Tensor, p: float) -> torch.Tensor:
            threshold = min(int(round(p * _RANGE)), _RANGE - 1)
            scale = _RANGE / (_RANGE - threshold)
            n = x.numel()
            keep = self.bits.random_raw((n + 3) // 4).view(numpy.uint16)[:n] >= threshold
            numpy_type = numpy_types.get(x.dtype)
            if numpy_type is not None:
                mask = torch.from_numpy(numpy.multiply(keep, numpy_type(scale), dtype=numpy_type))
            else:
                mask = torch.from_numpy(keep).to(x.dtype).mul_(scale)
            # autograd keeps the mask (not x) for the backward pass, which multiplies by it again
            return x * mask.view(x.shape)

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
            # scaling the queries, not the scores: a head's queries are smaller than its scores
            scores = torch.matmul(query * scale, key.transpose(-2, -1))
            query_factor = None
            if attn_mask is not None and attn_mask.dtype == torch.bool:
                bias, query_factor = self._bool_mask_bias(attn_mask, scores.dtype)
                scores.add_(bias)  # scores is this call's own tensor; matmul kept only its inputs
            elif attn_mask is not None:
                scores.add_(attn_mask)
            probs = torch.softmax(scores, dim=-1)
            if query_factor is not None:
                # as SDPA: a query that may attend to nothing gets zeros, not a uniform average
                probs = probs * query_factor
            return torch.matmul(self.dropout(probs, dropout_p), value)

        def _bool_mask_bias(self, attn_mask: torch.Tensor, dtype: torch.dtype) -> Tuple[torch.Tensor, Any]:
            """The additive bias of a bool mask (0 where attention is allowed, the dtype's
            lowest value where not), and None, or a 0/1 factor zeroing the queries that
            may attend to nothing; computed once for the mask every layer is given."""
            seen, cached = self.bias_of
            if seen is attn_mask and cached[0].dtype == dtype:
                return cached
            bias = (~attn_mask).to(dtype).mul_(torch.finfo(dtype).min)
            attends_to_something = attn_mask.any(dim=-1, keepdim=True)
            factor = None if bool(attends_to_something.all()) else attends_to_something.to(dtype)
            self.bias_of = (attn_mask, (bias, factor))
            return bias, factor

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
