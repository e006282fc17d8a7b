"""transfer-cli: transfer learning for NLP pipelines."""
from typing import Any

from .about import __version__


def __getattr__(name: str) -> Any:
    # `transfer_cli.registry` loads thinc (and with it torch): only when asked for, so that
    # `transfer-cli --help` and the light commands start fast.
    if name == "registry":
        from .config.registry import registry

        return registry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def blank(lang: str = "en"):
    """An empty pipeline for `lang`: its tokenizer and vocab, no components."""
    from .pipeline.build import blank as _blank

    return _blank(lang)


def load(path, *, disable=(), enable=None, exclude=()):
    """Load a trained pipeline directory (e.g. the `model-best` that `train` writes), or
    by name a pipeline package installed with pip (e.g. "en_my_pipeline", see `package`).
    disable: components loaded but not run (`nlp.enable_pipe(name)` turns one on);
    enable: run only these, every other component loaded disabled;
    exclude: components not loaded at all."""
    from .pipeline.build import load as _load

    return _load(path, disable=disable, enable=enable, exclude=exclude)


__all__ = ["__version__", "registry", "blank", "load"]
