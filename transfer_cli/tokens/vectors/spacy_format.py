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

from ...errors import DataError
from .. import attrs as A
from ..spacy_symbols import N_SYMBOLS, SYMBOL_NAMES
from ..strings import hash_string
from .floret import FloretSettings
from .vectors import Vectors


def is_spacy_vectors_dir(path: Path) -> bool:
    return (path / "vocab" / "vectors").is_file() and (path / "vocab" / "vectors.cfg").is_file()


def read_spacy_vectors(path: Path) -> Vectors:
    vocab = path / "vocab"
    try:
        cfg = srsly.read_json(vocab / "vectors.cfg")
        data = numpy.load(vocab / "vectors", mmap_mode="r", allow_pickle=False)
        key2row = srsly.read_msgpack(vocab / "key2row") if (vocab / "key2row").exists() else {}
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read spaCy's vectors table: {e}", path=str(vocab)) from None
    meta = srsly.read_json(path / "meta.json") if (path / "meta.json").exists() else {}
    name = (meta.get("vectors") or {}).get("name") or ""
    if data.ndim != 2:
        raise DataError(f"spaCy's vectors table has shape {data.shape}, expected 2 dimensions", path=str(vocab))
    if data.dtype != numpy.float32:
        data = numpy.asarray(data, dtype=numpy.float32)
    attr = _attr_name(cfg.get("attr", "ORTH"))
    if cfg.get("mode", "default") == "floret":
        settings = FloretSettings(int(cfg["minn"]), int(cfg["maxn"]), int(cfg["hash_count"]),
                                  int(cfg["hash_seed"]), cfg.get("bow", "<"), cfg.get("eow", ">")).check()
        return Vectors(data=data, name=name, mode="floret", attr=attr, floret=settings)
    # spaCy keys a word that is one of its symbol names ("_", "NOUN", ...) by the symbol's ID
    keys: List[int] = [_symbol_hash(int(k)) for k in key2row.keys()]
    rows: List[int] = [int(r) for r in key2row.values()]
    if rows and (min(rows) < 0 or max(rows) >= data.shape[0]):
        raise DataError("spaCy's key2row points outside the vectors table", path=str(vocab))
    return Vectors(data=data, keys=keys, rows=rows, name=name, attr=attr)


def _symbol_hash(key: int) -> int:
    if 0 < key < N_SYMBOLS:
        return hash_string(SYMBOL_NAMES[key])
    return key


def _attr_name(value: Optional[object]) -> str:
    if isinstance(value, int):
        return A.IDS_TO_NAMES.get(value, "ORTH")
    return str(value or "ORTH").upper()
