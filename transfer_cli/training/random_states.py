"""The random generators training draws from, captured and restored as a whole:
Python's `random` (data augmenters), numpy's global generator (thinc's dropout masks
on the CPU), torch's CPU generator and, once CUDA is in use, each GPU's (dropout inside
torch layers). A resumed run restores them, so it draws what the run it continues
would have drawn.

CuPy's generator (thinc's dropout masks on a GPU) has no way to read its state, so a
run resumed on a GPU draws other masks there: it ends close to the uninterrupted run,
not bit for bit (nor do two GPU runs, whose kernels sum in varying order)."""
import random
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy


@dataclass(frozen=True)
class RandomStates:
    python: Any                    # random.getstate()
    numpy: Any                     # numpy.random.get_state()
    torch: Optional[Any] = None    # torch.get_rng_state(), when torch is loaded
    cuda: Optional[List[Any]] = None  # torch.cuda.get_rng_state_all(), when CUDA is initialized


def capture() -> RandomStates:
    """The generators' states now. Cheap enough to call every step."""
    torch = sys.modules.get("torch")  # not loaded: nothing drew from it
    torch_state = cuda_state = None
    if torch is not None:
        torch_state = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda_state = torch.cuda.get_rng_state_all()
    return RandomStates(random.getstate(), numpy.random.get_state(), torch_state, cuda_state)


def restore(states: RandomStates) -> None:
    random.setstate(states.python)
    numpy.random.set_state(states.numpy)
    if states.torch is not None or states.cuda is not None:
        import torch

        if states.torch is not None:
            torch.set_rng_state(states.torch)
        if states.cuda is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states.cuda[:torch.cuda.device_count()])


class preserved:
    """Restore the generators when the block ends: work done in it (e.g. saving a
    checkpoint, which the run it continues never did at that step) draws nothing that
    training would have drawn."""

    def __enter__(self) -> None:
        self._states = capture()

    def __exit__(self, *exc: Any) -> None:
        restore(self._states)


def to_msg(states: RandomStates) -> Dict[str, Any]:
    """Plain numbers, lists and bytes for msgpack."""
    version, internal, gauss_next = states.python
    name, keys, pos, has_gauss, cached_gaussian = states.numpy
    msg: Dict[str, Any] = {"python": [int(version), [int(x) for x in internal], gauss_next],
                           "numpy": [str(name), [int(x) for x in keys], int(pos), int(has_gauss),
                                     float(cached_gaussian)]}
    if states.torch is not None:
        msg["torch"] = bytes(states.torch.numpy().tobytes())
    if states.cuda is not None:
        msg["cuda"] = [bytes(state.numpy().tobytes()) for state in states.cuda]
    return msg


def from_msg(msg: Any) -> RandomStates:
    """The states to_msg wrote; ValueError when they are damaged."""
    try:
        version, internal, gauss_next = msg["python"]
        python_state = (int(version), tuple(int(x) for x in internal), gauss_next)
        random.Random().setstate(python_state)  # checks it without touching the global generator
        name, keys, pos, has_gauss, cached_gaussian = msg["numpy"]
        numpy_state = (str(name), numpy.asarray(keys, dtype=numpy.uint32), int(pos), int(has_gauss),
                       float(cached_gaussian))
        numpy.random.RandomState().set_state(numpy_state)
        torch_state = cuda_state = None
        if msg.get("torch") is not None or msg.get("cuda") is not None:
            import torch

            def tensor(data: bytes) -> Any:
                return torch.frombuffer(bytearray(data), dtype=torch.uint8)

            if msg.get("torch") is not None:
                torch_state = tensor(msg["torch"])
            if msg.get("cuda") is not None:
                cuda_state = [tensor(data) for data in msg["cuda"]]
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ValueError(f"damaged random state ({type(e).__name__})") from None
    return RandomStates(python_state, numpy_state, torch_state, cuda_state)
