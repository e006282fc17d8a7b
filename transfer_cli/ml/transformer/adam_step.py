"""thinc's Adam step for a transformer's CPU parameters, run by torch's fused kernel.

thinc's PyTorchShim steps its optimizer one parameter at a time through numpy: for
MiniLM's 22.7M weights that is about a dozen passes over every array (the gradient
norm, the momentum, the weight update, zeroing the gradient three times, weight decay
through a temporary), 0.19 s a step here, 5% of fine-tuning. `TransformerShim` does the
same arithmetic with torch's foreach and fused Adam kernels, 0.03 s a step:

- the optimizer's own state is used and kept: its update counts (`nr_update`), its
  first and second moments (`mom1`, `mom2`, numpy arrays that the kernels update in
  place) and its averages, under thinc's keys, so checkpoints, resuming and the
  averaged weights of evaluation see what thinc's step would have left;
- per parameter, in thinc's order: L2 added to the gradient (when it is not weight
  decay), the gradient clipped to `grad_clip` by its own norm, the Adam update with
  thinc's step size lr * sqrt(1 - b2^t) / (1 - b1^t) and eps added to sqrt(mom2)
  (torch's kernel adds eps after the bias correction: it is given eps / sqrt(1 - b2^t)),
  the gradient zeroed, decoupled weight decay, the averages.

The results equal thinc's to float32 rounding. Anything else (another optimizer class,
RAdam, a GPU, float16 gradients with a scaler, parameters that are not plain float32
arrays) goes through thinc's own step unchanged."""
from typing import Any, Dict, List, Tuple

import numpy
from thinc.api import Optimizer, PyTorchShim


class TransformerShim(PyTorchShim):
    """thinc's PyTorchShim whose optimizer step runs fused on CPU where it can."""

    def finish_update(self, optimizer: Optimizer) -> None:
        if not fused_adam_step(self, optimizer):
            super().finish_update(optimizer)


def fused_adam_step(shim: PyTorchShim, optimizer: Any) -> bool:
    """Step `optimizer` on the shim's parameters that have a gradient and zero those
    gradients, as thinc's shim would; False (nothing done) where this cannot run."""
    import torch

    if type(optimizer) is not Optimizer or optimizer.use_radam or not (optimizer.b1 > 0.0 and optimizer.b2 > 0.0) \
            or getattr(shim._grad_scaler, "_enabled", False) or not hasattr(torch, "_fused_adam_"):
        return False
    named = [(name, p) for name, p in shim._model.named_parameters() if p.grad is not None]
    if not all(_plain_cpu_float32(p) and _plain_cpu_float32(p.grad) and p.numel() > 0 for _, p in named):
        return False
    if not named:
        return True
    keys = [(shim.id, name) for name, _ in named]
    for key in keys:
        optimizer.nr_update[key] += 1
    params = [p.detach() for _, p in named]
    grads = [p.grad for _, p in named]
    with torch.no_grad():
        if optimizer.L2 != 0 and not optimizer.L2_is_weight_decay:
            torch._foreach_add_(grads, params, alpha=optimizer.L2)
        if optimizer.grad_clip:
            _clip_each(grads, float(optimizer.grad_clip))
        for count, members in _by_update_count(optimizer, keys).items():
            _adam(optimizer, count, [keys[i] for i in members], [params[i] for i in members],
                  [grads[i] for i in members])
        torch._foreach_zero_(grads)
        if optimizer.L2 != 0 and optimizer.L2_is_weight_decay:
            torch._foreach_mul_(params, 1.0 - optimizer.learn_rate * optimizer.L2)
        if optimizer.averages is not None:
            for key, param in zip(keys, params):
                _update_average(optimizer, key, param)
    return True


def _plain_cpu_float32(tensor: Any) -> bool:
    import torch

    return tensor.device.type == "cpu" and tensor.dtype == torch.float32 and tensor.is_contiguous() \
        and not tensor.is_sparse


def _clip_each(grads: List[Any], threshold: float) -> None:
    """Each gradient scaled to norm `threshold` where its own norm reaches it (thinc clips per array)."""
    import torch

    norms = [float(n) for n in torch._foreach_norm(grads)]
    clipped = [(g, threshold / n) for g, n in zip(grads, norms) if n >= threshold]
    if clipped:
        torch._foreach_mul_([g for g, _ in clipped], [factor for _, factor in clipped])


def _by_update_count(optimizer: Optimizer, keys: List[Tuple[int, str]]) -> Dict[int, List[int]]:
    """Parameter positions by their update count (one group unless some were stepped apart)."""
    groups: Dict[int, List[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(optimizer.nr_update[key], []).append(i)
    return groups


def _adam(optimizer: Optimizer, count: int, keys: List[Tuple[int, str]], params: List[Any], grads: List[Any]) -> None:
    import torch

    fix2 = 1.0 - optimizer.b2 ** count
    moments1 = [_moment(optimizer.mom1, key, param) for key, param in zip(keys, params)]
    moments2 = [_moment(optimizer.mom2, key, param) for key, param in zip(keys, params)]
    steps = [torch.tensor(float(count)) for _ in params]
    torch._fused_adam_(params, grads, moments1, moments2, [], steps, lr=float(optimizer.learn_rate),
                       beta1=float(optimizer.b1), beta2=float(optimizer.b2), weight_decay=0.0,
                       eps=float(optimizer.eps) / fix2 ** 0.5, amsgrad=False, maximize=False)


def _moment(table: Dict[Tuple[int, str], Any], key: Tuple[int, str], param: Any) -> Any:
    """The optimizer's moment array for `key` (1-D, as thinc keeps it) as a tensor sharing
    its memory, shaped like the parameter."""
    import torch

    return torch.from_numpy(_state_array(table, key, (param.numel(),))).view(param.shape)


def _state_array(table: Dict[Tuple[int, str], Any], key: Tuple[int, str], shape: Tuple[int, ...]) -> numpy.ndarray:
    """table[key] as a writable, C-contiguous float32 array of `shape`, which the kernels
    update in place: zeros when missing, a copy put back into the table when the one there
    is not such an array (e.g. a checkpoint's read-only arrays)."""
    array = table.get(key)
    if not (isinstance(array, numpy.ndarray) and array.dtype == numpy.float32 and array.shape == shape
            and array.flags.c_contiguous and array.flags.writeable):
        array = numpy.zeros(shape, dtype=numpy.float32) if array is None \
            else numpy.ascontiguousarray(array, dtype=numpy.float32).reshape(shape).copy()
        table[key] = array
    return array


def _update_average(optimizer: Optimizer, key: Tuple[int, str], param: Any) -> None:
    """thinc's update_averages: ema -= (1 - decay) * (ema - weights), decay = min((1 + t) / (10 + t), 0.9999)."""
    import torch

    average = _state_array(optimizer.averages, key, tuple(param.shape))
    count = optimizer.nr_update[key]
    decay = min((1.0 + count) / (10.0 + count), 0.9999)
    torch.from_numpy(average).lerp_(param, 1.0 - decay)
