"""A time limit for the tokenizer's user-supplied regexes.

A pattern with nested repetition, e.g. `(a|aa)+$`, can backtrack for hours on a short
string, and Python's `re` has no time limit. The tokenizer's own rules are known to be
safe and stay on `re` (the fast path); any other pattern — from a config, from code or
from a saved pipeline's tokenizer file — runs on the `regex` module (compatible with
`re` for these patterns) with a limit per call, and running over it is one clear error
naming the pattern."""
import re
from typing import Any, Iterator, List, Optional

import regex

from ..errors import UserError
from .rules import default_regexes

PATTERN_TIMEOUT_S = 5.0  # per call, on one whitespace-free piece of text: safe rules take microseconds
_FLAGS = ((re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE), (re.DOTALL, regex.DOTALL),
          (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII))


class TimedPattern:
    """A compiled pattern whose search/match/finditer give up after `timeout` seconds.
    `pattern` and `flags` are those of the `re` pattern it replaces (for saving)."""

    def __init__(self, compiled: "re.Pattern", timeout: Optional[float] = None) -> None:
        self.pattern = compiled.pattern
        self.flags = compiled.flags
        self.timeout = PATTERN_TIMEOUT_S if timeout is None else timeout
        regex_flags = regex.VERSION0
        for re_flag, regex_flag in _FLAGS:
            if compiled.flags & re_flag:
                regex_flags |= regex_flag
        self._compiled = regex.compile(compiled.pattern, regex_flags)

    def search(self, string: str) -> Optional[Any]:
        try:
            return self._compiled.search(string, timeout=self.timeout)
        except TimeoutError:
            raise self._timeout_error(string) from None

    def match(self, string: str) -> Optional[Any]:
        try:
            return self._compiled.match(string, timeout=self.timeout)
        except TimeoutError:
            raise self._timeout_error(string) from None

    def finditer(self, string: str) -> Iterator[Any]:
        try:
            matches: List[Any] = list(self._compiled.finditer(string, timeout=self.timeout))
        except TimeoutError:
            raise self._timeout_error(string) from None
        return iter(matches)

    def _timeout_error(self, string: str) -> UserError:
        shown = string if len(string) <= 40 else string[:37] + "..."
        return UserError(f"the tokenizer pattern {self.pattern!r} ran for more than {self.timeout:g} s on "
                         f"{shown!r} ({len(string):,} characters): it backtracks without end (nested repetition "
                         "such as (a+)+ or (a|aa)+); rewrite it so each character can match only one way")

    def __reduce__(self):  # pickled (for worker processes) as the re pattern it wraps
        return (_timed, (self.pattern, self.flags, self.timeout))


def _timed(pattern: str, flags: int, timeout: float) -> TimedPattern:
    return TimedPattern(re.compile(pattern, flags), timeout)


def guard(compiled: "re.Pattern") -> Any:
    """`compiled` itself when it is one of the built-in rules, else a TimedPattern."""
    if _is_builtin(compiled):
        return compiled
    try:
        return TimedPattern(compiled)
    except regex.error:  # a pattern only `re` understands: keep it as it is
        return compiled


def _is_builtin(compiled: "re.Pattern") -> bool:
    return any(compiled.pattern == rule.pattern and compiled.flags == rule.flags
               for rule in default_regexes().values())
