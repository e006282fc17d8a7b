"""The default tokenizer rules, as the Tokenizer settings they fill: the shared punctuation
rules (punctuation.py) and the URL rule (url.py), compiled once per process."""
import functools
import re
from typing import Dict, Pattern

from .punctuation import (compile_infix_regex, compile_prefix_regex, compile_suffix_regex, default_infixes,
                          default_prefixes, default_suffixes, reword_slow_pieces)
from .url import reword_slow_userinfo, url_pattern


@functools.lru_cache(maxsize=None)
def default_patterns() -> Dict[str, str]:
    """The default rules as pattern strings, keyed by the Tokenizer setting they fill."""
    return {
        "prefix_search": compile_prefix_regex(default_prefixes()).pattern,
        "suffix_search": compile_suffix_regex(default_suffixes()).pattern,
        "infix_finditer": compile_infix_regex(default_infixes()).pattern,
        "url_match": url_pattern(),
    }


@functools.lru_cache(maxsize=None)
def default_regexes() -> Dict[str, Pattern]:
    """The default rules compiled once per process."""
    return {name: re.compile(pattern) for name, pattern in default_patterns().items()}


def upgrade_pattern(pattern: str) -> str:
    """A saved rule pattern with the pieces that earlier versions wrote in a slow form (and
    spaCy, in its URL rule) reworded: the same strings match, in less time."""
    return reword_slow_userinfo(reword_slow_pieces(pattern))
