"""Writing configs as fill-config and init-config write them (variables kept), and the
diff fill-config shows."""
import difflib
import sys
from pathlib import Path
from typing import Union

from confection import Config

from ..fileio import write_text_atomic

PathLike = Union[str, Path]


def config_to_str(config: Config) -> str:
    """The text fill-config and init-config write: variables kept, trailing newline."""
    return Config(config, is_interpolated=False).to_str(interpolate=False) + "\n"


def write_config(config: Config, path: PathLike) -> None:
    """Write a config to `path` ("-": stdout). The file is written to a temporary
    sibling and renamed into place, so no half-written config is left behind."""
    text = config_to_str(config)
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text_atomic(Path(path), text)


def config_diff(before: str, after: str, *, before_name: str = "before", after_name: str = "after") -> str:
    """A unified diff of two config texts ('' when equal)."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=before_name, tofile=after_name)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
