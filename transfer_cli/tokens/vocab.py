"""Vocab: the StringStore plus a cache of lexical attributes per distinct word.

Each distinct word string is analysed once (norm, lower, prefix, suffix, shape,
flags); Docs copy those hashes into their columns, so feature extraction for a
batch is array slicing."""
import uuid
import weakref
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

import numpy

from . import attrs as A
from .lex_attrs import compute_flags, word_shape
from .similarity import HasSimilarity, key_attr
from .strings import StringStore
from .vectors import Vectors

# Column order of a lexeme row: the lexical attributes a Doc copies per token.
LEX_ATTRS = (A.ORTH, A.LOWER, A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE)
LexemeRow = Tuple[int, int, int, int, int, int, int]  # the LEX_ATTRS hashes + flags


class Lexeme(HasSimilarity):
    """A view of one vocabulary entry."""

    def __init__(self, vocab: "Vocab", orth: int) -> None:
        self.vocab = vocab
        self.orth = orth
        self._row = vocab.lexeme_row(vocab.strings[orth])

    @property
    def orth_(self) -> str:
        return self.vocab.strings[self.orth]

    text = orth_

    @property
    def lower_(self) -> str:
        return self.vocab.strings[self._row[1]]

    @property
    def norm_(self) -> str:
        return self.vocab.strings[self._row[2]]

    @property
    def shape_(self) -> str:
        return self.vocab.strings[self._row[5]]

    def check_flag(self, attr_id: int) -> bool:
        return bool(self._row[6] & (1 << attr_id))

    @property
    def is_alpha(self) -> bool:
        return self.check_flag(A.IS_ALPHA)

    @property
    def is_punct(self) -> bool:
        return self.check_flag(A.IS_PUNCT)

    @property
    def like_num(self) -> bool:
        return self.check_flag(A.LIKE_NUM)

    # static vectors: the row of vocab.vectors for this word (by the table's key attribute)
    def _vector_key(self) -> int:
        return self._row[LEX_ATTRS.index(key_attr(self.vocab.vectors))]

    @property
    def vector(self) -> numpy.ndarray:
        return self.vocab.get_vector(self._vector_key())

    @property
    def has_vector(self) -> bool:
        return self.vocab.has_vector(self._vector_key())



