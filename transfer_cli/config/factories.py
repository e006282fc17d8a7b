"""Component factories: registered by name with their default settings, so that
`[components.ner] factory = "ner"` works and fill-config can write the defaults.

A factory follows spaCy's convention `factory(nlp, name, **settings)`:

    @register_factory(
        "tagger",
        default_config={"model": DEFAULT_TAGGER_MODEL, "overwrite": False,
                        "scorer": {"@scorers": "spacy.tagger_scorer.v1"}},
        default_score_weights={"tag_acc": 1.0},
    )
    def make_tagger(nlp, name, model, overwrite, scorer): ...

where DEFAULT_TAGGER_MODEL is a config string whose section is named after the
setting ("[model]\\n@architectures = ..."), or the same block as a dict.
Building a component from a block is the pipeline's (pipeline/build.py).
"""
import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import srsly
from confection import Config

from ..errors import ConfigError
from .registry import load_registrations, registry, suggest

_FACTORY_ARGS = ("nlp", "name")


@dataclass
class FactoryMeta:
    """What the config system knows about a factory."""
    name: str
    func: Callable
    default_config: Dict[str, Any] = field(default_factory=dict)
    default_score_weights: Dict[str, Optional[float]] = field(default_factory=dict)
    assigns: Sequence[str] = ()
    requires: Sequence[str] = ()

    def settings_signature(self) -> Dict[str, inspect.Parameter]:
        """The factory's parameters after (nlp, name): the settings a config may give."""
        params = list(inspect.signature(self.func).parameters.values())
        return {p.name: p for p in params if p.name not in _FACTORY_ARGS
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def accepts_any_setting(self) -> bool:
        return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(self.func).parameters.values())


_FACTORIES: Dict[str, FactoryMeta] = {}


def register_factory(name: str, *, default_config: Optional[Dict[str, Any]] = None,
                     default_score_weights: Optional[Dict[str, Optional[float]]] = None,
                     assigns: Sequence[str] = (), requires: Sequence[str] = (),
                     func: Optional[Callable] = None) -> Callable:
    """Register a component factory under `name` (decorator, or pass `func`)."""

    def decorator(factory: Callable) -> Callable:
        params = list(inspect.signature(factory).parameters)
        if params[:2] != list(_FACTORY_ARGS):
            raise TypeError(f"Factory '{name}' must take (nlp, name, **settings) as its first arguments, "
                            f"got ({', '.join(params)})")
        defaults = parse_default_config(default_config or {})
        if not srsly.is_json_serializable(defaults):
            raise TypeError(f"default_config of factory '{name}' must be JSON-serializable config values")
        meta = FactoryMeta(name, factory, defaults, dict(default_score_weights or {}), tuple(assigns), tuple(requires))
        _FACTORIES[name] = meta
        registry.factories.register(name, func=factory)
        return factory

    return decorator(func) if func is not None else decorator


def parse_default_config(default_config: Dict[str, Any]) -> Dict[str, Any]:
    """Turn config-string values ("[model]\\n@architectures = ...") into blocks."""
    parsed: Dict[str, Any] = {}
    for key, value in default_config.items():
        if isinstance(value, str) and value.lstrip().startswith(f"[{key}]"):
            parsed[key] = dict(Config().from_str(value, interpolate=False))[key]
        else:
            parsed[key] = copy.deepcopy(value)
    return parsed


def get_factory_meta(name: str, *, key: Optional[str] = None) -> FactoryMeta:
    """The meta of a registered factory, or a ConfigError suggesting close names."""
    meta = _find(name)
    if meta is None:
        raise ConfigError(unknown_factory_message(name), key=key)
    return meta


def has_factory(name: str) -> bool:
    return _find(name) is not None


def factory_names() -> List[str]:
    load_registrations()
    return sorted(set(_FACTORIES) | set(registry.factories.get_all()))


def unknown_factory_message(name: object) -> str:
    if not isinstance(name, str):
        return f"factory must be a component factory name (a string), got {name!r}"
    names = factory_names()
    hint = suggest(name, names)
    known = ", ".join(names) if names else "none registered"
    return (f"unknown component factory '{name}'" + (f"; did you mean {hint}?" if hint else "")
            + f" (factories: {known})")


def _find(name: object) -> Optional[FactoryMeta]:
    if not isinstance(name, str):
        return None
    if name not in _FACTORIES and not registry.has("factories", name):
        load_registrations()
    if name in _FACTORIES:
        return _FACTORIES[name]
    if registry.has("factories", name):  # registered with @registry.factories: no defaults
        return FactoryMeta(name, registry.get("factories", name))
    return None


def fill_component_block(block: Any) -> Any:
    """A [components.NAME] block with its factory's defaults (the factory's
    default_config, then its signature's defaults) under the block's own values.
    Blocks without a known factory are returned as they are (validation reports them)."""
    if not isinstance(block, dict) or "factory" not in block or not has_factory(block["factory"]):
        return block
    meta = get_factory_meta(block["factory"])
    filled = dict(Config(meta.default_config).merge(block))
    for name, param in meta.settings_signature().items():
        if name not in filled and param.default is not param.empty and srsly.is_json_serializable(param.default):
            filled[name] = copy.deepcopy(param.default)
    return {"factory": block["factory"], **{k: v for k, v in filled.items() if k != "factory"}}
