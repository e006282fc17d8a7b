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
