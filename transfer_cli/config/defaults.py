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


def merged_with_defaults(user: Config, pretraining: bool) -> Config:
    """The user's config over the defaults (the pretraining ones too when asked or when it has
    a [pretraining] block); with no [nlp] pipeline of its own, the pipeline is its components."""
    merged = all_defaults(pretraining=pretraining or bool(user.get("pretraining"))).merge(user)
    user_nlp = user.get("nlp") if isinstance(user.get("nlp"), dict) else {}
    if "pipeline" not in user_nlp and isinstance(merged.get("components"), dict):
        merged["nlp"]["pipeline"] = list(merged["components"])
    return merged
