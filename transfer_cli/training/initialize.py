"""From a config to an initialized pipeline ready to train, in one pass: fill,
interpolate and validate once (config.check_config), build each section once
(nlp and the components, [training], the two corpora, [initialize]), read the
labels from the training data once, load vectors and pretrained tok2vec
weights, run the [initialize] callbacks."""
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from confection import Config
from thinc.api import Model, Optimizer, fix_random_seed, set_gpu_allocator

from ..config.filling import ConfigCheck, check_config
from ..config.resolving import resolve_path, resolve_section
from ..config.loading import load_config
from ..errors import ConfigError, DataError, PathError, UserError
from ..ml.weights import WeightsError, model_from_bytes
from ..model_files import read_file_bytes
from ..pipeline.build import pipeline_from_config
from ..pipeline.lookups import Lookups, set_lookups
from ..pipeline.pipeline import Pipeline
from ..pipeline.sourcing import check_sourced_vectors, config_lines
from ..pipeline.vectors import load_vectors
from .pretrain import CONFIG_NAME, find_subnetwork


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
    check_frozen(nlp, training["frozen_components"], training["annotating_components"])
    if init_settings["before_init"] is not None:
        init_settings["before_init"](nlp)
    if init_settings["lookups"] is not None:  # spacy.LookupsDataLoader.v1: tables, norms
        if not isinstance(init_settings["lookups"], Lookups):
            raise ConfigError(f"must give lookup tables (e.g. @misc = \"spacy.LookupsDataLoader.v1\"), got "
                              f"{type(init_settings['lookups']).__name__}", key="initialize.lookups")
        set_lookups(nlp.vocab, init_settings["lookups"])
    if init_settings["vectors"]:  # a directory written by init-vectors
        load_vectors(nlp, init_settings["vectors"])
    with config_lines(checked):
        check_sourced_vectors(nlp, init_settings["vectors"])
    optimizer = training["optimizer"]
    nlp.initialize(lambda: train_corpus(nlp), sgd=optimizer, settings=init_settings["components"])
    if init_settings["init_tok2vec"]:
        load_pretrained_tok2vec(nlp, checked.values, Path(init_settings["init_tok2vec"]))
    if init_settings["after_init"] is not None:
        init_settings["after_init"](nlp)
    return TrainingSetup(nlp, checked, training, train_corpus, dev_corpus, optimizer)


def check_frozen(nlp: Pipeline, frozen: List[str], annotating: List[str]) -> None:
    """A frozen component must have weights of its own already (sourced from a trained
    pipeline; a transformer's come from its model directory); a frozen upstream that
    components listen to must annotate the docs, since it broadcasts nothing; and a
    frozen component may not listen to an upstream that trains (its input would drift)."""
    for name in frozen:
        component = nlp.get_pipe(name)
        if name not in nlp.sourced and not getattr(component, "pretrained", False):
            raise ConfigError(f"'{name}' is frozen but was not loaded from a trained pipeline, so it would stay "
                              f"untrained: remove it from frozen_components, or take it from a trained pipeline "
                              f"with source = \"path\" in [components.{name}]", key="training.frozen_components")
        for upstream, other in nlp.components:
            if upstream in frozen or not isinstance(getattr(other, "listeners", None), list):
                continue
            model = getattr(component, "model", None)
            if isinstance(model, Model) and any(node in other.listeners for node in model.walk()):
                raise ConfigError(f"'{name}' is frozen but listens to '{upstream}', which trains, so its input "
                                  f"would change under it: freeze '{upstream}' too (and add it to "
                                  f"annotating_components), or give '{name}' its own copy with replace_listeners "
                                  f"= [\"model.tok2vec\"] in [components.{name}]", key="training.frozen_components")
        listeners = getattr(component, "listeners", [])
        listened = [other for other, c in nlp.components if other not in frozen and c is not component
                    and isinstance(getattr(c, "model", None), Model)
                    and any(node in listeners for node in c.model.walk())]
        if listened and name not in annotating:
            raise ConfigError(f"'{name}' is frozen and {listened} listen to it: add '{name}' to "
                              f"[training] annotating_components too, so it sets its output on the docs for them",
                              key="training.frozen_components")


