"""Vectors: a float32 table whose rows are looked up by 64-bit keys (string hashes).

Several keys may share a row (after pruning, a removed word points at its nearest
kept neighbour). Keys live in a sorted uint64 array with a parallel array of rows,
so a batch of keys is found with one `searchsorted`; keys added one at a time wait
in a small dict until the next batch lookup merges them in. Each row also records
the key it was added for (its "own" key), which `most_similar` returns.

On disk (a directory): `vectors.npy` (rows x dims, float32), `keys.npy` (sorted
uint64), `rows.npy` (int64, the row of each key), `row_keys.npy` (uint64, each row's
own key, 0 if none) and `cfg.json` (name, mode, key attribute, floret settings).
Only `.npy` (allow_pickle=False) and JSON: loading cannot run code. The table loads
memory-mapped; it is copied into memory the first time it is changed.

A floret table (mode "floret") has no keys: every string gets the mean of its
hashed character n-gram rows (see floret.py).
"""
import os
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy
import srsly

from ...errors import DataError, PathError
from ...model_files import TEXT_LIMIT, read_file_json
from ..strings import hash_string
from .floret import FloretSettings, floret_vectors
from .hashing import hash_strings
from .npy import load_npy, read_header
from .prune import nearest_rows

Key = Union[int, str]
MODES = ("default", "floret")
FORMAT_VERSION = 1


def _key(key: Key) -> int:
    if isinstance(key, str):
        return hash_string(key)
    return int(key)


def _keys_array(keys: Iterable[Key]) -> numpy.ndarray:
    """uint64 keys of hashes and/or strings (strings hashed in one batch)."""
    if isinstance(keys, numpy.ndarray):
        return keys.astype(numpy.uint64, copy=False)
    keys = list(keys)
    if not any(isinstance(k, str) for k in keys):
        return numpy.asarray(keys, dtype=numpy.uint64)
    out = numpy.zeros(len(keys), dtype=numpy.uint64)
    text = [i for i, k in enumerate(keys) if isinstance(k, str)]
    out[text] = hash_strings([keys[i] for i in text])
    numbers = [i for i, k in enumerate(keys) if not isinstance(k, str)]
    if numbers:
        out[numbers] = numpy.asarray([keys[i] for i in numbers], dtype=numpy.uint64)
    return out


