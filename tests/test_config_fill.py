"""Filling, validation and resolution (config/filling.py, validation.py, resolving.py),
against stand-ins with spaCy 3.8's signatures (tests/config_fakes.py) and against
configs written by spaCy itself (tests/fixtures/spacy_configs)."""
from pathlib import Path
from typing import Any, Dict, List

import pytest
from confection import Config
from thinc.api import Model, Optimizer

from transfer_cli.config import (ConfigValidationFailed, check_config, combine_score_weights, config_diff,
                                 config_to_str, fill_config, load_config, load_config_from_str,
                                 resolve_components, resolve_path, resolve_section)
from transfer_cli.config.defaults import default_config, default_pretraining_config
from transfer_cli.errors import ConfigError

from config_fakes import Built, registered, spacy_like

SPACY_CONFIGS = Path(__file__).parent / "fixtures" / "spacy_configs"

SHARED_NER = """
[components.tok2vec]
factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v1"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = true

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = ${components.tok2vec.model.width}
"""

INDEPENDENT_NER = """
[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v1"
state_type = "ner"
extra_state_tokens = false
hidden_width = 128
maxout_pieces = 3
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2Vec.v1"

[components.ner.model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v1"
width = 128
rows = 7000
also_embed_subwords = true
also_use_static_vectors = false

[components.ner.model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v1"
width = 128
depth = 4
window_size = 1
maxout_pieces = 3
"""

TRANSFORMER = """
[components.transformer]
factory = "transformer"
max_batch_items = 4096

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v1"
name = "models/bert-base-cased"
tokenizer_config = {"use_fast": true}

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.doc_spans.v1"

[components.transformer.set_extra_annotations]
@annotation_setters = "spacy-transformers.null_annotation_setter.v1"
"""


@pytest.fixture
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


def messages(error: ConfigValidationFailed) -> List[str]:
    return [f"[{p.key}]: {p.message}" for p in error.problems]


# -- defaults --------------------------------------------------------------------------------------
def test_default_config_has_spacy_sections_and_values():
    config = default_config()
    assert list(config) == ["paths", "system", "nlp", "components", "corpora", "training", "pretraining",
                            "initialize"]
    assert config["paths"]["raw_text"] == "${paths.raw}"
    assert config["system"] == {"seed": 0, "gpu_allocator": None}
    training = config["training"]
    assert {k: training[k] for k in ("dropout", "accumulate_gradient", "patience", "max_epochs", "max_steps",
                                     "eval_frequency")} == {"dropout": 0.1, "accumulate_gradient": 1,
                                                            "patience": 1600, "max_epochs": 0,
                                                            "max_steps": 20000, "eval_frequency": 200}
    assert set(training) >= {"seed", "gpu_allocator", "frozen_components", "annotating_components",
                             "before_to_disk", "before_update", "dev_corpus", "train_corpus", "optimizer",
                             "batcher", "logger", "score_weights"}
    assert training["optimizer"]["@optimizers"] == "Adam.v1" and training["optimizer"]["eps"] == 1e-8
    assert training["batcher"]["size"]["@schedules"] == "compounding.v1"
    assert set(config["initialize"]) == {"vectors", "init_tok2vec", "vocab_data", "lookups", "tokenizer",
                                         "components", "before_init", "after_init"}
    assert config["nlp"]["tokenizer"] == {"@tokenizers": "spacy.Tokenizer.v1"}
    assert config["nlp"]["vectors"] == {"@vectors": "spacy.Vectors.v1"}


def test_default_pretraining_config():
    config = default_pretraining_config()
    pretraining = config["pretraining"]
    assert {k: pretraining[k] for k in ("max_epochs", "dropout", "n_save_every", "n_save_epoch", "component",
                                        "layer", "corpus")} == {
        "max_epochs": 1000, "dropout": 0.2, "n_save_every": None, "n_save_epoch": None, "component": "tok2vec",
        "layer": "", "corpus": "corpora.pretrain"}
    assert pretraining["objective"] == {"@architectures": "spacy.PretrainCharacters.v1", "maxout_pieces": 3,
                                        "hidden_size": 300, "n_characters": 4}
    assert config["corpora"]["pretrain"]["@readers"] == "spacy.JsonlCorpus.v1"
    assert config["corpora"]["pretrain"]["path"] == "${paths.raw_text}"


# -- filling ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("snippet", [SHARED_NER, INDEPENDENT_NER, TRANSFORMER], ids=["shared", "independent",
                                                                                     "transformer"])
