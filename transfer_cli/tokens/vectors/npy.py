"""Writing a float32 `.npy` file row block by row block, without holding the table in
memory, and reading an `.npy` header (shape, dtype, data offset).

The writer reserves a fixed-size header and rewrites it with the final shape on
close, so a table whose row count is unknown until the end of the input (GloVe files
have no header) is still written in one pass. The files are plain `.npy` (format
1.0): `numpy.load` reads them, memory-mapped or not, with allow_pickle=False.
`load_npy` reads one from a saved directory, refusing a truncated or damaged file."""
import math
from pathlib import Path
from typing import BinaryIO, Optional, Tuple

import numpy

from ...errors import DataError
from ...model_files import check_regular_file, excerpt

_MAGIC = b"\x93NUMPY\x01\x00"
_HEADER_BYTES = 128  # magic + length field + dict, padded: plenty for a 2-d shape


def _header(shape: Tuple[int, ...], descr: str) -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    body_len = _HEADER_BYTES - len(_MAGIC) - 2
    text = text.ljust(body_len - 1) + "\n"
    if len(text) != body_len:
        raise ValueError(f"npy header too long for shape {shape}")
    return _MAGIC + body_len.to_bytes(2, "little") + text.encode("latin1")


class NpyWriter:
    """Append (k, dims) float32 blocks to a 2-d `.npy` file; close() fixes the shape."""

    def __init__(self, path: Path, dims: int, dtype: str = "<f4") -> None:
        self.path = Path(path)
        self.dims = dims
        self.dtype = numpy.dtype(dtype)
        self.rows = 0
        self._file: Optional[BinaryIO] = open(self.path, "wb")
        self._file.write(_header((0, dims), self.dtype.str))

    def append(self, block: numpy.ndarray) -> None:
        if self._file is None:
            raise ValueError("NpyWriter is closed")
        block = numpy.ascontiguousarray(block, dtype=self.dtype)
        if block.ndim != 2 or block.shape[1] != self.dims:
            raise ValueError(f"expected rows of width {self.dims}, got shape {block.shape}")
        self._file.write(block.tobytes())
        self.rows += block.shape[0]

    def close(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        self._file.write(_header((self.rows, self.dims), self.dtype.str))
        self._file.close()
        self._file = None

    def __enter__(self) -> "NpyWriter":
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def truncate_rows(path: Path, rows: int) -> None:
    """Keep the first `rows` rows of a 2-d C-order `.npy` file, in place."""
    shape, dtype, offset = read_header(path)
    if rows > shape[0]:
        raise ValueError(f"{path} has {shape[0]} rows, cannot keep {rows}")
    row_bytes = dtype.itemsize * (shape[1] if len(shape) > 1 else 1)
    with open(path, "r+b") as f:
        f.truncate(offset + rows * row_bytes)
        if offset == _HEADER_BYTES:
            f.seek(0)
            f.write(_header((rows,) + tuple(shape[1:]), dtype.str))
            return
    # a header of another size (a file numpy wrote): rewrite the file
    data = numpy.load(path, mmap_mode="r")[:rows]
    tmp = Path(str(path) + ".tmp")
    numpy.save(tmp, numpy.asarray(data), allow_pickle=False)
    del data
    Path(str(tmp) + ".npy").replace(path)


def read_header(path: Path) -> Tuple[Tuple[int, ...], numpy.dtype, int]:
    """(shape, dtype, data offset) of a C-order `.npy` file."""
    with open(path, "rb") as f:
        version = numpy.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = numpy.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = numpy.lib.format.read_array_header_2_0(f)
        if fortran:
            raise ValueError(f"{path}: Fortran-order arrays are not supported")
        return tuple(shape), dtype, f.tell()


def load_npy(path: Path, *, mmap: bool = False, what: str = "array file") -> numpy.ndarray:
    """numpy.load (allow_pickle=False) of a regular `.npy` file whose size is the one its
    header describes; anything else is a DataError naming the file."""
    size = check_regular_file(path, what=what)
    if size == 0:
        raise DataError(f"the {what} is empty (an interrupted save?)", path=str(path))
    try:
        shape, dtype, offset = read_header(path)
    except (ValueError, EOFError, OSError) as e:
        raise DataError(f"the {what} is not a readable .npy file (empty, truncated or damaged?): "
                        f"{excerpt(str(e))}", path=str(path)) from None
    if dtype.hasobject:
        raise DataError(f"the {what} holds Python objects, which are never loaded", path=str(path))
    expected = offset + math.prod(shape) * dtype.itemsize
    if size != expected:
        raise DataError(f"the {what} is {size:,} bytes but its header describes {expected:,}: truncated or damaged",
                        path=str(path))
    try:
        return numpy.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, EOFError, OSError) as e:
        raise DataError(f"cannot read the {what}: {excerpt(str(e))}", path=str(path)) from None
