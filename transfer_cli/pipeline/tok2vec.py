"""The tok2vec component: runs a shared embedding model once per batch and
broadcasts its output to the listener layers of downstream components."""
from typing import Callable, Dict, Iterable, List, Optional

from thinc.api import Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..config.factories import register_factory
from ..errors import PipelineError
from ..ml.listeners import Listener, find_listeners
from ..ml.windowed import predict_in_windows, token_context
from ..tokens import Doc
from .component import ListenedComponent
from .default_models import default_model


class Tok2Vec(ListenedComponent):
    def __init__(self, vocab, model: Model, name: str = "tok2vec") -> None:
        super().__init__(vocab, model, name)
        self.listeners: List[Listener] = []
        self._pending: Optional[Callable[[], None]] = None

    # -- listener wiring -------------------------------------------------------------------
    def find_listeners(self, component) -> None:
        """Link the listeners inside `component`'s model that name this component (or "*")."""
        model = getattr(component, "model", None)
        if not isinstance(model, Model):
            return
        for listener in find_listeners(model):
            if (listener.upstream_kind == "tok2vec" and listener.upstream in (self.name, "*")
                    and listener not in self.listeners):
                width = self.model.get_dim("nO") if self.model.has_dim("nO") else None
                if width is not None and listener.has_dim("nO") and listener.get_dim("nO") != width:
                    raise PipelineError(
                        f"Component '{component.name}' listens to '{self.name}' with width "
                        f"{listener.get_dim('nO')}, but '{self.name}' outputs {width} columns: set the "
                        f"listener's width to {width}")
                self.listeners.append(listener)
                listener.upstream_name = self.name

    def unlink_listeners(self) -> None:
        for listener in self.listeners:
            listener.upstream_name = None
            listener.clear()
        self.listeners = []

    @property
    def width(self) -> int:
        return self.model.get_dim("nO")

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> List[Floats2d]:
        if not any(len(doc) for doc in docs):
            width = self.model.get_dim("nO") if self.model.has_dim("nO") else 0
            return [self.model.ops.alloc2f(len(doc), width) for doc in docs]
        return predict_in_windows(self.model, docs, token_context(self.model))  # bounded memory on long docs

    def set_annotations(self, docs: List[Doc], tokvecs: List[Floats2d]) -> None:
        for doc, vecs in zip(docs, tokvecs):
            doc.tensor = self.model.ops.to_numpy(vecs) if hasattr(vecs, "get") else vecs

    # -- training -------------------------------------------------------------------------------
    def update(self, examples: List, *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """Run the model and broadcast its output to the listeners. Their gradients are
        summed; `apply_gradients()` backpropagates the sum once (the pipeline calls it
        after every downstream component has updated)."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        docs = [eg.predicted for eg in examples]
        set_dropout_rate(self.model, drop)
        tokvecs, backprop_tokvecs = self.model.begin_update(docs)
        d_tokvecs = [self.model.ops.alloc2f(*t.shape) for t in tokvecs]
        received = [False]

        def accumulate(d_outputs: List[Floats2d]) -> List:
            for total, d in zip(d_tokvecs, d_outputs):
                total += d
            received[0] = True
            losses[self.name] += float(sum((d ** 2).sum() for d in d_outputs))
            return []

        def apply() -> None:
            if received[0]:
                backprop_tokvecs(d_tokvecs)

        self.broadcast(docs, tokvecs, accumulate, apply, sgd)
        return losses

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, **kwargs) -> None:
        docs = [eg.predicted for _, eg in zip(range(10), get_examples())]
        self.model.initialize(X=docs or None)

    def get_cfg(self) -> dict:
        return {}


@register_factory("tok2vec", default_config={"model": default_model("tok2vec")})
def make_tok2vec(nlp, name: str, model: Model) -> Tok2Vec:
    return Tok2Vec(nlp.vocab, model, name)
