"""The Python API spaCy users call: load(disable/enable/exclude), select_pipes,
max_length, Doc bytes/JSON/pickle, Span.sent, Token.ent_kb_id_, Example's import path."""
import pytest
from conftest import EWT_DEV as DEV
from conftest import EWT_TRAIN as TRAIN

import transfer_cli
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import PipelineError
from transfer_cli.training.initialize import init_pipeline

TEXT = "The quick brown fox jumps. It was fast."


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """tok2vec + tagger (listening to tok2vec) + sentencizer, after one update, on disk."""
    config = load_config_from_str(init_config(pipeline=["tagger"], optimize="efficiency").to_str(),
                                  {"paths.train": str(TRAIN), "paths.dev": str(DEV), "corpora.train.limit": 12})
    setup = init_pipeline(config)
    nlp = setup.nlp
    nlp.update(list(setup.train_corpus(nlp)), sgd=setup.optimizer)
    nlp.add_pipe("sentencizer")
    path = tmp_path_factory.mktemp("saved") / "model"
    nlp.to_disk(path)
    return path


# -- load(disable=, enable=, exclude=) -------------------------------------------------------------
def test_load_disable_keeps_the_component_loaded_but_off(saved_model):
    full = transfer_cli.load(saved_model)
    nlp = transfer_cli.load(saved_model, disable=["tagger"])
    assert nlp.disabled == ["tagger"]
    assert nlp.pipe_names == ["tok2vec", "sentencizer"]
    assert nlp.component_names == ["tok2vec", "tagger", "sentencizer"]
    assert all(t.tag_ == "" for t in nlp(TEXT))
    nlp.enable_pipe("tagger")
    assert [t.tag_ for t in nlp(TEXT)] == [t.tag_ for t in full(TEXT)]
    assert any(t.tag_ for t in full(TEXT))


def test_load_exclude_does_not_load_the_component(saved_model):
    nlp = transfer_cli.load(saved_model, exclude="sentencizer")
    assert nlp.component_names == ["tok2vec", "tagger"] and nlp.disabled == []
    assert any(t.tag_ for t in nlp(TEXT))
    with pytest.raises(PipelineError, match="sentencizer"):
        nlp.enable_pipe("sentencizer")


def test_load_enable_disables_every_other_component(saved_model):
    nlp = transfer_cli.load(saved_model, enable=["tok2vec", "tagger"])
    assert nlp.pipe_names == ["tok2vec", "tagger"] and nlp.disabled == ["sentencizer"]
    assert transfer_cli.load(saved_model, enable="sentencizer").pipe_names == ["sentencizer"]


def test_load_unknown_names_are_one_clear_error_naming_the_components(saved_model):
    for option in ("disable", "enable", "exclude"):
        with pytest.raises(PipelineError) as e:
            transfer_cli.load(saved_model, **{option: ["parser"]})
        message = str(e.value)
        assert f"{option}=" in message and "'parser'" in message
        assert "tok2vec, tagger, sentencizer" in message


def test_load_enable_and_disable_conflicting_is_an_error(saved_model):
    with pytest.raises(PipelineError, match="'tagger' cannot be both enabled and disabled"):
        transfer_cli.load(saved_model, enable=["tok2vec", "tagger"], disable=["tagger"])
    with pytest.raises(PipelineError, match="enabled and excluded"):
        transfer_cli.load(saved_model, enable=["tagger"], exclude=["tagger"])
    # the same name disabled and excluded is harmless: it is not there
    assert transfer_cli.load(saved_model, disable=["tagger"], exclude=["tagger"]).component_names == [
        "tok2vec", "sentencizer"]


def test_load_exclude_an_upstream_others_listen_to_is_an_error(saved_model):
    with pytest.raises(PipelineError, match="tagger listen.*tok2vec"):
        transfer_cli.load(saved_model, exclude=["tok2vec"])


# -- select_pipes, disable_pipe, enable_pipe ---------------------------------------------------------
def test_select_pipes_as_a_context_manager_and_with_restore(saved_model):
    nlp = transfer_cli.load(saved_model)
    with nlp.select_pipes(disable=["tagger"]) as disabled:
        assert disabled == ["tagger"] and nlp.pipe_names == ["tok2vec", "sentencizer"]
        assert all(t.tag_ == "" for t in nlp(TEXT))
    assert nlp.pipe_names == ["tok2vec", "tagger", "sentencizer"]
    disabled = nlp.select_pipes(enable="sentencizer")
    assert nlp.pipe_names == ["sentencizer"] and sorted(disabled) == ["tagger", "tok2vec"]
    disabled.restore()
    assert nlp.pipe_names == ["tok2vec", "tagger", "sentencizer"]


def test_select_pipes_restores_only_what_it_disabled(saved_model):
    nlp = transfer_cli.load(saved_model, disable=["sentencizer"])
    with nlp.select_pipes(disable=["tagger", "sentencizer"]):
        assert nlp.pipe_names == ["tok2vec"]
    assert nlp.disabled == ["sentencizer"]


def test_select_pipes_bad_arguments(saved_model):
    nlp = transfer_cli.load(saved_model)
    with pytest.raises(PipelineError, match="'ner'.*components: tok2vec, tagger, sentencizer"):
        nlp.select_pipes(disable=["ner"])
    with pytest.raises(PipelineError, match="both enabled and disabled"):
        nlp.select_pipes(enable=["tagger"], disable=["tagger"])
    with pytest.raises(PipelineError, match="give disable"):
        nlp.select_pipes()
    assert nlp.disabled == []


# -- max_length ---------------------------------------------------------------------------------------
def test_max_length_guards_nlp_and_make_doc_and_is_settable():
    nlp = transfer_cli.blank("en")
    assert nlp.max_length == 1_000_000
    nlp.max_length = 10
    for call in (nlp, nlp.make_doc):
        with pytest.raises(PipelineError) as e:
            call("a text longer than ten")
        assert "22 characters" in str(e.value) and "nlp.max_length = 22" in str(e.value)
    assert len(nlp("ten chars.")) == 3
    nlp.max_length = 22
    assert len(nlp("a text longer than ten")) == 5


# -- Span.sent, Token.ent_kb_id_, Example's import path ----------------------------------------------
def test_span_sent_is_the_sentence_holding_the_span_start():
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(TEXT)
    first, second = list(doc.sents)
    assert doc[1:3].sent == first and doc[7:9].sent == second
    assert doc[4:8].sent == first  # crosses the boundary: the sentence it starts in
    assert doc[7:9].sent.text == "It was fast."


def test_token_ent_kb_id_follows_the_entity_spans():
    from transfer_cli.tokens import Doc, Span

    doc = Doc(transfer_cli.blank("en").vocab, words=["Ada", "Lovelace", "wrote", "code"])
    doc.ents = [Span(doc, 0, 2, label="PERSON", kb_id="Q7259")]
    assert [t.ent_kb_id_ for t in doc] == ["Q7259", "Q7259", "", ""]
    assert doc.ents[0].kb_id_ == "Q7259" and doc[0].ent_kb_id == doc.vocab.strings["Q7259"]
    doc[2].ent_kb_id_ = "Q1"
    assert doc[2].ent_kb_id_ == "Q1"
    doc.ents = [Span(doc, 0, 1, label="PERSON")]  # setting ents again clears the old IDs
    assert [t.ent_kb_id_ for t in doc] == ["", "", "", ""]


def test_example_importable_from_training_is_the_same_class():
    from transfer_cli.tokens import Example as TokensExample
    from transfer_cli.training import Example

    assert Example is TokensExample
