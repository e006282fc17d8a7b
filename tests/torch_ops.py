"""Which ATen operators torch code runs, for tests that check a kernel was (or was not) used:

    with OpNames() as ops:
        ...forward and backward...
    assert "bernoulli_" not in ops.names"""
from typing import Any, Set

from torch.utils._python_dispatch import TorchDispatchMode


class OpNames(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: Set[str] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.names.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))
