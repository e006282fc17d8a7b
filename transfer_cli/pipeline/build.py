"""Building pipelines: `blank(lang)`, from a config, and `load(path)` from a
directory written by `Pipeline.to_disk` (config.cfg + weights)."""
from pathlib import Path
from typing import Callable, Union

from confection import Config

from ..config.filling import ConfigCheck, check_config
from ..config.registry import registry
from ..config.resolving import resolve_components, resolve_section
from ..errors import ConfigError
from ..lang import create_tokenizer, get_lang_class
from ..lang.tokenizer import Tokenizer
from .pipeline import Pipeline
from .serialize import read_pipeline_config


def blank(lang: str = "en") -> Pipeline:
    """An empty pipeline: the language's tokenizer and vocab, no components."""
    defaults = get_lang_class(lang)
    vocab = defaults.create_vocab()
    nlp = Pipeline(vocab, lang=lang, tokenizer=defaults.create_tokenizer(vocab))
    nlp.base_config = Config({"nlp": {"lang": lang}})
    return nlp


@registry.tokenizers("spacy.Tokenizer.v1")
def tokenizer_factory() -> Callable[[Pipeline], Tokenizer]:
    """What `[nlp.tokenizer] @tokenizers = "spacy.Tokenizer.v1"` resolves to: a function
    that builds a pipeline's tokenizer from its `lang` and `vocab`."""

    def make_tokenizer(nlp: Pipeline) -> Tokenizer:
        return create_tokenizer(nlp.lang, nlp.vocab)

    return make_tokenizer


def pipeline_from_config(config: Union[Config, ConfigCheck]) -> Pipeline:
    """Build (not initialize) the pipeline a config describes: tokenizer, vocab and
    every component of [nlp] pipeline, in order. A loaded config is filled and
    checked here; a ConfigCheck (check_config's result) is used as it is."""
    checked = config if isinstance(config, ConfigCheck) else check_config(config).valid()
    nlp_section = resolve_section(checked, "nlp")
    nlp = blank(nlp_section["lang"])
    make_tokenizer = nlp_section["tokenizer"]
    if callable(make_tokenizer):
        nlp.tokenizer = make_tokenizer(nlp)
    if nlp_section["batch_size"] is not None:
        nlp.batch_size = nlp_section["batch_size"]
    nlp.base_config = checked.filled
    for spec in resolve_components(checked):
        if spec.source is not None:
            raise ConfigError("components with source = \"...\" (copied from a trained pipeline) are not "
                              "supported yet: train the component here or copy its block",
                              key=f"components.{spec.name}.source")
        component = spec.func(nlp, spec.name, **spec.settings)
        nlp.add_component(spec.name, component, factory_name=spec.factory, config_block=spec.config)
    for name in nlp_section["disabled"]:
        if not nlp.has_pipe(name):
            raise ConfigError(f"'{name}' is disabled but not in the pipeline", key="nlp.disabled")
        nlp.disable_pipe(name)
    return nlp


def load(path: Union[str, Path]) -> Pipeline:
    """Load a pipeline directory written by `Pipeline.to_disk` (e.g. `train`'s model-best).
    Weights are thinc msgpack bytes (torch layers: safetensors) and JSON; nothing is
    unpickled, and nothing outside the directory is read."""
    config = read_pipeline_config(Path(path))
    # a pipeline saved from blank() + add_pipe has a partial config: filled here (a no-op for trained ones)
    nlp = pipeline_from_config(config)
    return nlp.from_disk(path)
