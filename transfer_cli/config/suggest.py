"""Closest-name suggestions for error messages ("did you mean 'ner'?")."""
import difflib
from typing import List


def close_matches(name: str, options: List[str], n: int = 3) -> List[str]:
    """The options closest to `name` (difflib), best first; case is ignored as a fallback."""
    matches = difflib.get_close_matches(name, options, n=n, cutoff=0.6)
    if not matches:
        lowered = {o.lower(): o for o in options}
        matches = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]
    return matches


def suggest(name: str, options: List[str], n: int = 3, *, fmt: str = "'{}'") -> str:
    """The closest options to `name`, formatted and joined ('a', 'b' or 'c'), or ''."""
    quoted = [fmt.format(m) for m in close_matches(name, options, n)]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