class Vectors:
    def __init__(self, *, data: Optional[numpy.ndarray] = None, keys: Optional[Sequence[Key]] = None,
                 rows: Optional[Sequence[int]] = None, shape: Optional[Tuple[int, int]] = None, name: str = "",
                 mode: str = "default", attr: str = "ORTH", floret: Optional[FloretSettings] = None) -> None:
        """data: the (rows, dims) table (or `shape` for zeros). keys: the keys of the
        rows in order (keys[i] -> row i), or, with `rows`, keys[i] -> rows[i]."""
        if mode not in MODES:
            raise ValueError(f"Vectors mode must be one of {MODES}, got {mode!r}")
        if mode == "floret" and floret is None:
            raise ValueError("a floret table needs its FloretSettings")
        if data is None:
            data = numpy.zeros(shape or (0, 0), dtype=numpy.float32)
        elif data.ndim != 2:
            raise ValueError(f"Vectors data must be 2-d, got shape {data.shape}")
        elif data.dtype != numpy.float32:
            data = numpy.asarray(data, dtype=numpy.float32)
        self.name = name
        self.mode = mode
        self.attr = attr
        self.floret = floret
        self._data = data
        self._n_rows = data.shape[0]
        self._keys = numpy.zeros(0, dtype=numpy.uint64)
        self._key_rows = numpy.zeros(0, dtype=numpy.int64)
        self._row_keys = numpy.zeros(data.shape[0], dtype=numpy.uint64)
        self._pending: Dict[int, int] = {}
        if keys is not None:
            if mode == "floret":
                raise ValueError("a floret table has no keys")
            self._set_keys(keys, rows)

    # -- keys ------------------------------------------------------------------------------------
    def _set_keys(self, keys: Sequence[Key], rows: Optional[Sequence[int]]) -> None:
        key_array = _keys_array(keys)
        row_array = (numpy.arange(len(key_array), dtype=numpy.int64) if rows is None
                     else numpy.asarray(rows, dtype=numpy.int64))
        if len(row_array) != len(key_array):
            raise ValueError(f"{len(key_array)} keys but {len(row_array)} rows")
        if len(row_array) and (row_array.min() < 0 or row_array.max() >= self._n_rows):
            raise ValueError(f"a row index is outside the table's {self._n_rows} rows")
        # the first occurrence of a key wins (as the first line of a file does)
        uniq, first = numpy.unique(key_array, return_index=True)
        self._keys = uniq
        self._key_rows = row_array[first]
        # a row's own key: the first key pointing at it
        order = numpy.sort(first)
        owned_rows = row_array[order]
        _, first_per_row = numpy.unique(owned_rows, return_index=True)
        self._row_keys[owned_rows[first_per_row]] = key_array[order[first_per_row]]

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        new_keys = numpy.fromiter(self._pending.keys(), dtype=numpy.uint64, count=len(self._pending))
        new_rows = numpy.fromiter(self._pending.values(), dtype=numpy.int64, count=len(self._pending))
        keys = numpy.concatenate([self._keys, new_keys])
        rows = numpy.concatenate([self._key_rows, new_rows])
        order = numpy.argsort(keys, kind="stable")
        self._keys, self._key_rows = keys[order], rows[order]
        self._pending = {}

    def _lookup(self, key: int) -> int:
        row = self._pending.get(key)
        if row is not None:
            return row
        i = int(numpy.searchsorted(self._keys, numpy.uint64(key)))
        if i < len(self._keys) and int(self._keys[i]) == key:
            return int(self._key_rows[i])
        return -1

    def find(self, *, key: Optional[Key] = None, keys: Optional[Iterable[Key]] = None
             ) -> Union[int, numpy.ndarray]:
        """The row of `key` (-1 if absent), or an int64 array of rows for `keys`."""
        if self.mode == "floret":
            raise ValueError("a floret table has no keys: use get_batch(words)")
        if key is not None:
            return self._lookup(_key(key))
        if keys is None:
            raise ValueError("find() needs key= or keys=")
        query = _keys_array(keys).ravel()
        self._merge_pending()
        if not len(self._keys):
            return numpy.full(len(query), -1, dtype=numpy.int64)
        pos = numpy.searchsorted(self._keys, query)
        pos[pos == len(self._keys)] = 0
        found = self._keys[pos] == query
        return numpy.where(found, self._key_rows[pos], -1)

    def __contains__(self, key: Key) -> bool:
        if self.mode == "floret":
            return True
        return self._lookup(_key(key)) >= 0

    def __getitem__(self, key: Key) -> numpy.ndarray:
        if self.mode == "floret":
            if not isinstance(key, str):
                raise KeyError("a floret table is looked up by string, e.g. vectors['apple']")
            return self.get_batch([key])[0]
        row = self._lookup(_key(key))
        if row < 0:
            raise KeyError(f"key {key!r} is not in the vectors table")
        return self.data[row]

    def __setitem__(self, key: Key, vector: numpy.ndarray) -> None:
        """Set the vector of a key: its row is overwritten (shared rows change for
        every key on them) or a new row is added."""
        row = self._lookup(_key(key))
        if row < 0:
            self.add(key, vector=vector)
        else:
            self._writable()[row] = vector

    def add(self, key: Key, *, vector: Optional[numpy.ndarray] = None, row: Optional[int] = None) -> int:
        """Map `key` to `row`, or to a new row holding `vector`; returns the row."""
        if self.mode == "floret":
            raise ValueError("a floret table has no keys: its vectors come from the words' n-grams")
        k = _key(key)
        if row is None and vector is None:
            raise ValueError("add() needs a vector or a row")
        if vector is not None:
            vector = numpy.asarray(vector, dtype=numpy.float32).ravel()
            if self._n_rows == 0 and self.dims == 0:
                self._data = numpy.zeros((0, len(vector)), dtype=numpy.float32)
            if len(vector) != self.dims:
                raise ValueError(f"vector of width {len(vector)} for a table of width {self.dims}")
            if row is None:
                row = self._append_row()
        if not 0 <= row < self._n_rows:
            raise ValueError(f"row {row} is outside the table's {self._n_rows} rows")
        if vector is not None:
            self._writable()[row] = vector
        existing = self._lookup(k)
        if existing >= 0 and k not in self._pending:
            self._key_rows[numpy.searchsorted(self._keys, numpy.uint64(k))] = row
        else:
            self._pending[k] = row
        if self._row_keys[row] == 0:
            self._row_keys[row] = k
        return row

    def _append_row(self) -> int:
        capacity = self._data.shape[0]
        if self._n_rows == capacity:
            grown = numpy.zeros((max(16, capacity * 2), self.dims), dtype=numpy.float32)
            grown[:self._n_rows] = self._data[:self._n_rows]
            self._data = grown
            row_keys = numpy.zeros(len(grown), dtype=numpy.uint64)
            row_keys[:self._n_rows] = self._row_keys[:self._n_rows]
            self._row_keys = row_keys
        self._n_rows += 1
        return self._n_rows - 1

    def _writable(self) -> numpy.ndarray:
        if not self._data.flags.writeable:  # memory-mapped read-only: copy on first write
            self._data = numpy.array(self._data[:self._n_rows])
        return self._data

    # -- table -----------------------------------------------------------------------------------
    @property
    def data(self) -> numpy.ndarray:
        return self._data[:self._n_rows]

    @property
    def shape(self) -> Tuple[int, int]:
        return (self._n_rows, self.dims)

    @property
    def dims(self) -> int:
        return int(self._data.shape[1])

    @property
    def n_keys(self) -> int:
        self._merge_pending()
        return len(self._keys)

    def __len__(self) -> int:
        return self._n_rows

    @property
    def is_empty(self) -> bool:
        return self._n_rows == 0

    def keys(self) -> numpy.ndarray:
        self._merge_pending()
        return self._keys.copy()

    def values(self) -> Iterator[numpy.ndarray]:
        return iter(self.data)

    def items(self) -> Iterator[Tuple[int, numpy.ndarray]]:
        self._merge_pending()
        data = self.data
        return ((int(k), data[r]) for k, r in zip(self._keys.tolist(), self._key_rows.tolist()))

    @property
    def key2row(self) -> Dict[int, int]:
        self._merge_pending()
        return dict(zip(self._keys.tolist(), self._key_rows.tolist()))

    def key_rows(self) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """(keys, rows): sorted keys and the row of each (copies)."""
        self._merge_pending()
        return self._keys.copy(), self._key_rows.copy()

    def row_keys(self) -> numpy.ndarray:
        """uint64 (rows,): the key each row was added for (0 if none)."""
        return self._row_keys[:self._n_rows].copy()

    def get_batch(self, keys: Sequence[Key], *, strings: Any = None) -> numpy.ndarray:
        """(len(keys), dims) float32 vectors; zero rows for absent keys. A floret table
        needs strings: give words, or hashes with the StringStore that knows them."""
        if self.mode == "floret":  # each distinct word's n-grams are hashed once
            keys = keys if isinstance(keys, numpy.ndarray) else list(keys)
            _, first, inverse = numpy.unique(_keys_array(keys), return_index=True, return_inverse=True)
            words = [keys[i] if isinstance(keys[i], str) else self._string(keys[i], strings) for i in first.tolist()]
            return floret_vectors(self.data, words, self.floret)[inverse.ravel()]
        rows = self.find(keys=keys)
        out = self.data.take(numpy.maximum(rows, 0), axis=0) if len(self) else \
            numpy.zeros((len(rows), self.dims), dtype=numpy.float32)
        out[rows < 0] = 0.0
        return out

    @staticmethod
    def _string(key: Key, strings: Any) -> str:
        if strings is None:
            raise ValueError("a floret table needs the strings of the keys: pass strings=vocab.strings")
        return strings[int(key)] if int(key) else ""

    def most_similar(self, queries: Union[numpy.ndarray, Sequence[Key]], *, n: int = 1, batch_size: int = 1024,
                     sort: bool = True) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """The n rows most similar (cosine) to each query vector: (keys, rows, scores),
        each (n_queries, n). keys are the rows' own keys. queries may be vectors
        (n_queries, dims) or keys/strings of this table."""
        if self.mode == "floret":
            raise ValueError("most_similar needs a table with keys; a floret table has none")
        if not isinstance(queries, numpy.ndarray):
            queries = self.get_batch(list(queries))
        queries = numpy.asarray(queries, dtype=numpy.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.shape[1] != self.dims:
            raise ValueError(f"query width {queries.shape[1]} != table width {self.dims}")
        n = min(n, len(self))
        table = _normalized(self.data)
        rows = numpy.zeros((len(queries), n), dtype=numpy.int64)
        scores = numpy.zeros((len(queries), n), dtype=numpy.float32)
        for begin in range(0, len(queries), batch_size):
            sims = _normalized(queries[begin:begin + batch_size]) @ table.T
            if n == 1:
                best = sims.argmax(axis=1)[:, None]
            else:
                best = numpy.argpartition(-sims, n - 1, axis=1)[:, :n]
            best_scores = numpy.take_along_axis(sims, best, axis=1)
            if sort and n > 1:
                order = numpy.argsort(-best_scores, axis=1, kind="stable")
                best = numpy.take_along_axis(best, order, axis=1)
                best_scores = numpy.take_along_axis(best_scores, order, axis=1)
            rows[begin:begin + len(best)] = best
            scores[begin:begin + len(best)] = best_scores
        keys = self._row_keys[:self._n_rows][rows]
        return keys, rows, numpy.clip(scores, -1.0, 1.0)

    def info(self) -> Dict[str, Any]:
        """What meta.json records about the table (and what a model checks it against)."""
        return {"name": self.name, "width": self.dims, "vectors": len(self),
                "keys": 0 if self.mode == "floret" else self.n_keys, "mode": self.mode, "attr": self.attr}

    def prune(self, n_keep: int, *, batch_size: int = 0) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Keep the first n_keep rows; every key of a removed row moves to its nearest kept
        row (cosine). Returns (nearest kept row, similarity) for each removed row."""
        if self.mode == "floret":
            raise ValueError("a floret table cannot be pruned: its rows are hash buckets")
        if n_keep >= len(self):
            return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(0, dtype=numpy.float32)
        if n_keep < 1:
            raise ValueError("prune: keep at least one row")
        self._merge_pending()
        nearest, scores = nearest_rows(self.data, n_keep, batch_size=batch_size)
        remap = numpy.concatenate([numpy.arange(n_keep, dtype=numpy.int64), nearest])
        self._key_rows = remap[self._key_rows]
        self._data = self._data[:n_keep]
        self._n_rows = n_keep
        self._row_keys = self._row_keys[:n_keep]
        return nearest, scores

    # -- disk --------------------------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path]) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._merge_pending()
        _save_table(self.data, path / "vectors.npy")
        numpy.save(path / "keys.npy", self._keys, allow_pickle=False)
        numpy.save(path / "rows.npy", self._key_rows, allow_pickle=False)
        numpy.save(path / "row_keys.npy", self._row_keys[:self._n_rows], allow_pickle=False)
        cfg = {"format": FORMAT_VERSION, "name": self.name, "mode": self.mode, "attr": self.attr,
               "shape": list(self.shape), "keys": len(self._keys)}
        if self.floret is not None:
            cfg["floret"] = self.floret.to_dict()
        srsly.write_json(path / "cfg.json", cfg)

    def from_disk(self, path: Union[str, Path], *, mmap: bool = True) -> "Vectors":
        path = Path(path)
        cfg_path = path / "cfg.json"
        if not cfg_path.exists():
            raise PathError("not a vectors directory (cfg.json is missing); write one with init-vectors",
                            path=str(path))
        cfg = read_file_json(cfg_path, limit=TEXT_LIMIT, what="vectors settings file", expect=dict)
        version = cfg.get("format", 0)
        if not isinstance(version, int):
            raise DataError("the vectors settings have no valid format number: damaged?", path=str(cfg_path))
        if version > FORMAT_VERSION:
            raise DataError(f"vectors format {version} is newer than this version understands "
                            f"({FORMAT_VERSION}): upgrade transfer-cli", path=str(path))
        data = load_npy(path / "vectors.npy", mmap=mmap, what="vectors table")
        keys = load_npy(path / "keys.npy", what="vectors keys")
        rows = load_npy(path / "rows.npy", what="vectors key rows")
        row_keys = load_npy(path / "row_keys.npy", what="vectors row keys")
        if data.ndim == 1 and data.size == 0:
            data = data.reshape((0, 0))
        integer_arrays = (keys, rows, row_keys)
        if (data.ndim != 2 or data.dtype != numpy.float32
                or any(a.ndim != 1 or a.dtype.kind not in "iu" for a in integer_arrays)
                or len(keys) != len(rows) or len(row_keys) != data.shape[0]
                or (len(rows) and (rows.min() < 0 or rows.max() >= data.shape[0]))
                or list(data.shape) != list(cfg.get("shape", data.shape))):
            raise DataError("the vectors table is inconsistent (vectors.npy, keys.npy, rows.npy, row_keys.npy "
                            "and cfg.json do not match): rewrite it with init-vectors", path=str(path))
        self.name = str(cfg.get("name", ""))
        self.mode = cfg.get("mode", "default")
        self.attr = str(cfg.get("attr", "ORTH"))
        if self.mode not in MODES:
            raise DataError(f"unknown vectors mode in cfg.json (expected one of {', '.join(MODES)})", path=str(path))
        try:
            self.floret = FloretSettings(**cfg["floret"]).check() if cfg.get("floret") else None
        except (TypeError, ValueError) as e:
            raise DataError(f"the floret settings in cfg.json are damaged: {e}", path=str(path)) from None
        if self.mode == "floret" and self.floret is None:
            raise DataError("a floret vectors table without its floret settings in cfg.json", path=str(path))
        self._data = data
        self._n_rows = data.shape[0]
        self._keys = keys.astype(numpy.uint64, copy=False)
        self._key_rows = rows.astype(numpy.int64, copy=False)
        self._row_keys = numpy.array(row_keys, dtype=numpy.uint64)
        self._pending = {}
        return self

    def __repr__(self) -> str:
        return f"<Vectors {self.name!r} {self.shape[0]}x{self.shape[1]} {self.mode}>"


def _normalized(matrix: numpy.ndarray) -> numpy.ndarray:
    norms = numpy.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(numpy.float32, copy=False)


def _save_table(data: numpy.ndarray, target: Path) -> None:
    """np.save, except that a table memory-mapped from a whole .npy file is copied as a
    file (the kernel copies it; it is not paged into this process)."""
    source = getattr(data, "filename", None)
    if isinstance(data, numpy.memmap) and source and os.path.exists(source):
        try:
            shape, dtype, offset = read_header(Path(source))
        except (OSError, ValueError):
            shape = None
        if shape == data.shape and dtype == data.dtype and offset == data.offset and data.flags.c_contiguous:
            if Path(source).resolve() != target.resolve():
                shutil.copyfile(source, target)
            return
    numpy.save(target, numpy.ascontiguousarray(data), allow_pickle=False)


def empty_vectors() -> Vectors:
    return Vectors()


__all__: List[str] = ["Vectors", "MODES", "empty_vectors"]
