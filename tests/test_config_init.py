"""init-config (config/quickstart.py + templates/*.cfg) against the configs spaCy
3.8's own `init config` writes (tests/fixtures/spacy_configs)."""
from pathlib import Path
from typing import Any, Dict

import pytest
from confection import Config

from transfer_cli.config import check_config, config_to_str, fill_config, init_config, load_config_from_str
from transfer_cli.errors import ConfigError, UserError

from config_fakes import spacy_like

SPACY_CONFIGS = Path(__file__).parent / "fixtures" / "spacy_configs"


@pytest.fixture(autouse=True)
def spacy_names():
    with spacy_like():
        yield


def flat(config: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(flat(value, path))
        else:
            out[path] = value
    return out


# spaCy's accuracy configs use the en_core_web_lg vectors package: we pass it as --vectors
CASES = {
    "tagger_eff": dict(pipeline=["tagger"]),
    "tagger_acc": dict(pipeline=["tagger"], optimize="accuracy", vectors="en_core_web_lg"),
    "ner_eff": dict(pipeline=["ner"]),
    "ner_acc": dict(pipeline=["ner"], optimize="accuracy", vectors="en_core_web_lg"),
    "textcat": dict(pipeline=["textcat"]),
    "textcat_multilabel": dict(pipeline=["textcat_multilabel"]),
    "senter": dict(pipeline=["senter"]),
    "tagger_ner_textcat_senter": dict(pipeline=["tagger", "ner", "textcat", "senter"]),
    "tagger_ner_gpu": dict(pipeline=["tagger", "ner"], gpu=True),
    "tagger_pretraining": dict(pipeline=["tagger"], pretraining=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_init_config_writes_what_spacy_writes(name):
    ours = flat(init_config(**CASES[name]))
    theirs = flat(Config().from_disk(SPACY_CONFIGS / f"{name}.cfg", interpolate=False))
    # intended differences: both raw-text paths, checkpoints (which spaCy does not save), and the
    # transformer read from a local directory
    assert ours.pop("training.checkpoint_frequency") == "${training.eval_frequency}"
    assert ours.pop("paths.raw") is None
    raw_text = ours.pop("paths.raw_text")
    assert raw_text == "${paths.raw}" or (raw_text is None and name == "tagger_pretraining")
    theirs.pop("paths.raw_text", None)
    if name == "tagger_ner_textcat_senter":
        # beside other components, our senter listens to the shared tok2vec instead of its own small one
        senter_tok2vec = {k: v for k, v in ours.items() if k.startswith("components.senter.model.tok2vec.")}
        assert senter_tok2vec == {"components.senter.model.tok2vec.@architectures": "spacy.Tok2VecListener.v1",
                                  "components.senter.model.tok2vec.width": "${components.tok2vec.model.encode.width}",
                                  "components.senter.model.tok2vec.upstream": "*"}
        for key in senter_tok2vec:
            ours.pop(key)
        for key in [k for k in theirs if k.startswith("components.senter.model.tok2vec.")]:
            theirs.pop(key)
    if "components.transformer.model.name" in theirs:
        assert theirs.pop("components.transformer.model.name") == "roberta-base"
        assert ours.pop("components.transformer.model.name") == "models/roberta-base"
    assert ours == theirs


@pytest.mark.parametrize("kwargs", [
    dict(pipeline=["tagger", "ner", "textcat"]),
    dict(pipeline=["tagger", "ner", "textcat", "textcat_multilabel", "senter"], optimize="accuracy"),
    dict(pipeline=["tagger", "ner", "textcat", "textcat_multilabel", "senter"], gpu=True),
    dict(pipeline=["tagger", "ner", "textcat_multilabel"], gpu=True, optimize="accuracy", pretraining=True),
    dict(pipeline=["tagger", "ner", "textcat"], shared=False, optimize="accuracy", vectors="vectors_dir"),
    dict(pipeline=["ner"], lang="de", pretraining=True),
])
def test_init_config_is_complete_and_valid(kwargs):
    config = init_config(**kwargs)
    text = config_to_str(config)
    refilled = fill_config(load_config_from_str(text), pretraining=kwargs.get("pretraining", False))
    assert config_to_str(refilled) == text
    assert check_config(load_config_from_str(text)).problems == []


def test_independent_gives_each_component_its_own_tok2vec():
    config = init_config(pipeline=["tagger", "ner", "textcat"], shared=False, optimize="accuracy")
    assert config["nlp"]["pipeline"] == ["tagger", "ner", "textcat"]
    assert "tok2vec" not in config["components"]
    for name in ("tagger", "ner", "textcat"):
        tok2vec = config["components"][name]["model"]["tok2vec"]
        assert tok2vec["@architectures"] == "spacy.Tok2Vec.v2"
        assert tok2vec["embed"]["width"] == f"${{components.{name}.model.tok2vec.encode.width}}"
        assert tok2vec["encode"]["width"] == 256 and tok2vec["encode"]["depth"] == 8
    interpolated = config.interpolate()
    assert interpolated["components"]["ner"]["model"]["tok2vec"]["embed"]["width"] == 256


def test_tagger_ner_senter_share_one_tok2vec_with_three_listeners():
    config = init_config(pipeline=["tagger", "ner", "senter"])
    assert config["nlp"]["pipeline"] == ["tok2vec", "tagger", "ner", "senter"]
    for name in ("tagger", "ner", "senter"):
        assert config["components"][name]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    independent = init_config(pipeline=["tagger", "ner", "senter"], shared=False)
    assert "tok2vec" not in independent["components"]
    for name in ("tagger", "ner", "senter"):
        assert independent["components"][name]["model"]["tok2vec"]["@architectures"] != "spacy.Tok2VecListener.v1"


def test_shared_gives_one_tok2vec_and_listeners():
    config = init_config(pipeline=["tagger", "ner"])
    assert config["nlp"]["pipeline"] == ["tok2vec", "tagger", "ner"]
    for name in ("tagger", "ner"):
        assert config["components"][name]["model"]["tok2vec"] == {
            "@architectures": "spacy.Tok2VecListener.v1", "width": "${components.tok2vec.model.encode.width}",
            "upstream": "*"}


def test_vectors_turn_on_static_vectors():
    config = init_config(pipeline=["tagger"], vectors="my_vectors")
    assert config["paths"]["vectors"] == "my_vectors"
    assert config["initialize"]["vectors"] == "${paths.vectors}"
    assert config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is True
    assert config.interpolate()["initialize"]["vectors"] == "my_vectors"
    assert init_config(pipeline=["tagger"])["components"]["tok2vec"]["model"]["embed"][
        "include_static_vectors"] is False


def test_gpu_uses_a_transformer_with_listeners_and_a_local_model_dir():
    config = init_config(pipeline=["tagger", "textcat"], gpu=True, lang="fr")
    assert config["nlp"]["pipeline"] == ["transformer", "tagger", "textcat"]
    model = config["components"]["transformer"]["model"]
    assert model["@architectures"] == "spacy-transformers.TransformerModel.v3"
    assert model["name"] == "models/camembert-base"
    for name in ("tagger", "textcat"):
        listener = config["components"][name]["model"]["tok2vec"]
        assert listener["@architectures"] == "spacy-transformers.TransformerListener.v1"
        assert listener["pooling"] == {"@layers": "reduce_mean.v1"}


def test_efficiency_textcat_needs_no_embedding():
    config = init_config(pipeline=["textcat"])
    assert config["nlp"]["pipeline"] == ["textcat"]
    assert config["components"]["textcat"]["model"]["@architectures"] == "spacy.TextCatBOW.v3"


def test_pretraining_block_added():
    config = init_config(pipeline=["tagger"], pretraining=True)
    assert config["pretraining"]["component"] == "tok2vec"
    assert config["pretraining"]["objective"]["@architectures"] == "spacy.PretrainCharacters.v1"
    assert config["corpora"]["pretrain"]["@readers"] == "spacy.JsonlCorpus.v1"


def test_bad_options():
    with pytest.raises(UserError, match="--optimize must be one of efficiency, accuracy"):
        init_config(pipeline=["tagger"], optimize="speed")
    with pytest.raises(UserError, match="--independent is for tok2vec pipelines"):
        init_config(pipeline=["tagger"], gpu=True, shared=False)
    with pytest.raises(UserError, match="names no components"):
        init_config(pipeline=["tok2vec"])
    with pytest.raises(ConfigError, match=r"\[components.parser.factory\]: unknown component factory 'parser'"):
        init_config(pipeline=["tagger", "parser"])
