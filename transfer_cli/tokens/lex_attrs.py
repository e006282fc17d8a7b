"""Lexical attributes of a word string: computed once per distinct word by the Vocab."""
import re
import unicodedata
from typing import Callable, Dict, FrozenSet, Optional

from . import attrs as A

_URL = re.compile(r"^(?:(?:https?|ftp)://|www\.)\S+$|^[\w.-]+\.(?:com|org|net|edu|gov|io|co|uk|de)(?:/\S*)?$", re.I)
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+\.[\w.-]+$")
_BRACKETS = set("()[]{}<>")
_QUOTES = set("'\"`‘’“”«»‹›„‚")
_LEFT_PUNCT = set("([{<“‘«‹„‚")
_RIGHT_PUNCT = set(")]}>”’»›")
_NUM_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "thousand million billion trillion quadrillion gajillion bazillion".split()
)


class _ShapeChars(dict):
    """char -> its shape char (X upper, x other letters, d digit, else the char), filled on first use."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isalpha():
            shape = "X" if char.isupper() else "x"
        elif char.isdigit():
            shape = "d"
        else:
            shape = char
        self[code] = shape
        return shape


_SHAPE_CHARS = _ShapeChars()
_LONG_RUN = re.compile(r"(.)\1{4,}", re.S)
_CUT_SHAPES: Dict[str, str] = {}


def word_shape(text: str) -> str:
    """Orthographic shape: X for upper, x for lower, d for digit, the char itself
    otherwise; runs of the same shape char are cut after 4 (Xxxxxxx → 'Xxxxx')."""
    if len(text) >= 100:
        return "LONG"
    shape = text.translate(_SHAPE_CHARS)
    cut = _CUT_SHAPES.get(shape)
    if cut is None:  # far fewer distinct shapes than words: cut each once
        cut = _LONG_RUN.sub(r"\1\1\1\1", shape)
        if len(_CUT_SHAPES) < 100_000:
            _CUT_SHAPES[shape] = cut
    return cut


def is_punct(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c).startswith("P") for c in text)


def is_currency(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c) == "Sc" for c in text)


def like_num(text: str) -> bool:
    if text.startswith(("+", "-", "±", "~")):
        text = text[1:]
    text = text.replace(",", "").replace(".", "")
    if text.isdigit():
        return True
    if text.count("/") == 1:
        num, denom = text.split("/")
        if num.isdigit() and denom.isdigit():
            return True
    return text.lower() in _NUM_WORDS


def compute_flags(text: str, stop_words: FrozenSet[str] = frozenset(),
                  overrides: Optional[Dict[int, Callable[[str], bool]]] = None) -> int:
    """The flag word of a string; `overrides` replace checks by attribute ID (a language's own
    LIKE_NUM). Once per distinct word, so written out check by check, cheapest tests first."""
    flags = 0
    if text.isalnum():  # letters and digits only: never punctuation, currency, quotes or brackets
        if text.isalpha():
            flags |= _BIT[A.IS_ALPHA]
        if text.isdigit():
            flags |= _BIT[A.IS_DIGIT]
    else:
        if is_punct(text):
            flags |= _BIT[A.IS_PUNCT]
        if text.isspace():
            flags |= _BIT[A.IS_SPACE]
        if text in _BRACKETS:
            flags |= _BIT[A.IS_BRACKET]
        if text and _QUOTES.issuperset(text):
            flags |= _BIT[A.IS_QUOTE]
        if text in _LEFT_PUNCT:
            flags |= _BIT[A.IS_LEFT_PUNCT]
        if text in _RIGHT_PUNCT:
            flags |= _BIT[A.IS_RIGHT_PUNCT]
        if is_currency(text):
            flags |= _BIT[A.IS_CURRENCY]
        if ("." in text or ":" in text) and _URL.match(text):  # both patterns need one of them
            flags |= _BIT[A.LIKE_URL]
        if "@" in text and _EMAIL.match(text):
            flags |= _BIT[A.LIKE_EMAIL]
    if text.isascii():
        flags |= _BIT[A.IS_ASCII]
    if text.islower():
        flags |= _BIT[A.IS_LOWER]
    if text.istitle():
        flags |= _BIT[A.IS_TITLE]
    if text.isupper():
        flags |= _BIT[A.IS_UPPER]
    if text.lower() in stop_words:
        flags |= _BIT[A.IS_STOP]
    if overrides:
        for attr_id, check in overrides.items():
            bit = 1 << attr_id
            flags = flags | bit if check(text) else flags & ~bit
        if A.LIKE_NUM in overrides:
            return flags
    if like_num(text):
        flags |= _BIT[A.LIKE_NUM]
    return flags


_BIT = {attr: 1 << attr for attr in A.FLAG_ATTRS}
