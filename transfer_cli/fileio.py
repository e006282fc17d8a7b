"""Atomic file-system steps shared by everything that writes outputs.

Every output appears complete or not at all: it is written under a hidden name beside
its target (`.NAME.tmp-PID-RANDOM`) and renamed into place. The hidden files and
directories are created as any file is (0666/0777 less the umask), not 0600/0700 as
`tempfile`'s are, so outputs get ordinary modes. The writer's PID in the name lets a
later run remove what a killed one left behind (`recover`).

Two rules keep a user's data safe: a directory is replaced only when it is empty or
is a pipeline directory transfer-cli wrote (`dir_problem`), and an output file is
never an input, nor replaced unless the caller was told to (`check_output_file`)."""
import json
import os
import re
import secrets
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator, List, Optional, Tuple, Union

from .errors import PathError

PathLike = Union[str, Path]

# Every pipeline directory this tool writes has a meta.json with this key (the version
# that wrote it): the mark that lets a later run replace the directory.
OWNER_KEY = "transfer_cli_version"
# What a pipeline directory holds besides one folder per component (meta.json "components").
PIPELINE_ENTRIES = ("config.cfg", "meta.json", "vocab", "tokenizer")
# meta.json's list of what another kind of directory this tool writes holds (e.g. a
# training checkpoint): those names are ours too.
ENTRIES_KEY = "entries"
# Hidden siblings of a target: being written (tmp), set aside during a swap (old),
# being deleted after a swap (del).
_HIDDEN = re.compile(r"^\.(?P<name>.+)\.(?P<tag>tmp|old|del)-(?P<pid>\d+)-[0-9a-f]+$")
# An `.old` directory exists for two renames' time while its writer lives: older than
# this, it was abandoned even if its PID now belongs to another process.
_ABANDONED_AFTER_S = 60.0


# -- files ------------------------------------------------------------------------------------------
@contextmanager
def atomic_file(path: PathLike, *, binary: bool = False, encoding: str = "utf8") -> Iterator[IO]:
    """Yield an open file; when the block ends without error it replaces `path`.
    On error (or Ctrl-C) nothing is left: no partial file, no new parent folders."""
    path = Path(path)
    if path.is_dir():
        raise PathError("is a directory: expected a file path", path=str(path))
    created = _make_parents(path.parent, path)
    recover(path)
    tmp = _hidden_sibling(path, "tmp")
    try:
        # O_EXCL on a fresh random name; mode 0o666 so the umask decides, as for any file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        _remove_created(created)
        raise PathError(f"cannot write here: {e.strerror}", path=str(path)) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": encoding})) as f:
            yield f
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise PathError(f"cannot write here: {e.strerror}", path=str(path)) from None
    except BaseException:
        _unlink(tmp)
        _remove_created(created)
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (see atomic_file)."""
    try:
        with atomic_file(path, binary=True) as f:
            f.write(data)
    except OSError as e:  # e.g. disk full while writing
        raise PathError(f"cannot write here: {e.strerror}", path=str(path)) from None


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically (see atomic_file)."""
    write_bytes_atomic(path, text.encode("utf8"))


# -- directories ------------------------------------------------------------------------------------
@contextmanager
def atomic_dir(target: PathLike) -> Iterator[Path]:
    """Yield a new empty directory to fill; when the block ends without error it
    replaces `target`, which must be absent, empty, or a pipeline directory this tool
    wrote (checked first, before anything is written). On error nothing is left."""
    target = Path(target)
    recover(target)
    problem = dir_problem(target)
    if problem:
        raise PathError(problem, path=str(target))
    with scratch_dir(target) as tmp:
        yield tmp
        replace_dir(tmp, target)


