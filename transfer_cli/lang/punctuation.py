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
def _symbol_ranges() -> Ranges:
    ranges: Ranges = []
    category = unicodedata.category
    for cp in range(0x20000):  # no symbols beyond plane 1
        if category(chr(cp)) == "So":
            _extend(ranges, cp, cp)
    return ranges


def icons() -> str:
    """Class body of the 'other symbol' characters (Unicode category So): dingbats,
    arrows, box drawing, emoji. Each is a token of its own."""
    return _class_body(_symbol_ranges())


# --------------------------------------------------------------------------- rule lists
def _alternation(strings: Sequence[str]) -> str:
    return "|".join(re.escape(s) for s in strings)


_PLANE_0_END = 0x10000


@functools.lru_cache(maxsize=None)
def _reworded_pieces() -> Dict[str, Tuple[str, str]]:
    """Pieces whose plain wording is slow, as (plain, used); both match the same strings.

    Python's re tests a character against the plane-0 part of a class in one lookup but
    against its higher-plane part range by range, and the letter and symbol classes have
    hundreds of higher-plane ranges: a lookbehind such as (?<=[upper][upper]) cost about
    2.5 µs at every position a suffix search tried. The used wording makes the cheap test
    first (the character matched, or the one a match starts with) and runs the lookbehind
    only where that passes, and splits the symbol class at plane 1. Earlier versions saved
    the plain wording; `reword_slow_pieces` rewords saved patterns."""
    lower, upper, letters, quotes = alpha_lower(), alpha_upper(), alpha(), char_class(QUOTE_CHARS)
    before_period = f"0-9{lower}{char_class(PERIOD_SPLITTERS)}"
    dashes, dash_starts = _alternation(HYPHENS), char_class(h[0] for h in HYPHENS)
    symbols = _symbol_ranges()
    plane_0 = [[a, min(b, _PLANE_0_END - 1)] for a, b in symbols if a < _PLANE_0_END]
    higher = [[max(a, _PLANE_0_END), b] for a, b in symbols if b >= _PLANE_0_END]
    return {
        # a symbol (emoji, dingbat, arrow): each is a token of its own
        "symbol": (f"[{icons()}]", f"(?:[{_class_body(plane_0)}]|(?=[\\U00010000-\\U0010FFFF])"
                                   f"[{_class_body(higher)}])"),
        # a final period after a lower-case letter, a digit or punctuation
        "period_after_lower": (rf"(?<=[{before_period}])\.", rf"\.(?<=[{before_period}]\.)"),
        # a final period after two capitals: 'USA.'
        "period_after_capitals": (rf"(?<=[{upper}][{upper}])\.", rf"\.(?<=[{upper}][{upper}]\.)"),
        # a period between a lower- and an upper-case letter: 'end.Start'
        "period_between": (rf"(?<=[{lower}{quotes}])\.(?=[{upper}{quotes}])",
                           rf"\.(?<=[{lower}{quotes}]\.)(?=[{upper}{quotes}])"),
        # a comma between letters: 'a,b'
        "comma_between": (rf"(?<=[{letters}]),(?=[{letters}])", rf",(?<=[{letters}],)(?=[{letters}])"),
        # a hyphen or dash between words: 'well-known'
        "dash_between": (rf"(?<=[{letters}0-9])(?:{dashes})(?=[{letters}])",
                         rf"(?=[{dash_starts}])(?<=[{letters}0-9])(?:{dashes})(?=[{letters}])"),
        # ': < > = /' after a letter or digit and before a letter: 'and/or', 'key=value'
        "sign_between": (rf"(?<=[{letters}0-9])[:<>=/](?=[{letters}])",
                         rf"[:<>=/](?<=[{letters}0-9][:<>=/])(?=[{letters}])"),
    }


def _piece(name: str) -> str:
    return _reworded_pieces()[name][1]


def reword_slow_pieces(pattern: str) -> str:
    """`pattern` with every plain wording of a reworded piece replaced by the one in use
    (same strings matched, faster)."""
    for plain, used in _reworded_pieces().values():
        # a used wording may contain the plain one (the dash piece only adds a test before it)
        pattern = used.join(part.replace(plain, used) for part in pattern.split(used))
    return pattern


def default_prefixes() -> List[str]:
    """Pieces that may be cut off the front of a chunk (first matching piece wins)."""
    singles = set("§%=—–") | set(PUNCT_CHARS) | set(QUOTE_CHARS) | set(CURRENCY_CHARS)
    return [
        r"\.\.+",  # a run of periods
        _alternation(CURRENCY_WORDS),
        r"\+(?![0-9])",  # a plus sign, unless it signs a number
        f"[{char_class(singles)}]",
        _piece("symbol"),
    ]


def default_suffixes() -> List[str]:
    """Pieces that may be cut off the back of a chunk (the longest matching suffix wins)."""
    singles = set(PUNCT_CHARS) | set(QUOTE_CHARS) | set("—–")
    return [
        f"[{char_class(singles)}]",
        "……",
        r"\.\.+",
        _piece("symbol"),
        "['’][sS]",  # possessive 's
        r"(?<=[0-9])\+",
        r"(?<=°[FfCcKk])\.",  # '30°C.'
        rf"(?<=[0-9])(?:{_alternation(CURRENCY_WORDS)}|[{char_class(CURRENCY_CHARS)}])",
        rf"(?<=[0-9])(?:{_alternation(UNITS)})",
        _piece("period_after_lower"),
        _piece("period_after_capitals"),
    ]


def default_infixes() -> List[str]:
    """Pieces that split a chunk in the middle (all non-overlapping matches are cut)."""
    return [
        r"\.\.+",
        "…",
        _piece("symbol"),
        r"(?<=[0-9])[+\-*^](?=[0-9-])",  # arithmetic between numbers: 2+2, 10-20
        _piece("period_between"),
        _piece("comma_between"),
        _piece("dash_between"),
        _piece("sign_between"),
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
