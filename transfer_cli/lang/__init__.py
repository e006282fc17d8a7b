"""Languages and the rule-based tokenizer.

`get_lang_class("en")` returns the English defaults; `create_tokenizer("en")`
builds a tokenizer from them. "en" is supported fully. "xx" and any other
well-formed language code get the language-independent rules (shared
punctuation, URLs, emoticons) without language-specific special cases."""
from typing import Optional

from ..tokens.vocab import Vocab
from .language import LANGUAGES, LanguageDefaults, MultiLanguage, get_lang_class
from .tokenizer import Tokenizer


def create_tokenizer(lang: str = "en", vocab: Optional[Vocab] = None) -> Tokenizer:
    """A tokenizer with the defaults of `lang`, on `vocab` (or on a new Vocab of that language)."""
    return get_lang_class(lang).create_tokenizer(vocab)


__all__ = ["LANGUAGES", "LanguageDefaults", "MultiLanguage", "get_lang_class", "create_tokenizer", "Tokenizer"]
