"""Reading a config file and parsing it: confection's parser, with its errors turned into
one-line ConfigErrors that name the file and line. Light (no registry): the config
commands read a config before they know whether they need thinc."""
import ast
import configparser
import re
import sys
from pathlib import Path
from typing import Optional, Union

from confection import Config, ConfigValidationError

from ..errors import ConfigError, PathError
from .interpolation import check_variables
from .schemas import TOP_LEVEL_SECTIONS
from .source import ConfigSource, attach_source
from .suggest import suggest

PathLike = Union[str, Path]
_SECTION_LINE = re.compile(r"^\s*\[[^\]]+\]\s*$")
# Deepest [a.b.c...] section accepted: spaCy configs use 6 levels; reading and
# filling walk sections recursively, so a limit keeps a bad file to one error line
MAX_SECTION_DEPTH = 100


def config_from_text(text: str, path: Optional[str] = None) -> Config:
    """loading.load_config_from_str(text, path=path) without overrides: parsed, every
    variable checked, uninterpolated, with its source attached."""
    source = ConfigSource.from_text(text, path)
    config = parse_config_text(text, source)
    check_variables(config, source=source)
    attach_source(config, source)
    return config


def read_config_text(path: PathLike) -> "tuple[str, str]":
    if str(path) == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(path)
    if not path.exists():
        raise PathError("config file not found", path=str(path))
    if path.is_dir():
        raise PathError("expected a config file, got a directory", path=str(path))
    try:
        text = path.read_text(encoding="utf8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"not a UTF-8 text file ({e.reason} at byte {e.start})", path=str(path)) from e
    except OSError as e:
        raise PathError(f"cannot read the config file: {e.strerror}", path=str(path)) from e
    text = text[1:] if text.startswith("\ufeff") else text  # a byte order mark (Windows editors) is not text
    if not text.strip():  # would otherwise train (or fill) an empty pipeline without a word
        raise ConfigError("the config file is empty: expected sections such as [nlp] and [components] "
                          "(`transfer-cli init-config` writes a starting point)", path=str(path))
    return text, str(path)


def parse_config_text(text: str, source: Optional[ConfigSource] = None) -> Config:
    """Parse without interpolating; syntax errors become ConfigErrors with the line."""
    source = source or ConfigSource.from_text(text)
    _check_depth(source)
    text, added = _add_top_level_sections(text)
    try:
        return Config().from_str(text, interpolate=False)
    except RecursionError:
        raise ConfigError("the config is nested too deeply to read", path=source.path) from None
    except configparser.DuplicateOptionError as e:
        raise ConfigError(f"setting '{e.option}' appears twice in [{e.section}]",
                          path=source.path, line=e.lineno - added, key=f"{e.section}.{e.option}") from e
    except configparser.DuplicateSectionError as e:
        raise ConfigError(f"section [{e.section}] appears twice", path=source.path, line=e.lineno - added) from e
    except ConfigValidationError as e:
        raise _syntax_error(e, source, added) from e


def _check_depth(source: ConfigSource) -> None:
    for section, line in source.sections.items():
        depth = section.count(".") + 1
        if depth > MAX_SECTION_DEPTH:
            shown = section if len(section) <= 40 else section[:37] + "..."
            raise ConfigError(f"section [{shown}] is nested {depth} levels deep; at most {MAX_SECTION_DEPTH} "
                              f"levels are supported", path=source.path, line=line)


def _add_top_level_sections(text: str) -> "tuple[str, int]":
    """A partial config may start at [components.ner] without a [components]
    header (as spaCy's docs excerpts do): add the known top-level headers it
    leaves out, in front. Returns the text and the number of lines added."""
    sections = [line.strip()[1:-1].strip() for line in text.splitlines() if _SECTION_LINE.match(line)]
    declared = set(sections)
    missing = []
    for section in sections:
        top = section.split(".")[0]
        if "." in section and top in TOP_LEVEL_SECTIONS and top not in declared and top not in missing:
            missing.append(top)
    if not missing:
        return text, 0
    return "".join(f"[{name}]\n" for name in missing) + text, len(missing)


def _syntax_error(e: ConfigValidationError, source: ConfigSource, added: int = 0) -> ConfigError:
    context = e.__context__
    if isinstance(context, configparser.MissingSectionHeaderError):
        return ConfigError(f"syntax error: a setting before the first [section] header: {context.line.strip()!r}",
                           path=source.path, line=context.lineno - added)
    if isinstance(context, configparser.ParsingError):
        line, content = context.errors[0] if context.errors else (None, "")
        try:  # configparser keeps the line as its repr
            content = ast.literal_eval(content)
        except (ValueError, SyntaxError):
            pass
        return ConfigError(f"syntax error: expected 'key = value' or '[section]', got {str(content).strip()!r}",
                           path=source.path, line=line - added if line is not None else None)
    for error in e.errors or []:
        loc = [str(p) for p in error.get("loc", [])]
        section = ".".join(loc)
        msg = str(error.get("msg", ""))
        if "is not defined" in msg:
            parent = ".".join(loc[:-1])
            known = [name for name in source.sections if name.count(".") < len(loc) - 1]
            hint = suggest(parent, known + list(TOP_LEVEL_SECTIONS), n=1, fmt="[{}]")
            return ConfigError(f"section [{section}] has no parent section [{parent}]"
                               + (f"; did you mean {hint}?" if hint else f": add [{parent}]"),
                               path=source.path, line=source.sections.get(section))
        if "conflicting" in msg:
            parent, child = ".".join(loc[:-1]), loc[-1]
            return ConfigError(f"'{child}' is both a setting in [{parent}] and a section [{section}]",
                               path=source.path, line=source.sections.get(section), key=section)
    return ConfigError(f"cannot parse the config: {_first_line(e)}", path=source.path)


def _first_line(e: Exception) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__
