"""${section.key} variables: confection interpolates; this module names the
variable, key and line when a variable does not resolve."""
import configparser
from typing import Any, Dict, List, Optional

from confection import VARIABLE_RE, Config, ConfigValidationError

from ..errors import ConfigError
from .defaults import all_defaults
from .registry import suggest
from .source import ConfigSource, get_source


def interpolate_config(config: Config, *, source: Optional[ConfigSource] = None) -> Config:
    """A copy of `config` with every variable replaced by its value."""
    source = source or get_source(config)
    check_variable_syntax(config, source=source)
    try:
        return Config(config, is_interpolated=False).interpolate()
    except Exception as e:
        error = interpolation_error(e, config, source)
        if error is None:
            raise
        raise error from e


def check_interpolation(config: Config, *, source: Optional[ConfigSource] = None) -> None:
    """Raise a ConfigError if a variable does not resolve. Variables may refer to
    sections the defaults provide (e.g. ${paths.train} in a partial config)."""
    interpolate_config(all_defaults().merge(config), source=source)


def check_variable_syntax(config: Dict[str, Any], *, source: Optional[ConfigSource] = None,
                          prefix: str = "") -> None:
    """A '${' that does not open a well-formed ${section.key} variable is an error."""
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            check_variable_syntax(value, source=source, prefix=path)
        elif isinstance(value, str) and "${" in VARIABLE_RE.sub("", value.replace("$$", "")):
            raise ConfigError(f"malformed variable in {value!r}: write ${{section.key}} "
                              f"(and $$ for a literal dollar sign)",
                              path=source.path if source else None, line=_line(source, path), key=path)


def interpolation_error(e: Exception, config: Dict[str, Any], source: Optional[ConfigSource]) -> Optional[ConfigError]:
    """Translate confection's/configparser's interpolation errors; None if `e` is not one."""
    path = source.path if source else None
    context = e.__context__ if isinstance(e, ConfigValidationError) else e
    if isinstance(context, configparser.InterpolationMissingOptionError):
        key = f"{context.section}.{context.option}"
        variable = context.reference.replace(":", ".")
        hint = suggest(variable, dotted_keys(config), n=1, fmt="${{{}}}")
        message = f"unknown variable ${{{variable}}}" + (f"; did you mean {hint}?" if hint else "")
        return ConfigError(message, path=path, line=_line(source, key), key=key)
    if isinstance(context, configparser.InterpolationDepthError):
        key = f"{context.section}.{context.option}"
        return ConfigError("variables refer to each other in a loop", path=path, line=_line(source, key), key=key)
    if isinstance(context, configparser.InterpolationSyntaxError):
        key = f"{context.section}.{context.option}"
        return ConfigError("malformed variable: write ${section.key} (and $$ for a literal dollar sign)",
                           path=path, line=_line(source, key), key=key)
    if isinstance(e, ConfigValidationError):
        for error in e.errors or []:
            if "section variable" in str(error.get("msg", "")):
                key = ".".join(str(p) for p in error.get("loc", []) if str(p))
                return ConfigError("a variable naming a whole section (${section}) cannot be used inside a string "
                                   "or list; refer to a value (${section.key}) instead",
                                   path=path, line=_line(source, key), key=key)
    return None


def _line(source: Optional[ConfigSource], key: str) -> Optional[int]:
    return source.line_of(key) if source else None


def dotted_keys(config: Dict[str, Any], prefix: str = "") -> List[str]:
    """Every section and key of a nested config as a dotted path."""
    keys: List[str] = []
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        keys.append(path)
        if isinstance(value, dict):
            keys.extend(dotted_keys(value, path))
    return keys
