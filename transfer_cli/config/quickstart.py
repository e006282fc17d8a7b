"""init-config: assemble a starter config from the blocks in templates/*.cfg,
then fill it, so the written config is complete (fill-config changes nothing)."""
from typing import Optional, Sequence

from confection import Config

from .assembly import COMPONENTS, MARKER, OPTIMIZE, assemble_config  # noqa: F401  (imported from here too)
from .factories import get_factory_meta
from .filling import fill_config


def init_config(*, lang: str = "en", pipeline: Sequence[str] = ("tagger", "ner"), optimize: str = "efficiency",
                gpu: bool = False, vectors: Optional[str] = None, pretraining: bool = False,
                shared: bool = True) -> Config:
    """A complete training config (variables kept) for the given pipeline.

    gpu: a transformer component with a listener in each component.
    vectors: path of a vectors directory; static vectors are used in the embedding.
    shared: one tok2vec component with listeners; False gives each component its own.
    """
    config = assemble_config(lang=lang, pipeline=pipeline, optimize=optimize, gpu=gpu, vectors=vectors,
                             shared=shared, factory_defaults=lambda name: get_factory_meta(name).default_config)
    return fill_config(config, pretraining=pretraining)
