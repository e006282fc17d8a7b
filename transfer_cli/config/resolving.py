"""Turning a filled config into objects: registered blocks become the values
their functions return (thinc Models, optimizers, readers ...), and each
component becomes (factory function, resolved settings) for
`factory(nlp, name, **settings)`."""
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from confection import Config

from ..errors import ConfigError, UserError
from .factories import FactoryMeta, get_factory_meta
from .filling import fill_component_block
from .interpolation import interpolate_config
from .registry import load_registrations, registry
from .schemas import SECTIONS
from .validation import (ConfigProblem, check_components, check_corpora, check_section,
                         check_factory_settings, raise_problems, walk_blocks)

USER_CODE_PREFIX = "transfer_cli_user_code_"  # module names given by cli._util.import_code


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


def resolve_components(config: Config, names: Optional[Iterable[str]] = None) -> List[ComponentSpec]:
    """A spec for each component of `names` (default: [nlp] pipeline, in order)."""
    load_registrations()
    interpolated = _interpolated(config)
    components = interpolated.get("components", {})
    if names is None:
        names = interpolated.get("nlp", {}).get("pipeline", [])
    specs = []
    for name in names:
        if name not in components:
            raise ConfigError(f"'{name}' has no [components.{name}] block "
                              f"(components: {', '.join(components) or 'none'})", key="nlp.pipeline")
        raw = config.get("components", {}).get(name, components[name])
        specs.append(resolve_component_block(name, components[name], raw=raw))
    return specs


def resolve_component_block(name: str, block: Dict[str, Any], *, raw: Optional[Dict[str, Any]] = None
                            ) -> ComponentSpec:
    """Fill, validate and resolve one (interpolated) [components.NAME] block."""
    load_registrations()
    path = f"components.{name}"
    if "factory" not in block:
        if "source" in block:
            return ComponentSpec(name, None, None, dict(block), dict(raw or block), source=block["source"])
        raise ConfigError('a component needs factory = "name" (or source = "pipeline")', key=path)
    meta = get_factory_meta(block["factory"], key=f"{path}.factory")
    filled = registry.fill({"block": fill_component_block(block, path)}, validate=False)["block"]
    problems: List[ConfigProblem] = []
    check_factory_settings(meta, filled, path, problems)
    for key, value in filled.items():
        walk_blocks(value, f"{path}.{key}", problems)
    raise_problems(problems)
    settings = {k: v for k, v in filled.items() if k != "factory"}
    resolved = _resolve({"settings": settings}, path)["settings"]
    return ComponentSpec(name, meta.name, meta.func, resolved, dict(raw if raw is not None else filled), meta=meta,
                         default_score_weights=dict(meta.default_score_weights))


def resolve_section(config: Config, section: str) -> Dict[str, Any]:
    """A top-level section (or any dotted path to a section) with its registered
    blocks resolved, e.g. resolve_section(config, "training")["optimizer"]."""
    value = resolve_path(config, section)
    if not isinstance(value, dict):
        raise ConfigError(f"expected a section, got {value!r}", key=section)
    return value


def resolve_path(config: Config, dotted: str) -> Any:
    """The object at a dotted path, resolved: "corpora.train" gives the reader the
    [corpora.train] block builds; "training" the whole resolved section."""
    load_registrations()
    interpolated = _interpolated(config)
    node: Any = interpolated
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"the config has no [{dotted}]", key=dotted)
        node = node[part]
    problems: List[ConfigProblem] = []
    if dotted in SECTIONS:
        check_section(dotted, node, problems)
    elif dotted == "corpora":
        check_corpora(node, problems)
    elif dotted == "components":
        check_components(node, problems)
    else:
        walk_blocks(node, dotted, problems)
    raise_problems(problems)
    return _resolve({"value": node}, dotted)["value"]


def _interpolated(config: Config) -> Config:
    if isinstance(config, Config) and config.is_interpolated:
        return config
    return interpolate_config(Config(config, is_interpolated=False))


def _resolve(config: Dict[str, Any], key: str) -> Dict[str, Any]:
    try:
        return registry.resolve(config, validate=False)
    except UserError:
        raise
    except Exception as e:
        error = user_code_error(e, key)
        if error is not None:
            raise error from e
        raise


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
