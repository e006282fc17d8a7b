"""Corpus readers, batchers, initialization and the training loop.
Importing this registers the readers, batchers and loggers (each decorated where it is defined)."""
from ..tokens.example import Example  # where spaCy users import it from (it lives with Doc)
from . import augment, batchers, corpus, loggers  # noqa: F401

__all__ = ["Example"]
