"""Language defaults: the data a language contributes to a tokenizer and a Vocab.

A language is a subclass of `LanguageDefaults` that overrides the class attributes
and methods it needs; `get_lang_class(code)` finds it.
The default rules are compiled once per process and shared by every tokenizer."""
import importlib
from typing import Callable, ClassVar, Dict, FrozenSet, Optional, Type

from ..config.names import check_lang_code
from ..tokens.vocab import Vocab
from .exceptions import Exceptions, base_exceptions
from .rules import default_regexes
from .tokenizer import Tokenizer


class LanguageDefaults:
    """Language-independent defaults: the shared punctuation rules, the URL rule and the
    base special cases (whitespace, emoticons, single letters with a period)."""

    lang: ClassVar[str] = "xx"
    name: ClassVar[str] = "Multi-language"
    stop_words: ClassVar[FrozenSet[str]] = frozenset()
    norm_exceptions: ClassVar[Dict[str, str]] = {}
    lex_attr_getters: ClassVar[Dict[str, Callable[[str], bool]]] = {}

    @classmethod
    def tokenizer_exceptions(cls) -> Exceptions:
        return base_exceptions()

    @classmethod
    def prefix_search(cls) -> Optional[Callable]:
        return default_regexes()["prefix_search"].search

    @classmethod
    def suffix_search(cls) -> Optional[Callable]:
        return default_regexes()["suffix_search"].search

    @classmethod
    def infix_finditer(cls) -> Optional[Callable]:
        return default_regexes()["infix_finditer"].finditer

    @classmethod
    def token_match(cls) -> Optional[Callable]:
        return None

    @classmethod
    def url_match(cls) -> Optional[Callable]:
        return default_regexes()["url_match"].match

    @classmethod
    def create_vocab(cls) -> Vocab:
        vocab = Vocab(norm_exceptions=cls.norm_exceptions, stop_words=cls.stop_words, lang=cls.lang,
                      lex_attr_getters=cls.lex_attr_getters)
        # how another process makes a Vocab like it (a pickled Doc names this, not its data)
        vocab.origin = (create_lang_vocab, (cls.lang,))
        return vocab

    @classmethod
    def create_tokenizer(cls, vocab: Optional[Vocab] = None) -> Tokenizer:
        return Tokenizer(
            cls.create_vocab() if vocab is None else vocab,
            rules=cls.tokenizer_exceptions(),
            prefix_search=cls.prefix_search(),
            suffix_search=cls.suffix_search(),
            infix_finditer=cls.infix_finditer(),
            token_match=cls.token_match(),
            url_match=cls.url_match(),
        )


class MultiLanguage(LanguageDefaults):
    """'xx': the language-independent defaults, no language-specific special cases."""


# language code -> "module:class", imported on first use
LANGUAGES: Dict[str, str] = {
    "en": "transfer_cli.lang.en:English",
    "xx": "transfer_cli.lang.language:MultiLanguage",
}
def get_lang_class(lang: str) -> Type[LanguageDefaults]:
    """The defaults class of a language code. Codes without their own data fall back to
    the language-independent rules (a subclass of MultiLanguage carrying that code)."""
    check_lang_code(lang)
    target = LANGUAGES.get(lang)
    if target is None:
        return type(f"Generic_{lang}", (MultiLanguage,), {"lang": lang, "name": f"{lang} (generic rules)"})
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_lang_vocab(lang: str) -> Vocab:
    """A new Vocab with the defaults of `lang`."""
    return get_lang_class(lang).create_vocab()
