"""Reading a user's text files line by line: the one reader every input path goes
through (corpus readers, `apply`'s .txt and .jsonl), so all of them treat a file alike:
UTF-8 only (a bad byte is an error naming its line and column), a byte order mark at
the start is dropped (editors on Windows write one; it is not text), and a line ends at
LF or CRLF (the CR is not part of the text). JSON lines are parsed by `parse_json_line`:
invalid JSON, deep nesting and lone surrogates (`"\\ud800"`, which json.loads accepts
but no UTF-8 output can hold) are errors naming the line."""
import json
from pathlib import Path
from typing import Any, Iterator, Tuple, Union

from .errors import DataError, PathError

BOM = "\ufeff"


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
                if lineno == 1 and line.startswith(BOM):
                    line = line[1:]
                yield lineno, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise _utf8_error(path) from None
    except OSError as e:  # e.g. EISDIR/EIO while reading
        raise PathError(f"cannot read {path}: {e.strerror}") from None


def _utf8_error(path: Path) -> DataError:
    with path.open("rb") as file_:
        for lineno, raw in enumerate(file_, 1):
            try:
                raw.decode("utf8")
            except UnicodeDecodeError as e:
                return DataError(f"not valid UTF-8: byte 0x{raw[e.start]:02x} at column {e.start + 1} "
                                 "(expected a UTF-8 encoded text file)", path=str(path), line=lineno)
    return DataError("not valid UTF-8 (expected a UTF-8 encoded text file)", path=str(path))


def parse_json_line(line: str, *, path: Union[str, Path], line_no: int) -> Any:
    """json.loads of one line (the stdlib's: exact floats) with errors naming the line."""
    try:
        value = json.loads(line)
    except ValueError as e:
        raise DataError(f"invalid JSON ({e}); expected one JSON object per line", path=str(path),
                        line=line_no) from None
    except RecursionError:
        raise DataError("JSON nested too deeply to read; expected one flat JSON object per line", path=str(path),
                        line=line_no) from None
    if "\\u" in line or "\\U" in line:  # only an escape can make a lone surrogate
        _check_no_surrogates(value, path, line_no)
    return value


def _check_no_surrogates(value: Any, path: Union[str, Path], line_no: int) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf8")
    except UnicodeEncodeError as e:
        bad = e.object[e.start:e.end]
        raise DataError(f"a lone surrogate escape ({ascii(bad)[1:-1]}) is not a character: expected text that "
                        f"UTF-8 can hold (a surrogate pair or the character itself)", path=str(path),
                        line=line_no) from None
