"""Tok2Vec: an embedding (List[Doc] → List[Floats2d]) chained with a context
encoder (List[Floats2d] → List[Floats2d]), and HashEmbedCNN, the standard pairing
of MultiHashEmbed with MaxoutWindowEncoder."""
from typing import Any, List, Optional

from thinc.api import Model, chain, with_array
from thinc.types import Floats2d

from ..config.registry import registry
from .embeddings import MultiHashEmbed
from .encoders import MaxoutWindowEncoder


@registry.architectures("spacy.Tok2Vec.v2")
def build_Tok2Vec_model(embed: Model[List[Any], List[Floats2d]], encode: Model[List[Floats2d], List[Floats2d]]
                        ) -> Model[List[Any], List[Floats2d]]:
    """spacy.Tok2Vec.v2: chain(embed, encode), with refs "embed" and "encode" and nO
    taken from the encoder."""
    return _chain_with_refs(embed, encode, encode)


@registry.architectures("spacy.Tok2Vec.v1")
def build_Tok2Vec_model_v1(embed: Model[List[Any], List[Floats2d]], encode: Model) -> Model[List[Any], List[Floats2d]]:
    """spacy.Tok2Vec.v1: as v2, for an encoder written over one flat array
    (Model[Floats2d, Floats2d]); such an encoder is run over the batch with
    `receptive_field` zero rows between docs. This package's encoders take the list
    directly and keep docs apart themselves."""
    if encode.attrs.get("accepts_lists"):
        return build_Tok2Vec_model(embed, encode)
    return _chain_with_refs(embed, with_array(encode, pad=encode.attrs.get("receptive_field", 0)), encode)


def _chain_with_refs(embed: Model, run_encoder: Model, encode: Model) -> Model[List[Any], List[Floats2d]]:
    """chain(embed, run_encoder) (the encoder, or a wrapper running it), with the refs
    "embed" and "encode" and nO taken from the encoder."""
    tok2vec = chain(embed, run_encoder)
    if encode.has_dim("nO"):
        tok2vec.set_dim("nO", encode.get_dim("nO"))
    tok2vec.set_ref("embed", embed)
    tok2vec.set_ref("encode", encode)
    return tok2vec


@registry.architectures("spacy.HashEmbedCNN.v1")
@registry.architectures("spacy.HashEmbedCNN.v2")
def build_hash_embed_cnn_tok2vec(*, width: int, depth: int, embed_size: int, window_size: int, maxout_pieces: int,
                                 subword_features: bool, pretrained_vectors: Optional[bool]
                                 ) -> Model[List[Any], List[Floats2d]]:
    """spacy.HashEmbedCNN.v1/v2: MultiHashEmbed over NORM (embed_size rows) plus, with
    subword_features, PREFIX, SUFFIX and SHAPE (embed_size // 2 rows each), then a
    MaxoutWindowEncoder of the given depth, window and pieces."""
    if subword_features:
        attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
        rows = [embed_size, embed_size // 2, embed_size // 2, embed_size // 2]
    else:
        attrs, rows = ["NORM"], [embed_size]
    name = "spacy.HashEmbedCNN.v2"
    embed = MultiHashEmbed(width, attrs, rows, bool(pretrained_vectors), name=name)
    encode = MaxoutWindowEncoder(width=width, window_size=window_size, maxout_pieces=maxout_pieces, depth=depth)
    return build_Tok2Vec_model(embed, encode)
