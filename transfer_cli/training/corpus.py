"""Registered corpus readers: `spacy.Corpus.v1` (gold docs from .spacy files, or
CoNLL-U / IOB / JSONL read directly) and `spacy.JsonlCorpus.v1` (raw text).
A reader is a callable `corpus(nlp) -> Iterator[Example]`, read lazily each epoch."""
import json
import warnings
from pathlib import Path
from typing import Annotated, Callable, Dict, Iterator, List, Optional, Tuple, Union

from ..config.registry import registry
from ..config.schemas import at_least
from ..errors import DataError, DataWarning, PathError
from ..tokens import Doc
from ..tokens import attrs as A
from ..tokens.columns import COL, FIRST_ANNOTATION_COL
from ..tokens.example import Example
from .readers import read_docs
from .readers._lines import iter_lines

Count = Annotated[int, at_least(0)]  # a length or limit; 0: none
SUPPORTED_SUFFIXES = (".spacy", ".conllu", ".iob", ".tsv", ".jsonl", ".conll")


def walk_corpus(path: Union[str, Path]) -> List[Path]:
    """The corpus files at `path`: the file itself, or the supported files under a directory."""
    path = Path(path)
    if not path.exists():
        raise PathError("corpus path does not exist (set it with --paths.train / --paths.dev)", path=str(path))
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUPPORTED_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise DataError(f"no corpus files ({', '.join(SUPPORTED_SUFFIXES)}) in this directory", path=str(path))
    return files


class Corpus:
    """Gold documents → Examples. The predicted side is the reference text tokenized by
    the pipeline's tokenizer (aligned to the gold tokens), or the gold tokens themselves
    with gold_preproc (one example per gold sentence)."""

    def __init__(self, path: Optional[Union[str, Path]], *, limit: int = 0, gold_preproc: bool = False,
                 max_length: int = 0, augmenter: Optional[Callable] = None) -> None:
        if path is None:
            raise PathError("a corpus path is not set: give it with --paths.train PATH / --paths.dev PATH")
        self.path = Path(path)
        self.limit = limit
        self.gold_preproc = gold_preproc
        self.max_length = max_length
        self.augmenter = augmenter
        self._reported: set = set()
        self.dropped: List[str] = []  # what the last pass read but could not use (debug-data lists it)

    def __call__(self, nlp) -> Iterator[Example]:
        count = 0
        self.dropped = []
        for file_path in walk_corpus(self.path):
            reader = read_docs(file_path, vocab=nlp.vocab, make_doc=nlp.make_doc)
            for reference in reader:
                for example in self._make_examples(nlp, reference):
                    if self.augmenter is not None:
                        for augmented in self.augmenter(nlp, example):
                            yield augmented
                    else:
                        yield example
                    count += 1
                    if self.limit and count >= self.limit:
                        return
            self._report(file_path, reader.warnings)

    def _report(self, file_path: Path, problems: List[str]) -> None:
        """Say once per file what was read but could not be used (e.g. misaligned entity offsets)."""
        self.dropped.extend(problems)
        if problems and str(file_path) not in self._reported:
            self._reported.add(str(file_path))
            shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            warnings.warn(f"{file_path}: {len(problems)} annotation(s) dropped: {shown}", DataWarning)

    def _make_examples(self, nlp, reference: Doc) -> Iterator[Example]:
        if not len(reference):
            return
        if self.gold_preproc:
            pieces = list(reference.sents) if reference.has_sentence_boundaries else [reference[:]]
            for sent in pieces:
                gold = _span_as_doc(reference, sent.start, sent.end)
                yield Example(Doc(nlp.vocab, gold.words, gold.spaces), gold)
            return
        if self.max_length and len(reference) > self.max_length:
            # too long: one example per sentence that fits; longer sentences are skipped
            if reference.has_sentence_boundaries:
                for sent in reference.sents:
                    if len(sent) <= self.max_length:
                        gold = _span_as_doc(reference, sent.start, sent.end)
                        yield Example(nlp.make_doc(gold.text), gold)
            return
        yield Example(nlp.make_doc(reference.text), reference)


