"""Filling a config: the package defaults under the user's values, each component
factory's defaults, each registered function's signature defaults, and the score
weights of the pipeline's components. Filling is idempotent: a filled config
fills to itself.

check_config is the one pass from a loaded config to one that can be resolved:
fill once, interpolate once, validate once. Training, debug-config and
fill-config all go through it; resolving.py then builds each section from the
interpolated values without checking them again."""
import copy
from typing import Any, Dict, List, Optional, Tuple

from confection import Config, ConfigValidationError

from ..errors import ConfigError
from .defaults import merged_with_defaults
from .factories import fill_component_block, get_factory_meta, has_factory, unknown_factory_message
from .interpolation import interpolate_config
from .registrations import LIVE
from .registry import load_registrations, registry
from .source import ConfigSource, get_source
from .validation import ConfigCheck, ConfigProblem, find_problems, unreferenced_sections
from .weights import combine_score_weights  # noqa: F401  (imported from here too)
from .writing import config_diff  # noqa: F401  (imported from here too)
from .weights import fill_score_weights

# Order of the top-level sections in a filled config (others follow in their order)
SECTION_ORDER = ("paths", "variables", "system", "nlp", "components", "corpora", "training", "pretraining",
                 "initialize")
# Older spelling of the pretraining objective, as some spaCy 3 docs show it
_LEGACY_OBJECTIVES = {"characters": "spacy.PretrainCharacters.v1", "vectors": "spacy.PretrainVectors.v1"}


def check_config(config: Config, *, pretraining: bool = False, validate: bool = True,
                 source: Optional[ConfigSource] = None) -> ConfigCheck:
    """Fill, interpolate and validate `config`, collecting every problem.
    `pretraining` also fills a complete [pretraining] block (a config that already
    has a non-empty [pretraining] block gets it filled either way)."""
    source = source or get_source(config)
    filled, problems = _fill(config, pretraining)
    try:
        values: Optional[Config] = interpolate_config(filled, source=source)
    except ConfigError as e:
        values = None
        problems.append(ConfigProblem(e.key or "", e.bare_message))
    if values is not None and validate:
        problems.extend(find_problems(values, LIVE))
    return ConfigCheck(filled, values, _unique(problems), source, unreferenced_sections(filled))


def fill_config(config: Config, *, pretraining: bool = False, validate: bool = True,
                source: Optional[ConfigSource] = None) -> Config:
    """Return `config` with every missing setting filled in, variables kept.
    Raises ConfigValidationFailed (one line per problem) unless the result is valid."""
    return check_config(config, pretraining=pretraining, validate=validate, source=source).valid().filled


def _fill(config: Config, pretraining: bool) -> Tuple[Config, List[ConfigProblem]]:
    load_registrations()
    problems: List[ConfigProblem] = []
    user = Config(copy.deepcopy(dict(config)), is_interpolated=False)
    upgrade_legacy_settings(user)
    merged = merged_with_defaults(user, pretraining)
    if isinstance(merged.get("components"), dict):
        for name, block in list(merged["components"].items()):
            if isinstance(block, dict) and "factory" in block and not has_factory(block["factory"]):
                # nothing to fill it from: the first thing to fix
                problems.append(ConfigProblem(f"components.{name}.factory", unknown_factory_message(block["factory"])))
            merged["components"][name] = fill_component_block(block)
    try:
        # signature defaults of every registered block; the config is taken as it is
        # (variables kept): interpolation is check_config's, once
        merged = registry.fill(Config(merged, is_interpolated=True), validate=False)
    except (ConfigValidationError, ValueError) as e:
        problems.append(ConfigProblem("", f"cannot fill the config: {_last_line(e)}"))
    fill_score_weights(merged, lambda factory: get_factory_meta(factory).default_score_weights
                       if has_factory(factory) else None)
    ordered = {name: merged[name] for name in SECTION_ORDER if name in merged}
    ordered.update((name, value) for name, value in merged.items() if name not in ordered)
    return Config(ordered, is_interpolated=False), problems


def upgrade_legacy_settings(config: Dict[str, Any]) -> None:
    """Rewrite older spellings that spaCy 3 configs still use, in place."""
    pretraining = config.get("pretraining")
    if not isinstance(pretraining, dict):
        return
    objective = pretraining.get("objective")
    if isinstance(objective, dict) and "type" in objective and not registry.is_promise(objective):
        name = _LEGACY_OBJECTIVES.get(objective["type"])
        if name is not None:
            rest = {k: v for k, v in objective.items() if k != "type"}
            pretraining["objective"] = {"@architectures": name, **rest}


def _unique(problems: List[ConfigProblem]) -> List[ConfigProblem]:
    seen = set()
    unique = []
    for problem in problems:
        marker = (problem.key, problem.message)
        if marker not in seen:
            seen.add(marker)
            unique.append(problem)
    return unique


def _last_line(e: Exception) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__


__all__ = ["ConfigCheck", "check_config", "fill_config", "combine_score_weights", "config_diff",
           "upgrade_legacy_settings"]
