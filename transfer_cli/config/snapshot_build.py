"""Builds registry_snapshot.json (see snapshot.py) from the live registry:

    python -m transfer_cli.config.snapshot_build    # rewrites the file

tests/test_cli_startup.py fails when the file differs from what this builds."""
import inspect
import json
import math
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Tuple

import srsly
from confection import Config

from .annotations import canonical, describe_annotation
from .defaults import TEMPLATES_DIR, default_config, default_pretraining_config, load_packaged_config
from .factories import factory_names, get_factory_meta
from .registry import load_registrations, registry
from .schemas import ValueCheck
from .snapshot import SNAPSHOT_PATH
from .validation import check_value, contains_promise, function_parameters

# (registry or "factories", function or factory, argument) -> values the package's configs give it
Candidates = Dict[Tuple[str, str, str], List[Any]]


def is_plain_json(value: Any) -> bool:
    """A value that reads back from JSON as the same value of the same type."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if type(value) is list:
        return all(is_plain_json(v) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and is_plain_json(v) for k, v in value.items())
    return False


def describe_signature(func: Any, certify: Callable[[str, Any], Callable[[ValueCheck], Any]]) -> Optional[List[list]]:
    """[name, kind, type, default?] per parameter: the default as confection's fill reads
    it, the type as validation reads it (annotations.py); None when a default is not plain
    JSON (a config naming the function is then filled and validated live).
    certify(name, type): the recorder of a ValueCheck's accepted values for that argument."""
    parameters = function_parameters(func)
    if parameters.signature is None:
        return None
    described = []
    for param in parameters.signature.parameters.values():
        annotation = parameters.hints.get(param.name, param.annotation)
        entry = [param.name, str(param.kind), describe_annotation(annotation, certify(param.name, annotation))]
        if param.default is param.empty:
            described.append(entry)
        elif is_plain_json(param.default):
            described.append([*entry, param.default])
        else:
            return None
    return described


def candidate_values() -> Candidates:
    """The values the package's own configs (defaults, init-config templates, factories'
    defaults) give each argument of a registered function or factory."""
    found: Candidates = defaultdict(list)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            reg_keys = [k for k in node if isinstance(k, str) and k.startswith("@")]
            owner = (reg_keys[0][1:], node[reg_keys[0]]) if len(reg_keys) == 1 else \
                ("factories", node["factory"]) if isinstance(node.get("factory"), str) else None
            for key, value in node.items():
                if owner is not None and not str(key).startswith("@") and is_plain_json(value) \
                        and "${" not in json.dumps(value):
                    found[(*owner, key)].append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    configs: List[Any] = [default_config(), default_pretraining_config()]
    configs += [load_packaged_config(path) for path in sorted(TEMPLATES_DIR.glob("*.cfg"))]
    configs += [{"factory": name, **get_factory_meta(name).default_config} for name in factory_names()]
    for config in configs:
        walk(dict(config) if isinstance(config, Config) else config)
    return found


def certifier(owner: Tuple[str, str], func: Any, candidates: Candidates) -> Callable[[str, Any], Callable]:
    """certify(name, type) for describe_signature: a ValueCheck is recorded by the values
    (the package's configs' and the argument's default) that pass the argument's checks."""
    try:
        defaults = {name: [p.default] for name, p in inspect.signature(func).parameters.items()
                    if p.default is not p.empty and is_plain_json(p.default)}
    except (TypeError, ValueError):
        defaults = {}

    def certify(name: str, annotation: Any) -> Callable[[ValueCheck], Any]:
        values = candidates.get((*owner, name), []) + defaults.get(name, [])
        accepted = sorted({canonical(v) for v in values if not contains_promise(v) and
                           check_value(v, annotation) is None})
        return lambda check: {"accepts": accepted}

    return certify


def build_snapshot() -> Dict[str, Any]:
    load_registrations()
    candidates = candidate_values()
    functions: Dict[str, Dict[str, Any]] = {}
    for registry_name in registry.registry_names():
        if registry_name == "factories":
            continue
        entries = getattr(registry, registry_name).get_all()
        functions[registry_name] = {
            name: describe_signature(entries[name], certifier((registry_name, name), entries[name], candidates))
            for name in sorted(entries)}
    factories: Dict[str, Any] = {}
    for name in factory_names():
        meta = get_factory_meta(name)
        settings: Optional[List[list]] = []
        for setting, param in meta.settings_signature().items():
            if param.default is param.empty:
                continue
            if is_plain_json(param.default):
                settings.append([setting, param.default])
            elif json_serializable(param.default):  # fill_component_block would write it: not plain
                settings = None
                break
        if not is_plain_json(meta.default_config) or not is_plain_json(meta.default_score_weights):
            settings = None
        factories[name] = {"default_config": meta.default_config, "settings": settings,
                           "score_weights": meta.default_score_weights,
                           "parameters": describe_signature(meta.func, certifier(("factories", name), meta.func,
                                                                                 candidates))}
    return {"functions": functions, "factories": factories}


def json_serializable(value: Any) -> bool:
    # as factories.fill_component_block decides

    return srsly.is_json_serializable(value)


def snapshot_text() -> str:
    # key order kept: it is the order settings are written in
    return json.dumps(build_snapshot(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SNAPSHOT_PATH.write_text(snapshot_text(), encoding="utf8")
    print(f"wrote {SNAPSHOT_PATH}")
