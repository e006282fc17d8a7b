"""Tokenizing takes time linear in the text on any input, and gives the tokens it gave before
(issue 15: 50,000 '!' took 560 s, as every cut of an affix ran the rules over the whole rest)."""
import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from transfer_cli.lang import Tokenizer, create_tokenizer
from transfer_cli.lang import tokenizer as tokenizer_module
from transfer_cli.lang.punctuation import _reworded_pieces
from transfer_cli.lang.rules import default_patterns, upgrade_pattern
from transfer_cli.lang.url import _BACKTRACKING_USERINFO, _USERINFO
from transfer_cli.tokens import Vocab

FIXTURE = Path(__file__).parent / "fixtures" / "tokenizer_expected.json"
SAMPLE_DATA = Path(__file__).parent.parent / "sample_data"
RULE_NAMES = ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match")
N = 50_000


# ------------------------------------------------------------------ the tokens of before
# The fixture was written by the tokenizer before the change (benchmarks/make_tokenizer_fixture.py).
def tokens_of(tokenizer, text):
    return [t.text if not t.whitespace_ and t.norm_ == t.text.lower() else [t.text, t.whitespace_, t.norm_]
            for t in tokenizer(text)]


def digest(value) -> str:
    data = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return hashlib.sha1(data.encode("utf8")).hexdigest()[:12]


@pytest.fixture(scope="module")
def expected():
    return json.loads(FIXTURE.read_text(encoding="utf8"))


@pytest.fixture(scope="module")
def tokenizers():
    return {lang: create_tokenizer(lang) for lang in ("en", "xx")}


def test_same_tokens_as_before_on_varied_strings(expected, tokenizers):
    assert len(expected["cases"]) >= 200
    for case in expected["cases"]:
        for lang in ("en", "xx"):
            want = case[lang] if case[lang] is not None else case["en"]
            assert tokens_of(tokenizers[lang], case["text"]) == want, (lang, case["text"])


def _sample_texts():
    texts = []
    for path in sorted(SAMPLE_DATA.rglob("*")):
        if path.suffix == ".conllu":
            texts += [line[len("# text = "):].rstrip("\n") for line in path.open(encoding="utf8")
                      if line.startswith("# text = ")]
        elif path.suffix == ".jsonl":
            texts += [json.loads(line)["text"] for line in path.open(encoding="utf8") if line.strip()]
    return list(dict.fromkeys(texts))


@pytest.mark.parametrize("lang", ["en", "xx"])
def test_same_tokens_as_before_on_sample_data(expected, tokenizers, lang):
    table = expected["digests"][lang]
    checked = 0
    for text in _sample_texts():
        want = table.get(digest(text))
        if want is not None:  # a text added to sample_data later is not in the fixture
            assert digest(tokens_of(tokenizers[lang], text)) == want, text
            checked += 1
    assert checked >= 0.95 * len(table) and checked > 1000


# ------------------------------------------------------------------ windows vs whole rests
AFFIXES = ["(", "!", "...", ".", "..", "…", "'s", "km", "5", "A", "B", "USA", "U.S.", "°C", "US$", "$", "😀",
           "'", '"', "+", "%", ")", "]", "-", "—", "a", "Ж", ":)", "<3", "«", "»", "¿", "=", ",", ":", "?",
           "x.com", "a@b", "/", "1.", "p.m.", "n't", "Dr.", "мбар", "kilometres", "!!!", "??"]


def _long_chunks(seed, count=150):
    rng = random.Random(seed)
    chunks = []
    for _ in range(count):
        few = [rng.choice(AFFIXES) for _ in range(rng.randint(1, 4))]
        chunks.append("".join(rng.choice(few) for _ in range(rng.randint(20, 200))))
    chunks += [(run * 300)[:300] for run in ("!", "...", "((((", "'''", "😀", "-", "—", "a.", ":)", "1.")]
    return chunks