def test_docs_snippets_fill_validate_and_fill_idempotently(spacy_names, snippet):
    config = load_config_from_str(snippet)
    filled = fill_config(config)
    components = list(config["components"])
    assert filled["nlp"]["pipeline"] == components  # pipeline left out: the blocks in order
    for name in components:  # the user's blocks are kept, defaults are added around them
        for key, value in flat(config["components"][name]).items():
            assert flat(filled["components"][name])[key] == value
    assert check_config(filled).problems == []
    text = config_to_str(filled)
    assert config_to_str(fill_config(load_config_from_str(text))) == text


def test_shared_snippet_gets_factory_and_signature_defaults(spacy_names):
    filled = fill_config(load_config_from_str(SHARED_NER))
    ner = filled["components"]["ner"]
    assert ner["moves"] is None and ner["update_with_oracle_cut_size"] == 100
    assert ner["scorer"] == {"@scorers": "spacy.ner_scorer.v1"}
    assert ner["model"]["nO"] is None  # from the v1 signature
    assert ner["model"]["tok2vec"] == {"@architectures": "spacy.Tok2VecListener.v1",
                                       "width": "${components.tok2vec.model.width}", "upstream": "*"}
    assert filled["training"]["score_weights"] == {"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0,
                                                   "ents_per_type": None}
    assert filled["corpora"]["train"]["gold_preproc"] is False
    assert filled.interpolate()["components"]["ner"]["model"]["tok2vec"]["width"] == 96


def test_transformer_snippet_keeps_its_v1_model(spacy_names):
    filled = fill_config(load_config_from_str(TRANSFORMER))
    model = filled["components"]["transformer"]["model"]
    assert model["@architectures"] == "spacy-transformers.TransformerModel.v1"
    assert set(model) == {"@architectures", "name", "tokenizer_config", "get_spans"}  # no v3 settings mixed in
    assert model["get_spans"] == {"@span_getters": "spacy-transformers.doc_spans.v1"}


def test_partial_model_block_merges_with_factory_default(spacy_names):
    config = load_config_from_str('[components.ner]\nfactory = "ner"\n[components.ner.model]\nhidden_width = 32\n')
    model = fill_config(config)["components"]["ner"]["model"]
    assert model["@architectures"] == "spacy.TransitionBasedParser.v2"
    assert model["hidden_width"] == 32 and model["maxout_pieces"] == 2


@pytest.mark.parametrize("name", ["tagger_eff", "tagger_acc", "ner_eff", "ner_acc", "textcat", "textcat_multilabel",
                                  "senter", "tagger_ner_textcat_senter", "tagger_ner_gpu", "tagger_pretraining"])
def test_spacy_quickstart_partials_fill_like_spacy(spacy_names, name):
    pretraining = name == "tagger_pretraining"
    ours = fill_config(load_config(SPACY_CONFIGS / f"{name}.partial.cfg"), pretraining=pretraining)
    theirs = Config().from_disk(SPACY_CONFIGS / f"{name}.partial.filled.cfg", interpolate=False)
    ours_flat, theirs_flat = flat(ours), flat(theirs)
    extra = {k for k in set(ours_flat) - set(theirs_flat)}
    # ours also defines both raw-text paths, and how often training saves a checkpoint
    assert extra <= {"paths.raw", "paths.raw_text", "training.checkpoint_frequency"}
    assert ours_flat["training.checkpoint_frequency"] == "${training.eval_frequency}"
    if theirs_flat.get("paths.raw_text", "") is None:  # spaCy's null is ours ${paths.raw} = null
        assert ours_flat["paths.raw_text"] == "${paths.raw}" and ours_flat["paths.raw"] is None
        ours_flat["paths.raw_text"] = None
    assert {k: v for k, v in ours_flat.items() if k not in extra} == theirs_flat


@pytest.mark.parametrize("name", ["tagger_eff", "ner_acc", "tagger_ner_textcat_senter", "tagger_ner_gpu",
                                  "tagger_pretraining"])
def test_spacy_written_configs_validate_and_change_only_by_raw_paths_and_checkpoints(spacy_names, name):
    config = load_config(SPACY_CONFIGS / f"{name}.cfg")
    check = check_config(config)
    filled, problems = check.filled, check.problems
    assert problems == []
    before, after = flat(config), flat(filled)
    added = {k: after.pop(k) for k in set(after) - set(before)}
    assert added.pop("training.checkpoint_frequency") == "${training.eval_frequency}"
    assert added == {"paths.raw": None} or added == {"paths.raw": None, "paths.raw_text": "${paths.raw}"}
    assert after == before


