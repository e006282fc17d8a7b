"""Line-by-line reading of UTF-8 corpus files, with line numbers for error messages."""
from pathlib import Path
from typing import Iterator, Tuple, Union

from ...errors import DataError, PathError


def check_readable(path: Union[str, Path]) -> Path:
    path = Path(path)
    if not path.exists():
        raise PathError(f"input not found: {path}")
    if path.is_dir():
        raise PathError(f"expected a file, found a directory: {path}")
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        raise PathError(f"cannot read {path}: {e.strerror}") from None
    return path


def iter_lines(path: Union[str, Path]) -> Iterator[Tuple[int, str]]:
    """(line number, line without its newline). Text mode decodes in large chunks, which
    is fast; only when that fails is the file rescanned to find the bad line."""
    path = check_readable(path)
    lineno = 0
    try:
        with path.open("r", encoding="utf8", newline="") as file_:
            for lineno, line in enumerate(file_, 1):
                if lineno == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                yield lineno, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise _utf8_error(path) from None


def _utf8_error(path: Path) -> DataError:
    with path.open("rb") as file_:
        for lineno, raw in enumerate(file_, 1):
            try:
                raw.decode("utf8")
            except UnicodeDecodeError as e:
                return DataError(f"not valid UTF-8: byte 0x{raw[e.start]:02x} at column {e.start + 1} "
                                 "(expected a UTF-8 encoded text file)", path=str(path), line=lineno)
    return DataError("not valid UTF-8 (expected a UTF-8 encoded text file)", path=str(path))
