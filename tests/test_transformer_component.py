"""The transformer component: doc._.trf_data, annotation setters, nlp.pipe (sorted batches,
input order, memory), saving and loading (a Hugging Face directory, no pickle, no
network), frozen training, and training from configs (init-config --gpu included).
Tiny random models from transformer_fixtures."""
import shutil

import numpy
import pytest
import srsly
import torch
from thinc.api import Adam

import transfer_cli
from conftest import EWT_DEV, EWT_TRAIN, cli
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import DataError, PathError, PipelineError
from transfer_cli.ml.transformer.data import TransformerData
from transfer_cli.ml.transformer.model import hf_model
from transformer_fixtures import WIDTH, tiny_bert_dir, tiny_roberta_dir  # noqa: F401
from transformer_pipelines import (TEXTS, changed, listener, one_torch_thread, tagged_examples,  # noqa: F401
                                   trf_pipeline)

# the most frequent tag of sample_data/en_ewt/train.conllu (NN) is right for 14.5% of the dev tokens
MAJORITY_TAG_DEV_ACCURACY = 0.1445

TAGGER_CONFIG = """
[paths]
train = null
dev = null

[nlp]
lang = "en"
pipeline = ["transformer", "tagger"]

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = "{model}"

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 128
stride = 96

[components.tagger]
factory = "tagger"

[components.tagger.model]
@architectures = "spacy.Tagger.v2"

[components.tagger.model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0

[components.tagger.model.tok2vec.pooling]
@layers = "reduce_mean.v1"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}

[training]
max_steps = 30
eval_frequency = 30
patience = 0

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.002

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
size = 500
tolerance = 0.2
"""


def initialized(model_dir, **settings):
    nlp = trf_pipeline(model_dir, **settings)
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(2):
        nlp.update(examples, sgd=optimizer)
    return nlp


def hidden(doc):
    return doc._.trf_data.model_output.last_hidden_state


