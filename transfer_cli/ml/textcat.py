"""Text classification architectures: Docs → one row of label scores per doc.

- spacy.TextCatBOW.v1/v2/v3: hashed bag of n-grams of ORTH → sparse linear layer
  (thinc's SparseLinear; v3 uses SparseLinear_v2 and a configurable table `length`),
  then softmax (exclusive classes) or logistic (multilabel) unless no_output_layer.
- spacy.TextCatCNN.v1/v2: a tok2vec, mean-pooled per doc, then softmax or linear+logistic.
- spacy.TextCatEnsemble.v2: the BOW model and an attention-pooled tok2vec (which may be
  a listener of a shared tok2vec) concatenated, then an output layer.
- spacy.TextCatEnsemble.v1: the older self-contained ensemble with its own hash embedding.

The n-gram features of a whole batch are computed with array operations: one
concatenation of the docs' ORTH columns, thinc's n-gram hashing over it, and a mask
for n-grams that would cross a doc boundary. Repeated n-grams are passed to the
sparse layer once per occurrence (value 1.0) rather than deduplicated with counts:
the layer sums them, so the scores and gradients are the same and no sort is needed.
"""
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy
from thinc.api import (Dropout, HashEmbed, LayerNorm, Linear, Logistic, Maxout, Model, ParametricAttention,
                       Softmax, SparseLinear, SparseLinear_v2, chain, clone, concatenate, expand_window,
                       list2ragged, reduce_mean, reduce_sum, residual, softmax_activation, uniqued, with_array,
                       with_cpu)
from thinc.types import Floats2d

from ..config.registry import registry
from ..errors import ConfigError
from ..tokens import Doc
from ..tokens import attrs as A
from ..tokens.columns import COL
from .featurize import AttrNameArg, attr_ids, extract_keys

NgramFeatures = Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]


# -- bag of n-grams ------------------------------------------------------------------------------
@registry.layers("spacy.extract_ngrams.v1")
def extract_ngrams(ngram_size: int, attr: AttrNameArg = A.LOWER) -> Model[List[Doc], NgramFeatures]:
    """spacy.extract_ngrams.v1, Model[List[Doc], (keys uint64, values float32, lengths int32)]:
    the hashed unigrams up to ngram_size-grams of each doc's `attr`, grouped by doc."""
    attr_id = attr_ids([attr], owner="extract_ngrams")[0]
    return Model("extract_ngrams", _ngrams_forward, attrs={"ngram_size": ngram_size, "attr": attr_id})


def _ngrams_forward(model: Model, docs: Sequence[Doc], is_train: bool) -> Tuple[NgramFeatures, Callable]:
    ngram_size = model.attrs["ngram_size"]
    batch_keys, doc_lengths = extract_keys(docs, [model.attrs["attr"]])
    keys = numpy.ascontiguousarray(batch_keys[:, 0])
    lengths = doc_lengths.astype("int64")
    if ngram_size > 1 and len(keys):
        doc_ids = numpy.repeat(numpy.arange(len(docs)), lengths)
        all_keys, all_ids = [keys], [doc_ids]
        for n in range(2, ngram_size + 1):
            if len(keys) < n:
                break
            grams = model.ops.ngrams(n, keys)  # gram i hashes keys[i:i + n]
            inside = doc_ids[: len(grams)] == doc_ids[n - 1:]
            all_keys.append(grams[inside])
            all_ids.append(doc_ids[: len(grams)][inside])
        ids = numpy.concatenate(all_ids)
        order = numpy.argsort(ids, kind="stable")
        keys = numpy.concatenate(all_keys)[order]
        lengths = numpy.bincount(ids, minlength=len(docs))
    values = numpy.ones((len(keys),), dtype="float32")
    return (keys, values, lengths.astype("int32")), lambda d_features: []


def _build_bow(exclusive_classes: bool, ngram_size: int, no_output_layer: bool, sparse_linear: Model,
               nO: Optional[int]) -> Model[List[Doc], Floats2d]:
    model = with_cpu(chain(extract_ngrams(ngram_size, attr=A.ORTH), sparse_linear), sparse_linear.ops)
    if not no_output_layer:
        activation = softmax_activation() if exclusive_classes else Logistic()
        model = chain(model, activation)
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = not exclusive_classes
    return model


