"""transfer-cli: transfer learning for NLP pipelines."""
from .about import __version__
from .config.registry import registry


def blank(lang: str = "en"):
    """An empty pipeline for `lang`: its tokenizer and vocab, no components."""
    from .pipeline.build import blank as _blank

    return _blank(lang)


def load(path):
    """Load a trained pipeline directory (e.g. the `model-best` that `train` writes)."""
    from .pipeline.build import load as _load

    return _load(path)


__all__ = ["__version__", "registry", "blank", "load"]