# -- doc._.trf_data and nlp.pipe ---------------------------------------------------------------------
def test_trf_data_has_a_row_per_wordpiece_and_aligns_every_token(tiny_bert_dir):
    nlp = initialized(tiny_bert_dir)
    doc = nlp("the cat sat on the mat")
    data = doc._.trf_data
    assert isinstance(data, TransformerData)
    assert data.wordpieces.strings == [["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]]
    assert hidden(doc).shape == (1, 8, WIDTH) and isinstance(hidden(doc), numpy.ndarray)
    assert list(data.align.lengths) == [1] * 6 and list(data.align.dataXd.ravel()) == [1, 2, 3, 4, 5, 6]


def test_pipe_sorts_each_batch_by_length_and_keeps_the_input_order(tiny_bert_dir):
    nlp = initialized(tiny_bert_dir)
    transformer = nlp.get_pipe("transformer")
    seen = []
    predict = transformer.predict
    transformer.predict = lambda docs: seen.append([len(d) for d in docs]) or predict(docs)
    texts = ["hello world", "the cat sat on the mat", "a dog", "the dog is in new york", "hello"] * 3
    docs = list(nlp.pipe(texts, batch_size=5))
    assert [doc.text for doc in docs] == texts
    assert seen == [sorted(len(nlp.make_doc(t)) for t in texts[:5])] * 3
    for doc in docs:  # each doc's output is its own, in numpy, not a view of the batch's arrays
        assert isinstance(hidden(doc), numpy.ndarray) and hidden(doc).base is None
        assert hidden(doc).shape[1] == len(doc) + 2
    alone = nlp("the dog is in new york")
    numpy.testing.assert_allclose(hidden(docs[3]), hidden(alone), atol=1e-5)
    assert [t.tag_ for t in docs[3]] == [t.tag_ for t in alone]


def test_drop_trf_data_after_listeners_frees_it_once_read(tiny_bert_dir):
    nlp = initialized(tiny_bert_dir, listeners={"tagger": listener(), "pos": listener()},
                      drop_trf_data_after_listeners=True)
    listeners = nlp.get_pipe("transformer").listeners
    assert [l.attrs["drop_trf_data_after_read"] for l in listeners] == [False, True]  # the last one drops
    docs = list(nlp.pipe(TEXTS * 5, batch_size=4))
    assert all(doc._.trf_data is None for doc in docs)
    assert all(token.tag_ and token.pos_ for doc in docs for token in doc)
    kept = trf_pipeline(tiny_bert_dir)
    kept.initialize(lambda: tagged_examples(kept))
    assert all(doc._.trf_data is not None for doc in kept.pipe(TEXTS))


def test_empty_docs_and_texts(tiny_bert_dir):
    nlp = initialized(tiny_bert_dir)
    docs = list(nlp.pipe(["", "hello world", ""]))
    assert [len(d) for d in docs] == [0, 2, 0]
    assert hidden(docs[1]).shape == (1, 4, WIDTH)
    assert len(docs[0]._.trf_data.align.lengths) == 0
    assert len(nlp("")) == 0
    nlp.update([eg for eg in tagged_examples(nlp)][:0])  # an empty batch is a no-op


def test_max_batch_items_reaches_the_model_and_is_checked(tiny_bert_dir):
    nlp = trf_pipeline(tiny_bert_dir, max_batch_items=64)
    transformer = nlp.get_pipe("transformer")
    assert transformer.model.attrs["max_batch_items"] == 64
    with pytest.raises(PipelineError, match="max_batch_items must be a positive number"):
        transformer.max_batch_items = 0


# -- annotation setters -------------------------------------------------------------------------------
def test_annotation_setter_assigned_at_run_time(tiny_bert_dir):
    nlp = initialized(tiny_bert_dir)
    calls = []
    nlp.get_pipe("transformer").set_extra_annotations = lambda docs, batch: calls.append(
        ([d.text for d in docs], batch.width))
    list(nlp.pipe(["hello world", "the cat sat"]))
    assert calls == [(["hello world", "the cat sat"], WIDTH)]
    with pytest.raises(PipelineError, match="set_extra_annotations must be a function"):
        nlp.get_pipe("transformer").set_extra_annotations = "not a function"


SETTER_CODE = '''
from transfer_cli import registry
from transfer_cli.tokens import Doc

Doc.set_extension("n_wordpieces", default=None, force=True)


@registry.annotation_setters("count_wordpieces.v1")
def configure_count_wordpieces(extra: int):
    def set_counts(docs, full_batch):
        for doc, data in zip(docs, full_batch.doc_data):
            doc._.n_wordpieces = sum(data.wordpieces.lengths) + extra
    return set_counts
'''


def test_annotation_setter_registered_with_code(tiny_bert_dir, tmp_path):
    code = tmp_path / "setters.py"
    code.write_text(SETTER_CODE, encoding="utf8")
    config = tmp_path / "trf.cfg"
    config.write_text(TAGGER_CONFIG.format(model=tiny_bert_dir) + "\n[components.transformer.set_extra_annotations]\n"
                      "@annotation_setters = \"count_wordpieces.v1\"\nextra = 100\n", encoding="utf8")
    status, output = cli("train", config, "--code", code, "--paths.train", EWT_DEV, "--paths.dev", EWT_DEV,
                         "--training.max_steps", 2, "--training.eval_frequency", 2, "--output", tmp_path / "out")
    assert status == 0, output
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")  # the setter's registration is in this process
    doc = nlp("hello world")
    assert doc._.n_wordpieces == 4 + 100


# -- saving and loading ----------------------------------------------------------------------------
def test_save_and_load_give_identical_trf_data_and_predictions(tiny_roberta_dir, tmp_path):
    model_dir = tmp_path / "roberta"
    shutil.copytree(tiny_roberta_dir, model_dir)
    nlp = initialized(model_dir, listeners={"tagger": listener(), "pos": listener()})
    docs = list(nlp.pipe(TEXTS))
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(model_dir)  # the saved pipeline needs nothing from the directory it was trained from
    saved = tmp_path / "pipeline" / "transformer"
    names = sorted(p.name for p in (saved / "hf").iterdir())
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(names)
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl"))]
    assert srsly.read_json(saved / "cfg.json") == {"max_batch_items": 4096, "drop_trf_data_after_listeners": False}
    loaded = transfer_cli.load(tmp_path / "pipeline")
    assert len(loaded.get_pipe("transformer").listeners) == 2
    for doc, again in zip(docs, loaded.pipe(TEXTS)):
        assert again._.trf_data.wordpieces.strings == doc._.trf_data.wordpieces.strings
        numpy.testing.assert_array_equal(hidden(again), hidden(doc))
        numpy.testing.assert_array_equal(again._.trf_data.align.dataXd, doc._.trf_data.align.dataXd)
        assert [(t.tag_, t.pos_) for t in again] == [(t.tag_, t.pos_) for t in doc]
    # and it goes on training from the saved weights
    before = {k: v.clone() for k, v in hf_model(loaded.get_pipe("transformer").model).state_dict().items()}
    loaded.update(tagged_examples(loaded), sgd=Adam(0.01))
    assert changed(before, hf_model(loaded.get_pipe("transformer").model).state_dict())


@pytest.fixture(scope="module")
def saved_pipeline(tiny_bert_dir, tmp_path_factory):
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("saved") / "pipeline"
    initialized(tiny_bert_dir).to_disk(path)
    return path


def test_loading_refuses_pickled_weights(saved_pipeline, tmp_path):
    path = tmp_path / "pipeline"
    shutil.copytree(saved_pipeline, path)
    (path / "transformer" / "hf" / "pytorch_model.bin").write_bytes(b"\x80\x04 not loaded")
    with pytest.raises(PathError, match="pickle-based format .* refusing to load it"):
        transfer_cli.load(path)


@pytest.mark.parametrize("damage, error, message", [
    (lambda hf: (hf / "model.safetensors").write_bytes(b"\x00" * 20), DataError, "not a safetensors file"),
    (lambda hf: (hf / "model.safetensors").write_bytes(b""), DataError, "is empty"),
    (lambda hf: (hf / "config.json").write_text("{\"model_type\": \"no-such-model\"}"), DataError,
     "names no known model_type"),
    (lambda hf: (hf / "config.json").write_text(
        (hf / "config.json").read_text().replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1")),
     DataError, "do not fit its config"),
    (lambda hf: shutil.rmtree(hf), PathError, "is missing"),
])
def test_a_damaged_saved_transformer_is_one_clear_error(saved_pipeline, tmp_path, damage, error, message):
    path = tmp_path / "pipeline"
    shutil.copytree(saved_pipeline, path)
    # as saved before file checksums were recorded: the transformer's own readers catch the damage
    meta = srsly.read_json(path / "meta.json")
    del meta["file_sha256"]
    srsly.write_json(path / "meta.json", meta)
    damage(path / "transformer" / "hf")
    with pytest.raises(error, match=message) as info:
        transfer_cli.load(path)
    assert "\n" not in str(info.value) and str(path / "transformer") in str(info.value)


def test_saving_an_uninitialized_transformer_is_a_clear_error(tiny_bert_dir, tmp_path):
    with pytest.raises(PipelineError, match="its transformer is not loaded yet"):
        trf_pipeline(tiny_bert_dir).to_disk(tmp_path / "pipeline")
    assert not (tmp_path / "pipeline").exists()


# -- training from configs -----------------------------------------------------------------------------
def test_tagger_on_a_transformer_trains_from_a_config_and_beats_the_majority_tag(tiny_bert_dir, tmp_path):
    config = tmp_path / "trf.cfg"
    config.write_text(TAGGER_CONFIG.format(model=tiny_bert_dir), encoding="utf8")
    status, output = cli("train", config, "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV,
                         "--output", tmp_path / "out")
    assert status == 0, output
    log = srsly.read_jsonl(tmp_path / "out" / "training_log.jsonl")
    accuracy = list(log)[-1]["scores"]["tag_acc"]
    assert accuracy > MAJORITY_TAG_DEV_ACCURACY + 0.1, accuracy
    nlp = transfer_cli.load(tmp_path / "out" / "model-best")
    assert nlp.evaluate(_dev_examples(nlp))["tag_acc"] == pytest.approx(accuracy)


def _dev_examples(nlp):
    from transfer_cli.training.corpus import Corpus

    return list(Corpus(str(EWT_DEV))(nlp))


def test_frozen_transformer_trains_only_the_heads(tiny_bert_dir, tmp_path, monkeypatch):
    calls = []
    real_backward = torch.autograd.backward
    monkeypatch.setattr(torch.autograd, "backward", lambda *a, **k: calls.append(1) or real_backward(*a, **k))
    config = tmp_path / "trf.cfg"
    config.write_text(TAGGER_CONFIG.format(model=tiny_bert_dir), encoding="utf8")
    common = ("--paths.train", EWT_DEV, "--paths.dev", EWT_DEV, "--training.max_steps", 4,
              "--training.eval_frequency", 4, "--training.frozen_components", '["transformer"]')
    status, output = cli("train", config, *common)
    assert status == 1
    assert ("'transformer' is frozen and ['tagger'] listen to it: add 'transformer' to [training] "
            "annotating_components too") in output
    status, output = cli("train", config, *common, "--training.annotating_components", '["transformer"]',
                         "--output", tmp_path / "out")
    assert status == 0, output
    assert calls == []
    from safetensors.torch import load_file

    original = load_file(str(tiny_bert_dir / "model.safetensors"))
    trained = load_file(str(tmp_path / "out" / "model-last" / "transformer" / "hf" / "model.safetensors"))
    assert all(torch.equal(original[key], trained[key]) for key in original if key in trained)
    assert (tmp_path / "out" / "model-last" / "tagger" / "model").stat().st_size > 0


def test_init_config_gpu_validates_and_trains_with_a_local_model(tiny_bert_dir, tmp_path):
    config = tmp_path / "gpu.cfg"
    status, output = cli("init-config", config, "--gpu", "-p", "tagger,ner,textcat")
    assert status == 0, output
    status, output = cli("debug-config", config, "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV)
    assert status == 0 and "is valid" in output, output
    tagger_config = tmp_path / "tagger.cfg"
    init_config(pipeline=["tagger"], gpu=True).to_disk(tagger_config)
    common = ("--paths.train", EWT_DEV, "--paths.dev", EWT_DEV, "--training.max_steps", 2,
              "--training.eval_frequency", 2)
    status, output = cli("train", tagger_config, *common)
    assert status == 1
    assert "no local directory 'models/roberta-base'" in output and output.count("✘") == 1
    status, output = cli("train", tagger_config, *common, "--components.transformer.model.name", tiny_bert_dir,
                         "--output", tmp_path / "out")
    assert status == 0, output
    assert "Best score" in output
    assert (tmp_path / "out" / "model-best" / "transformer" / "hf" / "model.safetensors").exists()


def test_a_model_path_that_is_not_a_transformer_is_one_line(tmp_path):
    config = tmp_path / "trf.cfg"
    (tmp_path / "not_a_model").mkdir()
    config.write_text(TAGGER_CONFIG.format(model=tmp_path / "not_a_model"), encoding="utf8")
    status, output = cli("train", config, "--paths.train", EWT_DEV, "--paths.dev", EWT_DEV)
    assert status == 1
    assert "not a Hugging Face transformer directory: it has no config.json" in output
    assert output.count("✘") == 1 and "Traceback" not in output


def test_transformer_can_be_frozen_without_a_source(tiny_bert_dir):
    """Other components cannot be frozen unless loaded from a trained pipeline; a transformer
    can, its weights come from its model directory."""
    assert getattr(trf_pipeline(tiny_bert_dir).get_pipe("transformer"), "pretrained") is True
    assert not getattr(trf_pipeline(tiny_bert_dir).get_pipe("tagger"), "pretrained", False)



def test_spacys_own_gpu_config_validates_and_trains_unchanged(tiny_bert_dir, tmp_path):
    """spaCy 3.8's `init config -p tagger,ner --gpu` output, its model name overridden to a
    local directory, on the spaCy-written DocBin fixture (tags and entities)."""
    from conftest import ROOT

    config = ROOT / "tests" / "fixtures" / "spacy_configs" / "tagger_ner_gpu.cfg"
    data = ROOT / "tests" / "fixtures" / "spacy_docbin.spacy"
    status, output = cli("debug-config", config, "--paths.train", data, "--paths.dev", data)
    assert status == 0 and "is valid" in output, output
    status, output = cli("train", config, "--paths.train", data, "--paths.dev", data, "--training.max_steps", 2,
                         "--training.eval_frequency", 2, "--components.transformer.model.name", tiny_bert_dir,
                         "--output", tmp_path / "out")
    assert status == 0, output
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["transformer", "tagger", "ner"]
    assert len(nlp.get_pipe("transformer").listeners) == 2