@registry.architectures("spacy.TextCatBOW.v1")
@registry.architectures("spacy.TextCatBOW.v2")
def build_bow_text_classifier(exclusive_classes: bool, ngram_size: int, no_output_layer: bool,
                              nO: Optional[int] = None) -> Model[List[Doc], Floats2d]:
    """spacy.TextCatBOW.v1 / v2: SparseLinear with its original (v1) indexing and 2**18 rows."""
    return _build_bow(exclusive_classes, ngram_size, no_output_layer, SparseLinear(nO=nO), nO)


@registry.architectures("spacy.TextCatBOW.v3")
def build_bow_text_classifier_v3(exclusive_classes: bool, ngram_size: int, no_output_layer: bool,
                                 length: int = 262144, nO: Optional[int] = None) -> Model[List[Doc], Floats2d]:
    """spacy.TextCatBOW.v3: `length` hash buckets, rounded up to a power of two."""
    if length < 1:
        raise ConfigError(f"TextCatBOW.v3: length must be a positive integer, got {length}")
    length = 2 ** (length - 1).bit_length()
    return _build_bow(exclusive_classes, ngram_size, no_output_layer, SparseLinear_v2(nO=nO, length=length), nO)


# -- pooled tok2vec ----------------------------------------------------------------------------------
def _width(tok2vec: Model) -> Optional[int]:
    return tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None


@registry.architectures("spacy.TextCatCNN.v1")
@registry.architectures("spacy.TextCatCNN.v2")
def build_simple_cnn_text_classifier(tok2vec: Model, exclusive_classes: bool,
                                     nO: Optional[int] = None) -> Model[List[Doc], Floats2d]:
    """spacy.TextCatCNN.v1 / v2: mean of the doc's token vectors → softmax, or
    linear → logistic for non-exclusive classes."""
    pooled = chain(tok2vec, list2ragged(), reduce_mean())
    width = _width(tok2vec)
    if exclusive_classes:
        output_layer = Softmax(nO=nO, nI=width)
        model = chain(pooled, output_layer)
    else:
        output_layer = Linear(nO=nO, nI=width)
        model = chain(pooled, output_layer, Logistic())
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    if nO is not None:
        model.set_dim("nO", nO)
    model.attrs["multi_label"] = not exclusive_classes
    return model


@registry.architectures("spacy.TextCatEnsemble.v2")
def build_text_classifier_v2(tok2vec: Model, linear_model: Model,
                             nO: Optional[int] = None) -> Model[List[Doc], Floats2d]:
    """spacy.TextCatEnsemble.v2: [BOW scores | attention-pooled tok2vec] → output layer.
    Exclusive or not follows the linear model's `exclusive_classes`."""
    if "multi_label" not in linear_model.attrs:
        raise ConfigError("TextCatEnsemble.v2: linear_model must be a text classifier such as "
                          "spacy.TextCatBOW.v3", key="linear_model")
    exclusive_classes = not linear_model.attrs["multi_label"]
    width = _width(tok2vec)
    attention = ParametricAttention(width)
    maxout = Maxout(nO=width, nI=width)
    norm = LayerNorm(nI=width)
    cnn_model = chain(tok2vec, list2ragged(), attention, reduce_sum(), residual(chain(maxout, norm, Dropout(0.0))))
    if exclusive_classes:
        output_layer = Softmax(nO=nO)
    else:
        output_layer = chain(Linear(nO=nO), Logistic())
    model = chain(concatenate(linear_model, cnn_model), output_layer)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", linear_model.get_ref("output_layer"))
    model.set_ref("attention_layer", attention)
    model.set_ref("maxout_layer", maxout)
    model.set_ref("norm_layer", norm)
    if nO is not None:
        model.set_dim("nO", nO)
    model.attrs["multi_label"] = not exclusive_classes
    model.init = _init_ensemble
    return model


