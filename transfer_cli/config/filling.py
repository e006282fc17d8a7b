"""Filling a config: the package defaults under the user's values, each component
factory's defaults, each registered function's signature defaults, and the score
weights of the pipeline's components. Filling is idempotent: a filled config
fills to itself."""
import copy
import difflib
from typing import Any, Dict, List, Optional, Tuple

import srsly
from confection import Config, ConfigValidationError

from .defaults import all_defaults
from .factories import get_factory_meta, has_factory, unknown_factory_message
from .interpolation import interpolation_error
from .registry import load_registrations, registry
from .source import ConfigSource, get_source
from .validation import ConfigProblem, raise_problems, validate_config

# Order of the top-level sections in a filled config (others follow in their order)
SECTION_ORDER = ("paths", "variables", "system", "nlp", "components", "corpora", "training", "pretraining",
                 "initialize")
# Older spelling of the pretraining objective, as some spaCy 3 docs show it
_LEGACY_OBJECTIVES = {"characters": "spacy.PretrainCharacters.v1", "vectors": "spacy.PretrainVectors.v1"}


def fill_config(config: Config, *, pretraining: bool = False, validate: bool = True,
                source: Optional[ConfigSource] = None) -> Config:
    """Return `config` with every missing setting filled in, variables kept.
    Raises ConfigValidationFailed (one line per problem) unless the result is valid.
    `pretraining` also fills a complete [pretraining] block (a config that already
    has a non-empty [pretraining] block gets it filled either way)."""
    source = source or get_source(config)
    filled, problems = _fill(config, pretraining)
    if validate:
        problems = _unique(problems + validate_config(filled))
    raise_problems(problems, source)
    return filled


def check_config(config: Config, *, pretraining: bool = False) -> Tuple[Config, List[ConfigProblem]]:
    """Fill as far as possible and return the result with every problem found."""
    filled, problems = _fill(config, pretraining)
    return filled, _unique(problems + validate_config(filled))


def _fill(config: Config, pretraining: bool) -> Tuple[Config, List[ConfigProblem]]:
    load_registrations()
    problems: List[ConfigProblem] = []
    user = Config(copy.deepcopy(dict(config)), is_interpolated=False)
    upgrade_legacy_settings(user)
    with_pretraining = pretraining or bool(user.get("pretraining"))
    merged = all_defaults(pretraining=with_pretraining).merge(user)
    user_nlp = user.get("nlp") if isinstance(user.get("nlp"), dict) else {}
    if "pipeline" not in user_nlp and isinstance(merged.get("components"), dict):
        merged["nlp"]["pipeline"] = list(merged["components"])
    if isinstance(merged.get("components"), dict):
        for name, block in list(merged["components"].items()):
            merged["components"][name] = fill_component_block(block, f"components.{name}", problems)
    try:
        merged = registry.fill(merged, validate=False)
    except (ConfigValidationError, ValueError) as e:
        error = interpolation_error(e, merged, None)
        problems.append(ConfigProblem(error.key or "", error.bare_message) if error
                        else ConfigProblem("", f"cannot fill the config: {_last_line(e)}"))
    _fill_score_weights(merged)
    ordered = {name: merged[name] for name in SECTION_ORDER if name in merged}
    ordered.update((name, value) for name, value in merged.items() if name not in ordered)
    return Config(ordered, is_interpolated=False), problems


def fill_component_block(block: Any, path: str, problems: Optional[List[ConfigProblem]] = None) -> Any:
    """A [components.NAME] block with its factory's defaults under it."""
    if not isinstance(block, dict) or "factory" not in block:
        return block
    factory = block["factory"]
    if not has_factory(factory):
        if problems is not None:
            problems.append(ConfigProblem(f"{path}.factory", unknown_factory_message(factory)))
        return block
    meta = get_factory_meta(factory)
    filled = dict(Config(meta.default_config).merge(block))
    for name, param in meta.settings_signature().items():
        if name not in filled and param.default is not param.empty and srsly.is_json_serializable(param.default):
            filled[name] = copy.deepcopy(param.default)
    return {"factory": factory, **{k: v for k, v in filled.items() if k != "factory"}}


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


def _fill_score_weights(config: Dict[str, Any]) -> None:
    training = config.get("training")
    components = config.get("components")
    pipeline = config.get("nlp", {}).get("pipeline") if isinstance(config.get("nlp"), dict) else None
    if not (isinstance(training, dict) and isinstance(components, dict) and isinstance(pipeline, list)):
        return
    current = training.get("score_weights", {})
    if not isinstance(current, dict):
        return
    weights = []
    for name in pipeline:
        block = components.get(name)
        if isinstance(block, dict) and has_factory(block.get("factory")):
            weights.append(get_factory_meta(block["factory"]).default_score_weights)
    training["score_weights"] = combine_score_weights(weights, current)


def combine_score_weights(weights: List[Dict[str, Optional[float]]],
                          overrides: Optional[Dict[str, Optional[float]]] = None) -> Dict[str, Optional[float]]:
    """Merge the components' score weights (the config's own values win) and scale
    them to sum to 1, rounded to 2 decimals. null weights are reported, not used."""
    result: Dict[str, Optional[float]] = {}
    for component_weights in weights:
        result.update(component_weights)
    result.update(overrides or {})
    total = sum(value for value in result.values() if isinstance(value, (int, float)) and value)
    return {key: (round(value / total, 2) if isinstance(value, (int, float)) and value and total > 0 else value)
            for key, value in result.items()}


def config_diff(before: str, after: str, *, before_name: str = "before", after_name: str = "after") -> str:
    """A unified diff of two config texts ('' when equal)."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=before_name, tofile=after_name)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


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


__all__ = ["fill_config", "check_config", "fill_component_block", "combine_score_weights", "config_diff",
           "upgrade_legacy_settings"]
