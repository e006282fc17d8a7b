"""The URL rule: a chunk core that looks like a URL or a domain is kept whole
(no infix splitting on its '/', ':', '.' or '-').

The pattern accepts an optional scheme (`https://`, `git+ssh://`), optional
`user:password@`, then a public IPv4 address or a host name ending in a
lower-case top-level domain, an optional port and an optional path/query/fragment.
Private and loopback IPv4 networks are not URLs here (they read as numbers).

The rule is only ever asked whether a whole string matches, so any pattern for the same
strings will do; the one below takes time linear in the string."""
from .punctuation import alpha_lower

_HOST_CHAR = r"A-Za-z0-9\u00a1-\uffff"
# `user:password@`. Written the usual way, \S+(?::\S*)?@, it matches the same strings but its
# nested repeats backtrack over every ':' and '@' pair: 8,000 characters of ':@' took 11 s.
_USERINFO = r"(?:\S+@)?"
_BACKTRACKING_USERINFO = r"(?:\S+(?::\S*)?@)?"


def _ipv4() -> str:
    private = (
        r"(?!(?:10|127)(?:\.\d{1,3}){3})"  # 10/8 and loopback
        r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"  # link-local, 192.168/16
        r"(?!172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2})"  # 172.16/12
    )
    first = r"(?:22[0-3]|2[01]\d|1\d\d|[1-9]\d?)"  # 1..223: no network 0, no multicast
    middle = r"(?:25[0-5]|2[0-4]\d|1?\d{1,2})"  # 0..255
    last = r"(?:25[0-4]|2[0-4]\d|1\d\d|[1-9]\d?)"  # 1..254: no network/broadcast address
    return rf"{private}{first}(?:\.{middle}){{2}}\.{last}"


def _hostname() -> str:
    label = rf"(?:[{_HOST_CHAR}][{_HOST_CHAR}_-]{{0,62}})?[{_HOST_CHAR}]"
    return rf"(?:{label}\.)+[{alpha_lower()}]{{2,63}}"


def url_pattern() -> str:
    scheme = r"(?:[\w+\-.]{2,}://)?"
    port = r"(?::\d{2,5})?"
    path = r"(?:[/?#]\S*)?"
    return rf"^{scheme}{_USERINFO}(?:{_ipv4()}|{_hostname()}){port}{path}$"


def reword_slow_userinfo(pattern: str) -> str:
    """`pattern` with the backtracking user-info group replaced by its linear equivalent: URL
    patterns saved by earlier versions, and spaCy's, contain it."""
    return pattern.replace(_BACKTRACKING_USERINFO, _USERINFO)

