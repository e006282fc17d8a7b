"""Punctuation rules shared by every language.

A whitespace-delimited chunk is cut in three ways: characters split off its front
(prefixes), off its back (suffixes), and inside it (infixes). The rules below are
regex pieces; `compile_prefix_regex` & co. join them into the three searches the
Tokenizer runs. The character classes follow the behaviour of spaCy 3's default
rules (which characters count as punctuation, quotes, currency, units), so that
token boundaries agree with spaCy's; letter classes are generated from the Unicode
database instead of being listed by hand.
"""
import functools
import re
import unicodedata
from typing import Dict, Iterable, List, Pattern, Sequence, Tuple, Union

# --------------------------------------------------------------------------- character sets
# Punctuation that splits off either end of a chunk (the ellipsis pair is a 2-char suffix).
PUNCT_CHARS = ",:;!?¿؟¡()[]{}<>_#*&…。？！，、；：～·।،۔؛٪"
# Quote characters; the ASCII comma is listed again here on purpose (it also closes quotes).
QUOTE_CHARS = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"
# Dashes, as infixes between letters; the multi-character ones come first in the alternation.
HYPHENS = ("---", "--", "——", "-", "–", "—", "~")
# Currency symbols: single characters, plus a few prefixed dollar signs.
CURRENCY_CHARS = "$£€¥฿₽﷼" + "".join(chr(c) for c in range(0x20A0, 0x20C0))
CURRENCY_WORDS = ("US$", "C$", "A$")
# Characters besides letters and digits after which a final period is cut off:
# punctuation, quotes, '%', '²', '-', '+' and '|'.
PERIOD_SPLITTERS = PUNCT_CHARS + QUOTE_CHARS + "%²-+|"

# Units split off a number they follow ("5km" → "5", "km"): metric, imperial, storage.
_UNIT_STEMS_METRIC = ("km", "m", "dm", "cm", "mm")
_UNIT_STEMS_CYRILLIC = ("км", "м", "дм", "см", "мм")
_UNIT_STEMS_ARABIC = ("كم", "م", "سم", "مم")


def _units() -> List[str]:
    units: List[str] = []
    for stems in (_UNIT_STEMS_METRIC, _UNIT_STEMS_CYRILLIC, _UNIT_STEMS_ARABIC):
        for stem in stems:
            units.extend((stem, stem + "²", stem + "³"))  # lengths, areas, volumes
    units += "ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb % T G M K".split()
    for size in "kmgt":  # storage sizes: kb, KB, mb, MB, ...
        units += [size + "b", size.upper() + "B"]
    units += "нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб".split()
    units += "غرام جرام جم كغ ملغ كوب اكواب".split()
    # longest first, so that a unit never loses to its own prefix in an alternation
    return sorted(set(units), key=lambda u: (-len(u), u))


UNITS = _units()


# --------------------------------------------------------------------------- letter classes
Ranges = List[List[int]]  # [first, last] code point pairs, ascending


def _extend(ranges: Ranges, first: int, last: int) -> None:
    if ranges and ranges[-1][1] == first - 1:
        ranges[-1][1] = last
    else:
        ranges.append([first, last])


def _escape_cp(cp: int) -> str:
    # printable non-ASCII characters stay literal (shorter saved patterns); ASCII
    # punctuation, whitespace and invisible characters are escaped
    char = chr(cp)
    if char.isalnum() if char.isascii() else (char.isprintable() and not char.isspace()):
        return char
    return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"


def _class_body(ranges: Ranges) -> str:
    return "".join(_escape_cp(a) if a == b else f"{_escape_cp(a)}-{_escape_cp(b)}" for a, b in ranges)


def char_class(chars: Iterable[str]) -> str:
    """Character-class body (without the brackets) matching exactly `chars`."""
    ranges: Ranges = []
    for cp in sorted({ord(c) for c in chars}):
        _extend(ranges, cp, cp)
    return _class_body(ranges)


# Letters live in planes 0-3; the code points in order, for scanning with regexes.
_PLANES_0_TO_3 = 0x40000


@functools.lru_cache(maxsize=None)
def _letter_classes() -> Tuple[str, str, str]:
    """(alpha, lower, upper) class bodies from the Unicode database. Letters without case
    (CJK, Arabic, Devanagari...) count as both lower and upper, so rules such as 'a
    period between a lower- and an upper-case letter' also apply to uncased scripts."""
    code_points = "".join(map(chr, range(_PLANES_0_TO_3)))
    alpha: Ranges = []
    lower: Ranges = []
    upper: Ranges = []
    # [^\W\d_] is letters plus non-decimal numerals; runs of it are runs of code points
    for match in re.finditer(r"[^\W\d_]+", code_points):
        run, start = match.group(), match.start()
        if run.isalpha() and (run + "a").islower() and (run + "A").isupper():
            for ranges in (alpha, lower, upper):  # a run without any cased letter
                _extend(ranges, start, match.end() - 1)
            continue
        for offset, char in enumerate(run):
            if not char.isalpha():
                continue
            cp = start + offset
            _extend(alpha, cp, cp)
            is_lower, is_upper = char.islower(), char.isupper() or char.istitle()
            if is_lower or not is_upper:
                _extend(lower, cp, cp)
            if is_upper or not is_lower:
                _extend(upper, cp, cp)
    return _class_body(alpha), _class_body(lower), _class_body(upper)


