"""Doc: a sequence of tokens stored as numpy columns.

Every token attribute is one column of a uint64 matrix (hashes for strings; HEAD and
SENT_START are signed values stored two's-complement, as in spaCy's arrays), so
feature extraction for a batch is column slicing, not a loop over Token objects.
Token and Span are light views into that matrix."""
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy

from . import attrs as A
from .columns import COL, COLUMNS, FIRST_ANNOTATION_COL, FLAGS, N_LEX
from .doc_serialize import doc_from_bytes, doc_from_json, doc_to_bytes, doc_to_json
from .similarity import TokenRunVectors
from .span import Span
from .token import Token
from .underscore import Extension, HasExtensions, Underscore
from .vocab import Vocab, VocabReference, vocab_from_reference, vocab_reference


def word_lengths(words: Sequence[str]) -> numpy.ndarray:
    return numpy.fromiter(map(len, words), dtype="uint64", count=len(words))


def attribute_array(cols: numpy.ndarray, attr_ids: Sequence[int],
                    lengths: Callable[[], numpy.ndarray]) -> numpy.ndarray:
    """uint64 (n_tokens, len(attr_ids)) from rows of Doc.cols (one Doc's, or a batch's
    concatenated): stored columns are taken as they are, ID is ORTH, each flag is its
    bit of the flag word, LENGTH comes from `lengths()` (the words' lengths, asked for
    only when LENGTH is)."""
    if all(a in COL for a in attr_ids):
        return cols[:, [COL[a] for a in attr_ids]]
    array = numpy.empty((cols.shape[0], len(attr_ids)), dtype="uint64")
    for j, attr in enumerate(attr_ids):
        if attr in COL:
            array[:, j] = cols[:, COL[attr]]
        elif attr == A.ID:
            array[:, j] = cols[:, COL[A.ORTH]]
        elif attr in A.FLAG_ATTRS:
            array[:, j] = (cols[:, COL[FLAGS]] >> numpy.uint64(attr)) & numpy.uint64(1)
        elif attr == A.LENGTH:
            array[:, j] = lengths()
        else:  # every ID in attrs.IDS_TO_NAMES is one of the above
            raise ValueError(f"attribute {A.IDS_TO_NAMES.get(attr, attr)} has no column")
    return array


