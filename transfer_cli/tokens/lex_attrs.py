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


def word_shape(text: str) -> str:
    """Orthographic shape: X for upper, x for lower, d for digit, the char itself
    otherwise; runs of the same shape char are cut after 4 (Xxxxx → Xxxxx → 'Xxxxx'[:5])."""
    if len(text) >= 100:
        return "LONG"
    shape = []
    last = ""
    run = 0
    for char in text:
        if char.isalpha():
            shape_char = "X" if char.isupper() else "x"
        elif char.isdigit():
            shape_char = "d"
        else:
            shape_char = char
        if shape_char == last:
            run += 1
        else:
            run = 0
            last = shape_char
        if run < 4:
            shape.append(shape_char)
    return "".join(shape)


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
    """The flag word of a string; `overrides` replace checks by attribute ID (a language's own LIKE_NUM)."""
    checks: Dict[int, Callable[[str], bool]] = {
        A.IS_ALPHA: str.isalpha,
        A.IS_ASCII: lambda t: all(ord(c) < 128 for c in t),
        A.IS_DIGIT: str.isdigit,
        A.IS_LOWER: str.islower,
        A.IS_PUNCT: is_punct,
        A.IS_SPACE: str.isspace,
        A.IS_TITLE: str.istitle,
        A.IS_UPPER: str.isupper,
        A.LIKE_URL: lambda t: bool(_URL.match(t)),
        A.LIKE_NUM: like_num,
        A.LIKE_EMAIL: lambda t: bool(_EMAIL.match(t)),
        A.IS_STOP: lambda t: t.lower() in stop_words,
        A.IS_BRACKET: lambda t: t in _BRACKETS,
        A.IS_QUOTE: lambda t: bool(t) and all(c in _QUOTES for c in t),
        A.IS_LEFT_PUNCT: lambda t: t in _LEFT_PUNCT,
        A.IS_RIGHT_PUNCT: lambda t: t in _RIGHT_PUNCT,
        A.IS_CURRENCY: is_currency,
    }
    if overrides:
        checks.update(overrides)
    flags = 0
    for attr_id, check in checks.items():
        if check(text):
            flags |= 1 << attr_id
    return flags
