"""Reading a vectors table from a directory spaCy wrote (`spacy init vectors`, or a
trained spaCy pipeline), so `[initialize] vectors` can point at one.

spaCy keeps the table in its vocab folder: `vectors` (an `.npy` file without the
suffix), `key2row` (msgpack: key -> row), `vectors.cfg` (JSON: mode and floret
settings) and `strings.json`; the name is in `meta.json` ("vectors": {"name"}).
Only `.npy` (allow_pickle=False), msgpack and JSON are read. spaCy keys a word that is
one of its symbol names by the symbol's small ID; those become plain hashes here."""
from pathlib import Path
from typing import List, Optional

import numpy
import srsly

from ...errors import DataError, UserError
from ...model_files import TEXT_LIMIT, excerpt, read_file_bytes, read_file_json
from .. import attrs as A
from ..spacy_symbols import N_SYMBOLS, SYMBOL_NAMES
from ..strings import hash_string
from .floret import FloretSettings
from .npy import load_npy
from .vectors import Vectors


def is_spacy_vectors_dir(path: Path) -> bool:
    return (path / "vocab" / "vectors").is_file() and (path / "vocab" / "vectors.cfg").is_file()


def read_spacy_vectors(path: Path) -> Vectors:
    vocab = path / "vocab"
    cfg = read_file_json(vocab / "vectors.cfg", limit=TEXT_LIMIT, what="spaCy vectors settings file", expect=dict)
    data = load_npy(vocab / "vectors", mmap=True, what="spaCy vectors table")
    key2row = _read_key2row(vocab / "key2row") if (vocab / "key2row").exists() else {}
    meta = read_file_json(path / "meta.json", what="pipeline meta", expect=dict) if (path / "meta.json").exists() else {}
    vectors_meta = meta.get("vectors")
    name = str(vectors_meta.get("name") or "") if isinstance(vectors_meta, dict) else ""
    if data.ndim != 2:
        raise DataError(f"spaCy's vectors table has shape {data.shape}, expected 2 dimensions", path=str(vocab))
    if data.dtype != numpy.float32:
        data = numpy.asarray(data, dtype=numpy.float32)
    attr = _attr_name(cfg.get("attr", "ORTH"))
    try:
        if cfg.get("mode", "default") == "floret":
            settings = FloretSettings(int(cfg["minn"]), int(cfg["maxn"]), int(cfg["hash_count"]),
                                      int(cfg["hash_seed"]), cfg.get("bow", "<"), cfg.get("eow", ">")).check()
            return Vectors(data=data, name=name, mode="floret", attr=attr, floret=settings)
        # spaCy keys a word that is one of its symbol names ("_", "NOUN", ...) by the symbol's ID
        keys: List[int] = [_symbol_hash(int(k)) for k in key2row.keys()]
        rows: List[int] = [int(r) for r in key2row.values()]
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"spaCy's vectors settings or key2row table are damaged ({type(e).__name__}: "
                        f"{excerpt(str(e))})", path=str(vocab)) from None
    if rows and (min(rows) < 0 or max(rows) >= data.shape[0]):
        raise DataError("spaCy's key2row points outside the vectors table", path=str(vocab))
    return Vectors(data=data, keys=keys, rows=rows, name=name, attr=attr)


def _read_key2row(path: Path) -> dict:
    try:
        key2row = srsly.msgpack_loads(read_file_bytes(path, what="spaCy key2row table"))
    except UserError:
        raise
    except Exception as e:  # msgpack raises several unrelated types on damaged input
        raise DataError(f"the spaCy key2row table is damaged: {type(e).__name__}", path=str(path)) from None
    if not isinstance(key2row, dict):
        raise DataError("the spaCy key2row table should map keys to rows: damaged?", path=str(path))
    return key2row


def _symbol_hash(key: int) -> int:
    if 0 < key < N_SYMBOLS:
        return hash_string(SYMBOL_NAMES[key])
    return key


def _attr_name(value: Optional[object]) -> str:
    if isinstance(value, int):
        return A.IDS_TO_NAMES.get(value, "ORTH")
    return str(value or "ORTH").upper()
