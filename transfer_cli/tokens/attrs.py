"""Token attribute IDs. The numbers equal spaCy's, so `.spacy` files and configs that
name attributes (`attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]`) mean the same here.

Every name spaCy's `Doc.to_array` accepts is accepted, in any case and with or
without a trailing underscore ("orth", "ORTH", "lower_"). An unknown name is a
ConfigError that lists the known ones and suggests the closest."""
import difflib
from typing import Dict, Iterable, List, Optional, Union

from ..errors import ConfigError

IS_ALPHA, IS_ASCII, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER = 1, 2, 3, 4, 5, 6, 7, 8
LIKE_URL, LIKE_NUM, LIKE_EMAIL, IS_STOP, IS_OOV_DEPRECATED = 9, 10, 11, 12, 13
IS_BRACKET, IS_QUOTE, IS_LEFT_PUNCT, IS_RIGHT_PUNCT, IS_CURRENCY = 14, 15, 16, 17, 18
ID, ORTH, LOWER, NORM, SHAPE, PREFIX, SUFFIX, LENGTH = 64, 65, 66, 67, 68, 69, 70, 71
LEMMA, POS, TAG, DEP, ENT_IOB, ENT_TYPE, HEAD, SENT_START, SPACY = 73, 74, 75, 76, 77, 78, 79, 80, 81
ENT_KB_ID, MORPH, ENT_ID, IDX = 452, 453, 454, 455

# canonical name of each ID, in the order they are listed to users
IDS_TO_NAMES: Dict[int, str] = {
    ID: "ID", ORTH: "ORTH", LOWER: "LOWER", NORM: "NORM", SHAPE: "SHAPE", PREFIX: "PREFIX", SUFFIX: "SUFFIX",
    LENGTH: "LENGTH",
    IS_ALPHA: "IS_ALPHA", IS_ASCII: "IS_ASCII", IS_DIGIT: "IS_DIGIT", IS_LOWER: "IS_LOWER",
    IS_PUNCT: "IS_PUNCT", IS_SPACE: "IS_SPACE", IS_TITLE: "IS_TITLE", IS_UPPER: "IS_UPPER",
    LIKE_URL: "LIKE_URL", LIKE_NUM: "LIKE_NUM", LIKE_EMAIL: "LIKE_EMAIL", IS_STOP: "IS_STOP",
    IS_OOV_DEPRECATED: "IS_OOV_DEPRECATED", IS_BRACKET: "IS_BRACKET", IS_QUOTE: "IS_QUOTE",
    IS_LEFT_PUNCT: "IS_LEFT_PUNCT", IS_RIGHT_PUNCT: "IS_RIGHT_PUNCT", IS_CURRENCY: "IS_CURRENCY",
    POS: "POS", TAG: "TAG", DEP: "DEP", HEAD: "HEAD", LEMMA: "LEMMA", MORPH: "MORPH", SENT_START: "SENT_START",
    SPACY: "SPACY", ENT_IOB: "ENT_IOB", ENT_TYPE: "ENT_TYPE", ENT_KB_ID: "ENT_KB_ID", ENT_ID: "ENT_ID", IDX: "IDX",
}
NAMES: Dict[str, int] = {name: attr_id for attr_id, name in IDS_TO_NAMES.items()}
NAMES["IS_OOV"] = IS_OOV_DEPRECATED  # the name spaCy 2 configs use

# Lexical flags: computed from the word's string, stored as bits of the lexeme's flag word
# (bit = attribute ID). IS_OOV_DEPRECATED's bit is never set: spaCy 3's to_array gives 0 for it too.
FLAG_ATTRS: List[int] = [IS_ALPHA, IS_ASCII, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER,
                         LIKE_URL, LIKE_NUM, LIKE_EMAIL, IS_STOP, IS_OOV_DEPRECATED, IS_BRACKET, IS_QUOTE,
                         IS_LEFT_PUNCT, IS_RIGHT_PUNCT, IS_CURRENCY]


def unknown_attribute_message(attr: object) -> str:
    """'unknown attribute 'ORTHO' (did you mean 'ORTH'?); expected one of ID, ORTH, ...'."""
    if isinstance(attr, str):
        close = difflib.get_close_matches(attr.upper().rstrip("_"), list(NAMES), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown attribute '{attr}'{hint}; expected one of {', '.join(IDS_TO_NAMES.values())}"
    kind = "ID" if isinstance(attr, int) else "value"
    return (f"unknown attribute {kind} {attr!r}; expected an attribute name such as ORTH, LOWER, NORM, PREFIX, "
            f"SUFFIX, SHAPE (one of {', '.join(IDS_TO_NAMES.values())})")


def attr_problem(attr: object) -> Optional[str]:
    """None when `attr` names an attribute, else what is wrong with it."""
    try:
        intify_attr(attr)  # type: ignore[arg-type]
    except ConfigError as e:
        return e.bare_message
    return None


def intify_attr(attr: Union[str, int]) -> int:
    """Attribute name (any case, with or without a trailing underscore) or ID → ID."""
    if isinstance(attr, bool) or not isinstance(attr, (str, int)):
        raise ConfigError(unknown_attribute_message(attr))
    if isinstance(attr, int):
        if attr not in IDS_TO_NAMES:
            raise ConfigError(unknown_attribute_message(attr))
        return attr
    attr_id = NAMES.get(attr.upper().rstrip("_")) if attr.strip("_") else None
    if attr_id is None:
        raise ConfigError(unknown_attribute_message(attr))
    return attr_id


def intify_attrs(attrs: Iterable[Union[str, int]]) -> List[int]:
    return [intify_attr(a) for a in attrs]
