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


class _OwnRegistry(catalogue.Registry):
    """One of the package's registries: asking what it holds first imports the modules that
    register the package's functions, so `registry.architectures.get("spacy.Tok2Vec.v2")`
    works in user code as it does in a config."""

    def __contains__(self, name: str) -> bool:
        load_registrations()
        return super().__contains__(name)

    def get(self, name: str):
        load_registrations()
        return super().get(name)

    def get_all(self):
        load_registrations()
        return super().get_all()

    def find(self, name: str):
        load_registrations()
        return super().find(name)


def _own_registry(name: str) -> _OwnRegistry:
    if catalogue.check_exists("transfer_cli", name):
        raise catalogue.RegistryError(f"Namespace already exists: transfer_cli.{name}")
    return _OwnRegistry(("transfer_cli", name), entry_points=True)


class registry(thinc_registry):
    # fmt: off
    architectures = _own_registry("architectures")
    readers = _own_registry("readers")
    batchers = _own_registry("batchers")
    loggers = _own_registry("loggers")
    callbacks = _own_registry("callbacks")
    scorers = _own_registry("scorers")
    augmenters = _own_registry("augmenters")
    span_getters = _own_registry("span_getters")
    annotation_setters = _own_registry("annotation_setters")
    vectors = _own_registry("vectors")
    tokenizers = _own_registry("tokenizers")
    lookups = _own_registry("lookups")
    misc = _own_registry("misc")
    factories = _own_registry("factories")
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
