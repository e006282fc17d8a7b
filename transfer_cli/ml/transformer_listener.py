"""A transformer's output as token vectors.

spacy-transformers.TransformerListener.v1 stands in for the transformer component's
output inside a downstream component's model: during training it receives the batch
the transformer broadcast and sends its gradient back (scaled by `grad_factor`);
at prediction time it reads `doc._.trf_data`. spacy-transformers.Tok2VecTransformer
is a transformer of the component's own. Both pool each token's wordpiece rows
(`align`) into one row with `pooling`, any Model[Ragged, Floats2d]."""
from typing import Any, Callable, Iterator, List, Optional, Tuple

from thinc.api import Model
from thinc.optimizers import FloatOrSeq
from thinc.types import Floats2d, Ragged

from ..config.registry import registry
from ..errors import ConfigError, PipelineError
from ..tokens import Doc
from .listeners import Listener
from .transformer.data import LAST_HIDDEN_STATE, TransformerData
from .transformer.model import TransformerModel

TRF_DATA = "trf_data"
if not Doc.has_extension(TRF_DATA):  # what the transformer component stores, listeners read
    Doc.set_extension(TRF_DATA, default=None)

# set on a listener by its transformer: forget doc._.trf_data once this listener read it
DROP_AFTER_READ = "drop_trf_data_after_read"


def pool_doc(model: Model, pooling: Model[Ragged, Floats2d], trf_data: TransformerData, width: int,
             is_train: bool) -> Tuple[Floats2d, Callable[[Floats2d], Any]]:
    """One row per token: `pooling` over the token's wordpiece rows of last_hidden_state.
    A token with no wordpieces gets a zero row (thinc's reduce_max, _first and _last refuse
    empty groups, so only the tokens that have rows are pooled). The backprop returns the
    gradient of last_hidden_state, shaped like it."""
    ops = model.ops
    lengths = ops.asarray1i(trf_data.align.lengths)
    n_tokens = int(lengths.shape[0])
    if n_tokens == 0 or LAST_HIDDEN_STATE not in trf_data.model_output:  # an empty doc
        shape = getattr(trf_data.model_output.get(LAST_HIDDEN_STATE), "shape", (0, 0, width))
        return ops.alloc2f(n_tokens, width), lambda d_output: ops.alloc(shape, dtype="f")
    hidden = ops.asarray(trf_data.model_output[LAST_HIDDEN_STATE], dtype="float32")
    if hidden.shape[-1] != width:
        raise PipelineError(f"the transformer's output has {hidden.shape[-1]} columns, but the listener expects "
                            f"{width}: set the listener's width to {hidden.shape[-1]} (or leave it out)")
    rows = hidden.reshape((-1, width))
    index = ops.asarray1i(trf_data.align.dataXd.reshape((-1,)))
    has_rows = lengths > 0
    all_have_rows = bool(has_rows.all())
    grouped = Ragged(rows[index], lengths if all_have_rows else lengths[has_rows])
    pooled, backprop_pooling = pooling(grouped, is_train)
    if all_have_rows:
        output = pooled
    else:
        output = ops.alloc2f(n_tokens, width)
        output[has_rows] = pooled

    def backprop(d_output: Floats2d) -> Any:
        d_pooled = d_output if all_have_rows else d_output[has_rows]
        d_grouped = backprop_pooling(ops.asarray2f(d_pooled))
        d_rows = ops.alloc2f(*rows.shape)
        ops.scatter_add(d_rows, index, d_grouped.dataXd)
        return d_rows.reshape(hidden.shape)

    return output, backprop


def _grad_factor_schedule(grad_factor: FloatOrSeq) -> Tuple[float, Optional[Iterator[float]]]:
    """(first value, the rest) of a float, a list of floats or a thinc schedule."""
    if isinstance(grad_factor, (int, float)):
        return float(grad_factor), None
    values = iter(grad_factor)
    try:
        first = float(next(values))
    except StopIteration:
        raise ConfigError("grad_factor is an empty schedule: give a number or a schedule with values") from None
    return first, values