def test_fill_with_pretraining_adds_complete_block(spacy_names):
    config = load_config(SPACY_CONFIGS / "tagger_eff.cfg")
    filled = fill_config(config, pretraining=True)
    pretraining = filled["pretraining"]
    assert set(pretraining) == {"max_epochs", "dropout", "n_save_every", "n_save_epoch", "component", "layer",
                                "corpus", "batcher", "objective", "optimizer"}
    assert pretraining["batcher"]["get_length"] is None
    assert filled["corpora"]["pretrain"]["path"] == "${paths.raw_text}"
    interpolated = load_config_from_str(config_to_str(filled), {"paths.raw": "raw.jsonl"}, interpolate=True)
    assert interpolated["corpora"]["pretrain"]["path"] == "raw.jsonl"
    assert config_to_str(fill_config(filled)) == config_to_str(filled)  # kept once it is there


def test_legacy_objective_type_is_upgraded(spacy_names):
    text = '[components.tok2vec]\nfactory = "tok2vec"\n[pretraining]\n[pretraining.objective]\n' \
           'type = "characters"\nn_characters = 6\n'
    objective = fill_config(load_config_from_str(text))["pretraining"]["objective"]
    assert objective == {"@architectures": "spacy.PretrainCharacters.v1", "n_characters": 6,
                         "maxout_pieces": 3, "hidden_size": 300}


def test_score_weights_combine_and_stay_stable():
    weights = combine_score_weights([{"tag_acc": 1.0, "pos_acc": 0.0}, {"ents_f": 1.0, "ents_p": None}],
                                    {"cats_score": 1.0})
    assert weights == {"tag_acc": 0.33, "pos_acc": 0.0, "ents_f": 0.33, "ents_p": None, "cats_score": 0.33}
    assert combine_score_weights([{"tag_acc": 1.0, "pos_acc": 0.0}, {"ents_f": 1.0}], weights) == weights


def test_config_diff_shows_added_lines():
    diff = config_diff("[a]\nx = 1\n", "[a]\nx = 1\ny = 2\n", before_name="base.cfg", after_name="out.cfg")
    assert diff.splitlines() == ["--- base.cfg", "+++ out.cfg", "@@ -1,2 +1,3 @@", " [a]", " x = 1", "+y = 2"]
    assert config_diff("[a]\n", "[a]\n") == ""


def test_user_score_weights_win(spacy_names):
    config = load_config_from_str(SHARED_NER + "\n[training]\n[training.score_weights]\nents_f = 0.5\nents_p = 0.5\n")
    assert fill_config(config)["training"]["score_weights"] == {"ents_f": 0.5, "ents_p": 0.5, "ents_r": 0.0,
                                                                "ents_per_type": None}


# -- validation errors -----------------------------------------------------------------------------
def test_missing_argument_names_full_key_path_and_type(spacy_names):
    text = INDEPENDENT_NER.replace("hidden_width = 128\n", "")
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config_from_str(text))
    assert messages(info.value) == ["[components.ner.model.hidden_width]: missing required argument of "
                                    "'spacy.TransitionBasedParser.v1' (expected int)"]


def test_mistyped_argument_names_key_type_and_value(spacy_names):
    text = INDEPENDENT_NER.replace("hidden_width = 128", 'hidden_width = "wide"')
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config_from_str(text))
    assert messages(info.value) == ['[components.ner.model.hidden_width]: expected int, got "wide" (a string)']


@pytest.mark.parametrize("replace,expected", [
    (("use_upper = true", "use_upper = 1"), '[components.ner.model.use_upper]: expected bool, got 1 (an integer)'),
    (('state_type = "ner"', 'state_type = "nerr"'),
     '[components.ner.model.state_type]: expected "parser" or "ner", got "nerr" (a string)'),
    (("nO = null", "nO = 2.5"), "[components.ner.model.nO]: expected int or null, got 2.5 (a number)"),
    (("hidden_width = 128", "hiden_width = 128"), None),
])
def test_type_and_name_errors(spacy_names, replace, expected):
    text = INDEPENDENT_NER.replace(*replace)
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config_from_str(text))
    if expected is None:
        assert messages(info.value) == [
            "[components.ner.model.hidden_width]: missing required argument of 'spacy.TransitionBasedParser.v1' "
            "(expected int)",
            "[components.ner.model.hiden_width]: unexpected argument of 'spacy.TransitionBasedParser.v1'; "
            "did you mean 'hidden_width'?"]
    else:
        assert messages(info.value) == [expected]


