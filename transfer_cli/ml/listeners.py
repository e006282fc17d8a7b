"""Listener layers: stand-ins for an upstream component's output inside a downstream
component's model. During training the upstream broadcasts its output for a batch
(keyed by the batch's identity) and receives the listeners' gradients back; at
prediction time, or when the upstream is frozen, a listener reads what the upstream
stored on the docs (doc.tensor, doc._.trf_data)."""
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model

from ..config.registry import registry
from ..errors import PipelineError
from ..tokens import Doc

LISTENER_MARKER = "listener"
# marks a layer that only wraps a listener, so replace_listeners swaps the wrapper with it
LISTENER_WRAPPER = "listener_wrapper"


def batch_id(docs: Sequence[Doc]) -> int:
    """Identity of a batch: the same Doc objects in the same order."""
    return hash(tuple(id(doc) for doc in docs))


class Listener(Model):
    """A layer whose forward pass returns what its upstream broadcast for this batch.

    `read_stored(docs)` returns the outputs stored on the docs at prediction time
    (or None where a doc has nothing stored). `upstream_kind` names the kind of
    component it listens to ("tok2vec", "transformer"): an upstream links only its
    own kind, so a "*" listener is never fed by both a tok2vec and a transformer."""

    upstream_kind = "tok2vec"

    def __init__(self, name: str, upstream: str, read_stored: Callable[[List[Doc]], Optional[Any]],
                 dims: Optional[dict] = None, *, forward: Optional[Callable] = None,
                 layers: Optional[List[Model]] = None, attrs: Optional[dict] = None) -> None:
        super().__init__(name, forward or _listener_forward, dims=dims or {}, layers=layers or [],
                         attrs={**(attrs or {}), "upstream": upstream, LISTENER_MARKER: True})
        self.read_stored = read_stored
        self.upstream_name: Optional[str] = None  # the component actually linked
        self._batch_id: Optional[int] = None
        self._outputs: Any = None
        self._backprop: Optional[Callable] = None
        self._inferring_shapes = False

    @contextmanager
    def inferring_shapes(self) -> Iterator[None]:
        """While the downstream model initializes, answer with zeros of the right
        shape so the layers after the listener can infer their input sizes."""
        self._inferring_shapes = True
        try:
            yield
        finally:
            self._inferring_shapes = False

    @property
    def upstream(self) -> str:
        return self.attrs["upstream"]

    def receive(self, batch: int, outputs: Any, backprop: Callable) -> None:
        self._batch_id = batch
        self._outputs = outputs
        self._backprop = backprop

    def clear(self) -> None:
        self._batch_id = self._outputs = self._backprop = None

    def has_broadcast(self, docs: Sequence[Doc]) -> bool:
        return self._batch_id is not None and self._batch_id == batch_id(docs)

    def upstream_output(self, docs: List[Doc], is_train: bool) -> Tuple[Any, Callable]:
        """(what the upstream broadcast for this batch, its backprop), or during prediction
        what the upstream stored on the docs (with no backprop)."""
        if self.has_broadcast(docs):
            outputs, backprop = self._outputs, self._backprop
            if is_train:
                return outputs, backprop
            return outputs, _no_backprop
        stored = self.read_stored(docs)
        if stored is None:
            upstream = self.upstream_name or self.upstream
            if is_train:
                raise PipelineError(
                    f"Listener '{self.name}' got no output from its upstream '{upstream}' for this batch: the "
                    f"upstream must run before this component, and a frozen upstream must also be listed in "
                    f"[training] annotating_components so it sets its output on the docs")
            raise PipelineError(
                f"Listener '{self.name}' found no output from its upstream '{upstream}' on the docs: run the "
                f"pipeline with '{upstream}' enabled before this component")
        return stored, _no_backprop


def _no_backprop(d_outputs: Any) -> List:
    return []


def _listener_forward(model: Listener, docs: List[Doc], is_train: bool):
    if model._inferring_shapes:
        zeros = [model.ops.alloc2f(len(doc), model.get_dim("nO")) for doc in docs]
        return zeros, _no_backprop
    return model.upstream_output(docs, is_train)


def find_listeners(model: Model) -> List[Listener]:
    return [node for node in model.walk() if isinstance(node, Listener)]


@contextmanager
def listeners_inferring_shapes(model: Model) -> Iterator[None]:
    listeners = find_listeners(model)
    for listener in listeners:
        listener._inferring_shapes = True
    try:
        yield
    finally:
        for listener in listeners:
            listener._inferring_shapes = False


@registry.architectures("spacy.Tok2VecListener.v1")
def build_tok2vec_listener(width: int, upstream: str = "*") -> Listener:
    """spacy.Tok2VecListener.v1: the output of the tok2vec component named `upstream`
    ("*" for any), of `width` columns per token."""

    def read_tensors(docs: List[Doc]) -> Optional[List]:
        tensors = []
        for doc in docs:
            if not len(doc):
                tensors.append(numpy.zeros((0, width), dtype="float32"))
            elif doc.tensor.shape != (len(doc), width):
                return None  # nothing (or something else) stored by the upstream
            else:
                tensors.append(doc.tensor)
        return tensors

    return Listener("tok2vec-listener", upstream, read_tensors, dims={"nO": width})


@registry.architectures("transfer_cli.Tok2VecListener.v1")
def build_weighted_tok2vec_listener(width: int, upstream: str = "*", grad_factor: float = 1.0) -> Model:
    """transfer_cli.Tok2VecListener.v1: spacy.Tok2VecListener.v1 whose gradient to the
    upstream is multiplied by `grad_factor`, so each component's share of the shared
    tok2vec's update can be weighted (0.0: the component trains only its own layers)."""
    listener = build_tok2vec_listener(width, upstream)

    def forward(model: Model, docs: List[Doc], is_train: bool):
        outputs, backprop = model.layers[0](docs, is_train)
        factor = model.attrs["grad_factor"]
        if factor == 1.0:
            return outputs, backprop
        return outputs, lambda d_outputs: backprop([d * factor for d in d_outputs])

    return Model("tok2vec-listener-weighted", forward, layers=[listener], dims={"nO": width},
                 attrs={"grad_factor": float(grad_factor), LISTENER_WRAPPER: True})
