"""The Pipeline (`nlp`) and its components. Importing this registers the factories."""
from . import factories  # noqa: F401  (registers the component factories)
from . import ner  # noqa: F401  (registers the ner factory)
from . import textcat, senter, sentencizer  # noqa: F401  (register their factories)
from . import vectors  # noqa: F401  (registers spacy.Vectors.v1)
from .pipeline import Pipeline

__all__ = ["Pipeline"]