def _init_ensemble(model: Model, X: Any = None, Y: Any = None) -> None:
    """The tok2vec's width is known only once it is initialized: set the widths of
    the pooling layers from it, then initialize the chain."""
    tok2vec = model.get_ref("tok2vec")
    tok2vec.initialize(X=X)
    width = tok2vec.get_dim("nO")
    for ref in ("attention_layer", "maxout_layer", "norm_layer"):
        layer = model.get_ref(ref)
        for dim in ("nI", "nO"):
            if layer.has_dim(dim) is not False and not layer.has_dim(dim):
                layer.set_dim(dim, width)
    # the branches are initialized one by one: thinc's concatenate would try to read an
    # input width (nI) off the list of Docs when a branch's first layer declares one
    concat, output_layer = model.layers
    for branch in concat.layers:
        branch.initialize(X=X, Y=Y)
    concat.set_dim("nO", sum(branch.get_dim("nO") for branch in concat.layers))
    output_layer.initialize(X=concat.predict(X) if X is not None else None, Y=Y)
    if output_layer.has_dim("nO"):
        model.set_dim("nO", output_layer.get_dim("nO"))


@registry.architectures("spacy.TextCatEnsemble.v1")
def build_text_classifier_v1(width: int, embed_size: int, pretrained_vectors: Optional[bool],
                             exclusive_classes: bool, ngram_size: int, window_size: int, conv_depth: int,
                             dropout: Optional[float], nO: Optional[int] = None) -> Model[List[Doc], Floats2d]:
    """spacy.TextCatEnsemble.v1: a BOW model and a CNN with its own hash embeddings of
    LOWER (embed_size rows) and PREFIX/SUFFIX/SHAPE (half width), concatenated."""
    if pretrained_vectors:
        raise ConfigError("TextCatEnsemble.v1 with pretrained_vectors = true is not supported: use "
                          "spacy.TextCatEnsemble.v2 with a tok2vec that includes static vectors",
                          key="pretrained_vectors")
    cols = [A.ORTH, A.LOWER, A.PREFIX, A.SUFFIX, A.SHAPE]
    lower = HashEmbed(nO=width, nV=embed_size, column=1, dropout=dropout, seed=10)
    prefix = HashEmbed(nO=width // 2, nV=embed_size, column=2, dropout=dropout, seed=11)
    suffix = HashEmbed(nO=width // 2, nV=embed_size, column=3, dropout=dropout, seed=12)
    shape = HashEmbed(nO=width // 2, nV=embed_size, column=4, dropout=dropout, seed=13)
    embed_width = width + 3 * (width // 2)
    embed = chain(_doc_columns(cols), with_array(uniqued(
        chain(concatenate(lower, prefix, suffix, shape), Maxout(nO=width, nI=embed_width, normalize=True)),
        column=0)))
    conv = residual(chain(expand_window(window_size=window_size),
                          Maxout(nO=width, nI=width * (window_size * 2 + 1), normalize=True)))
    tok2vec = chain(embed, with_array(chain(Maxout(width, width, normalize=True), clone(conv, conv_depth)),
                                      pad=conv_depth))
    cnn_model = chain(tok2vec, list2ragged(), ParametricAttention(width), reduce_sum(),
                      residual(Maxout(nO=width, nI=width)), Linear(nO=nO, nI=width), Dropout(0.0))
    linear_model = build_bow_text_classifier(exclusive_classes=exclusive_classes, ngram_size=ngram_size,
                                             no_output_layer=False, nO=nO)
    n_in = nO * 2 if nO else None
    if exclusive_classes:
        output_layer = Softmax(nO=nO, nI=n_in)
    else:
        output_layer = chain(Linear(nO=nO, nI=n_in), Dropout(0.0), Logistic())
    model = chain(concatenate(linear_model, cnn_model), output_layer)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", linear_model.get_ref("output_layer"))
    if nO is not None:
        model.set_dim("nO", nO)
    model.attrs["multi_label"] = not exclusive_classes
    return model


def _cols(doc) -> numpy.ndarray:
    cols = getattr(doc, "cols", None)
    return cols if cols is not None else doc.doc.cols[doc.start:doc.end]


def _doc_columns(attrs: List[int]) -> Model[List[Doc], List[numpy.ndarray]]:
    """Docs → one uint64 (n_tokens, len(attrs)) array per doc."""
    columns = [COL[a] for a in attrs]

    def forward(model: Model, docs: Sequence[Doc], is_train: bool):
        return [model.ops.asarray(_cols(doc)[:, columns], dtype="uint64") for doc in docs], lambda d: []

    return Model("doc_columns", forward)
