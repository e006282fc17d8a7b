"""The default configs shipped as .cfg files in this package."""
import functools
from pathlib import Path

from confection import Config

CONFIG_DIR = Path(__file__).parent
DEFAULT_CONFIG_PATH = CONFIG_DIR / "default_config.cfg"
DEFAULT_PRETRAINING_CONFIG_PATH = CONFIG_DIR / "default_config_pretraining.cfg"
TEMPLATES_DIR = CONFIG_DIR / "templates"


@functools.lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf8")


def load_packaged_config(path: Path) -> Config:
    """A fresh, uninterpolated copy of one of the package's .cfg files."""
    return Config().from_str(_read(path), interpolate=False)


def default_config() -> Config:
    return load_packaged_config(DEFAULT_CONFIG_PATH)


def default_pretraining_config() -> Config:
    return load_packaged_config(DEFAULT_PRETRAINING_CONFIG_PATH)


def all_defaults(pretraining: bool = True) -> Config:
    """The default config, with the pretraining defaults merged in if asked."""
    defaults = default_config()
    if pretraining:
        defaults = defaults.merge(default_pretraining_config())
    return defaults
