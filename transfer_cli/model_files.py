"""Reading the files of a saved directory (a pipeline, a vectors table) that may
come from anywhere. A symbolic link may not lead outside the directory, only
regular files are read (never a device or FIFO, which can be endless or block),
reads are bounded, and an empty, oversized or undecodable file is one error that
names it. Errors never quote more than a short excerpt of a file."""
import hashlib
import os
import stat
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import srsly

from .errors import DataError, PathError

MiB = 1024 * 1024
TEXT_LIMIT = 16 * MiB      # config.cfg, cfg.json and other settings files
JSON_LIMIT = 256 * MiB     # meta.json (labels, scores), a component's cfg.json
STRINGS_LIMIT = 4096 * MiB  # vocab/strings.json of a large vocabulary

PathLike = Union[str, Path]


def check_saved_dir(root: PathLike) -> None:
    """Refuse a directory in which a symbolic link resolves outside it, or an entry is
    neither a regular file nor a directory. Run before reading anything from it."""
    root = Path(root)
    try:
        real_root = root.resolve(strict=True)
    except OSError as e:
        raise PathError(f"cannot open the directory: {e.strerror or e}", path=str(root)) from None
    if not real_root.is_dir():
        raise PathError("expected a directory", path=str(root))
    for dirpath, dirnames, filenames in os.walk(real_root, onerror=_raise_walk_error):
        for name in dirnames + filenames:
            _check_entry(Path(dirpath) / name, real_root, root)


def _raise_walk_error(error: OSError) -> None:
    raise PathError(f"cannot list the directory: {error.strerror or error}", path=str(error.filename)) from None


def _check_entry(path: Path, real_root: Path, root: Path) -> None:
    shown = str(root / path.relative_to(real_root))
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        target = path.resolve()
        if target != real_root and real_root not in target.parents:
            raise PathError("a symbolic link that leads outside the directory: refusing to read it", path=shown)
        try:
            mode = os.stat(path).st_mode
        except OSError:  # a dangling link inside the directory: reported when something reads it
            return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise PathError("not a regular file (a device, FIFO or socket): refusing to read it", path=shown)


