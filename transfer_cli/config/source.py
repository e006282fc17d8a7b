"""Where a config came from (file and line of each key), so that errors found
later — overrides, interpolation, validation — can point at the line."""
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

_SECTION_RE = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY_RE = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]")
_ATTR = "_transfer_cli_source"


@dataclass
class ConfigSource:
    path: Optional[str] = None
    lines: Dict[str, int] = field(default_factory=dict)     # "section.key" -> line
    sections: Dict[str, int] = field(default_factory=dict)  # "section" -> line of its header

    def line_of(self, key: Optional[str]) -> Optional[int]:
        """Line of a dotted key; for a key the file does not have, the line of the
        closest enclosing section that it does have."""
        if not key:
            return None
        if key in self.lines:
            return self.lines[key]
        parts = key.split(".")
        while parts:
            line = self.sections.get(".".join(parts))
            if line is not None:
                return line
            parts.pop()
        return None

    @classmethod
    def from_text(cls, text: str, path: Optional[str] = None) -> "ConfigSource":
        lines, sections = locate_keys(text)
        return cls(path, lines, sections)


def locate_keys(text: str) -> Tuple[Dict[str, int], Dict[str, int]]:
    """1-based line numbers of each "section.key" and of each "section" header.
    Only locates lines for messages; parsing is confection's."""
    lines: Dict[str, int] = {}
    sections: Dict[str, int] = {}
    section: Optional[str] = None
    for i, line in enumerate(text.splitlines(), start=1):
        match = _SECTION_RE.match(line)
        if match:
            section = match.group(1).strip()
            sections.setdefault(section, i)
            continue
        match = _KEY_RE.match(line)
        if match and section is not None:
            lines.setdefault(f"{section}.{match.group(1).strip()}", i)
    return lines, sections


def attach_source(config: Any, source: ConfigSource) -> None:
    setattr(config, _ATTR, source)


def get_source(config: Any) -> Optional[ConfigSource]:
    return getattr(config, _ATTR, None)
