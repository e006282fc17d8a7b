"""The Python API spaCy users call: load(disable/enable/exclude), select_pipes,
max_length, Doc bytes/JSON/pickle, Span.sent, Token.ent_kb_id_, Example's import path."""
import pickle
import subprocess
import sys

import numpy
import pytest
from conftest import EWT_DEV as DEV
from conftest import EWT_TRAIN as TRAIN
from conftest import ROOT

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


# -- Doc.to_bytes/from_bytes, to_json/from_json ----------------------------------------------------------
def rich_doc(nlp):
    from transfer_cli.tokens import Span

    doc = nlp("Ada Lovelace wrote the first program. It ran  later.")
    for token, tag in zip(doc, ["NNP", "NNP", "VBD", "DT", "JJ", "NN", ".", "PRP", "VBD", "SP", "RB", "."]):
        token.tag_ = tag
    doc[0].pos_, doc[2].lemma_, doc[2].morph = "PROPN", "write", "Tense=Past|VerbForm=Fin"
    doc[6].is_sent_start, doc[7].is_sent_start = False, True
    doc.ents = [Span(doc, 0, 2, label="PERSON", kb_id="Q7259")]
    doc.cats = {"HISTORY": 0.75}
    doc.spans["sc"] = [Span(doc, 3, 6, label="WORK"), Span(doc, 0, 1, label="NAME", kb_id="Q7259")]
    doc.tensor = numpy.arange(len(doc) * 4, dtype="float32").reshape((len(doc), 4))
    doc.user_data[("._.", "score", None, None)] = 0.5
    return doc


def assert_same_doc(a, b):
    assert a.words == b.words and a.spaces == b.spaces and a.text == b.text
    assert numpy.array_equal(a.cols, b.cols) and numpy.array_equal(a.tensor, b.tensor)
    assert a.cats == b.cats and a.user_data == b.user_data
    assert [(e.start, e.end, e.label_, e.kb_id_) for e in a.ents] == [(e.start, e.end, e.label_, e.kb_id_) for e in b.ents]
    assert {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in a.spans.items()} == \
        {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in b.spans.items()}
    assert [s.text for s in a.sents] == [s.text for s in b.sents]
    for x, y in zip(a, b):
        assert (x.tag_, x.pos_, x.lemma_, x.morph, x.norm_, x.shape_, x.is_stop, x.ent_kb_id_, x.whitespace_) == \
            (y.tag_, y.pos_, y.lemma_, y.morph, y.norm_, y.shape_, y.is_stop, y.ent_kb_id_, y.whitespace_)


def test_doc_bytes_round_trip_exactly_into_a_fresh_vocab():
    from transfer_cli.tokens import Doc

    doc = rich_doc(transfer_cli.blank("en"))
    data = doc.to_bytes()
    other = transfer_cli.blank("en")  # a Vocab that has never seen these strings
    assert "Q7259" not in other.vocab.strings
    back = Doc(other.vocab).from_bytes(data)
    assert_same_doc(doc, back)
    assert back.to_bytes() == data
    lean = Doc(other.vocab).from_bytes(doc.to_bytes(exclude=["user_data", "tensor"]))
    assert lean.user_data == {} and lean.tensor.size == 0 and lean.cats == doc.cats


def test_doc_bytes_errors_are_clear():
    from transfer_cli.errors import DataError
    from transfer_cli.tokens import Doc

    nlp = transfer_cli.blank("en")
    with pytest.raises(DataError, match="not Doc bytes"):
        Doc(nlp.vocab).from_bytes(b"\x93garbage")
    doc = nlp("a b")
    doc.user_data["handle"] = object()
    with pytest.raises(DataError, match="user_data entry 'handle' cannot be serialized.*exclude=\\['user_data'\\]"):
        doc.to_bytes()
    with pytest.raises(ValueError, match="unknown field"):
        doc.to_bytes(exclude=["vocab"])