def alpha() -> str:
    return _letter_classes()[0]


def alpha_lower() -> str:
    return _letter_classes()[1]


def alpha_upper() -> str:
    return _letter_classes()[2]


@functools.lru_cache(maxsize=None)
def icons() -> str:
    """Class body of the 'other symbol' characters (Unicode category So): dingbats,
    arrows, box drawing, emoji. Each is a token of its own."""
    ranges: Ranges = []
    category = unicodedata.category
    for cp in range(0x20000):  # no symbols beyond plane 1
        if category(chr(cp)) == "So":
            _extend(ranges, cp, cp)
    return _class_body(ranges)


# --------------------------------------------------------------------------- rule lists
def _alternation(strings: Sequence[str]) -> str:
    return "|".join(re.escape(s) for s in strings)


def default_prefixes() -> List[str]:
    """Pieces that may be cut off the front of a chunk (first matching piece wins)."""
    singles = set("§%=—–") | set(PUNCT_CHARS) | set(QUOTE_CHARS) | set(CURRENCY_CHARS)
    return [
        r"\.\.+",  # a run of periods
        _alternation(CURRENCY_WORDS),
        r"\+(?![0-9])",  # a plus sign, unless it signs a number
        f"[{char_class(singles)}]",
        f"[{icons()}]",
    ]


def default_suffixes() -> List[str]:
    """Pieces that may be cut off the back of a chunk (the longest matching suffix wins)."""
    singles = set(PUNCT_CHARS) | set(QUOTE_CHARS) | set("—–")
    return [
        f"[{char_class(singles)}]",
        "……",
        r"\.\.+",
        f"[{icons()}]",
        "['’][sS]",  # possessive 's
        r"(?<=[0-9])\+",
        r"(?<=°[FfCcKk])\.",  # '30°C.'
        rf"(?<=[0-9])(?:{_alternation(CURRENCY_WORDS)}|[{char_class(CURRENCY_CHARS)}])",
        rf"(?<=[0-9])(?:{_alternation(UNITS)})",
        rf"(?<=[0-9{alpha_lower()}{char_class(PERIOD_SPLITTERS)}])\.",
        rf"(?<=[{alpha_upper()}][{alpha_upper()}])\.",  # after two capitals: 'USA.'
    ]


def default_infixes() -> List[str]:
    """Pieces that split a chunk in the middle (all non-overlapping matches are cut)."""
    quotes = char_class(QUOTE_CHARS)
    return [
        r"\.\.+",
        "…",
        f"[{icons()}]",
        r"(?<=[0-9])[+\-*^](?=[0-9-])",  # arithmetic between numbers: 2+2, 10-20
        rf"(?<=[{alpha_lower()}{quotes}])\.(?=[{alpha_upper()}{quotes}])",  # 'end.Start'
        rf"(?<=[{alpha()}]),(?=[{alpha()}])",  # 'a,b'
        rf"(?<=[{alpha()}0-9])(?:{_alternation(HYPHENS)})(?=[{alpha()}])",  # 'well-known'
        rf"(?<=[{alpha()}0-9])[:<>=/](?=[{alpha()}])",  # 'and/or', 'key=value'
    ]


# --------------------------------------------------------------------------- compiling
def compile_prefix_regex(pieces: Iterable[Union[str, Pattern]]) -> Pattern:
    return re.compile("|".join("^(?:" + _source(p) + ")" for p in pieces if _source(p).strip()))


def compile_suffix_regex(pieces: Iterable[Union[str, Pattern]]) -> Pattern:
    return re.compile("|".join("(?:" + _source(p) + ")$" for p in pieces if _source(p).strip()))


def compile_infix_regex(pieces: Iterable[Union[str, Pattern]]) -> Pattern:
    return re.compile("|".join("(?:" + _source(p) + ")" for p in pieces if _source(p).strip()))


def _source(piece: Union[str, Pattern]) -> str:
    return piece.pattern if isinstance(piece, re.Pattern) else piece


@functools.lru_cache(maxsize=None)
def default_patterns() -> Dict[str, str]:
    """The default rules as pattern strings, keyed by the Tokenizer setting they fill."""
    from .url import url_pattern

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
