"""Token: a view of one row of a Doc's columns."""
from typing import Iterator, Optional, Tuple

import numpy

from . import attrs as A
from .columns import COL, FLAGS, IOB_STRINGS
from .similarity import TokenRunVectors
from .underscore import HasExtensions, Underscore

# "Doc" and "Span" in annotations are the classes of doc.py and span.py, named, not
# imported: doc.py builds on this module.


class Token(TokenRunVectors, HasExtensions):
    __slots__ = ("doc", "i")

    def __init__(self, doc: "Doc", i: int) -> None:
        self.doc = doc
        self.i = i

    def _get(self, attr: int) -> int:
        return int(self.doc.cols[self.i, COL[attr]])

    def _get_str(self, attr: int) -> str:
        return self.doc.vocab.strings[self._get(attr)]

    def _set_str(self, attr: int, value: Optional[str]) -> None:
        self.doc.cols[self.i, COL[attr]] = self.doc.vocab.strings.add(value) if value else 0

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other.doc is self.doc and other.i == self.i

    def __hash__(self) -> int:
        return hash((id(self.doc), self.i))

    # text
    @property
    def text(self) -> str:
        return self.doc._words[self.i]

    orth_ = text

    @property
    def orth(self) -> int:
        return self._get(A.ORTH)

    @property
    def whitespace_(self) -> str:
        return " " if self.doc._spaces[self.i] else ""

    @property
    def text_with_ws(self) -> str:
        return self.text + self.whitespace_

    @property
    def idx(self) -> int:
        return self._get(A.IDX)

    @property
    def lower_(self) -> str:
        return self._get_str(A.LOWER)

    @property
    def norm_(self) -> str:
        return self._get_str(A.NORM)

    @property
    def norm(self) -> int:
        return self._get(A.NORM)

    @property
    def prefix_(self) -> str:
        return self._get_str(A.PREFIX)

    @property
    def suffix_(self) -> str:
        return self._get_str(A.SUFFIX)

    @property
    def shape_(self) -> str:
        return self._get_str(A.SHAPE)

    def check_flag(self, attr_id: int) -> bool:
        return bool(int(self.doc.cols[self.i, COL[FLAGS]]) & (1 << attr_id))

    is_alpha = property(lambda self: self.check_flag(A.IS_ALPHA))
    is_ascii = property(lambda self: self.check_flag(A.IS_ASCII))
    is_digit = property(lambda self: self.check_flag(A.IS_DIGIT))
    is_lower = property(lambda self: self.check_flag(A.IS_LOWER))
    is_upper = property(lambda self: self.check_flag(A.IS_UPPER))
    is_title = property(lambda self: self.check_flag(A.IS_TITLE))
    is_punct = property(lambda self: self.check_flag(A.IS_PUNCT))
    is_space = property(lambda self: self.check_flag(A.IS_SPACE))
    is_stop = property(lambda self: self.check_flag(A.IS_STOP))
    is_bracket = property(lambda self: self.check_flag(A.IS_BRACKET))
    is_quote = property(lambda self: self.check_flag(A.IS_QUOTE))
    is_currency = property(lambda self: self.check_flag(A.IS_CURRENCY))
    like_num = property(lambda self: self.check_flag(A.LIKE_NUM))
    like_url = property(lambda self: self.check_flag(A.LIKE_URL))
    like_email = property(lambda self: self.check_flag(A.LIKE_EMAIL))

    # annotation (string attributes with setters)
    tag_ = property(lambda self: self._get_str(A.TAG), lambda self, v: self._set_str(A.TAG, v))
    pos_ = property(lambda self: self._get_str(A.POS), lambda self, v: self._set_str(A.POS, v))
    lemma_ = property(lambda self: self._get_str(A.LEMMA), lambda self, v: self._set_str(A.LEMMA, v))
    dep_ = property(lambda self: self._get_str(A.DEP), lambda self, v: self._set_str(A.DEP, v))
    morph = property(lambda self: self._get_str(A.MORPH), lambda self, v: self._set_str(A.MORPH, v))
    ent_type_ = property(lambda self: self._get_str(A.ENT_TYPE))
    tag = property(lambda self: self._get(A.TAG))
    pos = property(lambda self: self._get(A.POS))
    dep = property(lambda self: self._get(A.DEP))
    ent_type = property(lambda self: self._get(A.ENT_TYPE))
    # the knowledge-base ID of the entity the token is in (set by an entity linker, or by hand)
    ent_kb_id_ = property(lambda self: self._get_str(A.ENT_KB_ID), lambda self, v: self._set_str(A.ENT_KB_ID, v))
    ent_kb_id = property(lambda self: self._get(A.ENT_KB_ID))
    ent_id_ = property(lambda self: self._get_str(A.ENT_ID), lambda self, v: self._set_str(A.ENT_ID, v))
    ent_id = property(lambda self: self._get(A.ENT_ID))

    @property
    def ent_iob(self) -> int:
        return self._get(A.ENT_IOB)

    @property
    def ent_iob_(self) -> str:
        return IOB_STRINGS[self._get(A.ENT_IOB)]

    # syntax
    @property
    def head(self) -> "Token":
        offset = int(self.doc.cols[self.i:self.i + 1, COL[A.HEAD]].view("int64")[0])
        return self.doc[self.i + offset]

    @head.setter
    def head(self, token: "Token") -> None:
        self.doc.cols[self.i:self.i + 1, COL[A.HEAD]] = numpy.array([token.i - self.i], dtype="int64").view("uint64")

    @property
    def children(self) -> Iterator["Token"]:
        return (t for t in self.doc if t.i != self.i and t.head.i == self.i)

    # sentences
    @property
    def is_sent_start(self) -> Optional[bool]:
        if self.i == 0:
            return True
        value = int(self.doc.cols[self.i:self.i + 1, COL[A.SENT_START]].view("int64")[0])
        return None if value == 0 else value == 1

    @is_sent_start.setter
    def is_sent_start(self, value: Optional[bool]) -> None:
        code = 0 if value is None else (1 if value else -1)
        self.doc.cols[self.i:self.i + 1, COL[A.SENT_START]] = numpy.array([code], dtype="int64").view("uint64")

    @property
    def sent(self) -> "Span":
        for sent in self.doc.sents:
            if sent.start <= self.i < sent.end:
                return sent
        raise RuntimeError("unreachable: every token lies in a sentence")

    # static vectors (vocab.vectors; see similarity.py)
    def _token_run(self) -> Tuple["Doc", int, int]:
        return self.doc, self.i, self.i + 1

    # custom attributes
    @property
    def _(self):
        return Underscore(Token._extensions, self, start=self.idx, end=None)


Token._extensions = {}
