"""Lookup tables from the spacy-lookups-data package: `[initialize.lookups]`.

    [initialize.lookups]
    @misc = "spacy.LookupsDataLoader.v1"
    lang = ${nlp.lang}
    tables = ["lexeme_norm"]

loads the named tables of one language when the package is installed. The loader
expects the package's layout: the module `spacy_lookups_data` with a `data/` folder
beside its `__init__.py` holding `{lang}_{table}.json` or `{lang}_{table}.json.gz`
files, each one JSON object (only JSON is read; nothing is unpickled).

The tables are kept on the vocabulary (`nlp.vocab.lookups`) and saved with the pipeline
as `vocab/lookups.json`. The `lexeme_norm` table sets the vocabulary's norms (the NORM
feature the embeddings read), as in spaCy; the other tables are kept for code that
reads them (no component here uses them)."""
import gzip
import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..config.registry import registry
from ..config.validation import LOOKUPS_PACKAGE, missing_lookups_package_message
from ..errors import ConfigError, DataError
from ..model_files import JSON_LIMIT, read_file_bytes, read_file_text

PACKAGE = LOOKUPS_PACKAGE
SAVED_NAME = "lookups.json"  # in a saved pipeline's vocab/ folder
NORM_TABLE = "lexeme_norm"


class Lookups:
    """Named tables, each a dict of strings to JSON values."""

    def __init__(self, tables: Optional[Dict[str, Dict[str, Any]]] = None) -> None:
        self.tables: Dict[str, Dict[str, Any]] = dict(tables or {})

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __len__(self) -> int:
        return len(self.tables)

    def get_table(self, name: str) -> Dict[str, Any]:
        return self.tables[name]

    def to_json(self) -> str:
        return json.dumps(self.tables, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, path: str = "") -> "Lookups":
        try:
            tables = json.loads(text)
        except ValueError as e:
            raise DataError(f"the lookup tables are not valid JSON ({e})", path=path or None) from None
        if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
            raise DataError("the lookup tables must be a JSON object of objects", path=path or None)
        return cls(tables)


@registry.misc("spacy.LookupsDataLoader.v1")
def load_lookups_data(lang: str, tables: List[str]) -> Lookups:
    """spacy.LookupsDataLoader.v1: the tables `tables` of language `lang` from the
    spacy-lookups-data package (a ConfigError naming the fix when it is not installed
    or lacks a table)."""
    if importlib.util.find_spec(PACKAGE) is None:
        raise ConfigError(missing_lookups_package_message(), key="initialize.lookups")
    package = importlib.import_module(PACKAGE)
    data_dir = Path(package.__file__).parent / "data"
    return Lookups({name: read_table(data_dir, lang, name) for name in tables})


def read_table(data_dir: Path, lang: str, name: str) -> Dict[str, Any]:
    for suffix in (".json", ".json.gz"):
        path = data_dir / f"{lang}_{name}{suffix}"
        if path.is_file():
            data = read_file_bytes(path, limit=JSON_LIMIT, what="lookup table")
            if suffix == ".json.gz":
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError) as e:
                    raise DataError(f"the lookup table is not valid gzip ({e})", path=str(path)) from None
            try:
                table = json.loads(data.decode("utf8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise DataError(f"the lookup table is not valid JSON ({e})", path=str(path)) from None
            if not isinstance(table, dict):
                raise DataError("a lookup table must be a JSON object", path=str(path))
            return table
    available = sorted(p.name.split(".")[0][len(lang) + 1:] for p in data_dir.glob(f"{lang}_*.json*"))
    raise ConfigError(f"spacy-lookups-data has no table '{name}' for language '{lang}' "
                      f"(tables for '{lang}': {', '.join(available) if available else 'none'})",
                      key="initialize.lookups.tables")


def set_lookups(vocab: Any, lookups: Lookups) -> None:
    """Keep `lookups` on the vocabulary; its lexeme_norm table sets the norms."""
    vocab.lookups = lookups
    for word, norm in lookups.tables.get(NORM_TABLE, {}).items():
        if isinstance(word, str) and isinstance(norm, str):
            vocab.set_lexeme_norm(word, norm)


def write_lookups(vocab: Any, vocab_dir: Path) -> None:
    """vocab/lookups.json, when the vocabulary has tables."""
    lookups = getattr(vocab, "lookups", None)
    if lookups is not None and len(lookups):
        (vocab_dir / SAVED_NAME).write_text(lookups.to_json(), encoding="utf8")


def read_lookups(vocab: Any, vocab_dir: Path) -> None:
    """Put back the tables write_lookups saved, if any."""
    path = vocab_dir / SAVED_NAME
    if path.is_file():
        text = read_file_text(path, limit=JSON_LIMIT, what="lookup tables")
        set_lookups(vocab, Lookups.from_json(text, path=str(path)))
