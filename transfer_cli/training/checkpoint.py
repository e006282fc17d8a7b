"""Training checkpoints: OUTPUT/checkpoint/, everything a stopped `train` needs to go on
as if it had never stopped (`train --resume`). Written like every output: complete or
not at all (fileio.atomic_dir), so a kill while saving leaves the previous checkpoint.

    checkpoint/model/                 the pipeline as trained (the optimizer's raw weights, not its averages)
    checkpoint/optimizer.safetensors  the optimizer's moments and parameter averages
    checkpoint/state.msgpack          step, epoch, place in the batch stream, random states, best score,
                                      losses and words since the last evaluation, optimizer step counts,
                                      listener grad_factor schedules, the config's fingerprint
    checkpoint/meta.json              written last: format, step, the SHA-256 of every other file

thinc's optimizer keys its state by (layer id, parameter name), and layer ids differ
from one process to the next; a checkpoint keys it by component, position of the
layer in the component's model.walk() (or of its PyTorch shim) and parameter name, and
a resumed run maps that back onto its own layers. No pickle anywhere: msgpack of plain
values, safetensors, and the pipeline's own format."""
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy
import safetensors.numpy
import srsly
from confection import Config
from thinc.api import Model, Optimizer
from thinc.util import to_numpy

from ..about import __version__
from ..errors import ConfigError, DataError, PathError
from ..fileio import ENTRIES_KEY, OWNER_KEY, atomic_dir
from ..ml.transformer.blas_linear import cpu_matmul_choice, pin_cpu_matmul
from ..model_files import check_saved_dir, file_sha256, read_file_bytes, read_file_json
from . import random_states
from .loop import StepInfo, TrainingState

CHECKPOINT_DIR = "checkpoint"
FORMAT = "transfer_cli.training_checkpoint"
VERSION = 1
MODEL_DIR = "model"
STATE_FILE = "state.msgpack"
OPTIMIZER_FILE = "optimizer.safetensors"
META_FILE = "meta.json"
META_CHECKSUM_KEY = "meta_sha256"
_TABLES = ("mom1", "mom2", "averages")
_STATE_LIMIT = 1024 * 1024 * 1024  # a state.msgpack holds numbers, never arrays of weights
_NO_SHIM = -1

# Settings a resumed run may change, as dotted keys of the filled config (variables
# kept, so a path given through [paths] stays `${paths.train}` elsewhere): where the
# files are (a run may continue on another machine), when to stop, how often to save,
# how to log, how GPU memory is allocated. Any other difference is an error.
MAY_CHANGE = ("paths", "corpora.*.path", "system.gpu_allocator", "training.gpu_allocator", "training.max_steps",
              "training.max_epochs", "training.patience", "training.checkpoint_frequency", "training.logger")


# -- the config a checkpoint belongs to --------------------------------------------------------------------
def config_fingerprint(filled: Config) -> Dict[str, Any]:
    """The settings of a filled config (variables kept) that a resumed run must share with
    the run it continues, as dotted keys → values (JSON values, so they compare exactly
    after a round trip through the checkpoint)."""
    flat: Dict[str, Any] = {}
    _flatten(Config(filled, is_interpolated=False), "", flat)
    return {key: json.loads(json.dumps(value, default=str)) for key, value in sorted(flat.items()) if not _may_change(key)}


def _flatten(node: Any, prefix: str, flat: Dict[str, Any]) -> None:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), flat)
    else:
        flat[prefix] = node


def _may_change(key: str) -> bool:
    parts = key.split(".")
    for pattern in MAY_CHANGE:
        wanted = pattern.split(".")
        if len(parts) >= len(wanted) and all(w in ("*", p) for w, p in zip(wanted, parts)):
            return True
    return False


def _differences(saved: Dict[str, Any], current: Dict[str, Any]) -> List[str]:
    def show(key: str, config: Dict[str, Any]) -> str:
        return json.dumps(config[key]) if key in config else "(not set)"

    return [f"{key} = {show(key, current)} here but {show(key, saved)} in the checkpoint"
            for key in sorted(set(saved) | set(current)) if saved.get(key, ...) != current.get(key, ...)]