def test_doc_bytes_are_what_srsly_writes_for_the_same_structure(monkeypatch):
    """Doc.to_bytes packs with one reused Packer: the bytes are srsly.msgpack_dumps's of the
    very structures it packs (the Doc's map and its user_data), also right after a failed pack."""
    import srsly

    from transfer_cli.tokens import Doc, doc_serialize, msgpack_codec

    packed = []

    def recording_dumps(data):
        packed.append((data, msgpack_codec.msgpack_dumps(data)))
        return packed[-1][1]

    monkeypatch.setattr(doc_serialize, "msgpack_dumps", recording_dumps)
    nlp = transfer_cli.blank("en")
    bad = nlp("a b")
    bad.user_data["handle"] = object()
    with pytest.raises(Exception):
        bad.to_bytes()
    packed.clear()
    doc = rich_doc(nlp)
    data = doc.to_bytes()
    assert len(packed) == 2 and packed[-1][1] == data  # user_data, then the Doc's map
    for structure, output in packed:
        assert output == srsly.msgpack_dumps(structure)
    assert msgpack_codec.msgpack_loads(data) == srsly.msgpack_loads(data)
    user_data = packed[0][1]
    assert msgpack_codec.msgpack_loads(user_data, use_list=False) == srsly.msgpack_loads(user_data, use_list=False)
    array = numpy.arange(6, dtype="float32").reshape((2, 3))  # srsly's numpy encoder and decoder still apply
    assert msgpack_codec.msgpack_dumps({"a": array}) == srsly.msgpack_dumps({"a": array})
    assert numpy.array_equal(msgpack_codec.msgpack_loads(srsly.msgpack_dumps({"a": array}))["a"], array)
    back = Doc(transfer_cli.blank("en").vocab).from_bytes(data)
    assert_same_doc(doc, back)
    assert_same_doc(doc, pickle.loads(pickle.dumps(doc)))


def test_doc_bytes_build_no_packer_per_call(monkeypatch):
    """Building a Packer (or srsly's decoder chain) looks srsly's encoders (decoders) up in
    the entry points, ~2 ms each time: many Docs to bytes and back, and pickled, look
    nothing up; a thread of its own builds its own Packer, once."""
    import threading

    import srsly.msgpack

    from transfer_cli.tokens import Doc

    nlp = transfer_cli.blank("en")
    docs = [nlp(f"Doc number {i} is here.") for i in range(200)]
    Doc(nlp.vocab).from_bytes(docs[0].to_bytes())  # first use in this thread
    lookups = {"encoders": 0, "decoders": 0}

    def counted(kind, get_all):
        def get_all_counted():
            lookups[kind] += 1
            return get_all()
        return get_all_counted

    for kind, registered in (("encoders", srsly.msgpack.msgpack_encoders),
                             ("decoders", srsly.msgpack.msgpack_decoders)):
        monkeypatch.setattr(registered, "get_all", counted(kind, registered.get_all))
    srsly.msgpack_dumps({"a": 1})  # what srsly itself does per call: the count works
    assert lookups == {"encoders": 1, "decoders": 0}
    for doc in docs:
        assert Doc(nlp.vocab).from_bytes(doc.to_bytes()).text == doc.text
        pickle.loads(pickle.dumps(doc))
    assert lookups == {"encoders": 1, "decoders": 0}
    results = {}

    def in_a_thread():
        results["bytes"] = [doc.to_bytes() for doc in docs]

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert results["bytes"] == [doc.to_bytes() for doc in docs]
    assert lookups == {"encoders": 2, "decoders": 0}  # the thread's one Packer


def test_doc_bytes_from_threads_at_once_are_exact():
    from concurrent.futures import ThreadPoolExecutor

    nlp = transfer_cli.blank("en")
    docs = [rich_doc(nlp) for _ in range(3)] + [nlp(f"Doc number {i} is here.") for i in range(300)]
    expected = [doc.to_bytes() for doc in docs]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda doc: doc.to_bytes(), docs)) == expected


