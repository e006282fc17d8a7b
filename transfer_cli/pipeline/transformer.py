"""The transformer component: runs a Hugging Face encoder once per batch, stores its
output on each doc (`doc._.trf_data`, numpy arrays on the CPU) and, during training,
broadcasts it to the TransformerListener layers of downstream components, sums their
gradients and backpropagates once.

A transformer learns nothing when it is frozen ([training] frozen_components) or when
every listener has grad_factor 0: then it runs without an autograd graph and without
a backward pass or optimizer step. `nlp.pipe` sorts each batch by length (less padding)
and yields the docs in input order."""
import ctypes
import ctypes.util
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

import srsly
from thinc.api import Model, Optimizer, set_dropout_rate
from thinc.types import Ragged
from thinc.util import to_numpy

from ..config.factories import register_factory
from ..errors import PipelineError
from ..ml.listeners import find_listeners
from ..ml.transformer.data import LAST_HIDDEN_STATE, FullTransformerBatch, ModelOutput, TransformerData, WordpieceBatch
from ..ml.transformer_listener import DROP_AFTER_READ, TRF_DATA, TransformerListener
from ..tokens import Doc
from .annotation_setters import AnnotationSetter, null_annotation_setter
from .component import ListenedComponent, read_component_cfg
from .default_models import default_model
from .transformer_files import load_transformer_dir, save_transformer_dir

HF_DIR = "hf"  # the component folder's Hugging Face directory (config, safetensors weights, tokenizer)