# -- saving ------------------------------------------------------------------------------------------------
def save_checkpoint(path: Path, nlp: Any, optimizer: Optimizer, state: TrainingState,
                    fingerprint: Dict[str, Any]) -> None:
    """Write the checkpoint of `state` (the weights and optimizer as they are now) to `path`,
    replacing the previous one only once this one is complete. Draws nothing from the
    random generators training uses."""
    with random_states.preserved(), atomic_dir(Path(path)) as tmp:
        nlp.to_disk(tmp / MODEL_DIR)
        entries, arrays = _optimizer_state(nlp, optimizer)
        # bytes, not save_file, which creates its file 0600 (outputs get the umask's modes)
        (tmp / OPTIMIZER_FILE).write_bytes(safetensors.numpy.save(arrays))
        msg = {"format": FORMAT, "version": VERSION, "config": fingerprint, "loop": _loop_to_msg(state),
               "random": random_states.to_msg(state.random),
               "optimizer": {"schedule_steps": state.step, "entries": entries},
               "listeners": _listener_steps(nlp), "grad_scalers": _grad_scalers(nlp),
               # which library ran a transformer's CPU products (a resumed run uses the same: same rounding)
               "cpu_matmul": cpu_matmul_choice()}
        (tmp / STATE_FILE).write_bytes(srsly.msgpack_dumps(msg))
        meta = {OWNER_KEY: __version__, "format": FORMAT, "version": VERSION, "step": state.step,
                "epoch": state.epoch, ENTRIES_KEY: [MODEL_DIR, OPTIMIZER_FILE, STATE_FILE, META_FILE],
                "checksums": dict(_checksums(tmp))}
        meta[META_CHECKSUM_KEY] = _meta_checksum(meta)
        srsly.write_json(tmp / META_FILE, meta)  # last: a directory without it is no checkpoint