def _custom_rules():
    return Tokenizer(Vocab(), rules={"!!": [{"ORTH": "!!"}], ":)": [{"ORTH": ":)"}]},
                     prefix_search=re.compile(r"^(?:\(|\.\.+|¿|\+(?![0-9]))").search,
                     suffix_search=re.compile(r"(?:!+|\?+|(?<=[0-9])kilometres|(?<=[a-z][a-z])\.|\))$").search,
                     infix_finditer=re.compile(r"[-—]").finditer)


@pytest.mark.parametrize("make", [lambda: create_tokenizer("en"), lambda: create_tokenizer("xx"), _custom_rules],
                         ids=["en", "xx", "custom"])
def test_affix_windows_give_the_whole_rests_answer(monkeypatch, make):
    """On a rest longer than _WHOLE_REST the rules see a window of its end; the tokens are the ones
    the rules give on the whole rest (the way every rest was done before)."""
    chunks = _long_chunks(seed=5)
    assert any(len(chunk) > 2 * tokenizer_module._WHOLE_REST for chunk in chunks)
    windowed = make()
    got = [[t.text for t in windowed(chunk)] for chunk in chunks]
    monkeypatch.setattr(tokenizer_module, "_WHOLE_REST", 10 ** 9)
    whole = make()
    for chunk, tokens in zip(chunks, got):
        assert tokens == [t.text for t in whole(chunk)], chunk


