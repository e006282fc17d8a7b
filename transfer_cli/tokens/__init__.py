"""Strings, vocabulary, Doc/Token/Span views and their custom attributes."""
from .doc import Doc
from .span import Span
from .strings import StringStore, hash_string
from .token import Token
from .vocab import Vocab

__all__ = ["Doc", "Span", "StringStore", "Token", "Vocab", "hash_string"]
