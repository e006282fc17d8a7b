"""What the top-level sections may contain, with the types spaCy 3 gives them.
A value is a type annotation, or FUNCTION / OPTIONAL_FUNCTION for settings that
must be a block naming a registered function (`@optimizers = "Adam.v1"`)."""
from typing import Any, Callable, Dict, List, Optional


class FunctionBlock:
    def __init__(self, optional: bool) -> None:
        self.optional = optional

    def __repr__(self) -> str:
        return "a registered function block" + (" or null" if self.optional else "")


class ValueCheck:
    """Metadata for `Annotated[T, ValueCheck(check)]` on an argument of a registered
    function: validation runs check(value) once the value has type T, and reports the
    message it returns (None: fine) under the argument's key."""

    def __init__(self, check: Callable[[Any], Optional[str]]) -> None:
        self.check = check


FUNCTION = FunctionBlock(optional=False)
OPTIONAL_FUNCTION = FunctionBlock(optional=True)

# section -> (fields, whether settings not listed are allowed)
NLP: Dict[str, Any] = {
    "lang": str,
    "pipeline": List[str],
    "disabled": List[str],
    "tokenizer": FUNCTION,
    "vectors": FUNCTION,
    "before_creation": OPTIONAL_FUNCTION,
    "after_creation": OPTIONAL_FUNCTION,
    "after_pipeline_creation": OPTIONAL_FUNCTION,
    "batch_size": Optional[int],
}

TRAINING: Dict[str, Any] = {
    "seed": Optional[int],
    "gpu_allocator": Optional[str],
    "dropout": float,
    "accumulate_gradient": int,
    "patience": int,
    "max_epochs": int,
    "max_steps": int,
    "eval_frequency": int,
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
    "dropout": float,
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
    "gpu_allocator": Optional[str],
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
