"""Pretraining: train one network of the pipeline (the [pretraining] component and
layer, a Model[List[Doc], List[Floats2d]]) on raw text with the [pretraining]
objective, so that training starts from its weights ([initialize] init_tok2vec).

The output directory receives, all written atomically:
- `model{epoch}.bin` after each epoch (every n_save_epoch epochs, and the last), never
  overwritten: the subnetwork's weights (thinc msgpack, the optimizer's averages when it
  keeps them), what init_tok2vec loads;
- `model-last.bin` after each epoch, every n_save_every batches, at --max-time and on
  Ctrl-C / SIGTERM, so stopping loses nothing;
- `model{epoch}.opt` / `model-last.opt` beside them: the state to resume from (every
  weight of the objective model, the optimizer's moments, averages and step counts, the
  random state and where in the corpus it was), msgpack of plain arrays, no pickle.
  Only the newest epoch keeps its .opt (they are several times the weights' size);
- `config.cfg` (the filled config) and `log.jsonl` (one line per save: epoch, step,
  words used, loss, words per second).

Each epoch reads the corpus again and shuffles it with the seed plus the epoch number,
so a run resumed from an epoch's state reaches the same weights as one never stopped."""
import json
import random
import re
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy
import srsly
import tqdm
from confection import Config
from thinc.api import Model, Optimizer, fix_random_seed, set_dropout_rate, set_gpu_allocator
from thinc.util import to_numpy

from ..config.filling import ConfigCheck, check_config
from ..config.loading import config_to_str
from ..config.resolving import resolve_path, resolve_section
from ..errors import ConfigError, DataError, PathError, UserError
from ..fileio import recover, write_bytes_atomic, write_text_atomic
from ..ml.blas_threads import limited_blas_threads
from ..ml.listeners import find_listeners
from ..ml.weights import WeightsError, model_from_bytes, model_to_bytes
from ..model_files import read_file_bytes
from ..pipeline.build import pipeline_from_config
from ..pipeline.pipeline import Pipeline
from ..pipeline.vectors import load_vectors
from ..tokens import Doc

LOG_NAME = "log.jsonl"
CONFIG_NAME = "config.cfg"
LAST = "model-last"
STATE_FORMAT = "transfer_cli.pretraining_state"
STATE_VERSION = 1
EPOCH_FILE = re.compile(r"^model(\d+)\.(bin|opt)$")
NO_PRETRAINING_BLOCK = ("the config has no [pretraining] block: add one with `transfer-cli fill-config CONFIG "
                        "OUTPUT --pretraining` (or create the config with init-config --pretraining)")
_SAMPLE_DOCS = 64  # docs that initialize the objective and check the subnetwork


@dataclass
class PretrainingSetup:
    """Everything the pretraining loop needs, resolved from the config."""
    nlp: Pipeline
    config: ConfigCheck
    settings: Dict[str, Any]       # [pretraining], its blocks built (batcher, objective, optimizer)
    corpus: Callable
    subnetwork: Model              # the component's model or layer being pretrained
    model: Model                   # the objective model around it
    optimizer: Optimizer
    seed: Optional[int]


@dataclass
class Progress:
    """Where the run is: `batches` done in `epoch` (all of them when epoch_done)."""
    epoch: int = 0
    batches: int = 0
    epoch_done: bool = False
    step: int = 0
    words: int = 0


@dataclass
class PretrainingSummary:
    progress: Progress
    stopped: str                   # "max_epochs", "max_time" or "interrupted"
    saved: List[str] = field(default_factory=list)
    resumed_optimizer: Optional[bool] = None  # None: not resumed; False: weights only (no .opt found)
    corpus_stats: Dict[str, int] = field(default_factory=dict)


