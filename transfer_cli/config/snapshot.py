"""What filling and validating a config needs to know of the registered functions and
component factories (their signatures' defaults and types, the factories' default
settings and score weights), stored in registry_snapshot.json, so that init-config,
fill-config and debug-config can fill and check a config without importing thinc, torch
or the model code that registers them.

The snapshot is generated from the live registry (snapshot_build.py,
`python -m transfer_cli.config.snapshot_build`); a test fails when it differs from what
the code would produce. The snapshot only ever says "this config fills to X and is
valid": anything it does not cover (a factory or function of the user's, a default that
is not plain JSON, a type it does not record) and any problem in the config makes
`fill_from_snapshot` / `check_config_from_snapshot` return None, and the caller fills and
validates with the live registry instead, which says what is wrong."""
import copy
import functools
import inspect
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

import confection
from confection import Config, ConfigValidationError

from .annotations import NotInSnapshot, build_annotation
from .assembly import COMPONENTS, assemble_config, component_names
from .defaults import CONFIG_DIR, merged_with_defaults
from .interpolation import interpolate_config
from .source import ConfigSource, get_source
from .validation import ConfigCheck, Parameters, Registrations, find_problems, unreferenced_sections
from .weights import fill_score_weights

SNAPSHOT_PATH = CONFIG_DIR / "registry_snapshot.json"
# Order of the top-level sections in a filled config, as filling.py writes them
SECTION_ORDER = ("paths", "variables", "system", "nlp", "components", "corpora", "training", "pretraining",
                 "initialize")
_KIND_BY_NAME = {str(kind): kind for kind in (inspect.Parameter.POSITIONAL_ONLY,
                                               inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                               inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.KEYWORD_ONLY,
                                               inspect.Parameter.VAR_KEYWORD)}


def registrations_may_differ() -> bool:
    """Whether this process may have registered functions or factories the snapshot does
    not know (or replaced ones it does): once thinc or the live registry is imported. Then
    the live registry, already loaded, fills instead."""
    return "thinc" in sys.modules or f"{__package__}.registry" in sys.modules


@functools.lru_cache(maxsize=1)
def load_snapshot() -> Dict[str, Any]:
    return json.loads(SNAPSHOT_PATH.read_text(encoding="utf8"))


def _signature(parameters: Optional[List[list]]) -> inspect.Signature:
    """The recorded signature (names, kinds and defaults; no annotations)."""
    if parameters is None:  # recorded as not plain JSON
        raise NotInSnapshot()
    params = []
    for name, kind, _type, *default in parameters:
        params.append(inspect.Parameter(name, _KIND_BY_NAME[kind],
                                        default=default[0] if default else inspect.Parameter.empty))
    return inspect.Signature(params)


def _stub(parameters: Optional[List[list]]) -> Callable:
    """A function with the recorded signature."""
    def stub(*args, **kwargs):  # never called: only its signature is read
        raise NotInSnapshot()

    stub.__signature__ = _signature(parameters)  # type: ignore[attr-defined]
    return stub


def _parameters(parameters: Optional[List[list]]) -> Parameters:
    """The recorded signature and types, as validation reads a live function's."""
    signature = _signature(parameters)
    hints = {name: build_annotation(described) for name, _kind, described, *_ in parameters or []
             if described is not None}
    return Parameters(signature, hints)


class SnapshotRegistrations(Registrations):
    """validation.py's view of the registered functions and factories, from the snapshot.
    It never reports a problem: a name it does not know raises NotInSnapshot (the live
    registry then says what is wrong)."""

    def lookup_problem(self, registry_name: str, func_name: Any) -> Optional[str]:
        if not isinstance(func_name, str) or func_name not in load_snapshot()["functions"].get(registry_name, {}):
            raise NotInSnapshot()
        return None

    def function_parameters(self, registry_name: str, func_name: str) -> Parameters:
        return _function_parameters(registry_name, func_name)

    def factory_parameters(self, name: Any) -> Optional[Parameters]:
        if not isinstance(name, str) or name not in load_snapshot()["factories"]:
            raise NotInSnapshot()
        return _factory_parameters(name)

    def unknown_factory_message(self, name: Any) -> str:
        raise NotInSnapshot()


@functools.lru_cache(maxsize=None)
def _function_parameters(registry_name: str, func_name: str) -> Parameters:
    return _parameters(load_snapshot()["functions"][registry_name][func_name])


@functools.lru_cache(maxsize=None)
def _factory_parameters(name: str) -> Parameters:
    return _parameters(load_snapshot()["factories"][name]["parameters"])


