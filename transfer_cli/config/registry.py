"""The registries that configs name in `@registry = "function"` blocks.

`registry` extends thinc's registry (so thinc's optimizers, schedules, layers,
losses and initializers resolve through it) with the registries a spaCy-style
training config uses. User code registers with
`@transfer_cli.registry.architectures("my.Arch.v1")`.
"""
import importlib
import importlib.util
from typing import Callable, Dict, List, Optional

import catalogue
from thinc.api import registry as thinc_registry

from ..errors import ConfigError
from .suggest import close_matches, suggest  # noqa: F401  (imported from here too)

# Modules whose import registers the package's own functions (architectures,
# factories, readers ...). They are imported lazily, the first time a config is
# filled or resolved, so `import transfer_cli` stays cheap and free of cycles.
REGISTRATION_MODULES: List[str] = [
    "transfer_cli.ml",
    "transfer_cli.pipeline",
    "transfer_cli.training",
    "transfer_cli.scoring",
]

_registrations_loaded = False


class registry(thinc_registry):
    # fmt: off
    architectures = catalogue.create("transfer_cli", "architectures", entry_points=True)
    readers = catalogue.create("transfer_cli", "readers", entry_points=True)
    batchers = catalogue.create("transfer_cli", "batchers", entry_points=True)
    loggers = catalogue.create("transfer_cli", "loggers", entry_points=True)
    callbacks = catalogue.create("transfer_cli", "callbacks", entry_points=True)
    scorers = catalogue.create("transfer_cli", "scorers", entry_points=True)
    augmenters = catalogue.create("transfer_cli", "augmenters", entry_points=True)
    span_getters = catalogue.create("transfer_cli", "span_getters", entry_points=True)
    annotation_setters = catalogue.create("transfer_cli", "annotation_setters", entry_points=True)
    vectors = catalogue.create("transfer_cli", "vectors", entry_points=True)
    tokenizers = catalogue.create("transfer_cli", "tokenizers", entry_points=True)
    lookups = catalogue.create("transfer_cli", "lookups", entry_points=True)
    misc = catalogue.create("transfer_cli", "misc", entry_points=True)
    factories = catalogue.create("transfer_cli", "factories", entry_points=True)
    # fmt: on
    # inherited from thinc: optimizers, schedules, layers, losses, initializers, datasets, ops

    @classmethod
    def registry_names(cls) -> List[str]:
        """Names of every registry a config can use after `@`."""
        return sorted(name for name in dir(cls) if isinstance(getattr(cls, name, None), catalogue.Registry))

    @classmethod
    def function_names(cls, registry_name: str) -> List[str]:
        """Names registered in one registry (including entry points)."""
        return sorted(getattr(cls, registry_name).get_all().keys())

    @classmethod
    def find(cls, registry_name: str, func_name: str, *, key: Optional[str] = None) -> Callable:
        """Look a function up, or raise a ConfigError naming the registry and the
        closest registered names."""
        problem = lookup_problem(registry_name, func_name)
        if problem is not None:
            raise ConfigError(problem, key=key)
        return cls.get(registry_name, func_name)


def load_registrations() -> None:
    """Import the package modules that register functions. Safe to call often."""
    global _registrations_loaded
    if _registrations_loaded:
        return
    _registrations_loaded = True
    for name in REGISTRATION_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def lookup_problem(registry_name: str, func_name: object) -> Optional[str]:
    """None when `@registry_name = func_name` can be resolved, else a one-line
    explanation with suggestions."""
    names = registry.registry_names()
    if registry_name not in names:
        hint = suggest(registry_name, names)
        return (f"unknown registry '@{registry_name}'" + (f"; did you mean {hint}?" if hint else "")
                + f" (registries: {', '.join('@' + n for n in names)})")
    if not isinstance(func_name, str):
        return f"@{registry_name} must name a registered function as a string, got {func_name!r}"
    if registry.has(registry_name, func_name):
        return None
    load_registrations()
    if registry.has(registry_name, func_name):
        return None
    hint = suggest(func_name, registry.function_names(registry_name))
    message = f"'{func_name}' is not registered in @{registry_name}"
    if hint:
        return f"{message}; did you mean {hint}?"
    return (f"{message} (no similar names; to use your own function, register it with "
            f"@transfer_cli.registry.{registry_name}(\"{func_name}\") in a file passed with --code)")


def registered_functions(registry_name: str) -> Dict[str, Callable]:
    load_registrations()
    return dict(getattr(registry, registry_name).get_all())