# ------------------------------------------------------------------ long bad input
def _adversarial():
    rng = random.Random(0)
    return {
        "!": "!" * N,
        "...": "..." * (N // 3),
        "((((": "(" * N,
        "'''": "'" * N,
        "mixed punctuation": "".join(rng.choice("!?,;:()[]{}\"'«»…—–") for _ in range(N)),
        "mixed symbols": "".join(rng.choice("!?.,;:()[]{}\"'«»…—–-/$%+=*&#@😀") for _ in range(N)),
        "one token": "ab1" * (N // 3),
        "emoji": "😀" * N,
        "URL, long host": "http://" + "a." * (N // 2) + "com",
        "URL, long path": "https://example.com/" + "a/" * (N // 2),
        "':@' (URL user info)": ":@" * (N // 2),
        "'a:' (URL user info)": "a:" * (N // 2),
        "hyphens": "-" * N,
        "dashes": "—" * N,
        "hyphenated": "a-" * (N // 2),
        "emoticons": ":)" * (N // 2),
        "words and periods": "Dr.USA." * (N // 7),
    }


class _Counter:
    """Counts the characters the tokenizer hands to its rules."""

    def __init__(self):
        self.chars = 0

    def wrap(self, rule):
        def counted(string):
            self.chars += len(string)
            return rule(string)

        return counted


@pytest.fixture(scope="module")
def counted():
    base = create_tokenizer("en")
    counter = _Counter()
    rules = {name: counter.wrap(getattr(base, name)) for name in RULE_NAMES if getattr(base, name) is not None}
    return Tokenizer(base.vocab, rules=base.rules, **rules), counter


@pytest.mark.parametrize("kind", list(_adversarial()))
def test_long_bad_input_is_read_a_bounded_number_of_times(counted, kind):
    """The rules see each character of the text a bounded number of times: a few affix windows
    per cut, the core once for infixes and once for URLs. Before, each cut handed the whole rest
    to the rules again: n²/2 characters, 1.25 billion for 50,000 '!'."""
    tokenizer, counter = counted
    text = _adversarial()[kind]
    counter.chars = 0
    doc = tokenizer(text)
    assert doc.text == text
    assert all(t.text for t in doc)
    assert counter.chars <= 40 * len(text), f"{counter.chars:,} characters read for {len(text):,}"


def test_long_bad_input_tokens(tokenizers):
    en = tokenizers["en"]
    assert [t.text for t in en("!" * N)] == ["!"] * N
    assert [t.text for t in en("w " + "(" * N + "x")] == ["w"] + ["("] * N + ["x"]
    assert [t.text for t in en("wait" + "." * N)] == ["wait", "." * N]
    assert [t.text for t in en("😀" * N)] == ["😀"] * N
    assert len(en(":@" * (N // 2))) == 2  # not a URL: a prefix ':' and the rest


# ------------------------------------------------------------------ reworded patterns
def _random_strings(count, seed):
    rng = random.Random(seed)
    pool = ("aZéÉßΣσЖж中ا5٣.,:;!?-—–~'\"’“«»()<>=/+*^°$%😀👍❤→ \u00a0_#@ǅⅫ𝐀𝐚𐐀𐐨")
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(count)]


@pytest.mark.parametrize("name", list(_reworded_pieces()))
def test_reworded_pieces_match_the_same_strings(name):
    plain, used = (re.compile(p) for p in _reworded_pieces()[name])
    for string in _random_strings(3000, seed=len(name)):
        assert [m.span() for m in plain.finditer(string)] == [m.span() for m in used.finditer(string)], string
        for end in range(len(string) + 1):  # as a suffix rule: anchored at the end of a rest
            assert bool(plain.search(string, 0, end)) == bool(used.search(string, 0, end)), string[:end]
    if name == "symbol":
        for cp in range(0x20000):
            assert bool(plain.fullmatch(chr(cp))) == bool(used.fullmatch(chr(cp))), hex(cp)


def test_url_user_info_is_written_without_backtracking():
    assert _BACKTRACKING_USERINFO not in default_patterns()["url_match"]
    assert _USERINFO in default_patterns()["url_match"]
    new = re.compile(default_patterns()["url_match"])
    old = re.compile(default_patterns()["url_match"].replace(_USERINFO, _BACKTRACKING_USERINFO))
    rng = random.Random(3)
    pool = ["a", "b", "1", ".", ":", "@", "/", "-", "x.com", "com", "org", "user", "pw", "http://", "ftp://", ":80",
            "?q=1", "#f", "8.8.8.8", "192.168.1.1", "é", "_"]
    strings = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 8))) for _ in range(20_000)]
    strings += ["user:pw@example.com", "a@b@c.org", ":@x.com", "mailto:me@x.org", "http://u:p@h.io:8080/p"]
    assert sum(bool(new.match(s)) for s in strings) > 1000
    for string in strings:
        assert bool(new.match(string)) == bool(old.match(string)), string


def _earlier_settings():
    """Tokenizer settings as the version before the rewording saved them."""
    patterns = dict(default_patterns())
    for name, pattern in patterns.items():
        for plain, used in _reworded_pieces().values():
            pattern = pattern.replace(used, plain)
        patterns[name] = pattern.replace(_USERINFO, _BACKTRACKING_USERINFO)
    return patterns


def test_saved_settings_of_earlier_versions_are_reworded(tokenizers):
    earlier = _earlier_settings()
    assert all(earlier[name] != default_patterns()[name] for name in earlier)
    assert {name: upgrade_pattern(pattern) for name, pattern in earlier.items()} == default_patterns()
    assert all(upgrade_pattern(p) == p for p in default_patterns().values())  # idempotent
    saved = json.loads(tokenizers["en"].to_bytes())
    saved.update(earlier)
    loaded = Tokenizer(Vocab()).from_bytes(json.dumps(saved).encode("utf8"))
    now = json.loads(loaded.to_bytes())
    assert {name: now[name] for name in default_patterns()} == default_patterns()
    for text in ["(Hi:) USA. well-known a,b 😀.)", "user:pw@example.com/x.", ":@" * 5000]:
        assert [t.text for t in loaded(text)] == [t.text for t in tokenizers["en"](text)]


def test_spacy_url_rule_loads_without_backtracking():
    # spaCy's URL pattern has the same user-info group
    spacy_style = r"(?u)^(?:(?:[\w\+\-\.]{2,})://)?" + _BACKTRACKING_USERINFO + r"(?:[a-z0-9\-]+\.)+[a-z]{2,63}$"
    loaded = Tokenizer(Vocab()).from_bytes(json.dumps({"url_match": spacy_style}).encode("utf8"))
    pattern = json.loads(loaded.to_bytes())["url_match"]
    assert pattern == spacy_style.replace(_BACKTRACKING_USERINFO, _USERINFO)
    assert [t.text for t in loaded("me:pw@x.org")] == ["me:pw@x.org"]
