"""Builds registry_snapshot.json (see snapshot.py) from the live registry:

    python -m transfer_cli.config.snapshot_build    # rewrites the file

tests/test_cli_startup.py fails when the file differs from what this builds."""
import inspect
import json
import math
from typing import Any, Dict, List, Optional

import srsly

from .factories import factory_names, get_factory_meta
from .registry import load_registrations, registry
from .snapshot import SNAPSHOT_PATH


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


def describe_signature(func: Any) -> Optional[List[list]]:
    """[name, kind, default?] per parameter as confection's fill reads them; None when a
    default is not plain JSON (a config naming the function is then filled live)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    described = []
    for param in parameters:
        if param.kind == param.VAR_KEYWORD:
            continue
        if param.default is param.empty:
            described.append([param.name, str(param.kind)])
        elif is_plain_json(param.default):
            described.append([param.name, str(param.kind), param.default])
        else:
            return None
    return described


def build_snapshot() -> Dict[str, Any]:
    load_registrations()
    functions: Dict[str, Dict[str, Any]] = {}
    for registry_name in registry.registry_names():
        if registry_name == "factories":
            continue
        entries = getattr(registry, registry_name).get_all()
        functions[registry_name] = {name: describe_signature(entries[name]) for name in sorted(entries)}
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
                           "score_weights": meta.default_score_weights}
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
