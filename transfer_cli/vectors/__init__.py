"""Static word vectors. `[nlp.vectors] @vectors = "spacy.Vectors.v1"` names the kind of
table a pipeline's vocab holds; until vectors are loaded ([initialize] vectors) the
table is empty (vocab.vectors is None)."""
from typing import Callable, Optional

from ..config.registry import registry


def create_empty_vectors() -> Callable[..., Optional[object]]:
    """spacy.Vectors.v1: the vocab starts without a vectors table."""

    def make_vectors(vocab) -> Optional[object]:
        return None

    return make_vectors


registry.vectors.register("spacy.Vectors.v1", func=create_empty_vectors)