@contextmanager
def scratch_dir(near: PathLike) -> Iterator[Path]:
    """A new hidden directory beside `near` (`.NAME.tmp-PID-RANDOM`), on the same file
    system so what is built in it can be renamed to `near` or beside it; removed when
    the block ends. Leftovers of killed runs beside `near` are removed first; on error,
    the parent folders created for it are removed too."""
    near = Path(near)
    recover(near)
    created = _make_parents(near.parent, near)
    tmp = _hidden_sibling(near, "tmp")
    try:
        os.mkdir(tmp, 0o777)  # the umask decides the mode, as for any directory
    except OSError as e:
        _remove_created(created)
        raise PathError(f"cannot write here: {e.strerror}", path=str(near)) from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_created(created)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(source: Path, target: Path) -> None:
    """Rename the finished directory `source` to `target`.

    An existing `target` is renamed aside to `.NAME.old-…`, `source` renamed into place,
    then the old one renamed to `.NAME.del-…` and deleted. Why this design: renames are
    atomic and portable (a symlink swap would leave `model-best` a link, which `cp -r`
    and archives copy as a dangling link), and at every instant a complete directory is
    at `target` or at the `.old` name: if the process dies between the two renames,
    `recover` (run before every write) renames `.old` back. A `.del` directory may be
    half-deleted and is never restored. Ctrl-C and SIGTERM wait until the swap is over."""
    source, target = Path(source), Path(target)
    with signals_deferred():
        problem = dir_problem(target)
        if problem:
            raise PathError(problem, path=str(target))
        if not os.path.lexists(target):
            _rename(source, target)
            return
        old = _hidden_sibling(target, "old")
        _rename(target, old)
        try:
            _rename(source, target)
        except BaseException:
            os.replace(old, target)  # put the previous directory back
            raise
        trash = _hidden_sibling(target, "del")
        os.replace(old, trash)
        shutil.rmtree(trash, ignore_errors=True)


def dir_problem(target: PathLike) -> Optional[str]:
    """Why `target` may not be replaced by a directory this tool writes, or None when
    it may: it does not exist, is empty, or is a pipeline directory transfer-cli wrote
    that holds nothing else."""
    target = Path(target)
    if os.path.islink(target):
        return "is a symbolic link, not a directory transfer-cli wrote: it was left as it is; remove it or " \
               "choose another path"
    if not target.exists():
        return None
    if not target.is_dir():
        return "a file of that name exists: choose another path for the directory"
    try:
        entries = sorted(p.name for p in target.iterdir())
    except OSError as e:
        return f"cannot read this directory: {e.strerror}"
    if not entries:
        return None
    meta = _read_meta(target / "meta.json")
    if meta is None or OWNER_KEY not in meta:
        return "this directory was not written by transfer-cli (no transfer-cli meta.json in it), so it was " \
               "not replaced: remove it yourself or choose another path"
    ours = set(PIPELINE_ENTRIES) | {str(name) for name in meta.get("components") or ()} \
        | {str(name) for name in meta.get(ENTRIES_KEY) or ()}
    foreign = [name for name in entries if name not in ours]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        return f"holds files transfer-cli did not write ({shown}), so it was not replaced: move them out or " \
               f"choose another path"
    return None


