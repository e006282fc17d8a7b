"""Special cases shared by every language: strings that are tokenized by rule
rather than by the punctuation rules (whitespace, emoticons, single letters
followed by a period, a few symbols).

A special case maps a string to the tokens it becomes, each a dict with "ORTH"
(the token text; the ORTHs concatenate to the string) and optionally "NORM"."""
from typing import Dict, List

Exceptions = Dict[str, List[Dict[str, str]]]


def whole(*strings: str) -> Exceptions:
    """Special cases that keep each string as one token."""
    return {s: [{"ORTH": s}] for s in strings}


def _western_emoticons() -> List[str]:
    faces: List[str] = []
    # ':' faces, with and without a '-' nose
    mouths = [")", "))", ")))", "]", "}", "(", "((", "(((", "/", "|", "P", "p", "O", "o", "0", "*", "3", ">",
              "X", "x", "D"]
    faces += [":" + nose + mouth for mouth in mouths for nose in ("", "-")]
    faces += [":'" + nose + mouth for mouth in ")(" for nose in ("", "-")]  # tears
    faces += [eyes + nose + mouth for eyes in ";8" for mouth in ")D" for nose in ("", "-")]  # winks, glasses
    faces += ["=" + mouth for mouth in ")(][/|3D"]
    # read right to left
    faces += ["(:", "(-:", "(=", "[:", "[-:", "[=", "(o:", "(-8", "(;", "(-;", "):", ")-:", "]="]
    faces += [":1", ":()", ":o)", ">:(", ">:o", "xD", "XD", "xDD", "XDD"]
    return faces


def _eastern_emoticons() -> List[str]:
    faces = ["^" + "_" * n + "^" for n in (1, 2, 3)]
    faces += [">.<", ">.>", "<.<", "._.", ";_;", "-_-", "-__-", "@_@"]
    faces += [a + sep + b for sep in "._" for a, b in ("vv", "VV")]
    # o/O/0 eyes, but never O and 0 in one face
    for sep in "_.":
        faces += [a + sep + b for a in "oO0" for b in "oO0" if {a, b} != {"O", "0"}]
    faces += ["(" + face + ")" for face in ("^_^", "-_-", "._.", ">_<", "*_*", "¬_¬", "ಠ_ಠ")]
    faces += ["ಠ_ಠ", "ಠ︵ಠ", "¯\\(ツ)/¯", "(╯°□°）╯︵┻━┻", "><(((*>"]
    faces += ["<3", "<33", "<333", "</3"]  # hearts
    return faces


EMOTICONS = sorted(set(_western_emoticons()) | set(_eastern_emoticons()))


def base_exceptions() -> Exceptions:
    exc: Exceptions = {}
    for space in (" ", "\t", "\n", "\\t", "\\n", "\u2014"):
        exc[space] = [{"ORTH": space}]
    exc["\u00a0"] = [{"ORTH": "\u00a0", "NORM": "  "}]  # a no-break space reads as spaces
    exc.update(whole("'", '\\")', "<space>", "''", "C++"))
    # a single letter and a period is an initial or an enumeration, never a sentence end
    exc.update(whole(*(letter + "." for letter in "abcdefghijklmnopqrstuvwxyzäöü")))
    exc.update(whole(*EMOTICONS))
    for unit in "cfkCFK":  # '30°C.' → '°', 'C', '.'
        exc[f"°{unit}."] = [{"ORTH": "°"}, {"ORTH": unit}, {"ORTH": "."}]
    return exc


def with_curly_apostrophes(exceptions: Exceptions) -> Exceptions:
    """Adds, for every special case written with "'", the same case written with "’"
    (norms unchanged): typeset text uses the curly apostrophe."""
    expanded = dict(exceptions)
    for string, tokens in exceptions.items():
        if "'" in string:
            expanded[string.replace("'", "’")] = [dict(t, ORTH=t["ORTH"].replace("'", "’")) for t in tokens]
    return expanded


def merge_exceptions(*tables: Exceptions) -> Exceptions:
    """Later tables override earlier ones, key by key."""
    merged: Exceptions = {}
    for table in tables:
        merged.update(table)
    return merged