# -- setup -----------------------------------------------------------------------------------------
def init_pretraining(config: Config, *, use_gpu: int = -1) -> PretrainingSetup:
    checked = check_config(config).valid()
    values = checked.values
    if not values.get("pretraining"):
        raise ConfigError(NO_PRETRAINING_BLOCK, key="pretraining")
    seed = values["training"]["seed"]
    if seed is not None:
        fix_random_seed(seed)
    allocator = values["training"]["gpu_allocator"]
    if use_gpu >= 0 and allocator:
        set_gpu_allocator(allocator)
    nlp = pipeline_from_config(checked)
    vectors = values["initialize"]["vectors"]
    if vectors:
        load_vectors(nlp, vectors)
    settings = resolve_section(checked, "pretraining")
    corpus = resolve_path(checked, settings["corpus"])
    component, layer = settings["component"], settings["layer"]
    subnetwork = find_subnetwork(nlp, component, layer)
    model = settings["objective"](nlp.vocab, subnetwork)
    sample = [eg.predicted for eg in islice(corpus(nlp), _SAMPLE_DOCS)]
    if not sample:
        raise DataError("the raw text holds no usable records (each needs a \"text\" of at least "
                        "min_length tokens)", path=str(getattr(corpus, "path", "")) or None)
    try:
        with limited_blas_threads():
            model.initialize(X=sample)  # checks that the subnetwork gives one vector per token
    except UserError:
        raise
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
        raise not_a_tok2vec(component, layer, f"{type(e).__name__}: {e}") from e
    set_dropout_rate(model, settings["dropout"])
    return PretrainingSetup(nlp, checked, settings, corpus, subnetwork, model, settings["optimizer"], seed)


def find_subnetwork(nlp: Pipeline, component: str, layer: str) -> Model:
    """The [pretraining] component's model, or its layer named `layer`: a ref of the
    model (e.g. "tok2vec" in a textcat model) or of any node inside it, or a node's name."""
    if not nlp.has_pipe(component):
        raise ConfigError(f"the pipeline has no component '{component}' to pretrain (components: "
                          f"{', '.join(nlp.component_names) or 'none'})", key="pretraining.component")
    model = getattr(nlp.get_pipe(component), "model", None)
    if not isinstance(model, Model):
        raise ConfigError(f"component '{component}' has no model to pretrain", key="pretraining.component")
    if layer:
        model = find_layer(model, layer, component)
    listeners = find_listeners(model)
    if listeners:
        upstream = listeners[0].upstream
        where = f"component '{component}'" + (f" layer '{layer}'" if layer else "")
        raise ConfigError(f"{where} listens to the component '{upstream if upstream != '*' else 'tok2vec'}' "
                          f"instead of embedding the tokens itself: pretrain that one (component = "
                          f"\"{upstream if upstream != '*' else 'tok2vec'}\", layer = \"\")",
                          key="pretraining.layer" if layer else "pretraining.component")
    return model


def find_layer(model: Model, name: str, component: str) -> Model:
    if model.has_ref(name):
        return model.get_ref(name)
    for node in model.walk():
        if node.has_ref(name):
            return node.get_ref(name)
    named = [node for node in model.walk() if node.name == name]
    if len(named) == 1:
        return named[0]
    refs = sorted({ref for node in model.walk() for ref in node.ref_names})
    found = f"{len(named)} layers are named '{name}'" if named else f"it has no layer '{name}'"
    raise ConfigError(f"cannot pretrain a layer of component '{component}': {found} (its named layers: "
                      f"{', '.join(refs) or 'none'}; \"\" pretrains the whole model)", key="pretraining.layer")


def not_a_tok2vec(component: str, layer: str, detail: str) -> ConfigError:
    where = f"component '{component}'" + (f" layer '{layer}'" if layer else " (its whole model)")
    return ConfigError(f"{where} is not a token-to-vector network (Model[List[Doc], List[Floats2d]]): {detail}; "
                       f"set [pretraining] component and layer to one, e.g. component = \"tok2vec\", layer = \"\"",
                       key="pretraining.layer" if layer else "pretraining.component")


