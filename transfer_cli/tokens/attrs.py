"""Token attribute IDs. The numbers equal spaCy's, so `.spacy` files and configs that
name attributes (`attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]`) mean the same here."""
from typing import Dict, Iterable, List, Union

IS_ALPHA, IS_ASCII, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER = 1, 2, 3, 4, 5, 6, 7, 8
LIKE_URL, LIKE_NUM, LIKE_EMAIL, IS_STOP = 9, 10, 11, 12
IS_BRACKET, IS_QUOTE, IS_LEFT_PUNCT, IS_RIGHT_PUNCT, IS_CURRENCY = 14, 15, 16, 17, 18
ID, ORTH, LOWER, NORM, SHAPE, PREFIX, SUFFIX, LENGTH = 64, 65, 66, 67, 68, 69, 70, 71
LEMMA, POS, TAG, DEP, ENT_IOB, ENT_TYPE, HEAD, SENT_START, SPACY = 73, 74, 75, 76, 77, 78, 79, 80, 81
ENT_KB_ID, MORPH, ENT_ID, IDX = 452, 453, 454, 455

NAMES: Dict[str, int] = {
    "IS_ALPHA": IS_ALPHA, "IS_ASCII": IS_ASCII, "IS_DIGIT": IS_DIGIT, "IS_LOWER": IS_LOWER,
    "IS_PUNCT": IS_PUNCT, "IS_SPACE": IS_SPACE, "IS_TITLE": IS_TITLE, "IS_UPPER": IS_UPPER,
    "LIKE_URL": LIKE_URL, "LIKE_NUM": LIKE_NUM, "LIKE_EMAIL": LIKE_EMAIL, "IS_STOP": IS_STOP,
    "IS_BRACKET": IS_BRACKET, "IS_QUOTE": IS_QUOTE, "IS_LEFT_PUNCT": IS_LEFT_PUNCT,
    "IS_RIGHT_PUNCT": IS_RIGHT_PUNCT, "IS_CURRENCY": IS_CURRENCY,
    "ID": ID, "ORTH": ORTH, "LOWER": LOWER, "NORM": NORM, "SHAPE": SHAPE, "PREFIX": PREFIX,
    "SUFFIX": SUFFIX, "LENGTH": LENGTH, "LEMMA": LEMMA, "POS": POS, "TAG": TAG, "DEP": DEP,
    "ENT_IOB": ENT_IOB, "ENT_TYPE": ENT_TYPE, "HEAD": HEAD, "SENT_START": SENT_START,
    "SPACY": SPACY, "ENT_KB_ID": ENT_KB_ID, "MORPH": MORPH, "ENT_ID": ENT_ID, "IDX": IDX,
}
IDS_TO_NAMES: Dict[int, str] = {v: k for k, v in NAMES.items()}

# Lexical flags: computed from the word's string, stored as bits of the lexeme's flag word.
FLAG_ATTRS: List[int] = [IS_ALPHA, IS_ASCII, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER,
                         LIKE_URL, LIKE_NUM, LIKE_EMAIL, IS_STOP, IS_BRACKET, IS_QUOTE, IS_LEFT_PUNCT,
                         IS_RIGHT_PUNCT, IS_CURRENCY]


def intify_attr(attr: Union[str, int]) -> int:
    """Attribute name (any case, with or without a trailing underscore) or ID → ID."""
    if isinstance(attr, int):
        if attr not in IDS_TO_NAMES:
            raise KeyError(f"Unknown attribute ID {attr}")
        return attr
    name = attr.upper().rstrip("_")
    if name not in NAMES:
        raise KeyError(f"Unknown token attribute '{attr}'. Known: {', '.join(sorted(NAMES))}")
    return NAMES[name]


def intify_attrs(attrs: Iterable[Union[str, int]]) -> List[int]:
    return [intify_attr(a) for a in attrs]
