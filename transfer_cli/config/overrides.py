"""`--section.key value` overrides. A key may be one the config has, one the
defaults will fill in, or an argument of the registered function (or component
factory) whose block it is in; anything else is an error naming the closest key."""
import copy
import inspect
from typing import Any, Dict, List, Optional

from confection import Config

from ..errors import ConfigError
from .defaults import all_defaults
from .factories import fill_component_block, get_factory_meta, has_factory
from .registry import lookup_problem, registry, suggest
from .source import ConfigSource


def apply_overrides(config: Config, overrides: Dict[str, Any], *,
                    source: Optional[ConfigSource] = None) -> Config:
    """Set each dotted key of `overrides` in (a copy of) the uninterpolated config."""
    if not overrides:
        return config
    config = Config(copy.deepcopy(dict(config)), is_interpolated=config.is_interpolated)
    known = _with_factory_defaults(all_defaults().merge(config))
    path = source.path if source else None
    for key, value in overrides.items():
        problem = override_problem(known, key)
        if problem is not None:
            raise ConfigError(problem, path=path, key=key)
        _set(config, key.split("."), value)
        _set(known, key.split("."), value)
    return config


def _with_factory_defaults(config: Config) -> Config:
    """The config with each component's factory defaults under it, so settings the
    factory provides (e.g. its default model block) can be overridden too."""
    components = config.get("components")
    if isinstance(components, dict):
        for name, block in list(components.items()):
            components[name] = fill_component_block(block)
    return config


def override_problem(config: Dict[str, Any], key: str) -> Optional[str]:
    """None if `key` names a setting that can be overridden in `config`."""
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        return f"'{key}' is not a setting: overrides look like --section.key value"
    node: Any = config
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            return _no_such(config, key, ".".join(parts[:depth + 1]))
        node = node[part]
    if not isinstance(node, dict):
        return f"'{'.'.join(parts[:-1])}' is a value, not a section, so it has no setting '{parts[-1]}'"
    leaf = parts[-1]
    if leaf in node or leaf in accepted_arguments(node, parts[:-1]):
        return None
    return _no_such(config, key, key)


def accepted_arguments(block: Dict[str, Any], path: List[str]) -> List[str]:
    """Arguments the registered function or component factory of `block` takes."""
    reg_keys = [k for k in block if isinstance(k, str) and k.startswith("@")]
    if len(reg_keys) == 1:
        reg_name, func_name = reg_keys[0][1:], block[reg_keys[0]]
        if lookup_problem(reg_name, func_name) is None:
            return list(inspect.signature(registry.get(reg_name, func_name)).parameters)
        return []
    if len(path) == 2 and path[0] == "components" and isinstance(block.get("factory"), str):
        if has_factory(block["factory"]):
            meta = get_factory_meta(block["factory"])
            return list(meta.settings_signature()) + list(meta.default_config)
    return []


def _no_such(config: Dict[str, Any], key: str, missing: str) -> str:
    options = _all_keys(config)
    hint = suggest(key, options, n=1)
    what = f"no setting '{key}' in the config" if missing == key else \
        f"no section '{missing}' in the config (overriding '{key}')"
    return what + (f"; did you mean {hint}?" if hint else "")


def _all_keys(config: Dict[str, Any], prefix: str = "") -> List[str]:
    keys: List[str] = []
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if not str(key).startswith("@"):
            keys.append(path)
        if isinstance(value, dict):
            keys.extend(_all_keys(value, path))
            keys.extend(f"{path}.{arg}" for arg in accepted_arguments(value, path.split(".")) if arg not in value)
    return keys


def _set(config: Dict[str, Any], parts: List[str], value: Any) -> None:
    node = config
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = copy.deepcopy(value)