# -- the loop --------------------------------------------------------------------------------------
LogCallback = Callable[[Dict[str, Any]], None]


def run_pretraining(setup: PretrainingSetup, output_dir: Path, *, resume_path: Optional[Path] = None,
                    epoch_resume: Optional[int] = None, max_time: Optional[float] = None,
                    stderr: Optional[IO] = None, quiet: bool = False,
                    on_log: Optional[LogCallback] = None) -> PretrainingSummary:
    """Pretrain until [pretraining] max_epochs, `max_time` seconds or Ctrl-C; saves as
    the module docstring says. `on_log` sees each log record as it is written."""
    output = PretrainingOutput(Path(output_dir), resuming=resume_path is not None)
    settings, model, optimizer = setup.settings, setup.model, setup.optimizer
    progress = Progress()
    summary = PretrainingSummary(progress, "max_epochs")
    if resume_path is not None:
        progress, summary.resumed_optimizer = resume(setup, Path(resume_path), epoch_resume)
        summary.progress = progress
    start_epoch = progress.epoch + 1 if progress.epoch_done else progress.epoch
    skip = 0 if progress.epoch_done else progress.batches
    output.check_epochs_free(start_epoch)
    output.write_config(config_to_str(setup.config.filled))
    loss_fn = model.attrs["loss"]
    max_epochs, n_save_every, n_save_epoch = settings["max_epochs"], settings["n_save_every"], settings["n_save_epoch"]
    started = time.perf_counter()
    window = {"loss": 0.0, "hidden": 0, "words": 0, "clock": started}

    def save(names: List[str], kind: str) -> None:
        with model.use_params(optimizer.averages or {}):
            weights = model_to_bytes(setup.subnetwork)
        state = state_to_bytes(model, optimizer, progress)
        for name in names:
            output.save(name, weights, state)
        summary.saved.extend(f"{name}.bin" for name in names)
        elapsed = time.perf_counter() - window["clock"]
        record = {"epoch": progress.epoch, "step": progress.step, "words": progress.words,
                  "loss": round(window["loss"] / window["hidden"], 5) if window["hidden"] else None,
                  "words_per_second": round(window["words"] / elapsed, 1) if elapsed > 0 else None,
                  "seconds": round(time.perf_counter() - started, 2), "event": kind,
                  "saved": [f"{name}.bin" for name in names], "corpus": dict(summary.corpus_stats)}
        output.log(record)
        if on_log is not None:
            on_log(record)
        window.update(loss=0.0, hidden=0, words=0, clock=time.perf_counter())

    epoch = start_epoch
    try:
        while epoch < max_epochs:
            if setup.seed is not None and not skip:
                fix_random_seed(setup.seed + epoch)  # a resumed epoch restored its random state instead
            progress.epoch, progress.epoch_done, progress.batches = epoch, False, 0
            counted = {"records": 0, "words": 0}
            rng = random.Random(epoch if setup.seed is None else setup.seed + epoch)
            examples = shuffled(counting(setup.corpus(setup.nlp), counted), rng)
            bar = tqdm.tqdm(total=summary.corpus_stats.get("words"), unit="w", leave=False, desc=f"epoch {epoch}",
                            disable=quiet or not _isatty(stderr), file=stderr)
            try:
                for batch in settings["batcher"](examples):
                    if not batch:
                        continue
                    n_words = sum(len(eg.predicted) for eg in batch)
                    if progress.batches < skip:
                        progress.batches += 1
                        bar.update(n_words)
                        continue
                    loss, hidden = update(model, optimizer, loss_fn, [eg.predicted for eg in batch])
                    progress.batches += 1
                    progress.step += 1
                    progress.words += n_words
                    window["loss"] += loss * hidden
                    window["hidden"] += hidden
                    window["words"] += n_words
                    bar.update(n_words)
                    if max_time is not None and time.perf_counter() - started >= max_time:
                        summary.stopped = "max_time"
                        save([LAST], "max_time")
                        return summary
                    if n_save_every and progress.step % n_save_every == 0:
                        save([LAST], "n_save_every")
            finally:
                bar.close()
            if not counted["records"]:
                raise DataError("the raw text holds no usable records this epoch",
                                path=str(getattr(setup.corpus, "path", "")) or None)
            summary.corpus_stats = {**counted, **(getattr(setup.corpus, "stats", None) or {})}
            skip = 0
            progress.epoch_done = True
            if not n_save_epoch or epoch % n_save_epoch == 0 or epoch == max_epochs - 1:
                output.check_epochs_free(epoch)
                save([f"model{epoch}", LAST], "epoch")
                output.keep_state_of(f"model{epoch}")
            else:
                save([LAST], "epoch")
            epoch += 1
    except KeyboardInterrupt:
        summary.stopped = "interrupted"
        save([LAST], "interrupted")
    return summary


