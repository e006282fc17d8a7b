"""The component base classes. A component is thin: the network is a thinc Model
built by a registered architecture; the component turns docs into model inputs,
model outputs into annotations, and gold examples into a loss."""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

import srsly
from thinc.api import Model, Optimizer, set_dropout_rate

from ..errors import PipelineError
from ..ml.listeners import batch_id
from ..ml.weights import WeightsError, model_from_bytes, model_to_bytes
from ..model_files import read_file_bytes, read_file_json
from ..tokens import Doc
from .transformer_files import load_nested_transformers, save_nested_transformers, transformer_nodes


class Component:
    """A pipeline step without weights (e.g. the sentencizer)."""

    name: str = ""
    is_trainable = False

    def __call__(self, doc: Doc) -> Doc:
        raise NotImplementedError

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, **kwargs) -> None:
        pass

    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        return {}

    def to_disk(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.get_cfg())

    def from_disk(self, path: Path) -> "Component":
        read_component_cfg(self, path)
        return self

    def to_bytes(self) -> bytes:
        """What to_disk saves, as bytes: the settings (cfg.json's JSON)."""
        return srsly.msgpack_dumps({"cfg": srsly.json_dumps(self.get_cfg())})

    def from_bytes(self, data: bytes) -> "Component":
        apply_component_cfg(self, _component_bytes(self, data, ["cfg"])["cfg"], where=None)
        return self

    def get_cfg(self) -> Dict[str, Any]:
        return {}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        pass


