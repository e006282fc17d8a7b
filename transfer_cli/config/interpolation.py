"""${section.key} variables. confection parses a config with its variables kept;
this module replaces each variable by its value, with confection's rules:

- a value that is one variable (`x = ${a.b}`) takes the referenced value with its
  type; a variable naming a section (`${components.tok2vec.model}`) gives a copy
  of that section, also as an item of a list;
- variables inside a string or list (`x = "${paths.root}/train.spacy"`,
  `x = [${a.n}, 2]`) insert the value as text (a string as it is, anything else
  as JSON); the text is read as JSON when it is JSON, else kept as a string;
- `$$` is a literal `$`; values without variables are left as they are.

confection's own Config.interpolate() (configparser underneath) stops after 10
variables referring to variables and calls that a loop, re-inserts the quotes of
a string variable that itself holds variables (`""abab""`) and recurses once per
nested section. Here each value is worked out once, in dependency order, on an
explicit stack: chains of any length work and a real loop is reported with the
variables that form it."""
import copy
import json
import re
from typing import Any, Dict, List, Optional, Tuple, Union

from confection import VARIABLE_RE, Config
from confection.util import try_load_json

from ..errors import ConfigError
from .defaults import all_defaults
from .suggest import suggest
from .source import ConfigSource, get_source

Path = Tuple[str, ...]
_TOKEN_RE = re.compile(r"\$\$|\$\{([\w.:]+)\}|\$")
_LONE_DOLLAR_RE = re.compile(r"\$(?!\{)")
_SECTION_MARK = "__section__:"  # stands for a section inside a list until the JSON is read
_MALFORMED = "write ${section.key} (and $$ for a literal dollar sign)"
_SECTION_IN_STRING = ("a variable naming a whole section (${section}) cannot be used inside a string; refer to a "
                      "value (${section.key}) instead")


class _Ref:
    """A ${name} in a value's text."""
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


Piece = Union[str, _Ref]


def interpolate_config(config: Config, *, source: Optional[ConfigSource] = None) -> Config:
    """A copy of `config` with every variable replaced by its value."""
    variables = _Variables(config, source or get_source(config))
    return Config(variables.interpolated(), is_interpolated=True)


def check_variables(config: Dict[str, Any], *, source: Optional[ConfigSource] = None) -> None:
    """Raise a ConfigError naming the key (and line) if a variable is malformed,
    names nothing, or is part of a loop. Variables may refer to sections the
    defaults provide (e.g. ${paths.train} in a partial config). Works out no values."""
    _Variables(all_defaults().merge(config), source or get_source(config)).check()