def load_pretrained_tok2vec(nlp: Pipeline, values: Dict[str, Any], path: Path) -> None:
    """Load the weights `pretrain` wrote into the network [pretraining] component and
    layer name (`values`: the interpolated config; without a [pretraining] block, the
    one of the config.cfg pretrain wrote beside the weights). Runs after every
    component is initialized, so nothing overwrites them before training starts."""
    if not path.exists():
        raise PathError("pretrained tok2vec weights not found ([initialize] init_tok2vec)", path=str(path))
    pretrain_config = pretraining_config_beside(path)
    pretraining = values.get("pretraining") or (pretrain_config or {}).get("pretraining")
    if not pretraining:
        raise ConfigError("init_tok2vec needs the [pretraining] block the weights were pretrained with (its "
                          "component and layer): add it, e.g. with fill-config --pretraining",
                          key="initialize.init_tok2vec")
    component, layer = pretraining["component"], pretraining["layer"]
    model = find_subnetwork(nlp, component, layer)
    try:  # model_from_bytes: torch layers' weights are safetensors, never torch.load
        model_from_bytes(model, read_file_bytes(path, what="pretrained tok2vec weights file"))
    except WeightsError as e:
        raise weights_mismatch(values, pretrain_config, component, layer, path, e) from None


def pretraining_config_beside(weights: Path) -> Optional[Dict[str, Any]]:
    """The interpolated config.cfg that pretrain wrote beside its weights, if there is one."""
    path = weights.parent / CONFIG_NAME
    if not path.is_file():
        return None
    try:
        return load_config(path, interpolate=True)
    except UserError:
        return None


def weights_mismatch(values: Dict[str, Any], pretrain_config: Optional[Dict[str, Any]], component: str, layer: str,
                     weights: Path, error: Exception) -> UserError:
    """Why pretrained weights do not fit: the settings of the network that differ between
    this config and the pretraining config beside the weights, each named with both values
    (a ConfigError); without such differences, the file and the block it does not fit."""
    block = f"components.{component}.model" + (f".{layer}" if layer else "")
    here = _block(values, block)
    there = _block(pretrain_config, block) if pretrain_config is not None else None
    if here is not None and there is not None:
        ours, theirs = _flat(here, block), _flat(there, block)
        differences = [f"{key} = {_show(ours.get(key))} here but {_show(theirs.get(key))} in the pretraining "
                       f"config {weights.parent / CONFIG_NAME}" for key in sorted(set(ours) | set(theirs))
                       if ours.get(key) != theirs.get(key)]
        if differences:
            shown = "; ".join(differences[:4]) + (f"; and {len(differences) - 4} more" if len(differences) > 4 else "")
            return ConfigError(f"the weights {weights} were pretrained for another network ({error}): {shown}. Use "
                               f"the same [{block}] settings for pretraining and training",
                               key="initialize.init_tok2vec")
    return DataError(f"these weights ([initialize] init_tok2vec) do not fit [{block}] of this config ({error}); "
                     f"pretrain with the same [{block}] settings as this config (pretraining.component = "
                     f"\"{component}\", layer = \"{layer}\")", path=str(weights))


def _block(config: Optional[Dict[str, Any]], dotted: str) -> Optional[Any]:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flat(node: Any, prefix: str) -> Dict[str, Any]:
    if not isinstance(node, dict):
        return {prefix: node}
    flat: Dict[str, Any] = {}
    for key, value in node.items():
        flat.update(_flat(value, f"{prefix}.{key}"))
    return flat


def _show(value: Any) -> str:
    return "(not set)" if value is None else json.dumps(value) if isinstance(value, (str, list, bool)) else str(value)