class TransformerListener(Listener):
    """Listens to a transformer component. Its output for a batch is one Floats2d per doc;
    the gradient it sends upstream is one TransformerData per doc whose
    last_hidden_state holds the gradient, times `grad_factor`."""

    upstream_kind = "transformer"

    def __init__(self, pooling: Model[Ragged, Floats2d], grad_factor: FloatOrSeq, upstream: str,
                 width: Optional[int]) -> None:
        first, rest = _grad_factor_schedule(grad_factor)
        super().__init__("transformer-listener", upstream, read_trf_data, dims={"nO": width},
                         forward=_transformer_listener_forward, layers=[pooling],
                         attrs={"grad_factor": first, DROP_AFTER_READ: False})
        self.grad_factor_schedule = rest
        self.grad_factor_steps = 0  # how far the schedule has run: a resumed run replays as many

    @property
    def grad_factor(self) -> float:
        return float(self.attrs["grad_factor"])

    def step_grad_factor(self) -> None:
        """The next value of a grad_factor schedule (called once per optimizer step)."""
        self.grad_factor_steps += 1
        if self.grad_factor_schedule is not None:
            try:
                self.attrs["grad_factor"] = float(next(self.grad_factor_schedule))
            except StopIteration:  # an exhausted schedule keeps its last value
                self.grad_factor_schedule = None


def read_trf_data(docs: List[Doc]) -> Optional[List[TransformerData]]:
    """What the transformer stored on the docs, or None where a doc with tokens has nothing."""
    stored = []
    for doc in docs:
        data = doc._.get(TRF_DATA)
        if data is None:
            if len(doc):
                return None
            data = TransformerData.empty()
        stored.append(data)
    return stored


def _transformer_listener_forward(model: TransformerListener, docs: List[Doc], is_train: bool):
    if not model.has_dim("nO"):
        raise PipelineError(f"Listener '{model.name}' does not know its width: it is linked to no transformer "
                            f"component (upstream '{model.upstream}'); put a transformer before its component")
    width = model.get_dim("nO")
    if model._inferring_shapes:
        return [model.ops.alloc2f(len(doc), width) for doc in docs], lambda d_outputs: []
    trf_datas, backprop_upstream = model.upstream_output(docs, is_train)
    from_docs = not model.has_broadcast(docs)
    outputs, backprop = pool_docs(model, model.layers[0], trf_datas, width, is_train)
    if from_docs and model.attrs[DROP_AFTER_READ]:
        for doc in docs:  # the last listener read them: free the memory while streaming
            doc._.set(TRF_DATA, None)
    factor = model.grad_factor

    def backprop_listener(d_outputs: List[Floats2d]) -> Any:
        if factor == 0.0 and not has_params(model.layers[0]):
            return []  # nothing to learn here, nothing to send: the transformer skips its backward pass
        d_hidden = backprop(d_outputs)  # the pooling layer's own weights (if any) learn whatever the factor
        if factor == 0.0:
            return []
        if factor != 1.0:
            d_hidden = [d * factor for d in d_hidden]
        return backprop_upstream([gradient_data(data, d) for data, d in zip(trf_datas, d_hidden)])

    return outputs, backprop_listener


def has_params(model: Model) -> bool:
    return any(node.param_names for node in model.walk())


def pool_docs(model: Model, pooling: Model, trf_datas: List[TransformerData], width: int, is_train: bool
              ) -> Tuple[List[Floats2d], Callable[[List[Floats2d]], List[Any]]]:
    pooled = [pool_doc(model, pooling, data, width, is_train) for data in trf_datas]

    def backprop(d_outputs: List[Floats2d]) -> List[Any]:
        return [bp(d) for (_, bp), d in zip(pooled, d_outputs)]

    return [output for output, _ in pooled], backprop


def gradient_data(data: TransformerData, d_hidden: Any) -> TransformerData:
    """A TransformerData like `data` whose last_hidden_state is a gradient."""
    output = type(data.model_output)()
    output[LAST_HIDDEN_STATE] = d_hidden
    return TransformerData(wordpieces=data.wordpieces, model_output=output, align=data.align)


