"""The registry and component factories (transfer_cli/config/registry.py, factories.py)."""
import catalogue
import pytest
from confection import Config
from thinc.api import Model, Optimizer

import transfer_cli
from transfer_cli.config import (factory_names, get_factory_meta, load_config_from_str, register_factory,
                                 registry, resolve_section)
from transfer_cli.config.registry import lookup_problem
from transfer_cli.errors import ConfigError

from config_fakes import registered

DESIGN_REGISTRIES = ["architectures", "layers", "readers", "batchers", "optimizers", "schedules", "loggers",
                     "callbacks", "scorers", "augmenters", "span_getters", "annotation_setters", "vectors",
                     "tokenizers", "lookups", "misc", "factories"]


def test_registry_has_every_design_registry():
    names = registry.registry_names()
    for name in DESIGN_REGISTRIES:
        assert name in names, name
        assert isinstance(getattr(registry, name), catalogue.Registry)


def test_package_exposes_the_registry():
    assert transfer_cli.registry is registry


@pytest.mark.parametrize("reg_name,func_name", [("optimizers", "Adam.v1"), ("schedules", "warmup_linear.v1"),
                                                ("layers", "reduce_mean.v1"), ("schedules", "compounding.v1")])
def test_thinc_functions_resolve_through_our_registry(reg_name, func_name):
    assert registry.has(reg_name, func_name)
    assert callable(registry.get(reg_name, func_name))


def test_thinc_blocks_resolve_to_objects():
    config = Config().from_str("""
[training]
[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.002
[training.optimizer.L2]
@schedules = "warmup_linear.v1"
initial_rate = 0.01
warmup_steps = 10
total_steps = 100
[training.pooling]
@layers = "reduce_mean.v1"
""")
    resolved = registry.resolve(config)
    assert isinstance(resolved["training"]["optimizer"], Optimizer)
    assert isinstance(resolved["training"]["pooling"], Model)


def test_user_registration_with_decorator_resolves():
    def build(width: int, depth: int = 2) -> Model:
        from thinc.api import Relu, chain
        return chain(*[Relu(nO=width) for _ in range(depth)])

    with registered([]):
        transfer_cli.registry.architectures("test.Arch.v1")(build)
        try:
            config = load_config_from_str("[section]\n[section.model]\n@architectures = \"test.Arch.v1\"\nwidth = 8\n")
            model = resolve_section(config, "section")["model"]
            assert isinstance(model, Model) and len(model.layers) == 2
        finally:
            catalogue.REGISTRY.pop(("transfer_cli", "architectures", "test.Arch.v1"), None)


def test_unknown_function_names_registry_and_closest_names():
    def fn(width: int) -> None: ...

    with registered([("architectures", "zqx.Widget.v2", fn), ("architectures", "zqx.Widget.v1", fn)]):
        problem = lookup_problem("architectures", "zqx.Widget.v9")
        assert "'zqx.Widget.v9' is not registered in @architectures" in problem
        assert "did you mean 'zqx.Widget.v2' or 'zqx.Widget.v1'" in problem
        with pytest.raises(ConfigError, match="@architectures"):
            registry.find("architectures", "zqx.Widget.v9", key="components.x.model")
        assert registry.find("architectures", "zqx.Widget.v2") is fn


def test_unknown_function_without_close_names_says_how_to_register():
    problem = lookup_problem("span_getters", "zzz_qqq_xxx")
    assert "is not registered in @span_getters" in problem
    assert '@transfer_cli.registry.span_getters("zzz_qqq_xxx")' in problem and "--code" in problem


def test_unknown_registry_is_named_with_suggestion():
    problem = lookup_problem("architecture", "spacy.Tok2Vec.v2")
    assert problem.startswith("unknown registry '@architecture'; did you mean 'architectures'?")


def test_register_factory_parses_model_config_string_and_keeps_defaults():
    model = '[model]\n@architectures = "test.Arch.v1"\nwidth = 4\n\n[model.sub]\n@layers = "reduce_mean.v1"\n'

    def make(nlp, name: str, model: Model, threshold: float = 0.5):
        return (name, model, threshold)

    with registered(factories=[("test_pipe", make, {"model": model, "label": "!"}, {"x_acc": 1.0})]):
        meta = get_factory_meta("test_pipe")
        assert meta.func is make
        assert meta.default_config == {"model": {"@architectures": "test.Arch.v1", "width": 4,
                                                 "sub": {"@layers": "reduce_mean.v1"}}, "label": "!"}
        assert meta.default_score_weights == {"x_acc": 1.0}
        assert list(meta.settings_signature()) == ["model", "threshold"]
        assert "test_pipe" in factory_names()
        assert registry.get("factories", "test_pipe") is make
    with pytest.raises(ConfigError):
        get_factory_meta("test_pipe")


def test_register_factory_requires_nlp_and_name_arguments():
    with pytest.raises(TypeError, match=r"\(nlp, name, \*\*settings\)"):
        register_factory("broken")(lambda model: model)


def test_unknown_factory_suggests_close_names():
    def make(nlp, name: str): ...

    with registered(factories=[("zqx_tagger", make, {}, {})]):
        with pytest.raises(ConfigError) as info:
            get_factory_meta("zqx_tager", key="components.x.factory")
        assert "unknown component factory 'zqx_tager'; did you mean 'zqx_tagger'" in str(info.value)
        assert str(info.value).startswith("[components.x.factory]")


def test_factory_registered_only_in_the_registry_is_usable():
    def make(nlp, name: str, size: int = 3): ...

    with registered([("factories", "test_plain_factory", make)]):
        meta = get_factory_meta("test_plain_factory")
        assert meta.func is make and meta.default_config == {}


def test_user_code_finds_the_package_functions_through_the_registry_in_a_fresh_process():
    # a spaCy user's script asks the registry directly, before any config was filled
    import subprocess
    import sys

    code = ("import transfer_cli\n"
            "r = transfer_cli.registry\n"
            "assert callable(r.architectures.get('spacy.Tok2Vec.v2'))\n"
            "assert r.has('architectures', 'spacy.HashEmbedCNN.v2')\n"
            "assert 'spacy.Tagger.v2' in r.architectures\n"
            "assert 'tagger' in r.factories.get_all()\n"
            "assert callable(r.find('readers', 'spacy.Corpus.v1'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
