"""Corpus readers: CoNLL-U, CoNLL-2003/IOB, JSONL and `.spacy` files → streams of Docs.

`read_docs(path, converter="auto", vocab)` picks the reader (from the file extension,
else from the first lines) and returns a DocReader: iterate it for Docs, one at a time;
its `warnings` list collects what was read but could not be used (e.g. entity offsets
that do not match token boundaries). A directory is read file by file, sorted by name."""
import re
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Union

from ...errors import PathError, UserError
from ...tokens.doc import Doc
from ...tokens.vocab import Vocab
from ._lines import check_readable
from .conllu import read_conllu
from .iob import read_iob
from .jsonl import read_jsonl
from .spacy_binary import read_spacy

READERS: Dict[str, Callable[..., Iterator[Doc]]] = {
    "conllu": read_conllu,
    "iob": read_iob,
    "jsonl": read_jsonl,
    "spacy": read_spacy,
}
ALIASES = {"conll": "conllu", "ner": "iob", "conll2003": "iob", "conll_ner": "iob", "tsv": "iob"}
CONVERTERS = ("auto",) + tuple(READERS)
EXTENSIONS = {".conllu": "conllu", ".conll": "conllu", ".jsonl": "jsonl", ".spacy": "spacy", ".iob": "iob",
              ".tsv": "iob", ".ner": "iob"}
_IOB_TAG = re.compile(r"^(O|[BILU]-\S+)$")


def resolve_converter(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in CONVERTERS:
        raise UserError(f"unknown converter '{name}' (expected one of: {', '.join(CONVERTERS)})")
    return name


def detect_converter(path: Union[str, Path]) -> str:
    """The reader for a file: by extension, else by looking at its first lines."""
    path = check_readable(path)
    by_ext = EXTENSIONS.get(path.suffix.lower())
    if by_ext:
        return by_ext
    with path.open("rb") as file_:
        head = file_.read(65536)
    if head[:1] == b"\x78":  # maybe a zlib stream: a DocBin
        try:
            zlib.decompressobj().decompress(head)
            return "spacy"
        except zlib.error:
            pass
    lines = [line for line in head.decode("utf8", errors="replace").splitlines() if line.strip()][:20]
    for line in lines:
        if line.startswith("#"):
            continue
        if line.lstrip().startswith("{"):
            return "jsonl"
        if line.split()[0] == "-DOCSTART-":
            return "iob"
        if len(line.split("\t")) == 10:
            return "conllu"
        parts = line.split()
        if len(parts) >= 2 and _IOB_TAG.match(parts[-1]):
            return "iob"
        break
    raise UserError(f"cannot tell the format of {path}: use --converter conllu, iob, jsonl or spacy")


class DocReader:
    """Docs read lazily from a file or directory; iterate it (more than once if needed)."""

    def __init__(self, path: Union[str, Path], converter: str = "auto", vocab: Optional[Vocab] = None, *,
                 n_sents: int = 1, make_doc: Optional[Callable[[str], Doc]] = None) -> None:
        self.path = Path(path)
        self.converter = resolve_converter(converter)
        self.vocab = vocab if vocab is not None else Vocab()
        if n_sents < 0:
            raise UserError(f"n_sents must be 0 (no limit) or more, not {n_sents}")
        self.n_sents = n_sents
        self.make_doc = make_doc
        self.warnings: List[str] = []
        if not self.path.exists():
            raise PathError(f"input not found: {self.path}")
        self.files = input_files(self.path)

    def __iter__(self) -> Iterator[Doc]:
        self.warnings.clear()
        for path in self.files:
            converter = detect_converter(path) if self.converter == "auto" else self.converter
            kwargs = {"make_doc": self.make_doc} if converter == "jsonl" else {}
            yield from READERS[converter](path, self.vocab, n_sents=self.n_sents, warnings=self.warnings, **kwargs)


def input_files(path: Path) -> List[Path]:
    """The file itself, or a directory's visible files (sorted, not recursive)."""
    if not path.exists():
        raise PathError(f"input not found: {path}")
    if path.is_dir():
        try:
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        except OSError as e:
            raise PathError(f"cannot list {path}: {e.strerror}") from None
        if not files:
            raise PathError(f"directory {path} has no files to read")
        return files
    return [check_readable(path)]


def read_docs(path: Union[str, Path], converter: str = "auto", vocab: Optional[Vocab] = None, *,
              n_sents: int = 1, make_doc: Optional[Callable[[str], Doc]] = None) -> DocReader:
    """A DocReader over `path` (file or directory). n_sents groups sentences per Doc for
    CoNLL-U and IOB input (0: no limit); make_doc tokenizes raw text in JSONL."""
    return DocReader(path, converter, vocab, n_sents=n_sents, make_doc=make_doc)


__all__ = ["CONVERTERS", "DocReader", "detect_converter", "input_files", "read_conllu", "read_docs", "read_iob",
           "read_jsonl", "read_spacy", "resolve_converter"]
