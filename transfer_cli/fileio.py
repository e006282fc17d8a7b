"""Atomic file-system steps shared by everything that writes outputs."""
import os
import shutil
from pathlib import Path

from .errors import PathError


def replace_dir(source: Path, target: Path) -> None:
    """Rename the finished directory `source` to `target`; an existing `target` is moved
    aside first and removed after, so `target` is never half-written."""
    old = None
    if target.exists():
        if not target.is_dir():
            raise PathError("cannot write a directory here: a file of that name exists", path=str(target))
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
