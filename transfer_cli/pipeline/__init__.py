"""The Pipeline (`nlp`) and its components. Importing this registers the factories."""
from . import factories  # noqa: F401  (registers the component factories)
from .pipeline import Pipeline

__all__ = ["Pipeline"]
