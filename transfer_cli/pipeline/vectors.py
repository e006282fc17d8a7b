"""A pipeline's static vectors table: `[nlp.vectors] @vectors = "spacy.Vectors.v1"`
names the kind of table the vocab holds: an empty table until `[initialize] vectors`
loads one (`load_vectors`) or a saved pipeline brings its own (vocab/vectors)."""
from pathlib import Path
from typing import Any, Callable, Union

from ..config.registry import registry
from ..errors import ConfigError, PathError, PipelineError
from ..model_files import check_saved_dir, read_file_json, read_string_list, verify_file_checksums
from ..tokens.vectors import Vectors
from ..tokens.vectors.spacy_format import is_spacy_vectors_dir, read_spacy_vectors


@registry.vectors("spacy.Vectors.v1")
def create_empty_vectors() -> Callable[..., Vectors]:
    """spacy.Vectors.v1: a factory of empty tables (the vocab starts without vectors)."""

    def make_vectors(vocab: Any = None) -> Vectors:
        return Vectors()

    return make_vectors


def _table_dir(path: Path) -> Path:
    """The vectors table inside a directory written by init-vectors (or a saved
    pipeline), or the table directory itself."""
    for candidate in (path / "vocab" / "vectors", path):
        if (candidate / "cfg.json").exists():
            return candidate
    raise PathError("not a vectors directory: expected one written by init-vectors (with vocab/vectors/) or "
                    "a trained pipeline", path=str(path))


def load_vectors(nlp: Any, path: Union[str, Path]) -> Vectors:
    """[initialize] vectors: put the table of `path` (an init-vectors output, a trained
    pipeline, or a directory spaCy wrote) into nlp.vocab, with its words, and record it
    in nlp.meta."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"vectors directory not found: {path} (write one with `transfer-cli init-vectors`)",
                          key="initialize.vectors")
    if path.is_dir():
        check_saved_dir(path)  # a directory from elsewhere: no links out of it, no devices or FIFOs
        meta_path = path / "meta.json"
        if meta_path.is_file():  # one this tool wrote records its files' checksums (spaCy's: none)
            verify_file_checksums(path, read_file_json(meta_path, what="pipeline meta", expect=dict))
    table = read_spacy_vectors(path) if is_spacy_vectors_dir(path) else Vectors().from_disk(_table_dir(path))
    strings_path = path / "vocab" / "strings.json"
    if strings_path.exists():
        nlp.vocab.strings.update(read_string_list(strings_path))
    nlp.vocab.vectors = table
    nlp.meta["vectors"] = table.info()
    return table


def read_pipeline_vectors(nlp: Any, vocab_dir: Path) -> None:
    """The read side of a saved pipeline: load vocab/vectors if present and check it is
    the table meta.json says the pipeline was saved (and trained) with."""
    table_dir = Path(vocab_dir) / "vectors"
    expected = nlp.meta.get("vectors")
    if expected is not None and not isinstance(expected, dict):
        raise PipelineError("meta.json: 'vectors' should describe the vectors table (an object): damaged?")
    if not (table_dir / "cfg.json").exists():
        if expected:
            raise PathError("meta.json says the pipeline was saved with vectors, but their table is missing",
                            path=str(table_dir / "cfg.json"))
        return
    table = Vectors().from_disk(table_dir)
    if expected:
        check_vectors_match(expected, table, where=str(table_dir))
    nlp.vocab.vectors = table


def check_vectors_match(expected: dict, table: Vectors, *, where: str = "") -> None:
    """A PipelineError when `table` is not the one `expected` (a Vectors.info()) describes."""
    problems = []
    if expected.get("name", table.name) != table.name:
        problems.append(f"name '{table.name}' instead of '{expected.get('name')}'")
    shape = (expected.get("vectors", len(table)), expected.get("width", table.dims))
    if tuple(shape) != table.shape:
        problems.append(f"shape {table.shape[0]} x {table.shape[1]} instead of {shape[0]} x {shape[1]}")
    if problems:
        raise PipelineError(f"{where + ': ' if where else ''}these vectors are not the ones the pipeline was "
                            f"trained with ({'; '.join(problems)}): load the original vectors table")