class Transformer(ListenedComponent):
    # its weights come from the model directory, so it may be frozen without being trained here
    pretrained = True

    def __init__(self, vocab, model: Model, set_extra_annotations: AnnotationSetter = null_annotation_setter, *,
                 name: str = "transformer", max_batch_items: int = 4096,
                 drop_trf_data_after_listeners: bool = False) -> None:
        super().__init__(vocab, model, name)
        self.set_extra_annotations = set_extra_annotations
        self.max_batch_items = max_batch_items
        self.drop_trf_data_after_listeners = drop_trf_data_after_listeners
        self.listeners: List[TransformerListener] = []
        self._pending: Optional[Callable[[], None]] = None
        self.has_gradients = False  # a backward pass since the last step (set by every rank in a data-parallel run)

    # -- settings -------------------------------------------------------------------------------
    @property
    def set_extra_annotations(self) -> AnnotationSetter:
        return self._set_extra_annotations

    @set_extra_annotations.setter
    def set_extra_annotations(self, setter: AnnotationSetter) -> None:
        if not callable(setter):
            raise PipelineError(f"Component '{self.name}': set_extra_annotations must be a function "
                                f"(docs, full_batch) -> None, not {type(setter).__name__}")
        self._set_extra_annotations = setter

    @property
    def max_batch_items(self) -> int:
        return self.model.attrs.get("max_batch_items", self._max_batch_items)

    @max_batch_items.setter
    def max_batch_items(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PipelineError(f"Component '{self.name}': max_batch_items must be a positive number of "
                                f"wordpieces, not {value!r}")
        self._max_batch_items = value
        self.model.attrs["max_batch_items"] = value  # the model cuts its forward passes to this size

    @property
    def width(self) -> Optional[int]:
        """The transformer's hidden size, once known (config.json or the loaded model)."""
        return self.model.get_dim("nO") if self.model.has_dim("nO") else None

    # -- listener wiring ---------------------------------------------------------------------------
    def find_listeners(self, component) -> None:
        """Link the transformer listeners inside `component`'s model that name this component (or "*")."""
        model = getattr(component, "model", None)
        if not isinstance(model, Model):
            return
        for listener in find_listeners(model):
            if (listener.upstream_kind == "transformer" and listener.upstream in (self.name, "*")
                    and listener not in self.listeners):
                self._fit_width(listener, component.name)
                self.listeners.append(listener)
                listener.upstream_name = self.name
        self._mark_last_reader()

    def unlink_listeners(self) -> None:
        for listener in self.listeners:
            listener.upstream_name = None
            listener.attrs[DROP_AFTER_READ] = False
            listener.clear()
        self.listeners = []

    def _fit_width(self, listener: TransformerListener, component_name: str) -> None:
        width = self.width
        if width is None:
            return
        if listener.has_dim("nO") and listener.get_dim("nO") != width:
            raise PipelineError(
                f"Component '{component_name}' listens to '{self.name}' with width {listener.get_dim('nO')}, but "
                f"the transformer's hidden size is {width}: set the listener's width to {width} or leave it out")
        if not listener.has_dim("nO"):
            listener.set_dim("nO", width)

    def _mark_last_reader(self) -> None:
        """With drop_trf_data_after_listeners, the last listener (in pipeline order) frees
        doc._.trf_data once it has read it."""
        for i, listener in enumerate(self.listeners):
            listener.attrs[DROP_AFTER_READ] = self.drop_trf_data_after_listeners and i == len(self.listeners) - 1

    # -- prediction ---------------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> FullTransformerBatch:
        """The transformer's output for the docs, computed with no autograd graph."""
        if not any(len(doc) for doc in docs):
            return FullTransformerBatch.empty(len(docs))
        return self.model.predict(docs)

    def set_annotations(self, docs: List[Doc], predictions: FullTransformerBatch) -> None:
        """doc._.trf_data for each doc (copied to numpy arrays of its own, so no doc keeps
        the batch's arrays alive), then the extra annotation setter."""
        for doc, data in zip(docs, predictions.doc_data):
            doc._.set(TRF_DATA, cpu_copy(data))
        self.set_extra_annotations(docs, predictions)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Each batch runs sorted by length (similar lengths pad less) and is yielded in input order."""
        batch: List[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                self._annotate_sorted(batch)
                yield from batch
                batch = []
        if batch:
            self._annotate_sorted(batch)
            yield from batch

    def _annotate_sorted(self, docs: List[Doc]) -> None:
        by_length = sorted(docs, key=len)
        self.set_annotations(by_length, self.predict(by_length))
        release_freed_memory()

    # -- training -------------------------------------------------------------------------------------
    def update(self, examples: List, *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """Run the transformer and broadcast its output to the listeners. Their gradients
        (already times their grad_factor) are summed per doc; `apply_gradients()`
        backpropagates the sum once. When no listener sends a gradient (all at
        grad_factor 0) the forward pass builds no autograd graph."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        docs = [eg.predicted for eg in examples]
        if not self.listeners or not any(len(doc) for doc in docs):
            return losses
        if any(listener.grad_factor != 0.0 for listener in self.listeners):
            set_dropout_rate(self.model, drop)
            batch, backprop_batch = self.model.begin_update(docs)
        else:
            batch, backprop_batch = self.predict(docs), None
        doc_data = batch.doc_data
        d_hidden: List[Any] = [None] * len(doc_data)

        def accumulate(d_doc_data: List[TransformerData]) -> List:
            for i, d_data in enumerate(d_doc_data):
                gradient = d_data.model_output.get(LAST_HIDDEN_STATE)
                if gradient is None:
                    continue
                d_hidden[i] = gradient if d_hidden[i] is None else d_hidden[i] + gradient
                losses[self.name] += float((gradient ** 2).sum())
            return []

        def apply() -> None:
            if backprop_batch is None or all(d is None for d in d_hidden):
                return
            gradients = [[d if d is not None else self.model.ops.alloc(data.model_output[LAST_HIDDEN_STATE].shape,
                                                                         dtype="f")]
                         for d, data in zip(d_hidden, doc_data)]
            backprop_batch(batch.unsplit_by_doc(gradients))
            self.has_gradients = True

        self.broadcast(docs, doc_data, accumulate, apply, sgd)
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """An optimizer step only after a backward pass: a step on zero gradients would still
        move the weights (Adam's momentum, weight decay). Listeners' grad_factor schedules
        advance once per step."""
        if self.has_gradients:
            self.model.finish_update(sgd)
            self.has_gradients = False
        for listener in self.listeners:
            listener.step_grad_factor()

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, **kwargs) -> None:
        """Load the transformer from its local directory (model.name) and tell the
        listeners its width."""
        docs = [eg.predicted for _, eg in zip(range(10), get_examples())]
        self.model.initialize(X=docs or None)
        for listener in self.listeners:
            self._fit_width(listener, listener.upstream_name or "?")

    # -- serialization: cfg.json and a Hugging Face directory (config.json, model.safetensors,
    #    tokenizer files); nothing pickled, nothing downloaded
    def get_cfg(self) -> Dict[str, Any]:
        return {"max_batch_items": self.max_batch_items,
                "drop_trf_data_after_listeners": self.drop_trf_data_after_listeners}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        if "max_batch_items" in cfg:
            self.max_batch_items = cfg["max_batch_items"]
        if "drop_trf_data_after_listeners" in cfg:
            self.drop_trf_data_after_listeners = bool(cfg["drop_trf_data_after_listeners"])

    def to_disk(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.get_cfg())
        save_transformer_dir(self.model, path / HF_DIR, component=self.name)

    def from_disk(self, path: Path) -> "Transformer":
        read_component_cfg(self, path)
        load_transformer_dir(self.model, path / HF_DIR, component=self.name)
        return self


