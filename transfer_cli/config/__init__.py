"""The config system: registries, component factories, loading with overrides,
filling, validation, resolution, and the init-config templates.

Commands use:
    config = load_config(path, overrides)          # after import_code(--code)
    config = fill_config(config)                    # every default, validated
    training = resolve_section(config, "training")  # optimizer, batcher ... objects
    specs = resolve_components(config)              # factory + resolved settings per component
"""
from .factories import (FactoryMeta, create_component, factory_names, get_factory_meta, has_factory,
                        register_factory)
from .filling import check_config, combine_score_weights, config_diff, fill_config
from .interpolation import interpolate_config
from .loading import config_to_str, load_config, load_config_from_str, write_config
from .quickstart import init_config
from .registry import load_registrations, registry
from .resolving import ComponentSpec, resolve_component_block, resolve_components, resolve_path, resolve_section
from .validation import ConfigProblem, ConfigValidationFailed, validate_config

__all__ = [
    "registry", "load_registrations", "register_factory", "get_factory_meta", "has_factory", "factory_names",
    "FactoryMeta", "create_component", "load_config", "load_config_from_str", "write_config", "config_to_str",
    "interpolate_config", "fill_config", "check_config", "validate_config", "combine_score_weights",
    "config_diff", "ConfigProblem", "ConfigValidationFailed", "resolve_components", "resolve_component_block",
    "resolve_section", "resolve_path", "ComponentSpec", "init_config",
]
