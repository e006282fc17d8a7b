"""Where a torch training step spends its time, by ATen operator, for the transformer benchmark.

OpTimes is a TorchDispatchMode that times every ATen call made while it is active (forward and
backward: the autograd engine runs CPU backward ops in the calling thread, under the same mode)
and counts the floating-point operations of the matrix products. The benchmark wraps each
`nlp.update` in it, in both systems, so the split "matrix products / everything else" of the same
training steps can be compared: when both systems spend the same seconds in the same matrix
products, that time bounds how much faster one can be than the other.

Timing each call adds a few microseconds of Python per operator to both systems alike, so the
run that collects these figures is not the run that measures words/s.
"""
from __future__ import annotations

import time
from typing import Any, Dict

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Matrix products: the linear layers (mm/addmm), attention (bmm/baddbmm, or a fused kernel).
MATMUL_OPS = {"mm", "addmm", "bmm", "baddbmm", "_addmm_activation", "_scaled_dot_product_flash_attention_for_cpu",
              "_scaled_dot_product_flash_attention_for_cpu_backward"}
DROPOUT_RNG_OPS = {"bernoulli_", "bernoulli", "native_dropout"}


def _matmul_flops(name: str, args: Any) -> int:
    """2 x multiply-adds of mm/addmm/bmm/baddbmm (the attention kernels are not counted)."""
    if name == "mm":
        a, b = args[0], args[1]
    elif name in ("addmm", "_addmm_activation", "baddbmm"):
        a, b = args[1], args[2]
    elif name == "bmm":
        a, b = args[0], args[1]
    else:
        return 0
    if a.dim() == 2:
        return 2 * a.shape[0] * a.shape[1] * b.shape[1]
    return 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


class OpTimes(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.seconds: Dict[str, float] = {}
        self.matmul_flops = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = func.overloadpacket.__name__
        start = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        if name in MATMUL_OPS:
            self.matmul_flops += _matmul_flops(name, args)
        return out

    def summary(self, words: int) -> Dict[str, Any]:
        total = sum(self.seconds.values())
        matmul = sum(s for name, s in self.seconds.items() if name in MATMUL_OPS)
        dropout = sum(s for name, s in self.seconds.items() if name in DROPOUT_RNG_OPS)
        top = sorted(self.seconds.items(), key=lambda item: -item[1])[:12]
        return {
            "words": words,
            "op_seconds": total,
            "matmul_seconds": matmul,
            "dropout_rng_seconds": dropout,
            "other_op_seconds": total - matmul,
            "matmul_gflops": self.matmul_flops / matmul / 1e9 if matmul > 0 else None,
            "matmul_gflop": self.matmul_flops / 1e9,
            "top_ops": [[name, round(seconds, 3)] for name, seconds in top],
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
