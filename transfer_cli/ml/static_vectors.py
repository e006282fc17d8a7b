"""StaticVectors (`spacy.StaticVectors.v1/v2`): Model[List[Doc], Ragged].

Each token's row of the docs' `vocab.vectors` (found by its key: the table's key
attribute, ORTH unless the table says LOWER/NORM or `key_attr` names another) is
projected by a learned matrix W (nO x nM). The table is never updated: no gradient
flows into it. Tokens without a row get zeros. A batch is one key lookup and one
gather, then one matrix product.

The layer remembers the name and shape of the table it was initialized with; using
it with another table (or none) is an error, not silently wrong features. Its output
is a Ragged that supports `+` with another Ragged of the same lengths, so thinc's
`add` can combine it with other embeddings (as in the docs' custom embedding).
"""
from typing import Any, Callable, List, Optional, Tuple

import numpy
from thinc.api import Model, glorot_uniform_init
from thinc.types import Ragged
from thinc.util import partial

from ..config.registry import registry
from ..errors import ConfigError, PipelineError
from ..tokens import attrs as A
from .featurize import AttrNameArg, attr_ids

NAME = "static_vectors"


class SummableRagged(Ragged):
    """A Ragged whose data adds elementwise to another Ragged with the same lengths."""

    def _check(self, other: Any) -> Ragged:
        if not isinstance(other, Ragged) or other.data.shape != self.data.shape:
            raise ValueError("can only add a Ragged of the same shape to the static vectors' output")
        return other

    def __iadd__(self, other: Any) -> "SummableRagged":
        self.data += self._check(other).data
        return self

    def __add__(self, other: Any) -> "SummableRagged":
        return SummableRagged(self.data + self._check(other).data, self.lengths)

    __radd__ = __add__


@registry.layers("spacy.StaticVectors.v2")
def StaticVectors(nO: Optional[int] = None, nM: Optional[int] = None, *, dropout: Optional[float] = None,
                  init_W: Callable = glorot_uniform_init, key_attr: AttrNameArg = "ORTH") -> Model[List[Any], Ragged]:
    """nO: output width; nM: the vectors' width (read from the table at initialization);
    dropout: rate of a mask over the nO output dimensions, shared by the batch."""
    attr_ids([key_attr], owner="StaticVectors key_attr")  # an unknown attribute fails when the model is built
    return Model(NAME, _forward, init=partial(_init, init_W), params={"W": None}, dims={"nO": nO, "nM": nM},
                 attrs={"key_attr": key_attr, "dropout_rate": dropout, "vectors_name": None,
                        "vectors_shape": None})


def _key_attr(model: Model, vectors: Any) -> int:
    """The layer's key_attr when set to something else than the default, else the table's."""
    chosen = A.intify_attr(model.attrs.get("key_attr") or "ORTH")
    if chosen == A.ORTH:
        chosen = A.intify_attr(getattr(vectors, "attr", "ORTH") or "ORTH")
    return chosen


def _init(init_W: Callable, model: Model, X: Optional[List[Any]] = None, Y: Optional[Ragged] = None) -> None:
    if X is not None and len(X):
        vectors = X[0].vocab.vectors
        if vectors is None or vectors.is_empty:
            raise ConfigError("the model uses static vectors (include_static_vectors / pretrained_vectors = true, or "
                              "a StaticVectors layer) but no vectors are loaded: set [initialize] vectors to a "
                              "directory written by `transfer-cli init-vectors` (e.g. --paths.vectors vec/)",
                              key="initialize.vectors")
        model.set_dim("nM", vectors.dims, force=True)
        model.attrs["vectors_name"] = vectors.name
        model.attrs["vectors_shape"] = list(vectors.shape)
    if Y is not None:
        model.set_dim("nO", Y.data.shape[1] if isinstance(Y, Ragged) else Y.shape[1])
    if not model.has_dim("nM"):
        raise ConfigError("StaticVectors: the width of the vectors (nM) is unknown: initialize the model with "
                          "sample docs whose vocab holds the vectors, or set nM", key="initialize.vectors")
    if not model.has_dim("nO"):
        raise ConfigError("StaticVectors: the output width nO is not set")
    model.set_param("W", init_W(model.ops, (model.get_dim("nO"), model.get_dim("nM"))))


def _check_table(model: Model, vectors: Any) -> None:
    if vectors is None or vectors.is_empty:
        raise PipelineError("this model uses static vectors, but the pipeline's vocab has none: load the "
                            "vectors it was trained with (a pipeline saved after training keeps them in "
                            "vocab/vectors)")
    name, shape = model.attrs.get("vectors_name"), model.attrs.get("vectors_shape")
    if name is not None and (vectors.name != name or list(vectors.shape) != list(shape)):
        raise PipelineError(f"this model was trained with the vectors '{name}' ({shape[0]} x {shape[1]}), but "
                            f"the vocab holds '{vectors.name}' ({vectors.shape[0]} x {vectors.shape[1]}): load "
                            f"the vectors it was trained with")
    if vectors.dims != model.get_dim("nM"):
        raise PipelineError(f"the vectors have {vectors.dims} dimensions but this model expects "
                            f"{model.get_dim('nM')}: load the vectors it was trained with")


def _forward(model: Model, docs: List[Any], is_train: bool) -> Tuple[Ragged, Callable]:
    ops = model.ops
    nO = model.get_dim("nO")
    lengths = [len(doc) for doc in docs]
    if not sum(lengths):
        empty = SummableRagged(ops.alloc2f(0, nO), ops.asarray1i(lengths))
        return empty, lambda d_output: []
    vocab = docs[0].vocab
    vectors = vocab.vectors
    _check_table(model, vectors)
    column = _key_attr(model, vectors)
    keys = numpy.concatenate([doc.to_array(column) for doc in docs]) if len(docs) > 1 else docs[0].to_array(column)
    V = ops.asarray2f(vectors.get_batch(keys, strings=vocab.strings))  # zeros for tokens without a row
    W = model.get_param("W")
    output = ops.gemm(V, W, trans2=True)
    mask = None
    rate = model.attrs.get("dropout_rate")
    if is_train and rate:
        mask = ops.get_dropout_mask((nO,), rate)
        output *= mask

    def backprop(d_output: Ragged) -> List[Any]:
        dY = d_output.data if isinstance(d_output, Ragged) else d_output
        if mask is not None:
            dY = dY * mask
        model.inc_grad("W", ops.gemm(ops.as_contig(dY), V, trans1=True))
        return []

    return SummableRagged(output, ops.asarray1i(lengths)), backprop


@registry.layers("spacy.StaticVectors.v1")
def StaticVectors_v1(nO: Optional[int] = None, nM: Optional[int] = None, *, dropout: Optional[float] = None,
                     init_W: Callable = glorot_uniform_init, key_attr: AttrNameArg = "ORTH"
                     ) -> Model[List[Any], Ragged]:
    """spacy.StaticVectors.v1: as v2 (tokens without a row get zeros here too)."""
    return StaticVectors(nO, nM, dropout=dropout, init_W=init_W, key_attr=key_attr)


__all__ = ["StaticVectors", "SummableRagged"]
