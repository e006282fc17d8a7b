"""The config system: registries, component factories, loading with overrides,
filling, validation, resolution, and the init-config templates.

Commands use:
    config = load_config(path, overrides)          # after import_code(--code)
    checked = check_config(config).valid()          # fill, interpolate, validate: once
    training = resolve_section(checked, "training")  # optimizer, batcher ... objects
    specs = resolve_components(checked)              # factory + resolved settings per component
fill_config(config) is check_config(config).valid().filled: the config fill-config writes.
"""
from .factories import FactoryMeta, factory_names, get_factory_meta, has_factory, register_factory
from .filling import ConfigCheck, check_config, combine_score_weights, config_diff, fill_config
from .interpolation import check_variables, interpolate_config
from .loading import config_to_str, load_config, load_config_from_str, write_config
from .quickstart import init_config
from .registry import load_registrations, registry
from .resolving import (ComponentSpec, resolve_blocks, resolve_component_block, resolve_components, resolve_path,
                        resolve_section)
from .validation import ConfigProblem, ConfigValidationFailed, validate_config

__all__ = [
    "registry", "load_registrations", "register_factory", "get_factory_meta", "has_factory", "factory_names",
    "FactoryMeta", "load_config", "load_config_from_str", "write_config", "config_to_str",
    "interpolate_config", "check_variables", "fill_config", "check_config", "ConfigCheck", "validate_config",
    "combine_score_weights", "config_diff", "ConfigProblem", "ConfigValidationFailed", "resolve_components",
    "resolve_component_block", "resolve_section", "resolve_path", "resolve_blocks", "ComponentSpec", "init_config",
]
