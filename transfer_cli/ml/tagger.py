"""Tagger architectures: a tok2vec followed by a per-token softmax."""
from typing import List, Optional

from thinc.api import Model, Softmax_v2, chain, with_array, zero_init
from thinc.types import Floats2d

from ..config.registry import registry
from ..tokens import Doc
from .windowed import CONTEXT_REF


@registry.architectures("spacy.Tagger.v2")
def build_tagger_model(tok2vec: Model[List[Doc], List[Floats2d]], nO: Optional[int] = None,
                       normalize: bool = False) -> Model[List[Doc], List[Floats2d]]:
    """spacy.Tagger.v2: softmax over tags for each token. `normalize` keeps the outputs
    normalized at prediction time too (training always uses the softmax)."""
    width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    output_layer = Softmax_v2(nO, width, init_W=zero_init, normalize_outputs=normalize)
    model = chain(tok2vec, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    model.attrs[CONTEXT_REF] = "tok2vec"  # the softmax is per token: the tagger sees what its tok2vec sees
    return model


@registry.architectures("spacy.Tagger.v1")
def build_tagger_model_v1(tok2vec: Model[List[Doc], List[Floats2d]], nO: Optional[int] = None
                          ) -> Model[List[Doc], List[Floats2d]]:
    """spacy.Tagger.v1: as v2 with normalized outputs."""
    return build_tagger_model(tok2vec, nO, normalize=True)


def set_n_labels(model: Model, n_labels: int) -> None:
    """Give a tagger model's output layer its width, if not known yet (before a saved
    model's weights load)."""
    output_layer = model.get_ref("output_layer")
    if not output_layer.has_dim("nO"):
        output_layer.set_dim("nO", n_labels)