SHUFFLE_BUFFER = 10_000  # examples shuffled together: the corpus is streamed, never held whole


def shuffled(examples: Iterable[Any], rng: random.Random, buffer: int = SHUFFLE_BUFFER) -> Iterator[Any]:
    """The examples in an order shuffled within chunks of `buffer` (repeatable with `rng`'s seed)."""
    chunk: List[Any] = []
    for example in examples:
        chunk.append(example)
        if len(chunk) >= buffer:
            rng.shuffle(chunk)
            yield from chunk
            chunk = []
    rng.shuffle(chunk)
    yield from chunk


def counting(examples: Iterable[Any], counted: Dict[str, int]) -> Iterator[Any]:
    for example in examples:
        counted["records"] += 1
        counted["words"] += len(example.predicted)
        yield example


def update(model: Model, optimizer: Optimizer, loss_fn: Any, docs: List[Doc]) -> Tuple[float, int]:
    """One optimizer step on a batch: (mean loss per hidden token, hidden tokens)."""
    with limited_blas_threads():
        (guesses, truths), backprop = model.begin_update(docs)
        d_guesses, loss = loss_fn(guesses, truths)
        backprop(d_guesses)
        model.finish_update(optimizer)
    if hasattr(optimizer, "step_schedules"):
        optimizer.step_schedules()
    return float(loss), int(guesses.shape[0])


def _isatty(stream: Optional[IO]) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