class TrainableComponent(Component):
    """A component with a thinc model: predict → set_annotations at run time,
    update → get_loss → backprop during training."""

    is_trainable = True

    def __init__(self, vocab, model: Model, name: str, *, scorer: Optional[Callable] = None) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        batch: List[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                self.set_annotations(batch, self.predict(batch))
                yield from batch
                batch = []
        if batch:
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    def predict(self, docs: List[Doc]) -> Any:
        raise NotImplementedError

    def set_annotations(self, docs: List[Doc], predictions: Any) -> None:
        raise NotImplementedError

    def get_loss(self, examples: List, scores: Any):
        raise NotImplementedError

    def update(self, examples: List, *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """One forward/backward pass. Gradients accumulate until finish_update(sgd)."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = [eg for eg in examples]
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += float(loss)
        return losses

    def apply_gradients(self) -> None:
        """Backpropagate what other components sent back during their update (a tok2vec's
        listeners); the pipeline calls it once every component has updated. Nothing to do
        for a component whose update backpropagates itself."""

    def finish_update(self, sgd: Optimizer) -> None:
        self.model.finish_update(sgd)

    def require_model_initialized(self) -> None:
        if self.model.has_dim("nO") is False:
            raise PipelineError(f"Component '{self.name}' is not initialized: call nlp.initialize() or train it first")

    # serialization: weights as thinc msgpack bytes (torch layers as safetensors), settings/labels
    # as JSON: nothing is pickled or unpickled
    def to_disk(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.get_cfg())
        try:
            weights = model_to_bytes(self.model)
        except WeightsError as e:
            raise PipelineError(f"Component '{self.name}': {e}") from None
        save_nested_transformers(self.model, path, component=self.name)
        (path / "model").write_bytes(weights)

    def from_disk(self, path: Path) -> "TrainableComponent":
        read_component_cfg(self, path)
        prepare_component_for_load(self, where=str(path / "cfg.json"))
        load_nested_transformers(self.model, path, component=self.name)  # layers for the saved weights
        read_component_weights(self, path / "model")
        return self

    def to_bytes(self) -> bytes:
        """What to_disk saves, as bytes: the settings (cfg.json's JSON) and the weights. A
        model holding a transformer has none: its config and tokenizer are files (to_disk)."""
        if transformer_nodes(self.model):
            raise PipelineError(f"Component '{self.name}' holds a transformer, whose config and tokenizer files "
                                f"only to_disk saves: it cannot be serialized to bytes")
        try:
            weights = model_to_bytes(self.model)
        except WeightsError as e:
            raise PipelineError(f"Component '{self.name}': {e}") from None
        return srsly.msgpack_dumps({"cfg": srsly.json_dumps(self.get_cfg()), "model": weights})

    def from_bytes(self, data: bytes) -> "TrainableComponent":
        """Load what to_bytes wrote (as from_disk loads what to_disk wrote)."""
        msg = _component_bytes(self, data, ["cfg", "model"])
        apply_component_cfg(self, msg["cfg"], where=None)
        prepare_component_for_load(self, where=None)
        load_component_weights(self, msg["model"], where=None)
        return self

    def prepare_for_load(self) -> None:
        """Set dimensions that the saved cfg determines (e.g. nO from the labels) before weights load."""


def read_component_cfg(component: Component, path: Path) -> None:
    """Apply the component's saved settings (cfg.json), if it has any."""
    cfg_path = path / "cfg.json"
    if not cfg_path.exists() and not cfg_path.is_symlink():
        return
    cfg = read_file_json(cfg_path, what=f"settings file of component '{component.name}'", expect=dict)
    apply_component_cfg(component, cfg, where=str(cfg_path))


def apply_component_cfg(component: Component, cfg: Any, *, where: Optional[str]) -> None:
    """component.set_cfg(cfg); damaged settings are one PipelineError (naming the file `where`)."""
    try:
        if not isinstance(cfg, dict):
            raise TypeError(f"expected a JSON object, got {type(cfg).__name__}")
        component.set_cfg(cfg)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise PipelineError(f"the settings of component '{component.name}' are damaged "
                            f"({type(e).__name__}: {e})", path=where) from None


def _component_bytes(component: Component, data: bytes, fields: List[str]) -> Dict[str, Any]:
    """The map to_bytes wrote, its settings parsed; a PipelineError when it is not one."""
    try:
        msg = srsly.msgpack_loads(data)
        if not isinstance(msg, dict) or not all(field in msg for field in fields):
            raise ValueError(f"expected a map with {', '.join(fields)}")
        msg["cfg"] = srsly.json_loads(msg["cfg"])
    except Exception as e:  # msgpack and json raise several unrelated types on damaged input
        raise PipelineError(f"not the bytes of component '{component.name}' (written by its to_bytes): "
                            f"{type(e).__name__}: {e}") from None
    return msg


def prepare_component_for_load(component: TrainableComponent, *, where: Optional[str]) -> None:
    """component.prepare_for_load(); settings (from the file `where`) that disagree with the
    config's model (e.g. their labels) are one PipelineError."""
    try:
        component.prepare_for_load()
    except ValueError as e:
        raise PipelineError(f"the settings of component '{component.name}' do not fit the config: {e}",
                            path=where) from None


def read_component_weights(component: TrainableComponent, model_path: Path) -> None:
    data = read_file_bytes(model_path, what=f"weights file of component '{component.name}'")
    load_component_weights(component, data, where=str(model_path))


def load_component_weights(component: TrainableComponent, data: bytes, *, where: Optional[str]) -> None:
    """The weights bytes (of the file `where`) into component.model; damaged ones are one PipelineError."""
    try:
        model_from_bytes(component.model, data)
    except WeightsError as e:
        raise PipelineError(f"cannot load the weights of component '{component.name}': {e}", path=where) from None


class ListenedComponent(TrainableComponent):
    """An upstream component (tok2vec, transformer) whose output its listeners receive per
    batch; their gradients are summed and applied once, in apply_gradients."""

    listeners: list
    _pending: Optional[Callable[[], None]]

    def broadcast(self, docs: List[Doc], outputs: Any, accumulate: Callable, apply: Callable[[], None],
                  sgd: Optional[Optimizer]) -> None:
        """Hand `outputs` to every listener; `apply` backpropagates what they sent back."""
        self._pending = apply
        key = batch_id(docs)
        for listener in self.listeners:
            listener.receive(key, outputs, accumulate)
        if sgd is not None:
            self.apply_gradients()
            self.finish_update(sgd)

    def apply_gradients(self) -> None:
        if self._pending is not None:
            self._pending()
            self._pending = None
        for listener in self.listeners:
            listener.clear()
