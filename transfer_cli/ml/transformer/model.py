"""spacy-transformers.TransformerModel.v1/v2/v3: a Hugging Face encoder as a thinc
Model[List[Doc], FullTransformerBatch].

Building the model from a config reads nothing but config.json (for the width, when
the directory is there); `initialize` loads the torch model and the fast tokenizer from
the local directory `name`. A forward pass: the span getter cuts docs into spans,
spans too long for the model are cut further (wordpieces.py), the spans are sorted by
length and run in sub-batches of at most `max_batch_items` padded wordpieces, and the
outputs are put back in span order with the wordpiece-to-token alignment
(alignment.py). Training runs through thinc's PyTorchWrapper_v3 (gradients reach the
torch parameters, mixed precision and gradient scaling on GPU), with a shim whose
optimizer step runs fused on CPU (adam_step.py); prediction runs the torch model under
inference_mode, so a frozen transformer builds no autograd graph."""
import contextlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model, get_current_ops
from thinc.types import ArgsKwargs

from ...config.registry import registry
from ...errors import PipelineError
from ...tokens import Doc, Span
from .adam_step import TransformerShim
from .alignment import batch_alignment
from .blas_linear import blas_linear
from .data import FullTransformerBatch, ModelOutput, WordpieceBatch, empty_align
from .dropout import fast_cpu_dropout
from .embedding_grads import embedding_grads_in_place
from .hf import load_hf, max_wordpieces, read_hidden_size
from .wordpieces import encode_spans

DEFAULT_MAX_BATCH_ITEMS = 4096
# A forward pass's fixed cost in padded wordpieces, for cutting a batch into passes:
# small enough that spans of similar length run together, large enough that a batch is
# not cut into many tiny matrix products.
GROUP_COST_ITEMS = 64
# Outputs of a Hugging Face model that are kept (the others, e.g. past_key_values, are not per-span arrays).
OUTPUT_KEYS = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


@registry.architectures("spacy-transformers.TransformerModel.v3")
def TransformerModel(name: str, get_spans: Callable, tokenizer_config: Dict[str, Any] = {},
                     transformer_config: Dict[str, Any] = {}, mixed_precision: bool = False,
                     grad_scaler_config: Dict[str, Any] = {}) -> Model[List[Doc], FullTransformerBatch]:
    """The transformer in the local directory `name` (or `package/dir` inside an
    installed package). tokenizer_config goes to AutoTokenizer.from_pretrained,
    transformer_config to AutoConfig.from_pretrained; mixed_precision (GPU only) runs
    the forward pass under autocast, with grad_scaler_config for the gradient scaler."""
    return Model(
        "transformer", forward, init=init, layers=[], dims={"nO": read_hidden_size(name)},
        attrs={"name": name, "get_spans": get_spans, "tokenizer_config": dict(tokenizer_config),
               "transformer_config": dict(transformer_config), "mixed_precision": bool(mixed_precision),
               "grad_scaler_config": dict(grad_scaler_config), "max_batch_items": DEFAULT_MAX_BATCH_ITEMS,
               "tokenizer": None, "max_length": None})


@registry.architectures("spacy-transformers.TransformerModel.v2")
def TransformerModel_v2(name: str, get_spans: Callable, tokenizer_config: Dict[str, Any] = {},
                        transformer_config: Dict[str, Any] = {}) -> Model[List[Doc], FullTransformerBatch]:
    return TransformerModel(name, get_spans, tokenizer_config, transformer_config)


@registry.architectures("spacy-transformers.TransformerModel.v1")
def TransformerModel_v1(name: str, get_spans: Callable, tokenizer_config: Dict[str, Any] = {}
                        ) -> Model[List[Doc], FullTransformerBatch]:
    return TransformerModel(name, get_spans, tokenizer_config)


