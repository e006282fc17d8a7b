"""Building pipelines: `blank(lang)`, from a config, and `load(path)` from a
directory written by `Pipeline.to_disk` (config.cfg + weights)."""
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Union

from confection import Config

from ..config.filling import ConfigCheck, check_config
from ..config.registry import registry
from ..config.resolving import resolve_components, resolve_section
from ..errors import ConfigError, PipelineError
from ..lang import create_tokenizer, get_lang_class
from ..lang.tokenizer import Tokenizer
from ..ml.listeners import find_listeners
from ..installed import pipeline_location
from .pipeline import Pipeline
from .serialize import read_pipeline_config
from .sourcing import SourcePipelines, check_sourced_listeners, config_lines, source_component


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


def pipeline_from_config(config: Union[Config, ConfigCheck], *, exclude: Iterable[str] = ()) -> Pipeline:
    """Build (not initialize) the pipeline a config describes: tokenizer, vocab and
    every component of [nlp] pipeline, in order, except those in `exclude`. A loaded
    config is filled and checked here; a ConfigCheck (check_config's result) is used as it is."""
    exclude = set(exclude)
    checked = config if isinstance(config, ConfigCheck) else check_config(config).valid()
    nlp_section = resolve_section(checked, "nlp")
    nlp = blank(nlp_section["lang"])
    make_tokenizer = nlp_section["tokenizer"]
    if callable(make_tokenizer):
        nlp.tokenizer = make_tokenizer(nlp)
    if nlp_section["batch_size"] is not None:
        nlp.batch_size = nlp_section["batch_size"]
    nlp.base_config = checked.filled
    names = [name for name in nlp_section["pipeline"] if name not in exclude]
    sources = SourcePipelines(load)
    for spec in resolve_components(checked, names):
        if spec.source is not None:
            with config_lines(checked):
                source_component(nlp, spec.name, spec.settings, sources)
            continue
        component = spec.func(nlp, spec.name, **spec.settings)
        nlp.add_component(spec.name, component, factory_name=spec.factory, config_block=spec.config)
    with config_lines(checked):
        check_sourced_listeners(nlp)
    for name in nlp_section["disabled"]:
        if name in exclude:
            continue
        if not nlp.has_pipe(name):
            raise ConfigError(f"'{name}' is disabled but not in the pipeline", key="nlp.disabled")
        nlp.disable_pipe(name)
    return nlp


def load(path: Union[str, Path], *, disable: Union[str, Sequence[str]] = (),
         enable: Union[str, Sequence[str], None] = None, exclude: Union[str, Sequence[str]] = ()) -> Pipeline:
    """Load a pipeline directory written by `Pipeline.to_disk` (e.g. `train`'s model-best).
    Weights are thinc msgpack bytes (torch layers: safetensors) and JSON; nothing is
    unpickled, and nothing outside the directory is read.

    disable: components loaded but not run (nlp.enable_pipe(name) turns one back on);
    enable: the only components to run, every other one loaded disabled;
    exclude: components not loaded at all.
    A name that is not a path, e.g. "en_my_pipeline", loads that installed pipeline package."""
    path = pipeline_location(path)
    config = read_pipeline_config(path)
    names = list(config["nlp"]["pipeline"])
    disable, exclude = _name_list(disable, "disable"), _name_list(exclude, "exclude")
    enable_list = None if enable is None else _name_list(enable, "enable")
    for option, given in (("disable", disable), ("enable", enable_list or []), ("exclude", exclude)):
        unknown = [name for name in given if name not in names]
        if unknown:
            raise PipelineError(f"load({option}=...): no component named {', '.join(map(repr, unknown))} in "
                                f"{path}; its components are: {', '.join(names) or 'none'}")
    if enable_list is not None:
        both = [name for name in disable if name in enable_list]
        if both:
            raise PipelineError(f"load(): {', '.join(map(repr, both))} cannot be both enabled and disabled: "
                                f"`enable` already disables every component it does not name")
        excluded_enabled = [name for name in exclude if name in enable_list]
        if excluded_enabled:
            raise PipelineError(f"load(): {', '.join(map(repr, excluded_enabled))} cannot be both enabled and "
                                f"excluded")
        disable = [name for name in names if name not in enable_list]
    # a pipeline saved from blank() + add_pipe has a partial config: filled here (a no-op for trained ones)
    nlp = pipeline_from_config(config, exclude=exclude)
    nlp.from_disk(path)
    _check_nothing_listens_to(nlp, exclude)
    if enable_list is not None:  # `enable` decides alone, over the config's [nlp] disabled
        for name in enable_list:
            nlp.enable_pipe(name)
    for name in disable:
        if name not in exclude:
            nlp.disable_pipe(name)
    return nlp


def _name_list(names: Union[str, Sequence[str]], option: str) -> List[str]:
    if isinstance(names, str):
        return [names]
    if not all(isinstance(name, str) for name in names):
        raise PipelineError(f"load({option}=...) takes component names (strings), not {list(names)!r}")
    return list(names)


def _check_nothing_listens_to(nlp: Pipeline, excluded: Sequence[str]) -> None:
    """A component whose listener layer was fed by an excluded component cannot run."""
    if not excluded:
        return
    orphans = [name for name, component in nlp.components if getattr(component, "model", None) is not None
               and any(listener.upstream_name is None for listener in find_listeners(component.model))]
    if orphans:
        raise PipelineError(f"load(exclude=...): {', '.join(orphans)} listen(s) to a component excluded "
                            f"({', '.join(excluded)}); exclude them too, or keep what they listen to")


Pipeline.load_saved = staticmethod(load)  # what pipe(n_process > 1) loads its workers' copy with
