"""Long docs at prediction time run through the network in overlapping windows
(ml/windowed.py): the output equals the whole-doc forward for every encoder whose
context is bounded (maxout and mish window CNNs, over hash, character and static-vector
embeddings), and models whose context is not known are run whole.

"Equal" is to float rounding: BLAS rounds a row's products by where the row falls in
the matrix, so a doc's whole-doc output already moves by ~5e-6 with the other docs of
its batch (test_batch_composition_already_moves_the_output_by_rounding). The test that
a window one token too narrow differs by far more shows the comparison can fail."""
from pathlib import Path
from typing import List

import numpy
import pytest
from thinc.api import Model, chain, fix_random_seed

import transfer_cli
from conftest import NER_DEV, NER_TRAIN, SAMPLE, listener, shared_config, tagger, tok2vec_model
from transfer_cli.ml import windowed
from transfer_cli.ml.character_embed import CharacterEmbed
from transfer_cli.ml.embeddings import MultiHashEmbed
from transfer_cli.ml.encoders import MaxoutWindowEncoder, MishWindowEncoder
from transfer_cli.ml.tok2vec import build_hash_embed_cnn_tok2vec, build_Tok2Vec_model
from transfer_cli.ml.windowed import DocWindow, predict_in_windows, token_context
from transfer_cli.pipeline.build import pipeline_from_config
from transfer_cli.tokens.doc import Doc
from transfer_cli.training.init_vectors import init_vectors

ROUNDING = 1e-4  # ~20x the batch-composition effect; a missing context token moves rows by ~1e-1
WINDOW = 97  # small, and not a divisor of the docs' lengths: several pieces and a short last one


def sample_text(n_chars: int) -> str:
    return NER_TRAIN.read_text(encoding="utf8")[:n_chars]


@pytest.fixture(scope="module")
def vectors_nlp(tmp_path_factory):
    """A blank pipeline whose vocab has the sample GloVe table (for the static-vectors embed)."""
    path = tmp_path_factory.mktemp("vectors") / "glove"
    init_vectors("en", SAMPLE / "vectors" / "glove_small.txt", path)
    return transfer_cli.load(path)


def tok2vec_of(kind: str) -> Model:
    fix_random_seed(0)
    if kind == "maxout-cnn":  # spacy.HashEmbedCNN: MultiHashEmbed + MaxoutWindowEncoder
        return build_hash_embed_cnn_tok2vec(width=32, depth=3, embed_size=500, window_size=1, maxout_pieces=3,
                                            subword_features=True, pretrained_vectors=False)
    if kind == "mish-cnn":
        return build_Tok2Vec_model(MultiHashEmbed(24, ["NORM", "PREFIX"], [300, 200], False),
                                   MishWindowEncoder(24, window_size=2, depth=3))
    if kind == "chars-maxout":
        return build_Tok2Vec_model(CharacterEmbed(32, 500, 8, 4, False), MaxoutWindowEncoder(32, 1, 2, 4))
    if kind == "static-vectors-maxout":
        return build_Tok2Vec_model(MultiHashEmbed(32, ["NORM", "SHAPE"], [500, 50], True),
                                   MaxoutWindowEncoder(32, 2, 3, 2))
    raise ValueError(kind)


def docs_for(nlp) -> List[Doc]:
    """A doc shorter than the window, one several windows long, and one just over a window."""
    long_doc = nlp.make_doc(sample_text(6000))
    assert len(long_doc) > 5 * WINDOW and len(long_doc) % WINDOW
    just_over = nlp.make_doc(" ".join(token.text for token in long_doc[:WINDOW + 3]))
    assert len(just_over) > WINDOW
    return [nlp.make_doc("The cat sat on the mat ."), long_doc, just_over]


@pytest.mark.parametrize("kind", ["maxout-cnn", "mish-cnn", "chars-maxout", "static-vectors-maxout"])
def test_windowed_forward_equals_the_whole_doc_forward(kind, vectors_nlp):
    nlp = vectors_nlp if kind == "static-vectors-maxout" else transfer_cli.blank("en")
    model = tok2vec_of(kind)
    docs = docs_for(nlp)
    model.initialize(X=docs)
    encode = model.get_ref("encode")
    n_blocks = len(encode.layers)
    assert token_context(model) == encode.layers[0].attrs["window_size"] * n_blocks > 0
    whole = [model.predict([doc])[0] for doc in docs]
    windows = predict_in_windows(model, docs, token_context(model), window=WINDOW)
    assert [w.shape for w in windows] == [w.shape for w in whole]
    for doc_whole, doc_windowed in zip(whole, windows):
        numpy.testing.assert_allclose(doc_windowed, doc_whole, rtol=0, atol=ROUNDING)
    # the short doc is not cut: it goes through the forward whole (with the batch's other short docs)
    assert numpy.array_equal(windows[0], whole[0])