# -- loading and saving ----------------------------------------------------------------------
def init(model: Model, X: Any = None, Y: Any = None) -> None:
    if not is_loaded(model):
        load_transformer(model, model.attrs["name"])


def is_loaded(model: Model) -> bool:
    return bool(model.layers) and model.attrs.get("tokenizer") is not None


def hf_model(model: Model) -> Any:
    """The torch module inside the model (after initialize or load_transformer)."""
    if not model.layers:
        raise PipelineError(f"the transformer '{model.attrs['name']}' is not loaded yet: initialize the pipeline "
                            f"(or load a trained one) first")
    return model.layers[0].shims[0]._model


def load_transformer(model: Model, path: Any) -> None:
    """Load the torch model and fast tokenizer from the local directory `path` (the
    configured name, or a saved pipeline's copy) into `model`, replacing any."""
    torch_model, tokenizer = load_hf(str(path), model.attrs["tokenizer_config"], model.attrs["transformer_config"])
    install_transformer(model, torch_model, tokenizer)


def install_transformer(model: Model, torch_model: Any, tokenizer: Any) -> None:
    """Put a loaded torch model and fast tokenizer into `model`."""
    from thinc.api import CupyOps, PyTorchGradScaler
    from thinc.layers.pytorchwrapper import forward as pytorch_forward

    on_gpu = isinstance(model.ops, CupyOps) or isinstance(get_current_ops(), CupyOps)
    mixed, scale_gradients = mixed_precision_plan(bool(model.attrs["mixed_precision"]), on_gpu)
    scaler = PyTorchGradScaler(**{"enabled": scale_gradients, **model.attrs["grad_scaler_config"]})
    # thinc's PyTorchWrapper_v3, with a shim whose optimizer step runs fused on CPU (adam_step.py)
    shim = TransformerShim(torch_model, mixed_precision=mixed, grad_scaler=scaler,
                           serialize_model=_serialize_torch, deserialize_model=_deserialize_torch)
    wrapper = Model("pytorch", pytorch_forward, shims=[shim], dims={"nI": None, "nO": None},
                    attrs={"convert_inputs": _convert_inputs, "convert_outputs": _convert_outputs})
    if model.layers:
        model.layers[0] = wrapper
    else:
        model.layers.append(wrapper)
    model.attrs["tokenizer"] = tokenizer
    model.attrs["max_length"] = max_wordpieces(torch_model, tokenizer)
    model.set_dim("nO", int(torch_model.config.hidden_size), force=True)


def mixed_precision_plan(mixed_precision: bool, on_gpu: bool) -> Tuple[bool, bool]:
    """(run under autocast, scale the gradients). Mixed precision runs on a GPU only;
    where the GPU has bfloat16 (Ampere and later) autocast uses it, whose float32 range
    needs no gradient scaler; elsewhere float16 with the scaler (grad_scaler_config)."""
    if not (mixed_precision and on_gpu):
        return False, False
    import torch

    if torch.cuda.is_bf16_supported():
        # process-wide: thinc's PyTorchShim opens torch.autocast without a dtype
        torch.set_autocast_dtype("cuda", torch.bfloat16)
        return True, False
    torch.set_autocast_dtype("cuda", torch.float16)
    return True, True


def _serialize_torch(torch_model: Any) -> bytes:
    """The weights as safetensors bytes (never pickled)."""
    from safetensors.torch import save

    return save({key: value.detach().cpu().contiguous().clone() for key, value in torch_model.state_dict().items()})


def _deserialize_torch(torch_model: Any, data: bytes, device: Any) -> Any:
    from safetensors.torch import load

    torch_model.load_state_dict(load(data), strict=True)
    torch_model.to(device)
    return torch_model


