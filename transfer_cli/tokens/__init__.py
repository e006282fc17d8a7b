"""Strings, vocabulary, Doc/Token/Span views, Examples and the binary corpus format."""
from .doc import Doc
from .docbin import DocBin
from .example import Example
from .span import Span
from .strings import StringStore, hash_string
from .token import Token
from .vocab import Vocab

__all__ = ["Doc", "DocBin", "Example", "Span", "StringStore", "Token", "Vocab", "hash_string"]