def test_unknown_architecture_suggests_close_names(spacy_names):
    text = INDEPENDENT_NER.replace("spacy.TransitionBasedParser.v1", "spacy.TransitionBasedParser.v9")
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config_from_str(text))
    [message] = messages(info.value)
    assert message.startswith("[components.ner.model]: 'spacy.TransitionBasedParser.v9' is not registered in "
                              "@architectures; did you mean 'spacy.TransitionBasedParser.v2'")


def test_factory_settings_are_validated(spacy_names):
    text = '[components.ner]\nfactory = "ner"\nupdate_with_oracle_cut_size = "big"\nmovez = null\n'
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config_from_str(text))
    assert messages(info.value) == [
        '[components.ner.update_with_oracle_cut_size]: expected int, got "big" (a string)',
        "[components.ner.movez]: unexpected argument of component factory 'ner'; did you mean 'moves'?"]


def test_every_problem_is_reported_with_its_line(spacy_names, tmp_path):
    path = tmp_path / "bad.cfg"
    path.write_text(SHARED_NER.replace('factory = "ner"', 'factory = "nerr"')
                    .replace("depth = 4", 'depth = "deep"')
                    + '\n[training]\nmax_steps = 1.5\nfrozen_components = ["tagger"]\n'
                    + '\n[nlp]\npipeline = ["tok2vec", "ner"]\n')
    with pytest.raises(ConfigValidationFailed) as info:
        fill_config(load_config(path))
    lines = str(info.value).splitlines()
    assert f"{path}:16 [components.ner.factory]: unknown component factory 'nerr'; did you mean 'ner'" in lines[0]
    assert f"{path}:9 [components.tok2vec.model.depth]: expected int, got \"deep\" (a string)" in lines
    assert f"{path}:31 [training.max_steps]: expected int, got 1.5 (a number)" in lines
    assert f"{path}:32 [training.frozen_components]: 'tagger' is not in nlp.pipeline (tok2vec, ner)" in lines
    assert len(lines) == 4


def test_section_settings_are_checked(spacy_names):
    config = load_config_from_str(SHARED_NER + '\n[training]\nmax_step = 5\ndev_corpus = "corpora.test"\n'
                                  '\n[nlp]\npipeline = ["tok2vec", "nre"]\n')
    problems = check_config(config).problems
    found = [f"[{p.key}]: {p.message}" for p in problems]
    assert "[training.max_step]: unknown setting in [training]; did you mean 'max_steps'?" in found
    assert "[training.dev_corpus]: 'corpora.test' is not a section of this config; did you mean 'corpora.dev'?" \
        in found
    assert "[nlp.pipeline]: 'nre' has no [components.nre] block; did you mean 'ner'?" in found


@pytest.mark.parametrize("name,likely", [("traning", "training"), ("initialise", "initialize"),
                                         ("Training", "training"), ("component", "components"),
                                         ("path", "paths"), ("pretrain", "pretraining")])
def test_misspelled_section_is_an_error_naming_the_likely_one(spacy_names, tmp_path, name, likely):
    path = tmp_path / "c.cfg"
    path.write_text(SHARED_NER + f"\n[{name}]\nmax_steps = 5\n")
    check = check_config(load_config(path))
    assert [p.format(check.source) for p in check.problems] == [
        f"{path}:30 [{name}]: unknown section [{name}]; did you mean [{likely}]?"]
    with pytest.raises(ConfigValidationFailed):
        fill_config(load_config(path))


def test_extra_sections_are_allowed_and_unused_ones_are_listed(spacy_names):
    config = load_config_from_str(SHARED_NER + '\n[vars]\nwidth = 64\nname = "x"\nwho = ${vars.name}\n'
                                  '\n[notes]\ntext = "kept"\n\n[custom_readers]\n'
                                  '[custom_readers.dev]\n@readers = "spacy.Corpus.v1"\npath = null\ngold_preproc = false\n'
                                  '\n[training]\ndev_corpus = "custom_readers.dev"\n',
                                  {"components.tok2vec.model.width": "${vars.width}"})
    check = check_config(config)
    assert check.problems == []
    assert check.values["components"]["tok2vec"]["model"]["width"] == 64
    assert check.unused_sections == ["notes"]  # [vars] is used by a variable, [custom_readers] by dev_corpus