def test_doc_to_json_has_spacy_layout_and_round_trips():
    from transfer_cli.tokens import Doc

    nlp = transfer_cli.blank("en")
    doc = rich_doc(nlp)
    data = doc.to_json()
    assert data["text"] == doc.text
    assert data["ents"] == [{"start": 0, "end": 12, "label": "PERSON", "kb_id": "Q7259"}]
    assert data["sents"] == [{"start": 0, "end": 37}, {"start": 38, "end": 52}]
    assert data["cats"] == {"HISTORY": 0.75}
    assert data["tokens"][2] == {"id": 2, "start": 13, "end": 18, "tag": "VBD", "pos": "", "morph":
                                 "Tense=Past|VerbForm=Fin", "lemma": "write"}
    assert data["tokens"][9]["start"] == 45 and data["tokens"][9]["end"] == 46  # the extra space is a token
    assert data["spans"]["sc"][0] == {"start": 19, "end": 36, "label": "WORK", "kb_id": ""}
    back = Doc(nlp.vocab).from_json(data)
    assert back.to_json() == data
    assert [t.text_with_ws for t in back] == [t.text_with_ws for t in doc]
    doc[2].dep_ = "ROOT"
    parsed = Doc(nlp.vocab).from_json(doc.to_json())
    assert parsed[2].dep_ == "ROOT" and parsed[0].head.i == 0


def test_doc_from_json_that_does_not_fit_its_text_is_a_clear_error():
    from transfer_cli.errors import DataError
    from transfer_cli.tokens import Doc

    vocab = transfer_cli.blank("en").vocab
    with pytest.raises(DataError, match="tokens\\[1\\] starts at 4"):
        Doc(vocab).from_json({"text": "ab  cd", "tokens": [{"id": 0, "start": 0, "end": 2},
                                                           {"id": 1, "start": 4, "end": 6}]})
    with pytest.raises(DataError, match="ents \\[0, 1\\) does not align"):
        Doc(vocab).from_json({"text": "ab cd", "tokens": [{"id": 0, "start": 0, "end": 2},
                                                          {"id": 1, "start": 3, "end": 5}],
                              "ents": [{"start": 0, "end": 1, "label": "X"}]})


# -- pickling a Doc without its vocabulary ------------------------------------------------------------------
def test_pickled_doc_is_small_and_keeps_its_vocab_in_process(saved_model):
    nlp = transfer_cli.load(saved_model)
    doc = nlp("The quick brown fox jumps over dogs")
    assert len(doc) == 7
    data = pickle.dumps(doc)
    assert len(data) < 10_000, len(data)  # was 1.27 MB: the whole vocabulary came along
    back = pickle.loads(data)
    assert back.vocab is nlp.vocab
    assert_same_doc(doc, back)
    span, token = pickle.loads(pickle.dumps((doc[1:4], doc[3])))
    assert span.text == "quick brown fox" and token.text == "fox" and token.doc is not doc
    assert len(pickle.dumps(doc[1:4])) < 10_000


def test_pickled_doc_loads_exactly_in_a_fresh_process(tmp_path):
    doc = rich_doc(transfer_cli.blank("en"))
    (tmp_path / "doc.pkl").write_bytes(pickle.dumps((doc, doc.ents[0])))
    (tmp_path / "expected.bin").write_bytes(doc.to_bytes())
    script = (
        "import pickle, sys\n"
        "doc, ent = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "expected = open(sys.argv[2], 'rb').read()\n"
        "assert doc.to_bytes() == expected, 'bytes differ'\n"
        "assert doc.user_data == {('._.', 'score', None, None): 0.5}\n"
        "assert (ent.text, ent.label_, ent.kb_id_) == ('Ada Lovelace', 'PERSON', 'Q7259')\n"
        "assert doc.vocab.lang == 'en' and doc[3].is_stop and doc[0].norm_ == 'ada'\n"
        "assert ent.doc is doc\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "doc.pkl"), str(tmp_path / "expected.bin")],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_pickled_doc_of_a_plain_vocab_keeps_its_settings():
    from transfer_cli.tokens import Doc, Vocab

    vocab = Vocab(norm_exceptions={"colour": "color"}, stop_words=["the"], lang="xx")
    doc = Doc(vocab, words=["the", "colour"])
    back = pickle.loads(pickle.dumps(doc))
    assert back.vocab is vocab  # the same process: the same Vocab
    copied = pickle.loads(pickle.dumps(vocab))  # a Vocab pickled as itself is a Vocab of its own
    assert copied is not vocab and copied._reference_key is None


# -- docs -------------------------------------------------------------------------------------------------
def test_python_api_docs_example_runs_as_written():
    import re

    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf8")
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["nlp"].max_length == 2_000_000 and len(namespace["small"]) < 10_000
