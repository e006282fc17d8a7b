"""What the top-level sections may contain, with the types spaCy 3 gives them.
A value is a type annotation, or FUNCTION / OPTIONAL_FUNCTION for settings that
must be a block naming a registered function (`@optimizers = "Adam.v1"`)."""
import functools
from typing import Annotated, Any, Callable, Dict, List, Optional

from .names import lang_code_problem


class FunctionBlock:
    def __init__(self, optional: bool) -> None:
        self.optional = optional

    def __repr__(self) -> str:
        return "a registered function block" + (" or null" if self.optional else "")


class ValueCheck:
    """Metadata for `Annotated[T, ValueCheck(check)]` on an argument of a registered
    function: validation runs check(value) once the value has type T, and reports the
    message it returns (None: fine) under the argument's key. `spec` names the check for
    registry_snapshot.json (see value_check); a check without one is recorded there by the
    values it accepts among those the package's own configs give."""

    def __init__(self, check: Callable[[Any], Optional[str]], spec: Optional[Dict[str, Any]] = None) -> None:
        self.check = check
        self.spec = spec


@functools.lru_cache(maxsize=None)  # one check per minimum: annotations using it compare equal
def at_least(minimum: int) -> ValueCheck:
    return ValueCheck(lambda value: None if value is None or value >= minimum
                      else f"must be {minimum} or more, got {value}", spec={"at_least": minimum})


# a rate of units dropped: 1.0 would drop everything (and divide by zero when rescaling)
RATE = ValueCheck(lambda value: None if 0.0 <= value < 1.0 else f"must be at least 0.0 and below 1.0, got {value}",
                  spec={"named": "RATE"})

# a probability (e.g. of augmenting an example)
PROBABILITY = ValueCheck(lambda value: None if 0.0 <= value <= 1.0
                         else f"must be a probability from 0.0 to 1.0, got {value}", spec={"named": "PROBABILITY"})

# who owns GPU memory (thinc's set_gpu_allocator); null leaves CuPy's default pool
GPU_ALLOCATOR = ValueCheck(lambda value: None if value in (None, "pytorch", "tensorflow") else
                           f'must be "pytorch" (PyTorch owns GPU memory, as a transformer pipeline needs), '
                           f'"tensorflow" or null, got {value!r}', spec={"named": "GPU_ALLOCATOR"})

_NAMED_CHECKS = {"RATE": RATE, "PROBABILITY": PROBABILITY, "GPU_ALLOCATOR": GPU_ALLOCATOR}


def value_check(spec: Dict[str, Any]) -> Optional[ValueCheck]:
    """The check a ValueCheck's spec names; None for a spec this package does not define."""
    if "at_least" in spec and isinstance(spec["at_least"], int):
        return at_least(spec["at_least"])
    return _NAMED_CHECKS.get(spec.get("named"))  # type: ignore[arg-type]


FUNCTION = FunctionBlock(optional=False)
OPTIONAL_FUNCTION = FunctionBlock(optional=True)

# section -> (fields, whether settings not listed are allowed)
NLP: Dict[str, Any] = {
    "lang": Annotated[str, ValueCheck(lang_code_problem)],
    "pipeline": List[str],
    "disabled": List[str],
    "tokenizer": FUNCTION,
    "vectors": FUNCTION,
    "before_creation": OPTIONAL_FUNCTION,
    "after_creation": OPTIONAL_FUNCTION,
    "after_pipeline_creation": OPTIONAL_FUNCTION,
    "batch_size": Annotated[Optional[int], at_least(1)],
}

TRAINING: Dict[str, Any] = {
    "seed": Optional[int],
    "gpu_allocator": Annotated[Optional[str], GPU_ALLOCATOR],
    "dropout": Annotated[float, RATE],
    "accumulate_gradient": Annotated[int, at_least(1)],
    "patience": Annotated[int, at_least(0)],
    "max_epochs": int,  # 0 or less: no limit (spaCy's -1)
    "max_steps": Annotated[int, at_least(0)],
    "eval_frequency": Annotated[int, at_least(1)],
    "checkpoint_frequency": Annotated[int, at_least(0)],
    "score_weights": Dict[str, Optional[float]],
    "frozen_components": List[str],
    "annotating_components": List[str],
    "dev_corpus": str,
    "train_corpus": str,
    "before_to_disk": OPTIONAL_FUNCTION,
    "before_update": OPTIONAL_FUNCTION,
    "logger": FUNCTION,
    "batcher": FUNCTION,
    "optimizer": FUNCTION,
}

PRETRAINING: Dict[str, Any] = {
    "max_epochs": int,
    "dropout": Annotated[float, RATE],
    "n_save_every": Optional[int],
    "n_save_epoch": Optional[int],
    "component": str,
    "layer": str,
    "corpus": str,
    "batcher": FUNCTION,
    "objective": FUNCTION,
    "optimizer": FUNCTION,
}

INITIALIZE: Dict[str, Any] = {
    "vectors": Optional[str],
    "init_tok2vec": Optional[str],
    "vocab_data": Optional[str],
    "lookups": OPTIONAL_FUNCTION,
    "tokenizer": Dict[str, Any],
    "components": Dict[str, Dict[str, Any]],
    "before_init": OPTIONAL_FUNCTION,
    "after_init": OPTIONAL_FUNCTION,
}

SYSTEM: Dict[str, Any] = {
    "seed": Optional[int],
    "gpu_allocator": Annotated[Optional[str], GPU_ALLOCATOR],
}

# name -> (fields, extra settings allowed, section required)
SECTIONS: Dict[str, Any] = {
    "nlp": (NLP, False, True),
    "training": (TRAINING, False, True),
    "initialize": (INITIALIZE, False, True),
    "pretraining": (PRETRAINING, False, False),
    "system": (SYSTEM, True, False),
}

# The top-level sections training reads. Others may be added (e.g. for variables);
# one named like these is taken for a misspelling of it.
TOP_LEVEL_SECTIONS = ("paths", "system", "nlp", "components", "corpora", "training", "pretraining", "initialize")
