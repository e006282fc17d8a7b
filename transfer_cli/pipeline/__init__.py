"""The Pipeline (`nlp`) and its components. Importing this registers the component
factories (each decorated where it is defined) and the spacy.Vectors.v1 table."""
from . import ner, senter, sentencizer, tagger, textcat, tok2vec, vectors  # noqa: F401  (registrations)
from .pipeline import Pipeline

__all__ = ["Pipeline"]
