"""The Pipeline (`nlp`) and its components. Importing this registers the component
factories (each decorated where it is defined), spacy.Tokenizer.v1 and spacy.Vectors.v1."""
from . import (annotation_setters, build, lookups, ner, senter, sentencizer, tagger, textcat, tok2vec,  # noqa: F401
               transformer, vectors)  # (registrations)
from .pipeline import Pipeline

__all__ = ["Pipeline"]
