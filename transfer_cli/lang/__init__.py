"""Languages and the rule-based tokenizer.

`get_lang_class("en")` returns the English defaults; `create_tokenizer("en")`
builds a tokenizer from them. "en" is supported fully. "xx" and any other
well-formed language code get the language-independent rules (shared
punctuation, URLs, emoticons) without language-specific special cases."""
import importlib
import re
from typing import Dict, Optional, Type

from ..errors import UserError
from ..tokens.vocab import Vocab
from .language import LanguageDefaults, MultiLanguage
from .tokenizer import Tokenizer

# language code -> "module:class", imported on first use
LANGUAGES: Dict[str, str] = {
    "en": "transfer_cli.lang.en:English",
    "xx": "transfer_cli.lang.language:MultiLanguage",
}
_LANG_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def get_lang_class(lang: str) -> Type[LanguageDefaults]:
    """The defaults class of a language code. Codes without their own data fall back to
    the language-independent rules (a subclass of MultiLanguage carrying that code)."""
    if not isinstance(lang, str) or not _LANG_CODE.match(lang):
        raise UserError(f"'{lang}' is not a language code (expected e.g. 'en'); supported: {sorted(LANGUAGES)}")
    target = LANGUAGES.get(lang)
    if target is None:
        return type(f"Generic_{lang}", (MultiLanguage,), {"lang": lang, "name": f"{lang} (generic rules)"})
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_tokenizer(lang: str = "en", vocab: Optional[Vocab] = None) -> Tokenizer:
    """A tokenizer with the defaults of `lang`, on `vocab` (or on a new Vocab of that language)."""
    return get_lang_class(lang).create_tokenizer(vocab)


__all__ = ["LANGUAGES", "get_lang_class", "create_tokenizer", "Tokenizer"]
