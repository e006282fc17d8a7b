"""English lexical facts used by the Vocab: norm exceptions and number words.

The norm of a word is its lower-case form unless an exception says otherwise;
the exceptions map typographic variants to one spelling (curly quotes to
straight ones, dash and ellipsis variants, currency symbols to '$') and
contraction tails to the word they stand for ("n't" → "not")."""
from typing import Callable, Dict

from ...tokens.lex_attrs import like_num as base_like_num

APOSTROPHES = ("'", "‘", "’", "´", "`", "‚")
DOUBLE_QUOTES = ('"', "“", "”", "„", "«", "»", "''", "``", "‘‘", "’’", "´´", ",,")
DASHES = ("—", "–", "--", "---", "——", "―")
CURRENCY = ("£", "€", "¥", "฿", "₹", "₩", "₽", "₺", "₪", "US$", "C$", "A$")
_CONTRACTION_NORMS = {"n't": "not", "'ll": "will", "'re": "are", "'ve": "have", "'m": "am", "'s": "'s",
                      "'d": "'d", "'em": "them"}


def _norm_exceptions() -> Dict[str, str]:
    norms: Dict[str, str] = {}
    norms.update({q: "'" for q in APOSTROPHES})
    norms.update({q: '"' for q in DOUBLE_QUOTES})
    norms.update({d: "-" for d in DASHES})
    norms.update({c: "$" for c in CURRENCY})
    norms["…"] = "..."
    for mark in "?!":
        norms.update({mark * n: mark for n in range(2, 6)})
    norms.update({"?!": "?", "!?": "?"})
    for tail, norm in _CONTRACTION_NORMS.items():
        for apostrophe in ("'", "‘", "’"):
            norms[tail.replace("'", apostrophe)] = norm
            norms[tail.replace("'", apostrophe).upper()] = norm
    return norms


NORM_EXCEPTIONS = _norm_exceptions()

_NUMBER_WORDS = frozenset((
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion trillion quadrillion quintillion sextillion septillion octillion nonillion decillion gajillion "
    "bazillion").split())
_IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                       "nine": "ninth", "twelve": "twelfth"}


def _ordinal(word: str) -> str:
    if word in _IRREGULAR_ORDINALS:
        return _IRREGULAR_ORDINALS[word]
    if word.endswith("y"):
        return word[:-1] + "ieth"  # twenty → twentieth
    return word + "th"


ORDINAL_WORDS = frozenset(_ordinal(w) for w in _NUMBER_WORDS if w != "zero")


def like_num(text: str) -> bool:
    """The shared number test (digits, fractions, number words) plus ordinal words and
    digit ordinals ('21st')."""
    if base_like_num(text):
        return True
    lower = text.lstrip("+-±~").replace(",", "").replace(".", "").lower()
    if lower in ORDINAL_WORDS:
        return True
    return lower.endswith(("st", "nd", "rd", "th")) and lower[:-2].isdigit()


LEX_ATTRS: Dict[str, Callable[[str], bool]] = {"LIKE_NUM": like_num}