# -- output directory ------------------------------------------------------------------------------
class PretrainingOutput:
    """The output directory's files. A new run needs an absent or empty directory; a
    resumed run may write into one that pretraining wrote (its log.jsonl says so), and
    never replaces a model{epoch} file."""

    def __init__(self, path: Path, *, resuming: bool) -> None:
        self.path = path
        if path.exists() and not path.is_dir():
            raise PathError("the output must be a directory, but a file of that name exists", path=str(path))
        for name in (LOG_NAME, CONFIG_NAME, f"{LAST}.bin", f"{LAST}.opt"):
            recover(path / name)  # a save killed between its two renames left a hidden file
        entries = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        if entries and not resuming:
            raise PathError("the output directory is not empty: pretrain writes into a new or empty directory; "
                            "to continue a run in it, pass --resume-path "
                            f"{path / (LAST + '.bin')}", path=str(path))
        if entries and not self._is_ours():
            raise PathError(f"this directory was not written by pretrain (no {LOG_NAME} of its own in it), so "
                            f"nothing is written into it: choose another output directory", path=str(path))
        self.lines: List[str] = self._read_log() if entries else []

    def _is_ours(self) -> bool:
        lines = self._read_log()
        return bool(lines) and all(_is_log_record(line) for line in lines[:1])

    def _read_log(self) -> List[str]:
        try:
            return (self.path / LOG_NAME).read_text(encoding="utf8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []

    def check_epochs_free(self, first: int) -> None:
        """No model{N}.bin with N >= first may exist: it would be overwritten."""
        if not self.path.is_dir():
            return
        taken = sorted(int(m[1]) for m in map(EPOCH_FILE.match, (p.name for p in self.path.iterdir()))
                       if m and m[2] == "bin" and int(m[1]) >= first)
        if taken:
            raise PathError(f"model{taken[0]}.bin exists: continuing at epoch {first} would overwrite it; resume "
                            f"from the latest epoch (--resume-path {self.path / f'model{taken[-1]}.bin'}) or "
                            f"write to another directory", path=str(self.path / f"model{taken[0]}.bin"))

    def write_config(self, text: str) -> None:
        self._pending_config = text

    def save(self, name: str, weights: bytes, state: bytes) -> None:
        if getattr(self, "_pending_config", None) is not None:
            write_text_atomic(self.path / CONFIG_NAME, self._pending_config)
            self._pending_config = None
        write_bytes_atomic(self.path / f"{name}.opt", state)
        write_bytes_atomic(self.path / f"{name}.bin", weights)

    def keep_state_of(self, name: str) -> None:
        """Remove the .opt files of earlier epochs: only the newest is kept."""
        for path in self.path.iterdir():
            match = EPOCH_FILE.match(path.name)
            if match and match[2] == "opt" and path.name != f"{name}.opt":
                path.unlink(missing_ok=True)

    def log(self, record: Dict[str, Any]) -> None:
        self.lines.append(json.dumps(record))
        write_text_atomic(self.path / LOG_NAME, "\n".join(self.lines) + "\n")


def _is_log_record(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and {"epoch", "step", "words", "loss", "saved"} <= record.keys()


# -- resuming --------------------------------------------------------------------------------------
def resume(setup: PretrainingSetup, path: Path, epoch_resume: Optional[int]) -> Tuple[Progress, bool]:
    """Load `path` (a model{N}.bin or model-last.bin) and, if its .opt lies beside it,
    the whole training state. Returns where to continue and whether the optimizer state
    was restored."""
    if path.suffix == ".opt":
        path = path.with_suffix(".bin")
    state_path = path.with_suffix(".opt")
    if state_path.exists():
        progress = state_from_bytes(setup.model, setup.optimizer,
                                    read_file_bytes(state_path, what="pretraining state file"), state_path)
        next_epoch = progress.epoch + 1 if progress.epoch_done else progress.epoch
        if epoch_resume is not None and epoch_resume != next_epoch:
            progress = Progress(epoch=epoch_resume, step=progress.step, words=progress.words)
        return progress, True
    try:
        model_from_bytes(setup.subnetwork, read_file_bytes(path, what="pretrained weights file"))
    except WeightsError as e:
        raise DataError(f"these weights do not fit the [pretraining] {describe_target(setup)} of this config ({e})",
                        path=str(path)) from None
    if epoch_resume is None:
        match = EPOCH_FILE.match(path.name)
        if not match:
            raise UserError(f"{path}: cannot tell which epoch this file ends; give --epoch-resume N (the number of "
                            f"the next epoch)")
        epoch_resume = int(match[1]) + 1
    return Progress(epoch=epoch_resume), False


def describe_target(setup: PretrainingSetup) -> str:
    settings = setup.settings
    return f"component '{settings['component']}'" + (f" layer '{settings['layer']}'" if settings["layer"] else "")


def state_to_bytes(model: Model, optimizer: Optimizer, progress: Progress) -> bytes:
    """Every parameter of the objective model, the optimizer's per-parameter state
    keyed by (node index, parameter name), the progress and numpy's random state."""
    nodes = list(model.walk())
    index = {node.id: i for i, node in enumerate(nodes)}
    params = [[i, name, to_numpy(node.get_param(name))] for i, node in enumerate(nodes)
              for name in node.param_names if node.has_param(name)]

    def keyed(table: Optional[Dict]) -> List:
        return [[index[key[0]], key[1], to_numpy(value)] for key, value in (table or {}).items() if key[0] in index]

    rng_name, rng_keys, rng_pos, rng_has_gauss, rng_gauss = numpy.random.get_state()
    msg = {"format": STATE_FORMAT, "version": STATE_VERSION, "nodes": [node.name for node in nodes],
           "params": params, "mom1": keyed(optimizer.mom1), "mom2": keyed(optimizer.mom2),
           "averages": keyed(optimizer.averages),
           "nr_update": [[index[k[0]], k[1], int(v)] for k, v in optimizer.nr_update.items() if k[0] in index],
           "progress": progress.__dict__.copy(),
           "random": {"name": rng_name, "keys": rng_keys, "pos": int(rng_pos), "has_gauss": int(rng_has_gauss),
                      "gauss": float(rng_gauss)}}
    return srsly.msgpack_dumps(msg)


def state_from_bytes(model: Model, optimizer: Optimizer, data: bytes, path: Path) -> Progress:
    """Restore what state_to_bytes saved; a DataError when it does not fit this config."""
    def bad(why: str) -> DataError:
        return DataError(f"not a pretraining state this config can resume from: {why}", path=str(path))

    try:
        msg = srsly.msgpack_loads(data)
    except Exception as e:  # msgpack raises several unrelated types on damaged input
        raise bad(f"unreadable ({type(e).__name__}); truncated or damaged?") from None
    if not isinstance(msg, dict) or msg.get("format") != STATE_FORMAT or msg.get("version") != STATE_VERSION:
        raise bad("it was not written by this version's pretrain")
    nodes = list(model.walk())
    if msg.get("nodes") != [node.name for node in nodes]:
        raise bad("it was saved for a different model (were [components] or [pretraining] objective changed?)")
    ops = model.ops

    def entries(name: str) -> List[Tuple[Model, str, Any]]:
        found = []
        for item in msg.get(name) or []:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], int)
                    and 0 <= item[0] < len(nodes)):
                raise bad(f"a damaged '{name}' entry")
            found.append((nodes[item[0]], item[1], item[2]))
        return found

    for node, name, value in entries("params"):
        if not (node.has_param(name) and isinstance(value, numpy.ndarray)
                and value.shape == node.get_param(name).shape):
            raise bad(f"layer '{node.name}' parameter '{name}' has another shape in this config")
        node.set_param(name, ops.asarray(value.astype("float32", copy=False)).copy())
    for table in ("mom1", "mom2", "averages"):
        target = getattr(optimizer, table)
        if target is None:
            continue
        for node, name, value in entries(table):
            if not isinstance(value, numpy.ndarray) or value.dtype.kind != "f":
                raise bad(f"a damaged '{table}' entry")
            target[(node.id, name)] = ops.asarray(value).copy()
    for node, name, count in entries("nr_update"):
        optimizer.nr_update[(node.id, name)] = int(count)
    fields = msg.get("progress")
    try:
        progress = Progress(**{key: fields[key] for key in Progress.__dataclass_fields__})
    except (TypeError, KeyError):
        raise bad("its progress record is damaged") from None
    for _ in range(progress.step):  # schedules (e.g. of the learn rate) continue where they were
        if hasattr(optimizer, "step_schedules") and optimizer.schedules:
            optimizer.step_schedules()
    saved_random = msg.get("random")
    if isinstance(saved_random, dict):
        try:
            numpy.random.set_state((saved_random["name"], saved_random["keys"], saved_random["pos"],
                                    saved_random["has_gauss"], saved_random["gauss"]))
        except (KeyError, TypeError, ValueError):
            raise bad("its random state is damaged") from None
    return progress


__all__ = ["PretrainingSetup", "PretrainingSummary", "Progress", "init_pretraining", "run_pretraining",
           "find_subnetwork", "state_to_bytes", "state_from_bytes", "LOG_NAME", "CONFIG_NAME",
           "NO_PRETRAINING_BLOCK"]
