"""Loading config files: read and parse them (parsing.py: one-line errors naming the
file and line), apply `--section.key value` overrides and check that every variable
names something."""
from typing import Any, Dict, Optional

from confection import Config

from ..fileio import write_text_atomic  # noqa: F401  (imported from here too)
from .interpolation import check_variables, interpolate_config
from .overrides import apply_overrides
from .parsing import MAX_SECTION_DEPTH, PathLike, parse_config_text, read_config_text  # noqa: F401
from .source import ConfigSource, attach_source, get_source
from .writing import config_to_str, write_config  # noqa: F401  (imported from here too)


def load_config(path: PathLike, overrides: Optional[Dict[str, Any]] = None, *,
                interpolate: bool = False) -> Config:
    """Load a config file ("-" reads stdin), apply overrides (dotted keys to
    values; a key that exists nowhere is an error naming the closest key) and
    check that every ${variable} resolves. Returns the config uninterpolated
    (variables kept, as fill-config writes them) unless `interpolate`."""
    text, display = read_config_text(path)
    return load_config_from_str(text, overrides, interpolate=interpolate, path=display)


def load_config_from_str(text: str, overrides: Optional[Dict[str, Any]] = None, *,
                         interpolate: bool = False, path: Optional[str] = None) -> Config:
    source = ConfigSource.from_text(text, path)
    config = parse_config_text(text, source)
    config = apply_overrides(config, overrides or {}, source=source)
    check_variables(config, source=source)
    if interpolate:
        config = interpolate_config(config, source=source)
    attach_source(config, source)
    return config


__all__ = ["load_config", "load_config_from_str", "read_config_text", "parse_config_text", "config_to_str",
           "write_config", "write_text_atomic", "get_source"]
