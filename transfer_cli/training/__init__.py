"""Corpus readers, batchers, initialization and the training loop.
Importing this registers the readers, batchers and loggers."""
from . import registrations  # noqa: F401