def _span_as_doc(doc: Doc, start: int, end: int) -> Doc:
    """A new Doc holding tokens start..end with their annotation (heads kept when inside)."""
    spaces = doc.spaces[start:end]
    spaces[-1] = False
    piece = Doc(doc.vocab, doc.words[start:end], spaces)
    piece.cols[:, FIRST_ANNOTATION_COL:] = doc.cols[start:end, FIRST_ANNOTATION_COL:]
    heads = doc.cols[start:end, COL[A.HEAD]].view("int64") + range(start, end)
    outside = (heads < start) | (heads >= end)
    if outside.any():  # arcs leaving the span: mark the syntax of this piece missing
        piece.cols[:, COL[A.HEAD]] = 0
        piece.cols[:, COL[A.DEP]] = 0
    piece.cats = dict(doc.cats)
    return piece


class JsonlCorpus:
    """Raw text from JSONL lines {"text": ...}: examples whose reference is the
    predicted doc itself (for pretraining). Records shorter than min_length tokens are
    skipped; records of max_length tokens or more are split into pieces shorter than
    max_length (at sentence ends where there are some), so no text is lost.
    `stats` counts what the last full pass read (records, words, splits, skips)."""

    def __init__(self, path: Optional[Union[str, Path]], *, min_length: int = 0, max_length: int = 0,
                 limit: int = 0) -> None:
        if path is None:
            raise PathError("the raw text path is not set: give it with --paths.raw_text PATH (or --paths.raw)")
        self.path = Path(path)
        self.min_length = min_length
        self.max_length = max_length
        self.limit = limit
        self.stats: Dict[str, int] = {}

    def __call__(self, nlp) -> Iterator[Example]:
        stats = dict.fromkeys(("records", "words", "too_short", "split", "pieces"), 0)
        count = 0
        for file_path in walk_corpus(self.path):
            for line_no, record in _read_jsonl(file_path):
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise DataError('expected a JSON object with a "text" string', path=str(file_path), line=line_no)
                doc = nlp.make_doc(record["text"])
                stats["records"] += 1
                if len(doc) < max(self.min_length, 1):
                    stats["too_short"] += 1
                    continue
                pieces = split_doc(doc, self.max_length) if self.max_length and len(doc) >= self.max_length \
                    else [doc]
                if len(pieces) > 1:
                    stats["split"] += 1
                    stats["pieces"] += len(pieces)
                for piece in pieces:
                    stats["words"] += len(piece)
                    yield Example(piece, piece)
                    count += 1
                    if self.limit and count >= self.limit:
                        self.stats = stats
                        return
        self.stats = stats


SENTENCE_ENDS = frozenset((".", "!", "?", "...", "\u2026", "\u3002"))


def split_doc(doc: Doc, max_length: int) -> List[Doc]:
    """`doc` cut into pieces of fewer than `max_length` tokens, of about equal length;
    each cut goes after the sentence end nearest to the even split, if one lies in the
    second half of the piece."""
    words, spaces = doc.words, doc.spaces
    longest = max(1, max_length - 1)
    pieces: List[Doc] = []
    start, n = 0, len(words)
    while n - start > longest:
        remaining = n - start
        n_pieces = -(-remaining // longest)
        ideal = start + -(-remaining // n_pieces)
        ends = [i + 1 for i in range(start + (ideal - start) // 2, start + longest) if words[i] in SENTENCE_ENDS]
        cut = min(ends, key=lambda end: abs(end - ideal)) if ends else ideal
        pieces.append(Doc(doc.vocab, words[start:cut], spaces[start:cut]))
        start = cut
    pieces.append(Doc(doc.vocab, words[start:], spaces[start:]))
    return pieces


def _read_jsonl(path: Path) -> Iterator[Tuple[int, object]]:
    """(line number, parsed JSON) for each non-blank line; bad UTF-8 or JSON is a DataError."""
    for line_no, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON ({e.msg})", path=str(path), line=line_no) from None
        except RecursionError:
            raise DataError("JSON nested too deeply to read", path=str(path), line=line_no) from None


@registry.readers("spacy.Corpus.v1")
def create_docbin_reader(path: Optional[Path], gold_preproc: bool = False, max_length: Count = 0, limit: Count = 0,
                         augmenter: Optional[Callable] = None) -> Corpus:
    """spacy.Corpus.v1"""
    return Corpus(path, gold_preproc=gold_preproc, max_length=max_length, limit=limit, augmenter=augmenter)


@registry.readers("spacy.JsonlCorpus.v1")
def create_jsonl_reader(path: Optional[Path], min_length: Count = 0, max_length: Count = 0,
                        limit: Count = 0) -> JsonlCorpus:
    """spacy.JsonlCorpus.v1"""
    return JsonlCorpus(path, min_length=min_length, max_length=max_length, limit=limit)