def _read_meta(path: Path) -> Optional[dict]:
    try:
        meta = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _rename(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as e:
        raise PathError(f"cannot write here: {e.strerror}", path=str(target)) from None


# -- leftovers of killed runs -----------------------------------------------------------------------
def recover(target: PathLike) -> None:
    """Undo what killed writers of `target` left beside it: when `target` is missing,
    rename the newest `.old` directory back (it is complete: the swap sets aside a
    finished directory); then remove the writers' `.tmp`, `.old` and `.del` leftovers.
    Leftovers of a live process are left alone (it may still be writing)."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    leftovers = [entry for entry in _hidden_siblings(parent, target.name) if _abandoned(*entry)]
    if not os.path.lexists(target):
        olds = [path for path, tag, _ in leftovers if tag == "old" and path.is_dir()]
        if olds:
            newest = max(olds, key=lambda p: p.stat().st_ctime)
            try:
                os.replace(newest, target)
            except OSError:
                pass
    for path, _, _ in leftovers:
        if os.path.lexists(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                _unlink(path)


def _hidden_siblings(parent: Path, name: str) -> Iterator[Tuple[Path, str, int]]:
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        match = _HIDDEN.match(entry.name)
        if match and match["name"] == name:
            yield Path(entry.path), match["tag"], int(match["pid"])


def _abandoned(path: Path, tag: str, pid: int) -> bool:
    if pid == os.getpid() or not _alive(pid):
        return True
    if tag == "old":
        try:
            # a rename sets st_ctime: how long ago the swap set this directory aside
            return path.stat().st_ctime < time.time() - _ABANDONED_AFTER_S
        except OSError:
            return False
    return False


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: never clean
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


# -- checks before writing --------------------------------------------------------------------------
def check_output_file(output: PathLike, *, inputs: Iterable[PathLike] = (), force: bool = False) -> None:
    """Refuse (PathError) an output file that is an input, lies inside an input
    directory, is a directory, or exists (unless `force`). Paths are compared resolved,
    so a symlink or a relative path to an input counts as that input."""
    output = Path(output)
    for source in inputs:
        relation = _relation(output, Path(source))
        if relation == "same":
            which = "the input file" if Path(source) == output else f"the input file {source} (the same file)"
            raise PathError(f"this is {which}, which the output would replace: choose another output file",
                            path=str(output))
        if relation == "inside":
            raise PathError(f"the output lies inside the input directory {source}, which a later run would read "
                            f"again: write it elsewhere", path=str(output))
    if output.is_dir():
        raise PathError("is a directory: expected a file path", path=str(output))
    if os.path.lexists(output) and not force:
        raise PathError("the output file exists: pass --force to overwrite it", path=str(output))
    check_writable(output)


def check_writable(target: PathLike) -> None:
    """Refuse (PathError) a target whose nearest existing folder cannot be written
    (read-only, or not ours): checked before a long run, not when its output is saved."""
    target = Path(target)
    current = target.parent if str(target.parent) else Path(".")
    while not os.path.isdir(current) and current.parent != current:
        current = current.parent
    if not os.access(current, os.W_OK | os.X_OK):
        shown = "" if current == target.parent else f" (the nearest existing folder, {current})"
        raise PathError(f"cannot write here: the folder{shown} is read-only or not yours: choose another output",
                        path=str(target))


def _relation(output: Path, source: Path) -> Optional[str]:
    """"same" when `output` is the file or directory `source`, "inside" when it lies
    within the directory `source`, else None."""
    out, src = output.resolve(), source.resolve()
    if out == src:
        return "same"
    try:
        if output.exists() and source.exists() and os.path.samefile(output, source):  # e.g. a hard link
            return "same"
    except OSError:
        pass
    if src.is_dir() and src in out.parents:
        return "inside"
    return None


# -- helpers ----------------------------------------------------------------------------------------
def _hidden_sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{tag}-{os.getpid()}-{secrets.token_hex(4)}")


def _make_parents(directory: Path, target: Path) -> List[Path]:
    """Create the missing folders of `directory`; returns them (outermost first) so
    that a failed write can remove them again."""
    missing: List[Path] = []
    current = directory if str(directory) else Path(".")
    while not current.exists():
        if os.path.islink(current):
            raise PathError(f"{current} is a broken symbolic link", path=str(target))
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    if current.exists() and not current.is_dir():
        raise PathError(f"{current} is a file, not a folder", path=str(target))
    created: List[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            _remove_created(created)
            raise PathError(f"cannot create the folder {folder}: {e.strerror}", path=str(target)) from None
        created.append(folder)
    return created


def _remove_created(created: List[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()  # only if still empty
        except OSError:
            break


def _unlink(path: PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM until the block is over, then deliver them to
    the handlers that were in place. Only the main thread can set handlers; elsewhere
    the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: List[int] = []
    wanted = [sig for sig in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if sig]
    previous = {}
    for sig in wanted:
        previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)