def read_file_bytes(path: PathLike, *, limit: Optional[int] = None, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes. A missing file, a non-regular
    file and an oversized file are PathErrors; an empty file is a DataError."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking, so a FIFO cannot stall the open
    except FileNotFoundError:
        raise PathError(f"the {what} is missing", path=str(path)) from None
    except OSError as e:
        raise PathError(f"cannot read the {what}: {e.strerror or e}", path=str(path)) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PathError(f"the {what} is not a regular file (a directory, device or FIFO): refusing to read it",
                            path=str(path))
        if limit is not None and info.st_size > limit:
            raise PathError(f"the {what} is {info.st_size:,} bytes, more than such a file can be "
                            f"({limit:,}): refusing to read it", path=str(path))
        expected = info.st_size
        data = f.read(expected + 1)  # never more than the file held when it was opened
    if len(data) != expected:
        raise PathError(f"the {what} changed while it was read", path=str(path))
    if not data:
        raise DataError(f"the {what} is empty (an interrupted save?)", path=str(path))
    return data


def read_file_text(path: PathLike, *, limit: int = TEXT_LIMIT, what: str = "file") -> str:
    data = read_file_bytes(path, limit=limit, what=what)
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as e:
        raise DataError(f"the {what} is not UTF-8 text (bad byte at offset {e.start})", path=str(path)) from None
    if not text.strip():
        raise DataError(f"the {what} is empty (an interrupted save?)", path=str(path))
    return text


def read_file_json(path: PathLike, *, limit: int = JSON_LIMIT, what: str = "file", expect: Optional[type] = None
                   ) -> Any:
    """Parsed JSON; `expect` (dict or list) is the type the top level must have."""
    text = read_file_text(path, limit=limit, what=what)
    try:
        data = srsly.json_loads(text)
    except ValueError as e:
        raise DataError(f"the {what} is not valid JSON (truncated or damaged?): {excerpt(str(e))}",
                        path=str(path)) from None
    if expect is not None and not isinstance(data, expect):
        kind = {dict: "an object", list: "a list"}.get(expect, expect.__name__)
        raise DataError(f"the {what} should hold {kind} in JSON, not {type(data).__name__}: damaged?",
                        path=str(path))
    return data


def read_string_list(path: PathLike, *, what: str = "string table") -> List[str]:
    """vocab/strings.json: a JSON list of strings."""
    strings = read_file_json(path, limit=STRINGS_LIMIT, what=what, expect=list)
    if not all(isinstance(s, str) for s in strings):
        raise DataError(f"the {what} should be a JSON list of strings: damaged?", path=str(path))
    return strings


def check_regular_file(path: PathLike, *, what: str = "file") -> int:
    """The size of a regular file (for files read by memory-mapping), or a PathError."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PathError(f"the {what} is missing", path=str(path)) from None
    except OSError as e:
        raise PathError(f"cannot read the {what}: {e.strerror or e}", path=str(path)) from None
    if not stat.S_ISREG(info.st_mode):
        raise PathError(f"the {what} is not a regular file (a directory, device or FIFO): refusing to read it",
                        path=str(path))
    return info.st_size


def excerpt(text: str, length: int = 80) -> str:
    """At most `length` characters of `text` on one line, control characters escaped."""
    short = text[:length] + ("..." if len(text) > length else "")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in short)


# -- checksums of a saved directory's files ----------------------------------------------------------
# meta.json's key for the SHA-256 of every file a pipeline was saved with but config.cfg
# (which has its own key) and meta.json, by path relative to the directory. A garbled
# weights or vectors file still unpacks (floats are floats) and predicts garbage: only a
# checksum tells it from the file that was saved.
FILE_CHECKSUMS_KEY = "file_sha256"
UNCHECKED_FILES = ("config.cfg", "meta.json")


def file_sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(root: PathLike) -> Dict[str, str]:
    """{relative POSIX path: SHA-256} of the files under `root` (a directory being saved)."""
    root = Path(root)
    sums = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            relative = (Path(dirpath) / name).relative_to(root).as_posix()
            if relative not in UNCHECKED_FILES:
                sums[relative] = file_sha256(Path(dirpath) / name)
    return sums


def verify_file_checksums(root: PathLike, meta: Dict[str, Any], *, meta_path: Optional[PathLike] = None) -> None:
    """Check every file meta.json lists against its SHA-256: a missing file is a PathError,
    a different one a DataError, each naming the file. Run after check_saved_dir(root).
    Directories saved before checksums were recorded (or assembled by hand) have none:
    they load unchecked, as they always did."""
    root = Path(root)
    recorded = meta.get(FILE_CHECKSUMS_KEY)
    if recorded is None:
        return  # no checksums recorded (saved by an earlier version): nothing to check against
    shown_meta = str(meta_path if meta_path is not None else root / "meta.json")
    if not isinstance(recorded, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in recorded.items()):
        raise DataError(f"'{FILE_CHECKSUMS_KEY}' should map file names to SHA-256 strings: damaged?",
                        path=shown_meta)
    for relative, expected in sorted(recorded.items()):
        parts = Path(relative).parts
        if Path(relative).is_absolute() or not parts or ".." in parts or "\\" in relative:
            raise DataError(f"'{FILE_CHECKSUMS_KEY}' names a file outside the directory ({excerpt(relative)}): "
                            f"damaged or crafted", path=shown_meta)
        path = root / relative
        if not path.exists() and not path.is_symlink():
            raise PathError("the file is missing (meta.json lists it: an incomplete copy of the pipeline?)",
                            path=str(path))
        check_regular_file(path)
        if file_sha256(path) != expected:
            raise DataError("the file does not match its SHA-256 in meta.json: truncated, damaged or changed "
                            f"after saving (copy the directory again, or save it again; to use it as it is, "
                            f"remove '{FILE_CHECKSUMS_KEY}' from meta.json)", path=str(path))
