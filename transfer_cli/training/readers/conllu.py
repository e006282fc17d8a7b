"""CoNLL-U reader: Universal Dependencies treebanks → Docs, streamed N sentences at a time.

Per syntactic word: FORM → word, LEMMA (as written: a "_" lemma stays "_", as spaCy's
converter keeps it), UPOS → pos, XPOS → tag (UPOS when XPOS is "_", as spaCy's
converter does), FEATS → morph (normalised as spaCy keys it), HEAD/DEPREL → heads/deps
("root" becomes spaCy's "ROOT"; a root's head is itself), MISC SpaceAfter=No → no
space after the word. A multiword token line ("3-4 don't") is the
surface form: its syntactic words are the tokens, no space between them, and the
range's own SpaceAfter decides the space after the last. Empty nodes ("8.1") are
skipped. Comments are read: `# sent_id` and `# text` go into doc.user_data["conllu"]
together with the multiword tokens. Sentences are joined N to a Doc (`n_sents`), with a
space forced between sentences, as `spacy convert -n N` does."""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ...errors import DataError
from ...tokens.doc import Doc
from ...tokens.morph import normalize_morph
from ...tokens.vocab import Vocab
from ._lines import iter_lines

COLUMNS = "ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC"


class _Group:
    """Annotation of the sentences that will make one Doc."""

    def __init__(self) -> None:
        self.words: List[str] = []
        self.spaces: List[bool] = []
        self.tags: List[str] = []
        self.pos: List[str] = []
        self.morphs: List[str] = []
        self.lemmas: List[str] = []
        self.heads: List[Optional[int]] = []
        self.deps: List[str] = []
        self.sent_starts: List[bool] = []
        self.n_sents = 0
        self.info: Dict[str, List[Any]] = {"sent_ids": [], "texts": [], "multiword_tokens": []}

    def to_doc(self, vocab: Vocab) -> Doc:
        doc = Doc(vocab, words=self.words, spaces=self.spaces, tags=self.tags, pos=self.pos, morphs=self.morphs,
                  lemmas=self.lemmas, heads=self.heads, deps=self.deps, sent_starts=self.sent_starts)
        doc.user_data["conllu"] = self.info
        return doc


