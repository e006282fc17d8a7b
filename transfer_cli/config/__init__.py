"""The config system: registries, component factories, loading with overrides,
filling, validation, resolution, and the init-config templates.

Commands use:
    config = load_config(path, overrides)          # after import_code(--code)
    checked = check_config(config).valid()          # fill, interpolate, validate: once
    training = resolve_section(checked, "training")  # optimizer, batcher ... objects
    specs = resolve_components(checked)              # factory + resolved settings per component
fill_config(config) is check_config(config).valid().filled: the config fill-config writes.
"""
import importlib
import sys
import types
from typing import Any

# Each name and the module that defines it. They are imported on first use (PEP 562), so
# that a light module of this package (e.g. the init-config templates, writing) can be
# imported without thinc: the registry, filling and validation load it.
_MODULES = {
    "registry": "registry", "load_registrations": "registry",
    "register_factory": "factories", "get_factory_meta": "factories", "has_factory": "factories",
    "factory_names": "factories", "FactoryMeta": "factories",
    "load_config": "loading", "load_config_from_str": "loading",
    "write_config": "writing", "config_to_str": "writing",
    "interpolate_config": "interpolation", "check_variables": "interpolation",
    "fill_config": "filling", "check_config": "filling", "ConfigCheck": "filling",
    "combine_score_weights": "filling", "config_diff": "writing",
    "validate_config": "registrations", "ConfigProblem": "validation", "ConfigValidationFailed": "validation",
    "resolve_components": "resolving", "resolve_component_block": "resolving", "resolve_section": "resolving",
    "resolve_path": "resolving", "resolve_blocks": "resolving", "ComponentSpec": "resolving",
    "init_config": "quickstart",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _ConfigPackage(types.ModuleType):
    """`transfer_cli.config.registry` is the registry class, as it was when this package
    imported it eagerly, although importing the submodule of that name sets the package's
    attribute to the submodule: the property keeps the class."""

    @property
    def registry(self) -> Any:
        return importlib.import_module(f"{__name__}.registry").registry

    @registry.setter
    def registry(self, value: Any) -> None:  # the import system records the submodule: keep the class
        pass


sys.modules[__name__].__class__ = _ConfigPackage

__all__ = [
    "registry", "load_registrations", "register_factory", "get_factory_meta", "has_factory", "factory_names",
    "FactoryMeta", "load_config", "load_config_from_str", "write_config", "config_to_str",
    "interpolate_config", "check_variables", "fill_config", "check_config", "ConfigCheck", "validate_config",
    "combine_score_weights", "config_diff", "ConfigProblem", "ConfigValidationFailed", "resolve_components",
    "resolve_component_block", "resolve_section", "resolve_path", "resolve_blocks", "ComponentSpec", "init_config",
]
