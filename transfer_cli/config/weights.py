"""The score weights of a pipeline: its components' weights combined, summing to 1."""
from typing import Dict, List, Optional


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