# -- forward ---------------------------------------------------------------------------------
def forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[FullTransformerBatch, Callable]:
    if not is_loaded(model):
        raise PipelineError(f"the transformer '{model.attrs['name']}' is not loaded: initialize the pipeline "
                            f"(or load a trained one) before running it")
    tokenizer = model.attrs["tokenizer"]
    spans = _call_span_getter(model.attrs["get_spans"], docs)
    spans, encodings = encode_spans(tokenizer, docs, spans, model.attrs["max_length"])
    flat = [encoding for doc_encodings in encodings for encoding in doc_encodings]
    uses_type_ids = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
    wordpieces = WordpieceBatch.from_lists([e.strings for e in flat], [e.ids for e in flat],
                                           pad_id=tokenizer.pad_token_id or 0,
                                           type_ids=[e.type_ids for e in flat] if uses_type_ids else None)
    doc_lengths = [len(doc) for doc in docs]
    if not flat:
        output = ModelOutput(last_hidden_state=model.ops.alloc3f(0, 0, model.get_dim("nO")))
        batch = FullTransformerBatch(spans=spans, wordpieces=wordpieces, model_output=output,
                                     align=empty_align(sum(doc_lengths)), doc_lengths=doc_lengths)
        return batch, lambda d_batch: []
    align = batch_alignment(docs, spans, encodings, wordpieces.max_length)
    groups = length_groups(wordpieces.lengths, model.attrs["max_batch_items"])
    if is_train:
        output, backprop_groups = _run_training(model, wordpieces, groups)
    else:
        output, backprop_groups = _run_inference(model, wordpieces, groups), None
    batch = FullTransformerBatch(spans=spans, wordpieces=wordpieces, model_output=output, align=align,
                                 doc_lengths=doc_lengths)

    def backprop(d_batch: Any) -> List[Doc]:
        if backprop_groups is not None:
            backprop_groups(_batch_gradients(batch, d_batch))
        return []

    return batch, backprop


def _call_span_getter(get_spans: Callable, docs: List[Doc]) -> List[List[Span]]:
    spans = get_spans(docs)
    if not isinstance(spans, (list, tuple)) or len(spans) != len(docs):
        found = len(spans) if isinstance(spans, (list, tuple)) else type(spans).__name__
        raise PipelineError(f"the transformer's span getter must return one list of spans per doc: got {found} "
                            f"for {len(docs)} docs")
    for doc, doc_spans in zip(docs, spans):
        for span in doc_spans:
            if not isinstance(span, Span) or span.doc is not doc:
                raise PipelineError(f"the transformer's span getter returned {span!r}, which is not a Span of the "
                                    f"doc it was given")
    return [list(doc_spans) for doc_spans in spans]


