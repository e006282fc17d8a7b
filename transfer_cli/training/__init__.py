"""Corpus readers, batchers, initialization and the training loop.
Importing this registers the readers, batchers and loggers (each decorated where it is defined)."""
from . import batchers, corpus, loggers  # noqa: F401
