"""CharacterEmbed: each word's first and last UTF-8 bytes embedded position by
position, concatenated with a hash embedding of one attribute (LOWER by default)
and optionally static vectors, mixed by a layer-normalized Maxout."""
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy
from thinc.api import Model
from thinc.types import Floats2d

from ..config.registry import registry
from ..errors import ConfigError
from .embeddings import HashEmbed, _embed_mixer, static_vectors_layer
from .featurize import AttrNameArg, FeatureExtractor, attr_ids, utf8_array

N_BYTE_VALUES = 256


@registry.layers("spacy.CharEmbed.v1")
def CharEmbed(nM: int, nC: int) -> Model[List[Any], Floats2d]:
    """Model[List[Doc], Floats2d]: (n_tokens, nC * nM), byte position c of every word
    looked up in its own table E[c] (E: (nC, 256, nM), zero-initialized). The byte
    order is utf8_array's: first, last, second, second-to-last, ...; 255 pads."""
    return Model("charembed", _charembed_forward, init=_charembed_init, params={"E": None},
                 dims={"nM": nM, "nC": nC, "nO": nM * nC, "nV": N_BYTE_VALUES})


def _charembed_init(model: Model, X: Any = None, Y: Any = None) -> None:
    model.set_param("E", model.ops.alloc3f(model.get_dim("nC"), model.get_dim("nV"), model.get_dim("nM")))


def _charembed_forward(model: Model, docs: List[Any], is_train: bool) -> Tuple[Floats2d, Callable]:
    ops = model.ops
    E = model.get_param("E")
    nC, nV, nM = E.shape
    byte_ids = utf8_array(docs, nC)
    # one flat table of nC * 256 rows: row c * 256 + byte holds position c's vector
    rows = (byte_ids.astype("int32") + numpy.arange(nC, dtype="int32") * nV).ravel()
    rows_d = ops.asarray(rows, dtype="int32")
    n = byte_ids.shape[0]
    output = ops.xp.take(E.reshape((nC * nV, nM)), rows_d, axis=0).reshape((n, nC * nM))

    def backprop(d_output: Floats2d) -> List:
        dE = ops.alloc2f(nC * nV, nM, dtype=d_output.dtype)
        if n:
            ops.scatter_add(dE, rows_d, ops.as_contig(d_output.reshape((n * nC, nM))))
        model.inc_grad("E", dE.reshape((nC, nV, nM)))
        return []

    return output, backprop


def CharacterEmbed(width: int, rows: int, nM: int, nC: int, include_static_vectors: bool,
                   feature: Union[int, str] = "LOWER", *, name: str = "spacy.CharacterEmbed.v2"
                   ) -> Model[List[Any], List[Floats2d]]:
    """spacy.CharacterEmbed.v2: [CharEmbed(nM, nC), HashEmbed(width, rows, seed 5) of
    `feature`, (static vectors)] → Maxout(width, nP=3) → LayerNorm."""
    if min(width, rows, nM, nC) < 1:
        raise ConfigError(f"{name}: width, rows, nM and nC must be positive integers")
    feature_id = attr_ids([feature], owner=name)
    table = HashEmbed(width, rows, seed=5, column=0)
    static = static_vectors_layer(width, dropout=0.0, owner=name) if include_static_vectors else None
    n_inputs = nM * nC + width * (2 if static is not None else 1)
    return _embed_mixer("characterembed", FeatureExtractor(feature_id), [table], static, width, n_inputs,
                        char_embed=CharEmbed(nM=nM, nC=nC))


@registry.architectures("spacy.CharacterEmbed.v1")
def CharacterEmbed_v1(width: int, rows: int, nM: int, nC: int, include_static_vectors: Optional[bool] = None,
                      feature: AttrNameArg = "LOWER", also_use_static_vectors: Optional[bool] = None
                      ) -> Model[List[Any], List[Floats2d]]:
    """spacy.CharacterEmbed.v1: as v2; the static-vectors flag may also be spelled
    also_use_static_vectors (spaCy 3.0's name)."""
    name = "spacy.CharacterEmbed.v1"
    if include_static_vectors is not None and also_use_static_vectors is not None:
        raise ConfigError(f"{name}: give include_static_vectors or also_use_static_vectors, not both")
    flag = include_static_vectors if include_static_vectors is not None else also_use_static_vectors
    if flag is None:
        raise ConfigError(f"{name}: include_static_vectors must be set (true or false)")
    return CharacterEmbed(width, rows, nM, nC, bool(flag), feature, name=name)


@registry.architectures("spacy.CharacterEmbed.v2")
def CharacterEmbed_v2(width: int, rows: int, nM: int, nC: int, include_static_vectors: bool,
                      feature: AttrNameArg = "LOWER") -> Model[List[Any], List[Floats2d]]:
    return CharacterEmbed(width, rows, nM, nC, include_static_vectors, feature)