class Doc(TokenRunVectors, HasExtensions):
    _extensions: Dict[str, Extension] = {}

    def __init__(self, vocab: Vocab, words: Sequence[str] = (), spaces: Optional[Sequence[bool]] = None, *,
                 user_data: Optional[Dict] = None, tags: Optional[Sequence[Optional[str]]] = None,
                 pos: Optional[Sequence[Optional[str]]] = None, morphs: Optional[Sequence[Optional[str]]] = None,
                 lemmas: Optional[Sequence[Optional[str]]] = None, heads: Optional[Sequence[Optional[int]]] = None,
                 deps: Optional[Sequence[Optional[str]]] = None,
                 sent_starts: Optional[Sequence[Optional[Union[bool, int]]]] = None,
                 ents: Optional[Sequence[Optional[str]]] = None) -> None:
        self.vocab = vocab
        words = list(words)
        if spaces is None:
            spaces = [True] * len(words)
        elif len(spaces) != len(words):
            raise ValueError(f"Doc: {len(words)} words but {len(spaces)} spaces")
        if not all(words):
            raise ValueError("Doc: words must be non-empty strings")
        self._words: List[str] = words
        self._spaces: List[bool] = list(map(bool, spaces))
        n = len(words)
        self.cols = numpy.zeros((n, len(COLUMNS)), dtype="uint64")
        if n:
            self.cols[:, :N_LEX] = vocab.lexeme_rows(words)
            space_column = numpy.fromiter(self._spaces, dtype="uint64", count=n)
            self.cols[:, COL[A.SPACY]] = space_column
            lengths = numpy.fromiter(map(len, words), dtype="uint64", count=n) + space_column
            self.cols[1:, COL[A.IDX]] = numpy.cumsum(lengths)[:-1]
        self.tensor = numpy.zeros((0, 0), dtype="float32")
        self.cats: Dict[str, float] = {}
        self.user_data: Dict[Any, Any] = {} if user_data is None else user_data
        self.spans: Dict[str, List[Span]] = {}
        for attr, values in ((A.TAG, tags), (A.POS, pos), (A.MORPH, morphs), (A.LEMMA, lemmas), (A.DEP, deps)):
            if values is not None:
                self._set_string_column(attr, values)
        if heads is not None:
            self._check_length("heads", heads)
            rel = [0 if h is None else int(h) - i for i, h in enumerate(heads)]
            if any(not 0 <= h < n for h in heads if h is not None):
                raise ValueError(f"Doc: a head index is outside 0..{n - 1}")
            self.cols[:, COL[A.HEAD]] = numpy.array(rel, dtype="int64").view("uint64")
        if sent_starts is not None:
            self._check_length("sent_starts", sent_starts)
            # True/1 starts a sentence, False/-1 does not, None/0 is unknown (spaCy's convention)
            values = [0 if s is None else (1 if s is True else -1 if s is False else int(s)) for s in sent_starts]
            if any(v not in (-1, 0, 1) for v in values):
                raise ValueError("Doc: sent_starts values must be True/False/None or 1/-1/0")
            self.cols[:, COL[A.SENT_START]] = numpy.array(values, dtype="int64").view("uint64")
        if ents is not None:
            self._check_length("ents", ents)
            self._set_iob_tags(ents)

    @classmethod
    def _from_prepared(cls, vocab: Vocab, words: List[str], spaces: List[bool], cols: numpy.ndarray) -> "Doc":
        """A Doc from columns a reader has already built and checked (DocBin.get_docs): `cols`
        holds the lexeme rows, SPACY, IDX and annotation exactly as __init__ and from_array
        would set them, `words` are non-empty and `spaces` are bools. Nothing is re-derived."""
        doc = cls.__new__(cls)
        doc.vocab = vocab
        doc._words = words
        doc._spaces = spaces
        doc.cols = cols
        doc.tensor = numpy.zeros((0, 0), dtype="float32")
        doc.cats = {}
        doc.user_data = {}
        doc.spans = {}
        return doc

    # -- construction helpers --------------------------------------------------------------
    def _check_length(self, name: str, values: Sequence) -> None:
        if len(values) != len(self._words):
            raise ValueError(f"Doc: {len(self._words)} words but {len(values)} {name}")

    def _set_string_column(self, attr: int, values: Sequence[Optional[str]]) -> None:
        self._check_length(A.IDS_TO_NAMES[attr].lower(), values)
        add = self.vocab.strings.add
        self.cols[:, COL[attr]] = [add(v) if v else 0 for v in values]

    def _set_iob_tags(self, tags: Sequence[Optional[str]]) -> None:
        """Accepts BILUO or IOB tags; None or '-' marks a token whose annotation is missing."""
        add = self.vocab.strings.add
        iob = numpy.zeros(len(tags), dtype="uint64")
        types = numpy.zeros(len(tags), dtype="uint64")
        prev_label = None
        for i, tag in enumerate(tags):
            if tag is None or tag == "-" or tag == "":
                prev_label = None
                continue
            if tag == "O":
                iob[i] = 2
                prev_label = None
                continue
            if len(tag) < 3 or tag[1] != "-" or tag[0] not in "BILU":
                raise ValueError(f"Doc: invalid entity tag '{tag}' at token {i} (expected B-, I-, L-, U-, O or -)")
            prefix, label = tag[0], tag[2:]
            begins = prefix in "BU" or prev_label != label
            iob[i] = 3 if begins else 1
            types[i] = add(label)
            prev_label = None if prefix in "LU" else label
        self.cols[:, COL[A.ENT_IOB]] = iob
        self.cols[:, COL[A.ENT_TYPE]] = types

    # -- sequence protocol -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._words)

    def __getitem__(self, i: Union[int, slice]) -> Union[Token, Span]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("Doc slices must be contiguous (step 1)")
            return Span(self, start, max(start, stop))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"Token index {i} out of range for a Doc of {n} tokens")
        return Token(self, i)

    def __iter__(self) -> Iterator[Token]:
        return (Token(self, i) for i in range(len(self)))

    def __repr__(self) -> str:
        return self.text

    # -- text --------------------------------------------------------------------------------
    @property
    def words(self) -> List[str]:
        return self._words

    @property
    def spaces(self) -> List[bool]:
        return self._spaces

    @property
    def text(self) -> str:
        return "".join(w + " " if s else w for w, s in zip(self._words, self._spaces))

    text_with_ws = text

    @property
    def token_ends(self) -> numpy.ndarray:
        lengths = numpy.fromiter((len(w) for w in self._words), dtype="int64", count=len(self._words))
        return self.cols[:, COL[A.IDX]].astype("int64") + lengths

    def char_span(self, start_char: int, end_char: int, label: Union[str, int] = 0,
                  alignment_mode: str = "strict", kb_id: Union[str, int] = 0) -> Optional[Span]:
        """The span covering characters start_char..end_char; None in 'strict' mode when
        the offsets fall inside a token ('contract' shrinks, 'expand' grows to tokens)."""
        if alignment_mode not in ("strict", "contract", "expand"):
            raise ValueError(f"alignment_mode must be strict, contract or expand, not '{alignment_mode}'")
        starts = self.cols[:, COL[A.IDX]].astype("int64")
        ends = self.token_ends
        if alignment_mode == "strict":
            first = numpy.searchsorted(starts, start_char)
            last = numpy.searchsorted(ends, end_char)
            if first >= len(self) or last >= len(self) or starts[first] != start_char or ends[last] != end_char:
                return None
        elif alignment_mode == "contract":
            first = numpy.searchsorted(starts, start_char)  # first token starting at/after start
            last = numpy.searchsorted(ends, end_char, side="right") - 1  # last token ending at/before end
        else:
            first = numpy.searchsorted(ends, start_char, side="right")  # first token ending after start
            last = numpy.searchsorted(starts, end_char, side="left") - 1  # last token starting before end
        if last < first:
            return None
        return Span(self, int(first), int(last) + 1, label=label, kb_id=kb_id)

    # -- arrays --------------------------------------------------------------------------------
    def to_array(self, attrs: Union[str, int, Iterable[Union[str, int]]]) -> numpy.ndarray:
        """uint64 array (n_tokens, len(attrs)); 1-d for a single attribute. Values as in
        spaCy's to_array: string attributes give their hash, flags 0/1, LENGTH the word's
        length in characters, SENT_START 1/-1/0 and HEAD the relative offset (negative
        values two's complement), ENT_IOB 0-3, ID the ORTH hash."""
        single = isinstance(attrs, (str, int))
        attr_ids = A.intify_attrs([attrs] if single else attrs)
        array = attribute_array(self.cols, attr_ids, lambda: word_lengths(self._words))
        return array[:, 0] if single else array

    def from_array(self, attrs: Iterable[Union[str, int]], array: numpy.ndarray) -> "Doc":
        """Set annotation columns (TAG, POS, HEAD, ENT_IOB, ...) from an array like to_array's."""
        attr_ids = A.intify_attrs(attrs)
        array = numpy.asarray(array)
        if array.ndim == 1:
            array = array.reshape((-1, 1))
        if array.shape != (len(self), len(attr_ids)):
            raise ValueError(f"from_array: expected shape {(len(self), len(attr_ids))}, got {array.shape}")
        for j, attr in enumerate(attr_ids):
            if attr not in COL or attr in (A.ORTH, A.LOWER, A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE, A.SPACY, A.IDX):
                continue  # lexical attributes (and ID, LENGTH, flags) follow from the words themselves
            self.set_column(attr, array[:, j])
        return self

    def set_column(self, attr: Union[str, int], values: numpy.ndarray, *, overwrite: bool = True) -> None:
        """Set one annotation column (TAG, SENT_START, ENT_IOB, ...) to `values`, one per
        token: string hashes, codes, or signed values (HEAD, SENT_START) as int64. With
        overwrite=False, only tokens whose value is unset (0) take the new one."""
        attr_id = A.intify_attr(attr)
        if COL.get(attr_id, -1) < FIRST_ANNOTATION_COL:
            raise KeyError(f"Attribute {A.IDS_TO_NAMES.get(attr_id, attr)} cannot be set: it is not an "
                           "annotation column")
        values = numpy.asarray(values)
        if values.shape != (len(self),):
            raise ValueError(f"set_column: expected {len(self)} values, got shape {values.shape}")
        if values.dtype.kind == "i":
            values = values.astype("int64").view("uint64")
        column = self.cols[:, COL[attr_id]]
        column[:] = values if overwrite else numpy.where(column == 0, values, column)

    def has_annotation(self, attr: Union[str, int], *, require_complete: bool = False) -> bool:
        attr_id = A.intify_attr(attr)
        if not len(self):
            return True
        column = self.cols[:, COL[attr_id]]
        if attr_id == A.SENT_START:
            # the first token always starts a sentence: look at the others
            column = column[1:] if len(self) > 1 else column
            if not len(column):
                return True
        if attr_id == A.HEAD:
            column = self.cols[:, COL[A.DEP]]
        present = column != 0
        return bool(present.all() if require_complete else present.any())

    # -- entities ------------------------------------------------------------------------------
    @property
    def ents(self) -> Tuple[Span, ...]:
        iob = self.cols[:, COL[A.ENT_IOB]]
        types = self.cols[:, COL[A.ENT_TYPE]]
        kb_ids = self.cols[:, COL[A.ENT_KB_ID]]
        spans = []
        start = None
        for i in range(len(self)):
            code = int(iob[i])
            continues = code == 1 and start is not None and types[i] == types[start]
            if start is not None and not continues:
                spans.append(Span(self, start, i, label=int(types[start]), kb_id=int(kb_ids[start])))
                start = None
            if code == 3 or (code == 1 and start is None):
                start = i
        if start is not None:
            spans.append(Span(self, start, len(self), label=int(types[start]), kb_id=int(kb_ids[start])))
        return tuple(spans)

    @ents.setter
    def ents(self, spans: Iterable[Union[Span, Tuple]]) -> None:
        self.set_ents(spans, default="outside")

    def set_ents(self, entities: Iterable[Union[Span, Tuple]], *, missing: Iterable[Span] = (),
                 default: str = "outside") -> None:
        """Set entities; tokens outside them become O ('outside'), missing ('missing') or keep
        their value ('unmodified'). Tuples are (label, start, end). Overlaps are an error."""
        if default not in ("outside", "missing", "unmodified"):
            raise ValueError("default must be 'outside', 'missing' or 'unmodified'")
        iob = self.cols[:, COL[A.ENT_IOB]]
        types = self.cols[:, COL[A.ENT_TYPE]]
        kb_ids = self.cols[:, COL[A.ENT_KB_ID]]
        if default == "outside":
            iob[:] = 2
            types[:] = kb_ids[:] = 0
        elif default == "missing":
            iob[:] = 0
            types[:] = kb_ids[:] = 0
        taken = numpy.zeros(len(self), dtype=bool)
        for ent in entities:
            if not isinstance(ent, Span):
                label, start, end = ent
                ent = Span(self, start, end, label=label)
            if not 0 <= ent.start < ent.end <= len(self):
                raise ValueError(f"Entity [{ent.start}, {ent.end}) is out of range for a Doc of {len(self)} tokens")
            if taken[ent.start:ent.end].any():
                raise ValueError(f"Entity '{ent.text}' [{ent.start}, {ent.end}) overlaps another entity")
            taken[ent.start:ent.end] = True
            iob[ent.start] = 3
            iob[ent.start + 1:ent.end] = 1
            types[ent.start:ent.end] = self.vocab.strings.add(ent.label_) if ent.label_ else 0
            kb_ids[ent.start:ent.end] = self.vocab.strings.add(ent.kb_id_) if ent.kb_id else 0
        for span in missing:
            iob[span.start:span.end] = 0
            types[span.start:span.end] = kb_ids[span.start:span.end] = 0

    # -- sentences --------------------------------------------------------------------------------
    @property
    def has_sentence_boundaries(self) -> bool:
        return self.has_annotation(A.SENT_START) or self.has_annotation(A.DEP)

    @property
    def sents(self) -> Iterator[Span]:
        starts = self.sentence_starts()
        bounds = list(numpy.flatnonzero(starts)) + [len(self)]
        for start, end in zip(bounds, bounds[1:]):
            yield Span(self, int(start), int(end))

    def sentence_starts(self) -> numpy.ndarray:
        """Boolean array: True where a sentence starts. From SENT_START, else from the parse."""
        n = len(self)
        starts = numpy.zeros(n, dtype=bool)
        if not n:
            return starts
        sent_start = self.cols[:, COL[A.SENT_START]].view("int64")
        if self.has_annotation(A.SENT_START):
            starts[:] = sent_start == 1
        elif self.has_annotation(A.DEP):
            # no arc crosses a sentence boundary: a boundary before i where the furthest
            # reach of every arc from tokens < i stays below i
            heads = numpy.arange(n) + self.cols[:, COL[A.HEAD]].view("int64")
            reach = numpy.maximum.accumulate(numpy.maximum(heads, numpy.arange(n)))
            earliest = numpy.minimum.accumulate(numpy.minimum(heads, numpy.arange(n))[::-1])[::-1]
            starts[1:] = (reach[:-1] < numpy.arange(1, n)) & (earliest[1:] >= numpy.arange(1, n))
        else:
            raise ValueError("This Doc has no sentence boundaries: add a senter or sentencizer, or set "
                             "token.is_sent_start")
        starts[0] = True
        return starts

    # -- static vectors: the mean of the tokens' vectors, never the tensor (similarity.py)
    def _token_run(self) -> Tuple["Doc", int, int]:
        return self, 0, len(self)

    # -- custom attributes -------------------------------------------------------------------
    @property
    def _(self) -> Underscore:
        return Underscore(Doc._extensions, self)

    # -- serialization -------------------------------------------------------------------------------
    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """The Doc as bytes (msgpack, no pickle): words, spaces, every token column, the strings
        they use, tensor, cats, span groups and user_data. `exclude` leaves out any of "tensor",
        "cats", "spans", "user_data" (user_data must be msgpack-serializable to be kept)."""
        return doc_to_bytes(self, exclude)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> "Doc":
        """Fill this Doc from to_bytes's bytes: `Doc(nlp.vocab).from_bytes(data)`."""
        return doc_from_bytes(self, data, exclude)

    def to_json(self, underscore: Optional[Iterable[str]] = None) -> Dict[str, Any]:
        """The Doc in spaCy's JSON layout: text, ents, sents, cats, tokens, spans (and "_")."""
        return doc_to_json(self, underscore)

    def from_json(self, doc_json: Dict[str, Any]) -> "Doc":
        """Fill this empty Doc from to_json's layout: `Doc(nlp.vocab).from_json(data)`."""
        return doc_from_json(self, doc_json)

    def __reduce__(self):
        # the Vocab goes as a reference (the same Vocab in this process, a like one elsewhere),
        # not as its data; user_data goes through pickle itself, so any picklable value is kept
        return restore_doc, (vocab_reference(self.vocab), self.to_bytes(exclude=["user_data"]), self.user_data)

    # -- copies ------------------------------------------------------------------------------------
    def copy(self) -> "Doc":
        doc = Doc.__new__(Doc)
        doc.vocab = self.vocab
        doc._words = list(self._words)
        doc._spaces = list(self._spaces)
        doc.cols = self.cols.copy()
        doc.tensor = self.tensor.copy()
        doc.cats = dict(self.cats)
        doc.user_data = dict(self.user_data)
        doc.spans = {key: [Span(doc, s.start, s.end, label=s.label, kb_id=s.kb_id) for s in group]
                     for key, group in self.spans.items()}
        return doc

    def blank_copy(self) -> "Doc":
        """Same words and spaces, no annotation: the 'predicted' side of an Example."""
        doc = self.copy()
        doc.cols[:, FIRST_ANNOTATION_COL:] = 0
        doc.tensor = numpy.zeros((0, 0), dtype="float32")
        doc.cats = {}
        doc.user_data = {}
        doc.spans = {}
        return doc


def restore_doc(reference: VocabReference, data: bytes, user_data: Dict[Any, Any]) -> Doc:
    """A pickled Doc, back: on the Vocab its reference names."""
    doc = Doc(vocab_from_reference(*reference)).from_bytes(data)
    doc.user_data = user_data
    return doc
