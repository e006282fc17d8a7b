"""Scoring a saved pipeline on a gold corpus (the engine of `evaluate`)."""
from pathlib import Path
from typing import Any, Dict, Union

from .errors import DataError
from .pipeline.build import load
from .training.corpus import Corpus


def evaluate_pipeline(model_path: Union[str, Path], data_path: Union[str, Path], *,
                      gold_preproc: bool = False) -> Dict[str, Any]:
    nlp = load(model_path)
    examples = list(Corpus(data_path, gold_preproc=gold_preproc)(nlp))
    if not examples:
        raise DataError("the evaluation data holds no examples", path=str(data_path))
    return nlp.evaluate(examples)