class _Variables:
    def __init__(self, config: Dict[str, Any], source: Optional[ConfigSource]) -> None:
        self.config = config
        self.source = source
        self.texts: Dict[Path, str] = {}          # values holding variables: their text
        self.pieces: Dict[Path, List[Piece]] = {}
        self.targets: Dict[Path, List[Path]] = {}  # what each value or section depends on
        self.done: Dict[Path, Any] = {}
        self._collect()

    # -- finding the variables ------------------------------------------------------------------
    def _collect(self) -> None:
        stack: List[Tuple[Path, Dict[str, Any]]] = [((), self.config)]
        while stack:
            path, node = stack.pop()
            for key, value in node.items():
                child = path + (str(key),)
                if isinstance(value, dict):
                    stack.append((child, value))
                else:
                    text = self._text(value, child)
                    if text is not None:
                        self.texts[child] = text
        self.texts = dict(sorted(self.texts.items()))  # stable order for error messages

    def _text(self, value: Any, path: Path) -> Optional[str]:
        """The value as the config file has it, if it holds variables. confection
        keeps strings with variables as written; anything else is JSON with each
        lone $ written $$."""
        if isinstance(value, str):
            text = value
        else:
            try:
                text = _LONE_DOLLAR_RE.sub("$$", json.dumps(value))
            except (TypeError, ValueError):
                return None
        if "${" in VARIABLE_RE.sub("", text.replace("$$", "")):
            raise self._error(path, f"malformed variable in {value!r}: {_MALFORMED}")
        return text if VARIABLE_RE.search(text) else None

    def _split(self, path: Path) -> List[Piece]:
        if path not in self.pieces:
            pieces: List[Piece] = []
            text, pos = self.texts[path], 0
            for match in _TOKEN_RE.finditer(text):
                if match.start() > pos:
                    pieces.append(text[pos:match.start()])
                token = match.group(0)
                if token == "$$":
                    pieces.append("$")
                elif token == "$":
                    raise self._error(path, f"malformed variable in {text!r}: a lone '$'; {_MALFORMED}")
                else:
                    pieces.append(_Ref(match.group(1)))
                pos = match.end()
            if pos < len(text):
                pieces.append(text[pos:])
            self.pieces[path] = pieces
        return self.pieces[path]

    # -- dependencies ---------------------------------------------------------------------------
    def _node(self, path: Path) -> Tuple[bool, Any]:
        node: Any = self.config
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
        return True, node

    def _target(self, name: str, at: Path) -> Path:
        """The value or section ${name} refers to, from the value at `at`."""
        parts = name.replace(":", ".").split(".")
        if len(parts) == 1:  # ${key}: a key of the same section, else a top-level section
            sibling = at[:-1] + (parts[0],)
            found, node = self._node(sibling)
            if found and sibling != at and not isinstance(node, dict):
                return sibling
        target = tuple(parts)
        if not all(parts) or not self._node(target)[0]:
            hint = suggest(".".join(parts), dotted_keys(self.config), n=1, fmt="${{{}}}")
            raise self._error(at, f"unknown variable ${{{name}}}" + (f"; did you mean {hint}?" if hint else ""))
        return target

    def _dependencies(self, path: Path) -> List[Path]:
        if path not in self.targets:
            if path in self.texts:
                deps = [self._target(p.name, path) for p in self._split(path) if isinstance(p, _Ref)]
            elif isinstance(self._node(path)[1], dict):  # a section: every value with variables in it
                deps = [p for p in self.texts if p[:len(path)] == path]
            else:
                deps = []
            self.targets[path] = deps
        return self.targets[path]

    def _visit(self, start: Path, compute: bool) -> None:
        """Work out `start` after everything it depends on (depth first, no recursion)."""
        stack, on_stack = [start], {start}
        while stack:
            path = stack[-1]
            waiting = next((d for d in self._dependencies(path) if d not in self.done), None)
            if waiting is None:
                self.done[path] = self._value(path) if compute else None
                on_stack.discard(path)
                stack.pop()
            elif waiting in on_stack:
                loop = stack[stack.index(waiting):] + [waiting]
                chain = " -> ".join(f"${{{'.'.join(p)}}}" for p in loop)
                raise self._error(loop[0] if loop[0] in self.texts else path,
                                  f"variables refer to each other in a loop: {chain}")
            else:
                stack.append(waiting)
                on_stack.add(waiting)

    def check(self) -> None:
        for path in self.texts:
            if path not in self.done:
                self._visit(path, compute=False)

    def interpolated(self) -> Dict[str, Any]:
        for path in self.texts:
            if path not in self.done:
                self._visit(path, compute=True)
        return self._section(())

    # -- values ---------------------------------------------------------------------------------
    def _resolved(self, path: Path) -> Any:
        """The final value at `path`, once its dependencies are done."""
        if path in self.texts:
            return self.done[path]
        node = self._node(path)[1]
        return self._section(path) if isinstance(node, dict) else node

    def _section(self, path: Path) -> Dict[str, Any]:
        """A copy of the section at `path` with its variables replaced."""
        node = self._node(path)[1]
        result = {}
        for key, value in node.items():
            child = path + (str(key),)
            if child in self.texts:
                result[key] = copy.deepcopy(self.done[child])
            elif isinstance(value, dict):
                result[key] = self._section(child)
            else:
                result[key] = copy.deepcopy(value)
        return result

    def _value(self, path: Path) -> Any:
        if path not in self.texts:  # a section or a plain value: built when it is used
            return None
        pieces = self._split(path)
        refs = [p for p in pieces if isinstance(p, _Ref)]
        if len(pieces) == 1 and refs:  # x = ${a.b}: the value itself, with its type
            return copy.deepcopy(self._resolved(self._target(refs[0].name, path)))
        sections: Dict[str, Any] = {}
        text = []
        for piece in pieces:
            if isinstance(piece, str):
                text.append(piece)
                continue
            target = self._target(piece.name, path)
            value = self._resolved(target)
            if isinstance(self._node(target)[1], dict):
                mark = _SECTION_MARK + ".".join(target)
                sections[mark] = value
                text.append(json.dumps(mark))
            elif isinstance(value, str):
                text.append(value)
            else:
                text.append(json.dumps(value).replace('"', '\\"'))
        result = try_load_json("".join(text))
        if sections:
            if isinstance(result, list):  # [${a}, ${b}]: a list of sections
                result = [copy.deepcopy(sections[item]) if isinstance(item, str) and item in sections else item
                          for item in result]
            if _SECTION_MARK in json.dumps(result):
                raise self._error(path, _SECTION_IN_STRING)
        return result

    def _error(self, path: Path, message: str) -> ConfigError:
        key = ".".join(path)
        return ConfigError(message, path=self.source.path if self.source else None,
                           line=self.source.line_of(key) if self.source else None, key=key)


def dotted_keys(config: Dict[str, Any], prefix: str = "") -> List[str]:
    """Every section and key of a nested config as a dotted path."""
    keys: List[str] = []
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        keys.append(path)
        if isinstance(value, dict):
            keys.extend(dotted_keys(value, path))
    return keys
