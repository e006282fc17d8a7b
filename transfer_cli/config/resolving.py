"""Turning a checked config into objects: registered blocks become the values
their functions return (thinc Models, optimizers, readers ...), and each
component becomes (factory function, resolved settings) for
`factory(nlp, name, **settings)`.

Given a ConfigCheck (filling.check_config: filled, interpolated and validated in
one pass), each section is built from its values as they are. Given a plain
Config (a section of one's own, say), the part asked for is interpolated and
checked first."""
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from confection import Config

from ..errors import ConfigError, UserError
from ..user_code import USER_CODE_PREFIX
from .factories import FactoryMeta, fill_component_block, get_factory_meta
from .filling import ConfigCheck
from .interpolation import interpolate_config
from .registrations import LIVE
from .registry import load_registrations, registry
from .schemas import SECTIONS
from .validation import (ARGS_FIELD, ConfigProblem, check_components, check_corpora, check_section,
                         raise_problems, walk_blocks)

ConfigLike = Union[ConfigCheck, Config, Dict[str, Any]]


@dataclass
class ComponentSpec:
    """What the Pipeline needs to build one component."""
    name: str
    factory: Optional[str]
    func: Optional[Callable]                  # factory(nlp, name, **settings); None for sourced components
    settings: Dict[str, Any]                  # resolved: `model` is a thinc Model, `scorer` a function ...
    config: Dict[str, Any]                    # the filled block as written in the config (variables kept)
    source: Optional[str] = None              # `source = "path"` components: copy from a trained pipeline
    meta: Optional[FactoryMeta] = None
    default_score_weights: Dict[str, Optional[float]] = field(default_factory=dict)


def resolve_components(config: ConfigLike, names: Optional[Iterable[str]] = None) -> List[ComponentSpec]:
    """A spec for each component of `names` (default: [nlp] pipeline, in order)."""
    values, filled, checked = _values(config)
    components = values.get("components", {})
    if names is None:
        names = values.get("nlp", {}).get("pipeline", [])
    specs = []
    for name in names:
        if name not in components:
            raise ConfigError(f"'{name}' has no [components.{name}] block "
                              f"(components: {', '.join(components) or 'none'})", key="nlp.pipeline")
        if not checked:
            _check({name: components[name]}, "components")
        raw = filled.get("components", {}).get(name, components[name])
        specs.append(_component_spec(name, components[name], raw))
    return specs


def resolve_component_block(name: str, block: Dict[str, Any]) -> ComponentSpec:
    """One component from its block, e.g. {"factory": "ner", "model": {...}} for
    Pipeline.add_pipe: filled with the factory's defaults, validated and built."""
    load_registrations()
    path = f"components.{name}"
    if "factory" not in block and "source" not in block:
        raise ConfigError('a component needs factory = "name" (or source = "pipeline")', key=path)
    if "factory" in block:
        get_factory_meta(block["factory"], key=f"{path}.factory")
        # a plain dict is taken as it is: no variables to replace in a block given in code
        block = registry.fill({"block": fill_component_block(block)}, validate=False)["block"]
    _check({name: block}, "components")
    return _component_spec(name, block, block)


def _component_spec(name: str, block: Dict[str, Any], raw: Dict[str, Any]) -> ComponentSpec:
    if "factory" not in block:
        return ComponentSpec(name, None, None, dict(block), dict(raw), source=block.get("source"))
    path = f"components.{name}"
    meta = get_factory_meta(block["factory"], key=f"{path}.factory")
    settings = {key: resolve_blocks(value, f"{path}.{key}") for key, value in block.items() if key != "factory"}
    return ComponentSpec(name, meta.name, meta.func, settings, dict(raw), meta=meta,
                         default_score_weights=dict(meta.default_score_weights))


def resolve_section(config: ConfigLike, section: str) -> Dict[str, Any]:
    """A top-level section (or any dotted path to a section) with its registered
    blocks resolved, e.g. resolve_section(config, "training")["optimizer"]."""
    value = resolve_path(config, section)
    if not isinstance(value, dict):
        raise ConfigError(f"expected a section, got {value!r}", key=section)
    return value


def resolve_path(config: ConfigLike, dotted: str) -> Any:
    """The object at a dotted path, resolved: "corpora.train" gives the reader the
    [corpora.train] block builds; "training" the whole resolved section."""
    values, _, checked = _values(config)
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"the config has no [{dotted}]", key=dotted)
        node = node[part]
    if not checked:
        _check(node, dotted)
    return resolve_blocks(node, dotted)


def resolve_blocks(node: Any, key: str) -> Any:
    """`node` with each registered block replaced by what its function returns
    (innermost blocks first); `key` is node's dotted path, for errors."""
    if not isinstance(node, dict):
        return node
    if not registry.is_promise(node):
        return {name: resolve_blocks(value, f"{key}.{name}") for name, value in node.items()}
    [reg_key] = [name for name in node if str(name).startswith("@")]
    func = registry.find(reg_key[1:], node[reg_key], key=key)
    args: List[Any] = []
    kwargs: Dict[str, Any] = {}
    for name, value in node.items():
        if name == reg_key:
            continue
        value = resolve_blocks(value, f"{key}.{name}")
        if name == ARGS_FIELD:  # [block.*.name] sections: positional arguments
            args = list(value.values()) if isinstance(value, dict) else list(value)
        else:
            kwargs[name] = value
    try:
        return func(*args, **kwargs)
    except UserError:
        raise
    except Exception as e:
        error = user_code_error(e, key)
        if error is not None:
            raise error from e
        if isinstance(e, (ValueError, TypeError)):
            # the registered function (thinc's optimizers, schedules ...) refused a value of this block
            detail = " ".join(str(e).split())
            raise ConfigError(f"cannot build this block: {type(e).__name__}: {detail}", key=key) from e
        raise


def _values(config: ConfigLike) -> Tuple[Dict[str, Any], Dict[str, Any], bool]:
    """(interpolated values, config as written, whether it was checked already)."""
    load_registrations()
    if isinstance(config, ConfigCheck):
        config.valid()
        assert config.values is not None  # a valid check has its values
        return config.values, config.filled, True
    if isinstance(config, Config) and not config.is_interpolated:
        return interpolate_config(config), config, False
    return config, config, False


def _check(node: Any, dotted: str) -> None:
    """Validate the part of a config that is about to be built."""
    problems: List[ConfigProblem] = []
    if dotted in SECTIONS:
        check_section(dotted, node, problems, LIVE)
    elif dotted == "corpora":
        check_corpora(node, problems, LIVE)
    elif dotted == "components":
        check_components(node, problems, LIVE)
    else:
        walk_blocks(node, dotted, problems, LIVE)
    raise_problems(problems)


def user_code_error(e: BaseException, key: Optional[str] = None) -> Optional[ConfigError]:
    """If `e` was raised inside a file imported with --code, a ConfigError that
    points at that file and line; None otherwise."""
    user_files = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(USER_CODE_PREFIX) and getattr(module, "__file__", None):
            user_files[str(Path(module.__file__).resolve())] = module.__file__
    if not user_files:
        return None
    frames = [f for f in traceback.extract_tb(e.__traceback__) if str(Path(f.filename).resolve()) in user_files]
    if not frames:
        return None
    frame = frames[-1]
    return ConfigError(f"{type(e).__name__}: {e} (raised in {frame.name}(), building this block)",
                       path=user_files[str(Path(frame.filename).resolve())], line=frame.lineno, key=key)