@registry.architectures("spacy-transformers.TransformerListener.v1")
def build_transformer_listener(pooling: Model[Ragged, Floats2d], grad_factor: FloatOrSeq = 1.0,
                               upstream: str = "*", width: Optional[int] = None) -> Model[List[Doc], List[Floats2d]]:
    """The output of the transformer component named `upstream` ("*": any), one row per
    token pooled from its wordpieces. `grad_factor` scales the gradient sent to the
    transformer (0: the transformer does not learn from this component); a schedule
    gives one value per optimizer step. `width`, if given, must be the transformer's
    hidden size (checked when the pipeline links them); left out, it is read from it."""
    return TransformerListener(pooling, grad_factor, upstream, width)


def transformer_tok2vec(transformer: Model, pooling: Model[Ragged, Floats2d], grad_factor: float
                        ) -> Model[List[Doc], List[Floats2d]]:
    """`transformer` (a TransformerModel) and pooling as one Model[List[Doc], List[Floats2d]]:
    one row per token, the gradient reaching the transformer times grad_factor."""
    return Model("transformer-tok2vec", _transformer_tok2vec_forward, init=_transformer_tok2vec_init,
                 layers=[transformer, pooling], refs={"transformer": transformer},
                 dims={"nO": transformer.get_dim("nO") if transformer.has_dim("nO") else None},
                 attrs={"grad_factor": float(grad_factor)})


def _transformer_tok2vec_init(model: Model, X: Any = None, Y: Any = None) -> None:
    transformer = model.layers[0]
    transformer.initialize(X=X)
    model.set_dim("nO", transformer.get_dim("nO"), force=True)


def _transformer_tok2vec_forward(model: Model, docs: List[Doc], is_train: bool):
    transformer, pooling = model.layers
    width = model.get_dim("nO")
    if not any(len(doc) for doc in docs):
        return [model.ops.alloc2f(len(doc), width) for doc in docs], lambda d_outputs: []
    factor = model.attrs["grad_factor"]
    learns = is_train and (factor != 0.0 or has_params(pooling))
    batch, backprop_batch = transformer(docs, is_train=is_train and factor != 0.0)
    doc_data = batch.doc_data
    outputs, backprop_pooling = pool_docs(model, pooling, doc_data, width, learns)

    def backprop(d_outputs: List[Floats2d]) -> List:
        if not learns:
            return []
        d_hidden = backprop_pooling(d_outputs)
        if factor != 0.0:
            scaled = [[d * factor if factor != 1.0 else d] for d in d_hidden]
            backprop_batch(batch.unsplit_by_doc(scaled))
        return []

    return outputs, backprop


@registry.architectures("spacy-transformers.Tok2VecTransformer.v3")
def build_tok2vec_transformer_v3(name: str, get_spans: Callable, tokenizer_config: dict,
                                 pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0,
                                 transformer_config: dict = {}, mixed_precision: bool = False,
                                 grad_scaler_config: dict = {}) -> Model[List[Doc], List[Floats2d]]:
    """A transformer of this component's own, as its tok2vec: the transformer in the local
    directory `name`, pooled per token. Nothing is shared, and doc._.trf_data is not set."""
    transformer = TransformerModel(name, get_spans, tokenizer_config, transformer_config, mixed_precision,
                                   grad_scaler_config)
    return transformer_tok2vec(transformer, pooling, grad_factor)


@registry.architectures("spacy-transformers.Tok2VecTransformer.v2")
def build_tok2vec_transformer_v2(name: str, get_spans: Callable, tokenizer_config: dict,
                                 pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0,
                                 transformer_config: dict = {}) -> Model[List[Doc], List[Floats2d]]:
    return build_tok2vec_transformer_v3(name, get_spans, tokenizer_config, pooling, grad_factor, transformer_config)


@registry.architectures("spacy-transformers.Tok2VecTransformer.v1")
def build_tok2vec_transformer_v1(name: str, get_spans: Callable, tokenizer_config: dict,
                                 pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0
                                 ) -> Model[List[Doc], List[Floats2d]]:
    return build_tok2vec_transformer_v3(name, get_spans, tokenizer_config, pooling, grad_factor)
