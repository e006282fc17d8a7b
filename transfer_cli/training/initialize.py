"""From a config to an initialized pipeline ready to train, in one pass: fill,
interpolate and validate once (config.check_config), build each section once
(nlp and the components, [training], the two corpora, [initialize]), read the
labels from the training data once, load vectors and pretrained tok2vec
weights, run the [initialize] callbacks."""
from pathlib import Path
from typing import Any, Callable, Dict

from confection import Config
from thinc.api import Optimizer, fix_random_seed, set_gpu_allocator

from ..config.filling import ConfigCheck, check_config
from ..config.resolving import resolve_path, resolve_section
from ..errors import ConfigError, DataError, PathError
from ..ml.weights import WeightsError, model_from_bytes
from ..model_files import read_file_bytes
from ..pipeline.build import pipeline_from_config
from ..pipeline.pipeline import Pipeline
from ..pipeline.vectors import load_vectors


class TrainingSetup:
    """Everything the training loop needs, resolved from the config."""

    def __init__(self, nlp: Pipeline, config: ConfigCheck, training: Dict[str, Any], train_corpus: Callable,
                 dev_corpus: Callable, optimizer: Optimizer) -> None:
        self.nlp = nlp
        self.config = config          # the checked config: .filled (variables kept) and .values
        self.training = training      # [training] with its blocks built
        self.train_corpus = train_corpus
        self.dev_corpus = dev_corpus
        self.optimizer = optimizer


def init_pipeline(config: Config, *, use_gpu: int = -1) -> TrainingSetup:
    checked = check_config(config).valid()
    seed = checked.values["training"]["seed"]
    if seed is not None:
        fix_random_seed(seed)
    allocator = checked.values["training"]["gpu_allocator"]
    if use_gpu >= 0 and allocator:
        set_gpu_allocator(allocator)
    nlp = pipeline_from_config(checked)
    training = resolve_section(checked, "training")
    train_corpus = resolve_path(checked, training["train_corpus"])
    dev_corpus = resolve_path(checked, training["dev_corpus"])
    init_settings = resolve_section(checked, "initialize")
    for key in ("frozen_components", "annotating_components"):
        for name in training[key]:
            if not nlp.has_pipe(name):
                raise ConfigError(f"'{name}' is not a component of the pipeline ({nlp.component_names})",
                                  key=f"training.{key}")
    for name in training["frozen_components"]:
        raise ConfigError(f"'{name}' is frozen but was not loaded from a trained pipeline, so it would stay "
                          f"untrained: remove it from frozen_components", key="training.frozen_components")
    if init_settings["before_init"] is not None:
        init_settings["before_init"](nlp)
    if init_settings["vectors"]:  # a directory written by init-vectors
        load_vectors(nlp, init_settings["vectors"])
    optimizer = training["optimizer"]
    nlp.initialize(lambda: train_corpus(nlp), sgd=optimizer, settings=init_settings["components"])
    if init_settings["init_tok2vec"]:
        load_pretrained_tok2vec(nlp, checked.values, Path(init_settings["init_tok2vec"]))
    if init_settings["after_init"] is not None:
        init_settings["after_init"](nlp)
    return TrainingSetup(nlp, checked, training, train_corpus, dev_corpus, optimizer)


def load_pretrained_tok2vec(nlp: Pipeline, values: Dict[str, Any], path: Path) -> None:
    """Load the weights `pretrain` wrote into the layer [pretraining] names
    (`values`: the interpolated config)."""
    if not path.exists():
        raise PathError("pretrained tok2vec weights not found", path=str(path))
    pretraining = values.get("pretraining")
    if not pretraining:
        raise ConfigError("init_tok2vec needs the [pretraining] block the weights were pretrained with (its "
                          "component and layer): add it, e.g. with fill-config --pretraining",
                          key="initialize.init_tok2vec")
    component_name = pretraining["component"]
    layer_name = pretraining["layer"]
    if not nlp.has_pipe(component_name):
        raise ConfigError(f"init_tok2vec: the pipeline has no component '{component_name}'",
                          key="pretraining.component")
    model = nlp.get_pipe(component_name).model
    if layer_name:
        if not model.has_ref(layer_name):
            raise ConfigError(f"init_tok2vec: component '{component_name}' has no layer '{layer_name}'",
                              key="pretraining.layer")
        model = model.get_ref(layer_name)
    try:  # model_from_bytes: torch layers' weights are safetensors, never torch.load
        model_from_bytes(model, read_file_bytes(path, what="pretrained tok2vec weights file"))
    except WeightsError as e:
        raise DataError(f"these weights do not fit the '{component_name}' model of this config ({e}); were "
                        f"they pretrained with the same [components.{component_name}] settings?",
                        path=str(path)) from None