def _find_malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


_malloc_trim = _find_malloc_trim() if sys.platform.startswith("linux") else None


def release_freed_memory() -> None:
    """Give the memory freed by a batch back to the OS. glibc keeps the freed heap memory of
    torch's tensors of varying sizes (its mmap threshold rises after the first large frees),
    so streaming docs grew RSS by ~100 MiB per 1,000 docs for a 384-wide model; trimmed after
    each batch it stays flat at no measurable cost."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def cpu_copy(data: TransformerData) -> TransformerData:
    """`data` with every array a numpy array of its own (not a view of the batch's)."""
    output = ModelOutput()
    for key, value in data.model_output.items():
        output[key] = _own(value)
    wp = data.wordpieces
    wordpieces = WordpieceBatch(strings=[list(s) for s in wp.strings], input_ids=_own(wp.input_ids),
                                attention_mask=_own(wp.attention_mask), lengths=list(wp.lengths),
                                token_type_ids=None if wp.token_type_ids is None else _own(wp.token_type_ids))
    align = Ragged(_own(data.align.dataXd), _own(data.align.lengths))
    return TransformerData(wordpieces=wordpieces, model_output=output, align=align)


def _own(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_own(v) for v in value)
    array = to_numpy(value)  # a GPU array comes back as a new host array
    return array.copy() if array.base is not None else array  # a view would keep its batch's array alive


@register_factory(
    "transformer",
    default_config={"model": default_model("transformer"),
                    "set_extra_annotations": {"@annotation_setters": "spacy-transformers.null_annotation_setter.v1"},
                    "max_batch_items": 4096},
    default_score_weights={},
    assigns=["doc._.trf_data"],
)
def make_transformer(nlp, name: str, model: Model[List[Doc], FullTransformerBatch],
                     set_extra_annotations: AnnotationSetter, max_batch_items: int,
                     drop_trf_data_after_listeners: bool = False) -> Transformer:
    """A Hugging Face encoder (spacy-transformers.TransformerModel) shared through
    TransformerListener layers. max_batch_items bounds the padded wordpieces of one
    forward pass; drop_trf_data_after_listeners frees doc._.trf_data once the last
    listener has read it (memory stays flat while streaming)."""
    return Transformer(nlp.vocab, model, set_extra_annotations, name=name, max_batch_items=max_batch_items,
                       drop_trf_data_after_listeners=drop_trf_data_after_listeners)
