"""The score weights of a pipeline: its components' weights combined, summing to 1."""
from typing import Any, Callable, Dict, List, Optional


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


def fill_score_weights(config: Dict[str, Any],
                       factory_weights: Callable[[Any], Optional[Dict[str, Optional[float]]]]) -> None:
    """Set [training] score_weights of a filled config (a dict) from its pipeline's factories'
    weights (factory_weights(name): None for a factory it does not know), keeping the config's own."""
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
        found = factory_weights(block.get("factory")) if isinstance(block, dict) else None
        if found is not None:
            weights.append(found)
    training["score_weights"] = combine_score_weights(weights, current)
