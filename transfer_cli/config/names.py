"""Component names. A name becomes a folder of the saved pipeline, so it must be a
plain name: it can never point outside the pipeline directory or onto the
directory's own entries."""
import re
from typing import Any, Dict, List, Optional, Tuple, Type

from ..errors import ConfigError, UserError

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
# the entries a saved pipeline directory holds besides its component folders
RESERVED_NAMES = frozenset({"config.cfg", "meta.json", "vocab", "tokenizer"})
ALLOWED = ("letters A-Z a-z, digits, '_', '-' and '.' (at most 128 characters, not only dots; "
           "not config.cfg, meta.json, vocab or tokenizer)")


def component_name_problem(name: Any) -> Optional[str]:
    """Why `name` cannot name a component, or None when it can."""
    if not isinstance(name, str):
        return f"a component name must be a string, got {type(name).__name__}"
    if not _PLAIN_NAME.fullmatch(name) or set(name) == {"."} or name in RESERVED_NAMES:
        return f"{_excerpt(name)} is not a valid component name: use {ALLOWED}"
    return None


def check_component_name(name: Any, *, key: Optional[str] = None, error: Type[UserError] = ConfigError) -> None:
    problem = component_name_problem(name)
    if problem is not None:
        raise error(problem, key=key)


def component_name_problems(config: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(key, problem) for each name in [nlp] pipeline and each [components] block that
    cannot name a component; each bad name once."""
    nlp = config.get("nlp") if isinstance(config.get("nlp"), dict) else {}
    pipeline = nlp.get("pipeline") if isinstance(nlp.get("pipeline"), list) else []
    components = config.get("components") if isinstance(config.get("components"), dict) else {}
    problems: List[Tuple[str, str]] = []
    seen = set()
    for key, names in (("nlp.pipeline", pipeline), ("components", list(components))):
        for name in names:
            problem = component_name_problem(name)
            if problem is not None and repr(name) not in seen:
                seen.add(repr(name))
                problems.append((key, problem))
    return problems


def _excerpt(name: str) -> str:
    """The name quoted on one line: control characters escaped, long names cut."""
    return ascii(name[:60] + ("..." if len(name) > 60 else ""))


# A code and an optional region (en, en-US, pt_BR, es-419). The code must be a language:
# a typo ('eng', 'zz') would otherwise silently get the generic rules.
_LANG_CODE = re.compile(r"^(?P<code>[a-z]{2,3})(?:[-_](?:[A-Za-z]{2}|[0-9]{3}))?$")
# ISO 639-1, and the ISO 639-2/3 codes of languages spaCy has data for
ISO_639_1 = set("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv
ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne
ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st
su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split())
KNOWN_LANG_CODES = ISO_639_1 | {"xx", "grc", "hsb", "dsb", "lij", "fil"}


def lang_code_problem(lang: Any) -> Optional[str]:
    """Why `lang` is not a language code (optionally with a region), or None when it is."""
    match = _LANG_CODE.match(lang) if isinstance(lang, str) else None
    if match is None or match.group("code") not in KNOWN_LANG_CODES:
        return (f"'{lang}' is not a language code: expected an ISO 639-1 code such as 'en' or 'de' "
                f"(optionally with a region, e.g. 'en-US'), or 'xx' for no language")
    return None


def check_lang_code(lang: Any) -> str:
    """`lang` if it is a language code, else a UserError."""
    problem = lang_code_problem(lang)
    if problem:
        raise UserError(problem)
    return lang
