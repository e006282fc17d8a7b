"""A thinc model's weights to and from bytes, without pickle anywhere.

thinc's Model.to_bytes is msgpack, except for shims: a PyTorchShim (PyTorchLSTM,
PyTorchWrapper) stores its state with torch.save and loads it with torch.load, a
pickle-based format that can run code (refused today only by torch's weights_only
default, which TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 turns off). Here the msgpack map
is thinc's, but each torch shim is stored as its state_dict in safetensors, and
loading never hands bytes to torch.load or to a shim's from_bytes, whatever the
environment says. Other kinds of shim are refused."""
from functools import partial
from typing import Any, Dict, List

import srsly
from thinc.api import Model
from thinc.util import convert_recursive, is_xp_array

TORCH_STATE_FORMAT = "safetensors"


class WeightsError(ValueError):
    """Bytes that are not weights of this model (the caller names the file)."""


def model_to_bytes(model: Model) -> bytes:
    """model.to_bytes(), with every torch shim's state stored as safetensors."""
    nodes = list(model.walk())
    shim_blobs = [[_shim_to_bytes(shim) for shim in node.shims] for node in nodes]
    held = [list(node.shims) for node in nodes]
    try:  # to_dict would call each shim's own to_bytes (torch.save): take the shims out meanwhile
        for node in nodes:
            node.shims.clear()
        msg = model.to_dict()
    finally:
        for node, shims in zip(nodes, held):
            node.shims.extend(shims)
    msg["shims"] = shim_blobs
    msg = convert_recursive(is_xp_array, partial(model.ops.to_numpy, byte_order="<"), msg)
    return srsly.msgpack_dumps(msg)


def model_from_bytes(model: Model, data: bytes) -> Model:
    """Load bytes written by model_to_bytes. Raises WeightsError when they do not fit."""
    try:
        msg = srsly.msgpack_loads(data)
    except Exception as e:  # msgpack raises several unrelated types on damaged input
        raise WeightsError(f"not a weights file (truncated or damaged?): {type(e).__name__}: {e}") from None
    if not isinstance(msg, dict) or not {"nodes", "attrs", "params", "shims"} <= set(msg):
        raise WeightsError("not a weights file written by this package (truncated or damaged?)")
    nodes = list(model.walk())
    shim_blobs = msg["shims"]
    if not isinstance(shim_blobs, list) or len(shim_blobs) != len(nodes) or len(msg["nodes"]) != len(nodes):
        raise WeightsError("the saved model has a different structure from the one the config builds")
    for node, blobs in zip(nodes, shim_blobs):
        if not isinstance(blobs, list) or len(blobs) != len(node.shims):
            raise WeightsError(f"layer '{node.name}': the saved model has a different structure")
    msg["shims"] = [[] for _ in nodes]  # so thinc's from_dict never reaches a shim's from_bytes
    try:
        model.from_dict(convert_recursive(is_xp_array, model.ops.asarray, msg))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise WeightsError(f"the weights do not fit this model: {e}") from None
    for node, blobs in zip(nodes, shim_blobs):
        for shim, blob in zip(node.shims, blobs):
            _shim_from_bytes(shim, blob, node.name)
    return model


def _is_torch_shim(shim: Any) -> bool:
    from thinc.shims import PyTorchShim

    return isinstance(shim, PyTorchShim)


def _shim_to_bytes(shim: Any) -> bytes:
    if not _is_torch_shim(shim):
        raise WeightsError(f"a {type(shim).__name__} layer cannot be saved: only PyTorch layers are stored "
                           f"(as safetensors)")
    import safetensors.torch

    # clone: safetensors refuses tensors that share memory; contiguous CPU copies are what it stores
    state = {key: _tensor(key, value).detach().to("cpu").clone().contiguous()
             for key, value in shim._model.state_dict().items()}
    return srsly.msgpack_dumps({"format": TORCH_STATE_FORMAT, "config": shim.cfg,
                                "state": safetensors.torch.save(state)})


def _tensor(key: str, value: Any) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        raise WeightsError(f"PyTorch state '{key}' is a {type(value).__name__}, not a tensor: it cannot be saved")
    return value


def _shim_from_bytes(shim: Any, blob: Any, layer: str) -> None:
    if not _is_torch_shim(shim):
        raise WeightsError(f"layer '{layer}': a {type(shim).__name__} layer cannot be loaded")
    try:
        saved = srsly.msgpack_loads(blob) if isinstance(blob, bytes) else None
    except Exception:  # msgpack raises several unrelated types on damaged input
        saved = None
    if not isinstance(saved, dict) or saved.get("format") != TORCH_STATE_FORMAT:
        raise WeightsError(f"layer '{layer}': PyTorch weights not stored as {TORCH_STATE_FORMAT} (e.g. torch's "
                           f"pickle-based format, which is never loaded): re-save the model with this version")
    import safetensors.torch

    try:
        state: Dict[str, Any] = safetensors.torch.load(saved.get("state") or b"")
        missing: List[str] = sorted(set(shim._model.state_dict()) ^ set(state))
        if missing:
            raise WeightsError(f"layer '{layer}': the saved PyTorch state has different entries ({missing[:5]})")
        shim._model.load_state_dict(state, strict=True)  # copies into the existing tensors, on their device
    except WeightsError:
        raise
    except Exception as e:  # safetensors and torch raise several types on damaged input
        raise WeightsError(f"layer '{layer}': cannot load the PyTorch weights: {type(e).__name__}: {e}") from None
    shim.cfg = saved.get("config")
