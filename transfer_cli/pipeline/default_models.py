"""The default [model] blocks of this package's component factories, read from
default_models.cfg (the one place they are written)."""
import copy
import functools
from pathlib import Path
from typing import Any, Dict

from confection import Config

DEFAULT_MODELS_PATH = Path(__file__).parent / "default_models.cfg"


@functools.lru_cache(maxsize=None)
def _blocks() -> Dict[str, Any]:
    return dict(Config().from_disk(DEFAULT_MODELS_PATH, interpolate=False))


def default_model(name: str) -> Dict[str, Any]:
    """The default model block of component `name` (a fresh copy). A `tok2vec` section
    without @architectures is the [hash_embed_cnn] block with that section's keys on top."""
    blocks = _blocks()
    block = copy.deepcopy(blocks[name])
    tok2vec = block.get("tok2vec")
    if isinstance(tok2vec, dict) and "@architectures" not in tok2vec:
        block["tok2vec"] = {**copy.deepcopy(blocks["hash_embed_cnn"]), **tok2vec}
    return block