def length_groups(lengths: Sequence[int], max_batch_items: int,
                  group_cost: int = GROUP_COST_ITEMS) -> List[numpy.ndarray]:
    """Span indices, longest first, cut into runs of that order (one forward pass each)
    that minimise the padded wordpieces plus `group_cost` per pass, with at most
    max_batch_items padded wordpieces (spans × the longest) in a pass; a span longer than
    that runs alone. Cutting only when the bound is reached padded a batch of EWT
    sentences to three times its wordpieces; this pads it to about its length."""
    order = numpy.argsort(-numpy.asarray(lengths, dtype="int64"), kind="stable")
    if not len(order):
        return []
    longest = numpy.asarray(lengths, dtype="int64")[order]
    n = len(order)
    # best[j]: the least cost of the first j spans; start[j]: where the last pass of that begins
    best = numpy.zeros(n + 1, dtype="float64")
    start = numpy.zeros(n + 1, dtype="int64")
    for j in range(1, n + 1):
        # a pass over spans i..j-1 pads them to longest[i]; passes longer than the bound are
        # out, except a single span
        lowest = max(0, j - max(1, max_batch_items // max(int(longest[j - 1]), 1)))
        candidates = numpy.arange(lowest, j)
        padded = (j - candidates) * longest[candidates]
        cost = best[candidates] + padded + group_cost
        cost[padded > max_batch_items] = numpy.inf
        cost[-1] = best[j - 1] + longest[j - 1] + group_cost
        k = int(numpy.argmin(cost))
        best[j], start[j] = cost[k], candidates[k]
    groups = []
    j = n
    while j > 0:
        groups.append(order[start[j]:j].astype("int64"))
        j = int(start[j])
    return groups[::-1]


def _group_inputs(wordpieces: WordpieceBatch, group: numpy.ndarray) -> Dict[str, numpy.ndarray]:
    length = max(wordpieces.lengths[i] for i in group)
    inputs = {"input_ids": wordpieces.input_ids[group, :length],
              "attention_mask": wordpieces.attention_mask[group, :length]}
    if wordpieces.token_type_ids is not None:
        inputs["token_type_ids"] = wordpieces.token_type_ids[group, :length]
    return inputs


def _to_torch_inputs(inputs: Dict[str, numpy.ndarray], device: Any) -> Dict[str, Any]:
    import torch

    return {key: torch.as_tensor(numpy.ascontiguousarray(value), device=device).long()
            for key, value in inputs.items()}


def _run_inference(model: Model, wordpieces: WordpieceBatch, groups: List[numpy.ndarray]) -> ModelOutput:
    import torch
    from thinc.api import torch2xp

    wrapper = model.layers[0]
    shim = wrapper.shims[0]
    torch_model = shim._model
    device = shim.device
    torch_model.eval()
    full = _Assembler(wordpieces, model.ops)
    with torch.inference_mode(), torch.autocast(device_type=device.type, enabled=shim._mixed_precision), \
            (blas_linear() if device.type == "cpu" else contextlib.nullcontext()):
        for group in groups:
            outputs = torch_model(**_to_torch_inputs(_group_inputs(wordpieces, group), device))
            full.add(group, _select_outputs(outputs, lambda t: torch2xp(t.float())))
    return full.output


def _run_training(model: Model, wordpieces: WordpieceBatch, groups: List[numpy.ndarray]
                  ) -> Tuple[ModelOutput, Callable]:
    wrapper = model.layers[0]
    full = _Assembler(wordpieces, model.ops)
    callbacks = []
    on_cpu = wrapper.shims[0].device.type == "cpu"
    with contextlib.ExitStack() as cpu_training_ops:
        if on_cpu:
            cpu_training_ops.enter_context(fast_cpu_dropout())
            cpu_training_ops.enter_context(embedding_grads_in_place())
            cpu_training_ops.enter_context(blas_linear())
        for group in groups:
            group_output, backprop_group = wrapper(_group_inputs(wordpieces, group), True)
            full.add(group, group_output)
            callbacks.append((group, backprop_group))

    def backprop_groups(gradients: ModelOutput) -> None:
        for group, backprop_group in callbacks:
            length = max(wordpieces.lengths[i] for i in group)
            group_grads = ModelOutput()
            for key, value in gradients.items():
                group_grads[key] = _take(value, group, length)
            if group_grads:
                backprop_group(group_grads)

    return full.output, backprop_groups


def _convert_inputs(model: Model, inputs: Dict[str, numpy.ndarray], is_train: bool) -> Tuple[ArgsKwargs, Callable]:
    return ArgsKwargs(args=(), kwargs=_to_torch_inputs(inputs, model.shims[0].device)), lambda d_inputs: []


def _convert_outputs(model: Model, inputs_outputs: Tuple[Any, Any], is_train: bool) -> Tuple[ModelOutput, Callable]:
    from thinc.api import torch2xp, xp2torch

    _, torch_outputs = inputs_outputs
    tensors = _select_outputs(torch_outputs, lambda t: t)
    output = _select_outputs(torch_outputs, lambda t: torch2xp(t.float()))
    device = model.shims[0].device

    def backprop(gradients: ModelOutput) -> ArgsKwargs:
        outs, grads = [], []
        for key, grad in gradients.items():
            if key not in tensors:
                continue
            pairs = zip(tensors[key], grad) if isinstance(tensors[key], tuple) else [(tensors[key], grad)]
            for tensor, g in pairs:
                if g is not None and tensor.requires_grad:
                    outs.append(tensor)
                    grads.append(xp2torch(g, device=device).to(tensor.dtype))
        return ArgsKwargs(args=(outs,), kwargs={"grad_tensors": grads})

    return output, backprop


def _select_outputs(torch_outputs: Any, convert: Callable) -> ModelOutput:
    output = ModelOutput()
    for key in OUTPUT_KEYS:
        value = torch_outputs.get(key) if hasattr(torch_outputs, "get") else getattr(torch_outputs, key, None)
        if value is None:
            continue
        output[key] = tuple(convert(v) for v in value) if isinstance(value, (tuple, list)) else convert(value)
    return output


def _take(value: Any, group: numpy.ndarray, length: int) -> Any:
    """The rows of `group`, cut to `length` wordpieces, of one batch-layout array."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return tuple(_take(v, group, length) for v in value)
    if value.ndim == 3:
        return value[group, :length]
    if value.ndim == 4:
        return value[group][:, :, :length, :length]
    return value[group]


class _Assembler:
    """Sub-batch outputs back into one batch-layout output (spans × padded length × ...),
    zero at padding positions whatever the sub-batch's padding was."""

    def __init__(self, wordpieces: WordpieceBatch, ops: Any) -> None:
        self.n_spans, self.padded, self.ops = len(wordpieces), wordpieces.max_length, ops
        self.lengths = numpy.asarray(wordpieces.lengths, dtype="int64")
        self.output = ModelOutput()

    def add(self, group: numpy.ndarray, output: ModelOutput) -> None:
        for key, value in output.items():
            if isinstance(value, tuple):
                if key not in self.output:
                    self.output[key] = tuple(self._alloc(v) for v in value)
                for full, v in zip(self.output[key], value):
                    self._put(full, group, v)
            else:
                if key not in self.output:
                    self.output[key] = self._alloc(value)
                self._put(self.output[key], group, value)

    def _alloc(self, sample: Any) -> Any:
        xp = self.ops.xp
        if sample.ndim == 3:
            shape = (self.n_spans, self.padded, sample.shape[2])
        elif sample.ndim == 4:
            shape = (self.n_spans, sample.shape[1], self.padded, self.padded)
        else:
            shape = (self.n_spans,) + tuple(sample.shape[1:])
        return xp.zeros(shape, dtype="float32")

    def _put(self, full: Any, group: numpy.ndarray, value: Any) -> None:
        xp = self.ops.xp
        rows = xp.asarray(group)
        if value.ndim == 3:
            real = numpy.arange(value.shape[1])[None, :] < self.lengths[group][:, None]
            full[rows, :value.shape[1]] = value * xp.asarray(real[:, :, None], dtype=value.dtype)
        elif value.ndim == 4:
            full[rows, :, :value.shape[2], :value.shape[3]] = value
        else:
            full[rows] = value


def _batch_gradients(batch: FullTransformerBatch, d_batch: Any) -> ModelOutput:
    """The gradients of a backward pass as a batch-layout ModelOutput keyed like
    batch.model_output, from a FullTransformerBatch (what unsplit_by_doc returns), a
    ModelOutput, a list of per-doc TransformerData, or per-doc lists of arrays."""
    if isinstance(d_batch, FullTransformerBatch):
        return d_batch.model_output
    if isinstance(d_batch, ModelOutput):
        return d_batch
    if isinstance(d_batch, (list, tuple)):
        per_doc = [list(d.tensors) if hasattr(d, "tensors") else list(d) for d in d_batch]
        return batch.unsplit_by_doc(per_doc).model_output
    raise TypeError(f"the transformer's backprop takes a FullTransformerBatch of gradients, not "
                    f"{type(d_batch).__name__}")