def read_conllu(path: Union[str, Path], vocab: Vocab, *, n_sents: int = 1,
                warnings: Optional[List[str]] = None) -> Iterator[Doc]:
    """Yield Docs of `n_sents` sentences each (0: all sentences in one Doc)."""
    where = str(path)
    group = _Group()
    morph_cache: Dict[str, str] = {"_": ""}
    # the current sentence
    words: List[str] = []
    spaces: List[bool] = []
    rows: List[Tuple[str, str, str, str, Optional[int], str]] = []  # lemma, upos, xpos, morph, head, dep
    head_lines: List[int] = []
    sent_id: Optional[str] = None
    text: Optional[str] = None
    mwts: List[Tuple[int, int, str]] = []
    mwt_end = 0  # last word ID of the open multiword token (0: none)
    mwt_space = True

    def end_sentence() -> bool:
        """Move the sentence into the group; True when the group is full."""
        nonlocal words, spaces, rows, head_lines, sent_id, text, mwts, mwt_end
        if mwt_end and mwt_end > len(words):
            raise DataError(f"multiword token range ends at word {mwt_end} but the sentence has only "
                            f"{len(words)} words", path=where, line=head_lines[-1] if head_lines else None)
        n = len(words)
        offset = len(group.words)
        if offset and not group.spaces[-1]:
            group.spaces[-1] = True  # sentences in one Doc are separated by a space
        group.words.extend(words)
        group.spaces.extend(spaces)
        for i, (lemma, upos, xpos, morph, head, dep) in enumerate(rows):
            group.lemmas.append(lemma)
            group.pos.append(upos)
            group.tags.append(xpos)
            group.morphs.append(morph)
            group.deps.append(dep)
            if head is None:
                group.heads.append(None)
            elif head > n:
                raise DataError(f"HEAD {head} points past the end of the sentence ({n} words)", path=where,
                                line=head_lines[i])
            else:
                group.heads.append(offset + (head - 1 if head else i))
        cycle = _head_cycle([row[4] for row in rows])
        if cycle is not None:
            raise DataError(f"HEAD {rows[cycle][4]} of word {cycle + 1} is on a cycle: following the HEADs from "
                            f"a word must reach the root (HEAD 0)", path=where, line=head_lines[cycle])
        group.sent_starts.append(True)
        group.sent_starts.extend([False] * (n - 1))
        group.n_sents += 1
        group.info["sent_ids"].append(sent_id)
        group.info["texts"].append(text)
        group.info["multiword_tokens"].extend((offset + a, offset + b, form) for a, b, form in mwts)
        words, spaces, rows, head_lines, mwts = [], [], [], [], []
        sent_id = text = None
        mwt_end = 0
        return n_sents > 0 and group.n_sents >= n_sents

    for lineno, line in iter_lines(path):
        if not line or line.isspace():
            if words:
                if end_sentence():
                    yield group.to_doc(vocab)
                    group = _Group()
            elif mwt_end:
                raise DataError("a sentence ends inside a multiword token range", path=where, line=lineno)
            continue
        if line[0] == "#":
            if not words:
                key, sep, value = line[1:].partition("=")
                key = key.strip()
                if sep and key == "text":
                    text = value.strip()
                elif sep and key == "sent_id":
                    sent_id = value.strip()
            continue
        parts = line.split("\t")
        if len(parts) != 10:
            raise DataError(f"expected 10 tab-separated columns ({COLUMNS}), found {len(parts)}",
                            path=where, line=lineno)
        id_, form, lemma, upos, xpos, feats, head, dep, _deps, misc = parts
        if id_.isdigit():
            expected = len(words) + 1
            if int(id_) != expected:
                raise DataError(f"token ID {id_} out of sequence: expected {expected}", path=where, line=lineno)
            if not form:
                raise DataError("empty FORM (expected the word)", path=where, line=lineno)
            words.append(form)
            if mwt_end:
                inside_last = int(id_) == mwt_end
                spaces.append(mwt_space if inside_last else False)
                if inside_last:
                    mwt_end = 0
            else:
                spaces.append("SpaceAfter=No" not in misc)
            morph = morph_cache.get(feats)
            if morph is None:
                try:
                    morph = normalize_morph(feats)
                except ValueError as e:
                    raise DataError(f"FEATS: {e}", path=where, line=lineno) from None
                morph_cache[feats] = morph
            if head == "_":
                head_value: Optional[int] = None
            elif head.isdigit():
                head_value = int(head)
            else:
                raise DataError(f"HEAD '{head}' is not a word ID (expected 0 for the root, or 1..n)",
                                path=where, line=lineno)
            rows.append((lemma,
                         upos if upos != "_" else "",
                         xpos if xpos != "_" else (upos if upos != "_" else ""),
                         morph,
                         head_value,
                         "ROOT" if dep == "root" else (dep if dep != "_" else "")))
            head_lines.append(lineno)
        elif "-" in id_:
            first, _, last = id_.partition("-")
            if not (first.isdigit() and last.isdigit()) or int(last) <= int(first):
                raise DataError(f"bad multiword token ID '{id_}': expected a range like 3-4", path=where,
                                line=lineno)
            if int(first) != len(words) + 1:
                raise DataError(f"multiword token {id_} out of sequence: expected it to start at word "
                                f"{len(words) + 1}", path=where, line=lineno)
            mwt_end = int(last)
            mwt_space = "SpaceAfter=No" not in misc
            mwts.append((len(words), int(last), form))
        elif "." in id_:
            major, _, minor = id_.partition(".")
            if not (major.isdigit() and minor.isdigit()):
                raise DataError(f"bad empty node ID '{id_}': expected a decimal like 8.1", path=where, line=lineno)
        else:
            raise DataError(f"bad token ID '{id_}': expected a word ID (1, 2, ...), a multiword range (3-4) "
                            f"or an empty node (8.1)", path=where, line=lineno)
    if words:
        end_sentence()
    if group.n_sents:
        yield group.to_doc(vocab)


def _head_cycle(heads: List[Optional[int]]) -> Optional[int]:
    """The index of a word whose HEAD chain (1-based IDs, 0 the root, None missing) loops
    back on itself, or None. A word that is its own HEAD would otherwise read as a root."""
    state = [0] * len(heads)  # 0 not seen, 1 on the chain being followed, 2 leads to a root
    for start in range(len(heads)):
        chain = []
        i: Optional[int] = start
        while i is not None and state[i] == 0:
            state[i] = 1
            chain.append(i)
            head = heads[i]
            i = head - 1 if head else None
        if i is not None and state[i] == 1:
            return i
        for j in chain:
            state[j] = 2
    return None