def _loop_to_msg(state: TrainingState) -> Dict[str, Any]:
    best = None
    if state.best is not None:
        best = dataclasses.asdict(state.best)
        best["scores"] = {k: v for k, v in (best["scores"] or {}).items() if _jsonable(v)}
    return {"step": state.step, "epoch": state.epoch, "words": state.words,
            "words_since_eval": state.words_since_eval, "losses": dict(state.losses), "best": best,
            "seconds": state.seconds, "seconds_since_eval": state.seconds_since_eval,
            "position": state.position, "pending_eval": state.pending_eval}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _checksums(root: Path) -> Iterator[Tuple[str, str]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            yield path.relative_to(root).as_posix(), file_sha256(path)


def _meta_checksum(meta: Dict[str, Any]) -> str:
    """The SHA-256 of meta.json's other keys: a damaged checksum would otherwise blame the file it names."""
    text = json.dumps({k: v for k, v in meta.items() if k != META_CHECKSUM_KEY}, sort_keys=True)
    return hashlib.sha256(text.encode("utf8")).hexdigest()


# -- the optimizer's state, keyed to last across processes -------------------------------------------------
StableKey = Tuple[str, int, int, str]  # component, layer position in model.walk(), shim index or -1, parameter


def _parameters(nlp: Any) -> Dict[Tuple[int, str], Tuple[StableKey, Tuple[int, ...]]]:
    """Every trainable parameter of the pipeline: the optimizer's key → (stable key, shape)."""
    found: Dict[Tuple[int, str], Tuple[StableKey, Tuple[int, ...]]] = {}
    for name, component in nlp.components:
        model = getattr(component, "model", None)
        if not isinstance(model, Model):
            continue
        for i, node in enumerate(model.walk()):
            for param in node.param_names:
                if node.has_param(param):
                    found.setdefault((node.id, param), ((name, i, _NO_SHIM, param), node.get_param(param).shape))
            for j, shim in enumerate(node.shims):
                torch_model = getattr(shim, "_model", None)
                for param, tensor in getattr(torch_model, "named_parameters", lambda: [])():
                    found.setdefault((shim.id, param), ((name, i, j, param), tuple(tensor.shape)))
    return found


def _optimizer_state(nlp: Any, optimizer: Optimizer) -> Tuple[List[List[Any]], Dict[str, numpy.ndarray]]:
    """([component, layer, shim, parameter, update count] per parameter, {"TABLE.INDEX": array})."""
    parameters = _parameters(nlp)
    tables = {table: getattr(optimizer, table, None) or {} for table in _TABLES}
    counts = getattr(optimizer, "nr_update", {})
    keys = set(counts).union(*tables.values())
    known = sorted((parameters[key][0], key) for key in keys if key in parameters)
    entries: List[List[Any]] = []
    arrays: Dict[str, numpy.ndarray] = {}
    for index, (stable, key) in enumerate(known):
        entries.append([*stable, int(counts.get(key, 0))])
        for table, values in tables.items():
            if key in values:
                arrays[f"{table}.{index}"] = numpy.ascontiguousarray(to_numpy(values[key]))
    return entries, arrays


def _listener_steps(nlp: Any) -> List[List[Any]]:
    """[component, layer position, steps] of each listener whose grad_factor may be a schedule."""
    steps = []
    for name, component in nlp.components:
        model = getattr(component, "model", None)
        if isinstance(model, Model):
            steps.extend([name, i, int(node.grad_factor_steps)] for i, node in enumerate(model.walk())
                         if hasattr(node, "grad_factor_steps") and node.grad_factor_steps)
    return steps


def _shims(nlp: Any) -> Iterator[Tuple[StableKey, Any]]:
    for name, component in nlp.components:
        model = getattr(component, "model", None)
        if isinstance(model, Model):
            for i, node in enumerate(model.walk()):
                for j, shim in enumerate(node.shims):
                    yield (name, i, j, ""), shim


def _grad_scalers(nlp: Any) -> List[List[Any]]:
    """[component, layer, shim, scale, growth tracker] of each PyTorch gradient scaler in use
    (float16 mixed precision on a GPU): the scale it has learnt goes on from where it was."""
    found = []
    for (name, i, j, _), shim in _shims(nlp):
        scaler = getattr(shim, "_grad_scaler", None)
        if scaler is not None and getattr(scaler, "_enabled", False):
            found.append([name, i, j, float(scaler._scale.item()), int(scaler._growth_tracker.item())])
    return found


# -- reading -----------------------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """A checkpoint read and checked, not yet applied to a pipeline."""
    path: Path
    step: int
    epoch: int
    state: Dict[str, Any]  # state.msgpack


def read_checkpoint(path: Path, fingerprint: Dict[str, Any]) -> Checkpoint:
    """Read the checkpoint at `path` and check that it is whole (every file's SHA-256),
    of this format, and saved by a run of the config `fingerprint` describes. One
    UserError naming the checkpoint or its damaged file otherwise."""
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir() or not (meta_path.exists() or meta_path.is_symlink()):
        raise PathError("no checkpoint to resume from: train saves one every [training] checkpoint_frequency steps, "
                        "at the end, at Ctrl-C and at SIGTERM; train without --resume to start afresh",
                        path=str(path))
    check_saved_dir(path)
    meta = read_file_json(meta_path, what="checkpoint meta", expect=dict)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION or not isinstance(meta.get("checksums"), dict):
        raise DataError(f"not a training checkpoint this version of transfer-cli ({__version__}) can resume from "
                        f"(format {meta.get('format')!r} version {meta.get('version')!r})", path=str(meta_path))
    if meta.get(META_CHECKSUM_KEY) != _meta_checksum(meta):
        raise DataError("does not match the checksum saved in it: truncated or damaged", path=str(meta_path))
    for name, expected in sorted(meta["checksums"].items()):
        file = path / name
        if not (file.is_file() and not file.is_symlink()):
            raise DataError("missing from the checkpoint (it was saved with it): the checkpoint is incomplete",
                            path=str(file))
        if file_sha256(file) != expected:
            raise DataError("does not match the checksum saved with the checkpoint: truncated or damaged",
                            path=str(file))
    state_path = path / STATE_FILE
    try:
        state = srsly.msgpack_loads(read_file_bytes(state_path, limit=_STATE_LIMIT, what="checkpoint state"))
    except (PathError, DataError):
        raise
    except Exception as e:  # msgpack raises several unrelated types on damaged input
        raise DataError(f"unreadable checkpoint state ({type(e).__name__}): damaged?", path=str(state_path)) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or not isinstance(state.get("config"), dict):
        raise DataError("not the state of a training checkpoint (damaged?)", path=str(state_path))
    differences = _differences(state["config"], fingerprint)
    if differences:
        shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
        raise ConfigError(f"this checkpoint was saved by a run of another config ({shown}): resume with the config "
                          f"it was saved with, or train without --resume into another --output", path=str(path))
    return Checkpoint(path, int(meta.get("step", 0)), int(meta.get("epoch", 0)), state)


# -- applying ----------------------------------------------------------------------------------------------
def restore_checkpoint(checkpoint: Checkpoint, nlp: Any, optimizer: Optimizer) -> TrainingState:
    """Load the checkpoint's weights into `nlp` (built and initialized from the same config),
    its state into `optimizer` and the listeners; the loop's state to continue from."""
    state_path = checkpoint.path / STATE_FILE
    msg = checkpoint.state

    def damaged(why: str) -> DataError:
        return DataError(f"the checkpoint does not fit this pipeline ({why}): damaged, or saved by other code "
                         f"(--code)?", path=str(state_path))

    nlp.from_disk(checkpoint.path / MODEL_DIR)
    try:
        _restore_listeners(nlp, msg["listeners"])
        _restore_grad_scalers(nlp, msg.get("grad_scalers") or [])
        _restore_optimizer(nlp, optimizer, msg["optimizer"], checkpoint.path / OPTIMIZER_FILE)
        pin_cpu_matmul(msg.get("cpu_matmul"))
        loop = msg["loop"]
        for start in loop["position"]["starts"]:  # what a rebuilt epoch starts from, checked before it is used
            random_states.from_msg(start["random"])
            _ = start["epoch"], start["shuffle"], start["batcher"]
        best = StepInfo(**loop["best"]) if loop["best"] is not None else None
        return TrainingState(step=int(loop["step"]), epoch=int(loop["epoch"]), words=int(loop["words"]),
                             words_since_eval=int(loop["words_since_eval"]), losses=dict(loop["losses"]), best=best,
                             seconds=float(loop["seconds"]), seconds_since_eval=float(loop["seconds_since_eval"]),
                             position=loop["position"], random=random_states.from_msg(msg["random"]),
                             pending_eval=bool(loop["pending_eval"]))
    except _Mismatch as e:
        raise damaged(str(e)) from None
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise damaged(f"{type(e).__name__}: {e}") from None


class _Mismatch(ValueError):
    pass


def _layer(nlp: Any, component: str, position: int) -> Model:
    if not nlp.has_pipe(component) or not isinstance(getattr(nlp.get_pipe(component), "model", None), Model):
        raise _Mismatch(f"no component '{component}' with a model")
    nodes = list(nlp.get_pipe(component).model.walk())
    if not 0 <= position < len(nodes):
        raise _Mismatch(f"component '{component}' has no layer {position}")
    return nodes[position]


def _restore_listeners(nlp: Any, saved: List[List[Any]]) -> None:
    for component, position, steps in saved:
        node = _layer(nlp, component, position)
        if not hasattr(node, "step_grad_factor"):
            raise _Mismatch(f"layer {position} of component '{component}' is not a listener")
        for _ in range(int(steps) - node.grad_factor_steps):
            node.step_grad_factor()


def _restore_grad_scalers(nlp: Any, saved: List[List[Any]]) -> None:
    shims = dict(_shims(nlp))
    for component, position, index, scale, growth in saved:
        scaler = getattr(shims.get((component, int(position), int(index), "")), "_grad_scaler", None)
        if scaler is None or not getattr(scaler, "_enabled", False):
            continue  # resumed without float16 (e.g. on the CPU): there is no scale to go on with
        scaler._scale.fill_(float(scale))
        scaler._growth_tracker.fill_(int(growth))


def _restore_optimizer(nlp: Any, optimizer: Optimizer, saved: Dict[str, Any], arrays_path: Path) -> None:
    try:
        arrays = safetensors.numpy.load_file(str(arrays_path))
    except Exception as e:  # safetensors raises several types on damaged input
        raise DataError(f"unreadable optimizer state ({type(e).__name__}): damaged?", path=str(arrays_path)) from None
    by_stable = {stable: (key, shape) for key, (stable, shape) in _parameters(nlp).items()}
    ops = {name: component.model.ops for name, component in nlp.components
           if isinstance(getattr(component, "model", None), Model)}
    for index, (component, position, shim, param, count) in enumerate(saved["entries"]):
        found = by_stable.get((component, int(position), int(shim), param))
        if found is None:
            raise _Mismatch(f"layer {position} of component '{component}' has no parameter '{param}'")
        key, shape = found
        for table in _TABLES:
            value = arrays.get(f"{table}.{index}")
            target = getattr(optimizer, table, None)
            if value is None or target is None:
                continue
            if value.size != int(numpy.prod(shape)):
                raise _Mismatch(f"the {table} of parameter '{param}' of component '{component}' has another size")
            target[key] = ops[component].asarray(value.copy())
        if count:
            optimizer.nr_update[key] = int(count)
    if getattr(optimizer, "schedules", None):  # learn rate and other schedules continue where they were
        for _ in range(int(saved["schedule_steps"])):
            optimizer.step_schedules()