class SnapshotRegistry(confection.registry):
    """confection's registry over the snapshot's signatures: its `fill` is the live one's."""

    @classmethod
    def has(cls, registry_name: str, func_name: str) -> bool:
        if func_name not in load_snapshot()["functions"].get(registry_name, {}):
            raise NotInSnapshot()
        return True

    @classmethod
    def get(cls, registry_name: str, func_name: str) -> Callable:
        return _stub_for(registry_name, func_name)


@functools.lru_cache(maxsize=None)
def _stub_for(registry_name: str, func_name: str) -> Callable:
    return _stub(load_snapshot()["functions"][registry_name][func_name])


def factory_defaults(name: str) -> Dict[str, Any]:
    """The default_config of a component factory, as recorded."""
    factory = load_snapshot()["factories"].get(name)
    if factory is None or factory["settings"] is None:
        raise NotInSnapshot()
    return copy.deepcopy(factory["default_config"])


def fill_component_block(block: Any) -> Any:
    """factories.fill_component_block over the snapshot."""
    if not isinstance(block, dict) or "factory" not in block:
        raise NotInSnapshot()
    factory = load_snapshot()["factories"].get(block["factory"]) if isinstance(block["factory"], str) else None
    if factory is None or factory["settings"] is None:
        raise NotInSnapshot()
    filled = dict(Config(copy.deepcopy(factory["default_config"])).merge(block))
    for name, default in factory["settings"]:
        if name not in filled:
            filled[name] = copy.deepcopy(default)
    return {"factory": block["factory"], **{k: v for k, v in filled.items() if k != "factory"}}


def fill_from_snapshot(config: Config, *, pretraining: bool = False) -> Optional[Config]:
    """fill_config(config) for a config the snapshot covers whose values are the package's
    own templates (they are valid: no validation is run here), else None."""
    try:
        filled = _fill(config, pretraining)
    except NotInSnapshot:
        return None
    try:
        interpolate_config(filled)
    except Exception:
        return None  # a variable that does not resolve: filling.py reports it
    return filled


def check_config_from_snapshot(config: Config, *, pretraining: bool = False,
                               source: Optional[ConfigSource] = None) -> Optional[ConfigCheck]:
    """filling.check_config(config) for a valid config the snapshot covers; None for any
    other (one with a problem, or naming what the snapshot does not record): check_config
    then fills and validates it with the live registry, and reports its problems."""
    source = source or get_source(config)
    try:
        filled = _fill(config, pretraining)
        values = interpolate_config(filled, source=source)
        problems = find_problems(values, SnapshotRegistrations())
    except Exception:  # NotInSnapshot, a variable that does not resolve, anything unforeseen
        return None
    if problems:
        return None
    return ConfigCheck(filled, values, [], source, unreferenced_sections(filled))


def _fill(config: Config, pretraining: bool) -> Config:
    user = Config(copy.deepcopy(dict(config)), is_interpolated=False)
    if isinstance(user.get("pretraining"), dict) and isinstance(user["pretraining"].get("objective"), dict) \
            and "type" in user["pretraining"]["objective"]:
        raise NotInSnapshot()  # an older spelling that filling.py rewrites
    merged = merged_with_defaults(user, pretraining)
    if isinstance(merged.get("components"), dict):
        for name, block in list(merged["components"].items()):
            merged["components"][name] = fill_component_block(block)
    try:
        merged = SnapshotRegistry.fill(Config(merged, is_interpolated=True), validate=False)
    except (ConfigValidationError, ValueError):
        raise NotInSnapshot() from None  # filling.py reports it
    factories = load_snapshot()["factories"]
    fill_score_weights(merged, lambda factory: factories[factory]["score_weights"]
                       if isinstance(factory, str) and factory in factories else None)
    ordered = {name: merged[name] for name in SECTION_ORDER if name in merged}
    ordered.update((name, value) for name, value in merged.items() if name not in ordered)
    return Config(ordered, is_interpolated=False)


def init_config_from_snapshot(*, lang: str = "en", pipeline: Sequence[str] = ("tagger", "ner"),
                              optimize: str = "efficiency", gpu: bool = False, vectors: Optional[str] = None,
                              pretraining: bool = False, shared: bool = True) -> Optional[Config]:
    """quickstart.init_config without the live registry when every component named is one
    of the package's templates; None otherwise (or for a config it would report problems in)."""
    if not set(component_names(pipeline)) <= set(COMPONENTS):  # a factory of its own: validate it
        return None
    try:
        config = assemble_config(lang=lang, pipeline=pipeline, optimize=optimize, gpu=gpu, vectors=vectors,
                                 shared=shared, factory_defaults=factory_defaults)
    except NotInSnapshot:
        return None
    return fill_from_snapshot(config, pretraining=pretraining)
