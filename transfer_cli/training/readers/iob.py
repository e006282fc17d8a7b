"""Token-per-line NER files → Docs with BILUO entities.

Both layouts are read: CoNLL-2003's original "word POS chunk NER" (space separated,
-DOCSTART- lines between documents) and two-column "word<TAB>tag" files. The word is
the first column and the entity tag the last; tags may be IOB1, IOB2 (converted by
iob_to_biluo, which also repairs an I- that has no B- before it) or BILUO already.
With three columns or more, the second is the POS tag and becomes token.tag_ (so one
CoNLL-2003 file trains a tagger and an NER); a two-column file has no tags.
A blank line ends a sentence; every word is followed by a space (as spaCy does). Sentences are grouped
`n_sents` to a Doc, and a -DOCSTART- line always starts a new Doc."""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from ...errors import DataError
from ...tokens.doc import Doc
from ...tokens.iob_utils import iob_to_biluo, tags_to_entities
from ...tokens.vocab import Vocab
from ._lines import iter_lines

_TAG = re.compile(r"^(O|[BILU]-\S+)$")


def read_iob(path: Union[str, Path], vocab: Vocab, *, n_sents: int = 1,
             warnings: Optional[List[str]] = None) -> Iterator[Doc]:
    """Yield Docs of `n_sents` sentences each (0: whole -DOCSTART- documents)."""
    where = str(path)
    n_cols = 0
    first_line = 0
    doc_words: List[str] = []
    doc_tags: List[str] = []
    doc_pos: List[str] = []
    doc_starts: List[bool] = []
    doc_sents = 0
    words: List[str] = []
    tags: List[str] = []
    pos_tags: List[str] = []
    tag_lines: List[int] = []

    def end_sentence() -> None:
        nonlocal words, tags, pos_tags, tag_lines, doc_sents
        if any(t[0] in "LU" for t in tags):
            biluo = tags  # already BILUO: check it is well formed
            try:
                tags_to_entities(biluo)
            except ValueError as e:
                raise DataError(f"sentence ending here has an invalid BILUO sequence: {e}", path=where,
                                line=tag_lines[-1] + 1) from None
        else:
            biluo = iob_to_biluo(tags)
        doc_words.extend(words)
        doc_tags.extend(biluo)
        doc_pos.extend(pos_tags)
        doc_starts.append(True)
        doc_starts.extend([False] * (len(words) - 1))
        doc_sents += 1
        words, tags, pos_tags, tag_lines = [], [], [], []

    def make_doc() -> Doc:
        nonlocal doc_words, doc_tags, doc_pos, doc_starts, doc_sents
        doc = Doc(vocab, words=doc_words, ents=doc_tags, sent_starts=doc_starts,
                  tags=doc_pos if n_cols > 2 else None)
        doc_words, doc_tags, doc_pos, doc_starts, doc_sents = [], [], [], [], 0
        return doc

    for lineno, line in iter_lines(path):
        parts = line.split()
        if not parts:
            if words:
                end_sentence()
                if n_sents > 0 and doc_sents >= n_sents:
                    yield make_doc()
            continue
        if parts[0] == "-DOCSTART-":
            if words:
                end_sentence()
            if doc_sents:
                yield make_doc()
            continue
        if len(parts) < 2:
            raise DataError(f"expected a word and its entity tag (2 columns, or 4 as in CoNLL-2003 "
                            f"'word POS chunk NER'), found 1 column", path=where, line=lineno)
        if not n_cols:
            n_cols, first_line = len(parts), lineno
        elif len(parts) != n_cols:
            raise DataError(f"expected {n_cols} columns as on line {first_line}, found {len(parts)}", path=where,
                            line=lineno)
        tag = parts[-1]
        if not _TAG.match(tag):
            raise DataError(f"invalid entity tag '{tag}' (expected O, B-LABEL or I-LABEL; L-/U- for BILUO)",
                            path=where, line=lineno)
        words.append(parts[0])
        tags.append(tag)
        if n_cols > 2:
            pos_tags.append(parts[1])
        tag_lines.append(lineno)
    if words:
        end_sentence()
    if doc_sents:
        yield make_doc()
