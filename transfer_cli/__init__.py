"""transfer-cli: transfer learning for NLP pipelines."""
from .about import __version__

__all__ = ["__version__"]
