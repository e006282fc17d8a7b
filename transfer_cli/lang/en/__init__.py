"""English: contractions and abbreviations as special cases, norm exceptions, stop words."""
from typing import Callable, ClassVar, Dict, FrozenSet, Optional

from ...tokens.vocab import Vocab
from ..exceptions import Exceptions
from ..language import LanguageDefaults
from ..tokenizer import Tokenizer
from .lex_attrs import LEX_ATTRS, NORM_EXCEPTIONS, like_num
from .stop_words import STOP_WORDS
from .tokenizer_exceptions import TOKENIZER_EXCEPTIONS


class English(LanguageDefaults):
    lang: ClassVar[str] = "en"
    name: ClassVar[str] = "English"
    stop_words: ClassVar[FrozenSet[str]] = STOP_WORDS
    norm_exceptions: ClassVar[Dict[str, str]] = NORM_EXCEPTIONS
    lex_attr_getters: ClassVar[Dict[str, Callable[[str], bool]]] = LEX_ATTRS

    @classmethod
    def tokenizer_exceptions(cls) -> Exceptions:
        return TOKENIZER_EXCEPTIONS


def english_vocab() -> Vocab:
    """A Vocab with the English norm exceptions and stop words."""
    return English.create_vocab()


def create_english_tokenizer(vocab: Optional[Vocab] = None) -> Tokenizer:
    """The English tokenizer (spaCy's blank 'en' rules), on `vocab` or a new English Vocab."""
    return English.create_tokenizer(vocab)


__all__ = ["English", "english_vocab", "create_english_tokenizer", "TOKENIZER_EXCEPTIONS", "NORM_EXCEPTIONS",
           "STOP_WORDS", "LEX_ATTRS", "like_num"]
