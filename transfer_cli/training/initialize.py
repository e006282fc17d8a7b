"""From a config to an initialized pipeline ready to train: fill and validate,
build, read the labels from the training data once, load vectors and pretrained
tok2vec weights, run the [initialize] callbacks."""
from pathlib import Path
from typing import Any, Callable, Dict

from confection import Config
from thinc.api import Optimizer, fix_random_seed, set_gpu_allocator

from ..errors import ConfigError, DataError, PathError
from ..pipeline.pipeline import Pipeline


class TrainingSetup:
    """Everything the training loop needs, resolved from the config."""

    def __init__(self, nlp: Pipeline, config: Config, training: Dict[str, Any], train_corpus: Callable,
                 dev_corpus: Callable, optimizer: Optimizer) -> None:
        self.nlp = nlp
        self.config = config
        self.training = training
        self.train_corpus = train_corpus
        self.dev_corpus = dev_corpus
        self.optimizer = optimizer


def init_pipeline(config: Config, *, use_gpu: int = -1) -> TrainingSetup:
    from ..config.filling import fill_config
    from ..config.resolving import resolve_path, resolve_section
    from ..pipeline.build import pipeline_from_config

    filled = fill_config(config)
    seed = filled["training"].get("seed", filled.get("system", {}).get("seed", 0))
    if seed is not None:
        fix_random_seed(int(seed) if not isinstance(seed, str) else 0)
    allocator = filled["training"].get("gpu_allocator")
    if use_gpu >= 0 and allocator and not str(allocator).startswith("$"):
        set_gpu_allocator(allocator)
    nlp = pipeline_from_config(filled, fill=False)
    training = resolve_section(filled, "training")
    train_corpus = resolve_path(filled, training["train_corpus"])
    dev_corpus = resolve_path(filled, training["dev_corpus"])
    init_settings = resolve_section(filled, "initialize")
    for key in ("frozen_components", "annotating_components"):
        for name in training.get(key) or []:
            if not nlp.has_pipe(name):
                raise ConfigError(f"'{name}' is not a component of the pipeline ({nlp.component_names})",
                                  key=f"training.{key}")
    for name in training.get("frozen_components") or []:
        raise ConfigError(f"'{name}' is frozen but was not loaded from a trained pipeline, so it would stay "
                          f"untrained: remove it from frozen_components", key="training.frozen_components")
    if init_settings.get("before_init") is not None:
        init_settings["before_init"](nlp)
    vectors_path = init_settings.get("vectors")
    if vectors_path:
        load_vectors_into(nlp, vectors_path)
    optimizer = training["optimizer"]
    component_settings = init_settings.get("components") or {}
    nlp.initialize(lambda: train_corpus(nlp), sgd=optimizer, settings=component_settings)
    init_tok2vec = init_settings.get("init_tok2vec")
    if init_tok2vec:
        load_pretrained_tok2vec(nlp, filled, Path(init_tok2vec))
    if init_settings.get("after_init") is not None:
        init_settings["after_init"](nlp)
    return TrainingSetup(nlp, filled, training, train_corpus, dev_corpus, optimizer)


def load_vectors_into(nlp: Pipeline, path: Any) -> None:
    """Static vectors: [initialize] vectors names a directory written by init-vectors."""
    try:
        from ..pipeline.vectors import load_vectors
    except ImportError:
        raise ConfigError("static vectors are not supported in this version: set [initialize] vectors = null "
                          "(--paths.vectors null)", key="initialize.vectors") from None
    load_vectors(nlp, path)


def load_pretrained_tok2vec(nlp: Pipeline, config: Config, path: Path) -> None:
    """Load the weights `pretrain` wrote into the layer [pretraining] names."""
    if not path.exists():
        raise PathError("pretrained tok2vec weights not found", path=str(path))
    pretraining = config.get("pretraining") or {}
    component_name = pretraining.get("component", "tok2vec")
    layer_name = pretraining.get("layer", "")
    if not nlp.has_pipe(component_name):
        raise ConfigError(f"init_tok2vec: the pipeline has no component '{component_name}'",
                          key="pretraining.component")
    model = nlp.get_pipe(component_name).model
    if layer_name:
        if not model.has_ref(layer_name):
            raise ConfigError(f"init_tok2vec: component '{component_name}' has no layer '{layer_name}'",
                              key="pretraining.layer")
        model = model.get_ref(layer_name)
    try:
        model.from_bytes(path.read_bytes())
    except (ValueError, KeyError) as e:
        raise DataError(f"these weights do not fit the '{component_name}' model of this config ({e}); were "
                        f"they pretrained with the same [components.{component_name}] settings?",
                        path=str(path)) from None
