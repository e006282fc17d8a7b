"""A user's tokenizer pattern that backtracks without end stops with one clear error
naming it, instead of hanging the run; the built-in rules keep Python's `re`."""
import pickle
import re

import pytest

from transfer_cli.errors import UserError
from transfer_cli.lang import create_tokenizer, pattern_guard
from transfer_cli.lang.pattern_guard import TimedPattern
from transfer_cli.tokens.vocab import Vocab

CATASTROPHIC = r"(a|aa)+$"  # exponential backtracking on "aaa...ab"


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(pattern_guard, "PATTERN_TIMEOUT_S", 0.2)


def test_builtin_rules_stay_on_re():
    tokenizer = create_tokenizer("en", Vocab())
    for rule in (tokenizer.prefix_search, tokenizer.suffix_search, tokenizer.infix_finditer, tokenizer.url_match):
        assert isinstance(rule.__self__, re.Pattern)


@pytest.mark.parametrize("setting", ["token_match", "url_match", "prefix_search", "suffix_search",
                                     "infix_finditer"])
def test_a_backtracking_user_pattern_is_one_clear_error(short_limit, setting):
    tokenizer = create_tokenizer("en", Vocab())
    method = "finditer" if setting == "infix_finditer" else "match" if setting.endswith("match") else "search"
    setattr(tokenizer, setting, getattr(re.compile(CATASTROPHIC), method))
    with pytest.raises(UserError) as error:
        tokenizer("fine words, then " + "a" * 48 + "b")
    assert CATASTROPHIC in str(error.value) and "0.2 s" in str(error.value) and "backtracks" in str(error.value)


def test_a_saved_user_pattern_keeps_its_limit_and_text(short_limit):
    tokenizer = create_tokenizer("en", Vocab())
    tokenizer.token_match = re.compile(r"(?i)[a-z]+-\d+").match
    loaded = create_tokenizer("en", Vocab()).from_bytes(tokenizer.to_bytes())
    assert isinstance(loaded.token_match.__self__, TimedPattern)
    assert [t.text for t in loaded("see ABC-12 now")] == ["see", "ABC-12", "now"]
    assert isinstance(loaded.prefix_search.__self__, re.Pattern)  # the built-in rules loaded back stay on re
    tokenizer.token_match = re.compile(CATASTROPHIC).match
    loaded = create_tokenizer("en", Vocab()).from_bytes(tokenizer.to_bytes())
    with pytest.raises(UserError, match="backtracks"):
        loaded("a" * 48 + "b")


def test_a_guarded_pattern_matches_like_re_and_pickles():
    compiled = re.compile(r"(?x) [A-Z]{2,} \d* ", re.IGNORECASE)
    timed = TimedPattern(compiled)
    for text in ["ab12", "A", "xyz", "--"]:
        assert bool(timed.match(text)) == bool(compiled.match(text))
    assert [m.span() for m in timed.finditer("ab cd1 e")] == [m.span() for m in compiled.finditer("ab cd1 e")]
    copy = pickle.loads(pickle.dumps(timed.search))
    assert copy("-- AB9").group() == "AB9" and copy.__self__.flags == compiled.flags