def test_a_window_one_token_short_of_the_context_differs(vectors_nlp):
    """The context is tight: one token less and rows next to the cuts change."""
    model = tok2vec_of("maxout-cnn")
    docs = docs_for(transfer_cli.blank("en"))
    model.initialize(X=docs)
    whole = model.predict([docs[1]])[0]
    short = predict_in_windows(model, [docs[1]], token_context(model) - 1, window=WINDOW)[0]
    assert numpy.abs(short - whole).max() > 100 * ROUNDING


def test_batch_composition_already_moves_the_output_by_rounding():
    model = tok2vec_of("maxout-cnn")
    nlp = transfer_cli.blank("en")
    docs = docs_for(nlp)
    model.initialize(X=docs)
    alone = model.predict([docs[1]])[0]
    batched = model.predict([nlp.make_doc("Another doc first ."), docs[1]])[1]
    assert numpy.abs(alone - batched).max() < ROUNDING


def test_doc_window_reads_the_doc_rows(vectors_nlp):
    doc = vectors_nlp.make_doc(sample_text(500))
    window = DocWindow(doc, 5, 17)
    assert len(window) == 12 and window.vocab is doc.vocab
    assert numpy.array_equal(window.to_array(["NORM", "LENGTH", "IS_ALPHA"]),
                             doc.to_array(["NORM", "LENGTH", "IS_ALPHA"])[5:17])
    assert numpy.array_equal(window.to_array("ORTH"), doc.to_array("ORTH")[5:17])


class CountingModel:
    """Wraps a model's predict to record the lengths of the inputs it was given."""

    def __init__(self, model: Model) -> None:
        self.model, self.calls = model, []
        self.ops = model.ops

    def predict(self, docs):
        self.calls.append([len(doc) for doc in docs])
        return self.model.predict(docs)


def test_models_without_a_bounded_context_run_whole():
    nlp = transfer_cli.blank("en")
    docs = docs_for(nlp)
    embed = MultiHashEmbed(16, ["NORM"], [100], False)
    # an encoder this package did not mark (a user's, an LSTM's): its context is unknown
    unknown = Model("users_encoder", lambda model, X, is_train: (X, lambda dY: dY), attrs={"receptive_field": 1})
    for model in (build_Tok2Vec_model(embed, unknown), chain(embed, unknown)):
        assert token_context(model) is None
    model = build_Tok2Vec_model(embed, unknown)
    model.initialize(X=docs)
    counting = CountingModel(model)
    predict_in_windows(counting, docs, token_context(model), window=WINDOW)
    assert counting.calls == [[len(doc) for doc in docs]]
    # a per-token model (context 0) is cut into plain windows; a known one gets its margins
    counting = CountingModel(tok2vec_of("maxout-cnn"))
    counting.model.initialize(X=docs)
    predict_in_windows(counting, [docs[1]], 3, window=WINDOW)
    assert all(max(call) <= WINDOW + 2 * 3 for call in counting.calls) and len(counting.calls) > 5


@pytest.mark.parametrize("shared", [True, False], ids=["listener", "own-tok2vec"])
def test_a_tagger_pipeline_tags_a_long_doc_as_the_whole_doc_forward(shared, monkeypatch):
    width = 32
    if shared:
        config = shared_config(tok2vec_model(width=width, depth=2), {"tagger": tagger(listener(width))},
                               NER_TRAIN, NER_DEV)
    else:
        config = shared_config(None, {"tagger": tagger(tok2vec_model(width=width, depth=2))}, NER_TRAIN, NER_DEV)
        config["nlp"]["pipeline"] = ["tagger"]
        del config["components"]["tok2vec"]
    nlp = pipeline_from_config(config)
    from transfer_cli.tokens.example import Example

    doc = nlp.make_doc("The cat sat on the mat .")
    nlp.initialize(lambda: [Example.from_dict(doc, {"tags": ["D", "N", "V", "P", "D", "N", "."]})])
    output_layer = nlp.get_pipe("tagger").model.get_ref("output_layer")
    # random output weights (the initial ones are zeros: every token would get the first tag)
    output_layer.set_param("W", numpy.random.default_rng(0).standard_normal(
        output_layer.get_param("W").shape).astype("float32"))
    text = sample_text(8000)
    monkeypatch.setattr(windowed, "WINDOW_TOKENS", 1_000_000)
    whole = nlp(text)
    monkeypatch.setattr(windowed, "WINDOW_TOKENS", WINDOW)
    cut = nlp(text)
    assert len(cut) > 10 * WINDOW
    assert [t.tag_ for t in cut] == [t.tag_ for t in whole]
    assert len({t.tag_ for t in cut}) > 3
    if shared:
        numpy.testing.assert_allclose(cut.tensor, whole.tensor, rtol=0, atol=ROUNDING)