class Vocab:
    """Strings, lexical attributes and (later) the vectors table of a pipeline."""

    # goes up whenever an existing lexeme row changes, so copies of rows (the tokenizer's) know
    lexeme_version = 0

    def __init__(self, strings: Iterable[str] = (), *, norm_exceptions: Optional[Dict[str, str]] = None,
                 stop_words: Iterable[str] = (), lang: str = "",
                 lex_attr_getters: Optional[Dict[str, Callable[[str], bool]]] = None) -> None:
        self.strings = StringStore(strings)
        self.norm_exceptions: Dict[str, str] = dict(norm_exceptions or {})
        self.stop_words: FrozenSet[str] = frozenset(stop_words)
        self.lang = lang
        # a language's own flag checks, e.g. English LIKE_NUM knowing ordinals
        self.lex_attr_getters = {A.intify_attr(name): func for name, func in (lex_attr_getters or {}).items()}
        # one row per distinct word, in a growing table, so a Doc gathers its rows in one step
        self._row_index: Dict[str, int] = {}
        self._row_table = numpy.zeros((1024, len(LEX_ATTRS) + 1), dtype="uint64")
        self.vectors = Vectors()  # empty until static vectors are loaded ([initialize] vectors)
        # (function, args) that make a new Vocab like this one, e.g. a language's defaults
        self.origin: Optional[Tuple[Callable[..., "Vocab"], tuple]] = None
        self._reference_key: Optional[str] = None  # set when a pickled Doc first refers to it

    def __getstate__(self) -> Dict[str, Any]:
        # a pickled or copied Vocab is a Vocab of its own, not the one Docs refer to by key
        state = dict(self.__dict__)
        state["_reference_key"] = None
        return state

    def row_id(self, word: str) -> int:
        """The lexeme row number of one word (see row_ids)."""
        index = self._row_index.get(word)
        if index is None:
            index = len(self._row_index)
            if index == len(self._row_table):
                grown = numpy.zeros((2 * len(self._row_table), self._row_table.shape[1]), dtype="uint64")
                grown[:index] = self._row_table
                self._row_table = grown
            self._row_table[index] = self._analyse(word)
            self._row_index[word] = index
        return index

    def lexeme_row(self, word: str) -> LexemeRow:
        return tuple(int(v) for v in self._row_table[self.row_id(word)])  # type: ignore[return-value]

    def _analyse(self, word: str) -> LexemeRow:
        add = self.strings.add
        lower = word.lower()
        norm = self.norm_exceptions.get(word, self.norm_exceptions.get(lower, lower))
        return (add(word), add(lower), add(norm), add(word[:1]), add(word[-3:]), add(word_shape(word)),
                compute_flags(word, self.stop_words, self.lex_attr_getters))

    def lexeme_rows(self, words: Sequence[str]) -> numpy.ndarray:
        """uint64 array (n_words, 7): the LEX_ATTRS hashes and the flag word."""
        return self.rows(self.row_ids(words))

    def row_ids(self, words: Sequence[str]) -> List[int]:
        """The lexeme row number of each word (analysed first if new). A row number stays
        the word's for the life of this Vocab, so callers may keep it (the tokenizer's cache)
        and read the row, with any later change to it, by rows()."""
        index = self._row_index
        try:
            return [index[w] for w in words]  # the common case: every word seen before
        except KeyError:
            row_id = self.row_id
            return [index[w] if w in index else row_id(w) for w in words]

    def rows(self, row_ids: Sequence[int]) -> numpy.ndarray:
        """uint64 array (len(row_ids), 7): the lexeme rows with these numbers (row_ids())."""
        return self._row_table.take(row_ids, axis=0)

    def __getitem__(self, word) -> Lexeme:
        if isinstance(word, str):
            self.lexeme_row(word)
            return Lexeme(self, self.strings[word])
        return Lexeme(self, int(word))

    def __contains__(self, word: str) -> bool:
        return word in self._row_index

    def __len__(self) -> int:
        return len(self._row_index)

    # static vectors
    def get_vector(self, key: Union[str, int]) -> numpy.ndarray:
        """The vector of a word (string or hash); zeros when the table has none for it."""
        return self.vectors.get_batch([key], strings=self.strings)[0]

    def set_vector(self, key: Union[str, int], vector: numpy.ndarray) -> None:
        if isinstance(key, str):
            self.strings.add(key)
        self.vectors[key] = vector

    def has_vector(self, key: Union[str, int]) -> bool:
        if self.vectors.is_empty:
            return False
        return key in self.vectors

    def set_lexeme_norm(self, word: str, norm: str) -> None:
        """Change a word's NORM; Docs made afterwards use it."""
        self.norm_exceptions[word] = norm
        if word in self._row_index:
            self._row_table[self._row_index[word]] = self._analyse(word)
            self.lexeme_version += 1


# Vocabs that pickled Docs refer to, by key: in this process (and in processes forked
# from it) an unpickled Doc gets back the very Vocab it was made with.
_REFERENCED: "weakref.WeakValueDictionary[str, Vocab]" = weakref.WeakValueDictionary()
VocabReference = Tuple[str, Optional[Tuple[Callable[..., Vocab], tuple]], Optional[Dict[str, Any]]]


def vocab_reference(vocab: Vocab) -> VocabReference:
    """What a pickled Doc stores instead of its Vocab: a key to find the same Vocab in
    this process, and how to make a like one elsewhere (its origin, e.g. the language's
    defaults; or, for a Vocab made directly, its few settings). Strings, vectors and
    lexeme caches are not included: the Doc carries the strings it uses itself."""
    if vocab._reference_key is None:
        vocab._reference_key = uuid.uuid4().hex
        _REFERENCED[vocab._reference_key] = vocab
    settings = None
    if vocab.origin is None:
        settings = {"norm_exceptions": vocab.norm_exceptions, "stop_words": sorted(vocab.stop_words),
                    "lang": vocab.lang, "lex_attr_getters": vocab.lex_attr_getters}
    return vocab._reference_key, vocab.origin, settings


def vocab_from_reference(key: str, origin: Optional[Tuple[Callable[..., Vocab], tuple]],
                         settings: Optional[Dict[str, Any]]) -> Vocab:
    """The Vocab a reference names: the live one if this process has it, else a new one
    made from the origin (shared by every Doc unpickled with the same key)."""
    vocab = _REFERENCED.get(key)
    if vocab is None:
        if origin is not None:
            make, args = origin
            vocab = make(*args)
        else:
            settings = dict(settings or {})
            getters = settings.pop("lex_attr_getters", {})
            vocab = Vocab(**settings, lex_attr_getters=getters)  # keyed by attribute ID: Vocab takes those too
        vocab._reference_key = key
        _REFERENCED[key] = vocab
    return vocab