def test_unknown_setting_in_a_known_section_is_still_an_error(spacy_names):
    problems = check_config(load_config_from_str(SHARED_NER + "\n[initialize]\nvector = null\n")).problems
    assert [f"[{p.key}]: {p.message}" for p in problems] == [
        "[initialize.vector]: unknown setting in [initialize]; did you mean 'vectors'?"]


def test_unknown_registry_in_config(spacy_names):
    config = load_config_from_str(SHARED_NER.replace("@architectures = \"spacy.Tok2VecListener.v1\"",
                                                     "@architecture = \"spacy.Tok2VecListener.v1\""))
    problems = check_config(config).problems
    assert problems[0].key == "components.ner.model.tok2vec"
    assert problems[0].message.startswith("unknown registry '@architecture'; did you mean 'architectures'?")


# -- resolution ------------------------------------------------------------------------------------
def build_test_model(width: int, depth: int = 1) -> Model:
    from thinc.api import Relu, Softmax, chain

    return chain(*[Relu(nO=width) for _ in range(depth)], Softmax())


def make_test_component(nlp, name: str, model: Model, threshold: float):
    return Built(factory="test_component", nlp=nlp, name=name, model=model, threshold=threshold)


TEST_COMPONENT = ("test_component", make_test_component,
                  {"model": '[model]\n@architectures = "test.Arch.v1"\nwidth = 8\n', "threshold": 0.5},
                  {"test_acc": 1.0})


def test_resolve_components_gives_factory_and_thinc_models():
    with registered([("architectures", "test.Arch.v1", build_test_model)], [TEST_COMPONENT]):
        config = fill_config(load_config_from_str(
            '[nlp]\nlang = "en"\npipeline = ["a", "b"]\n\n[components.a]\nfactory = "test_component"\n\n'
            '[components.b]\nfactory = "test_component"\nthreshold = 0.9\n[components.b.model]\ndepth = 3\n'
            '[training]\n[training.score_weights]\n'),
            validate=False)
        specs = resolve_components(config)
        assert [s.name for s in specs] == ["a", "b"]
        assert all(s.func is make_test_component and s.factory == "test_component" for s in specs)
        assert isinstance(specs[0].settings["model"], Model) and len(specs[1].settings["model"].layers) == 4
        assert specs[1].settings["threshold"] == 0.9
        assert specs[1].config["model"] == {"depth": 3, "@architectures": "test.Arch.v1", "width": 8}
        built = specs[0].func("NLP", specs[0].name, **specs[0].settings)
        assert built["nlp"] == "NLP" and built["name"] == "a"
        assert config["training"]["score_weights"] == {"test_acc": 1.0}


def test_build_component_and_add_pipe_fill_validate_and_build_a_block():
    from transfer_cli.pipeline.build import blank
    from transfer_cli.pipeline.pipeline import build_component

    with registered([("architectures", "test.Arch.v1", build_test_model)], [TEST_COMPONENT]):
        nlp = blank("en")
        component, block = build_component(nlp, "test_component", "mine", {"threshold": 0.1})
        assert component["name"] == "mine" and component["threshold"] == 0.1 and component["nlp"] is nlp
        assert isinstance(component["model"], Model)
        assert block == {"factory": "test_component", "model": {"@architectures": "test.Arch.v1", "width": 8,
                                                                 "depth": 1}, "threshold": 0.1}
        added = nlp.add_pipe("test_component", "other", config={"model": {"depth": 2}})
        assert added["threshold"] == 0.5 and len(added["model"].layers) == 3
        assert nlp.config["components"]["other"]["model"]["depth"] == 2
        with pytest.raises(ConfigValidationFailed, match=r"\[components.mine.threshold\]: expected float"):
            build_component(nlp, "test_component", "mine", {"threshold": "high"})
        with pytest.raises(ConfigError, match="unknown component factory 'test_componnt'"):
            nlp.add_pipe("test_componnt", "mine")


def test_resolve_section_and_path(spacy_names):
    config = fill_config(load_config_from_str(SHARED_NER, {"paths.train": "train.spacy"}))
    training = resolve_section(config, "training")
    assert isinstance(training["optimizer"], Optimizer)
    assert training["batcher"]["function"] == "spacy.batch_by_words.v1"
    reader = resolve_path(config, training["train_corpus"])
    assert reader == {"function": "spacy.Corpus.v1", "path": "train.spacy"}
    with pytest.raises(ConfigError, match=r"the config has no \[corpora.test\]"):
        resolve_path(config, "corpora.test")
