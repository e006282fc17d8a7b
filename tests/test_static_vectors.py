"""The StaticVectors layer: projection of the table's rows, no gradient into the table,
errors for missing or different vectors, MultiHashEmbed with static vectors, training a
tagger with vectors, and the custom embedding example of docs/vectors.md."""
import re

import numpy
import pytest
from conftest import EWT_DEV as DEV
from conftest import EWT_TRAIN as TRAIN
from conftest import ROOT, SAMPLE, cli, starter_config
from thinc.api import Adam

import transfer_cli
from transfer_cli.config.quickstart import init_config
from transfer_cli.config.registry import load_registrations, registry
from transfer_cli.errors import ConfigError, PipelineError
from transfer_cli.ml.static_vectors import StaticVectors
from transfer_cli.tokens import Doc
from transfer_cli.tokens.vectors import Vectors
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.train import train_from_config

GLOVE = SAMPLE / "vectors" / "glove_small.txt"


def small_vocab(name="small"):
    nlp = transfer_cli.blank("en")
    data = numpy.array([[1, 0, 0], [0, 2, 0], [0, 0, 3]], dtype=numpy.float32)
    nlp.vocab.vectors = Vectors(data=data, keys=["a", "b", "c"], name=name)
    return nlp.vocab


def test_forward_projects_the_rows_and_unknown_words_get_zeros():
    vocab = small_vocab()
    docs = [Doc(vocab, words=["a", "zz", "c"]), Doc(vocab, words=["b"])]
    model = StaticVectors(nO=4)
    model.initialize(X=docs)
    assert model.get_dim("nM") == 3
    W = model.get_param("W")
    Y, backprop = model(docs, is_train=False)
    V = numpy.array([[1, 0, 0], [0, 0, 0], [0, 0, 3], [0, 2, 0]], dtype=numpy.float32)
    assert Y.lengths.tolist() == [3, 1]
    assert numpy.allclose(Y.data, V @ W.T, atol=1e-6)
    assert not Y.data[1].any()


def test_backprop_updates_W_and_never_the_table():
    vocab = small_vocab()
    before = vocab.vectors.data.copy()
    docs = [Doc(vocab, words=["a", "b", "c", "a"])]
    model = StaticVectors(nO=2, dropout=0.0)
    model.initialize(X=docs)
    W0 = model.get_param("W").copy()
    Y, backprop = model(docs, is_train=True)
    dY = numpy.ones_like(Y.data)
    assert backprop(type(Y)(dY, Y.lengths)) == []
    V = vocab.vectors.get_batch(["a", "b", "c", "a"])
    assert numpy.allclose(model.get_grad("W"), dY.T @ V)
    model.finish_update(Adam(0.1))
    assert not numpy.array_equal(model.get_param("W"), W0)
    assert numpy.array_equal(vocab.vectors.data, before)


def test_dropout_masks_output_dimensions_for_the_whole_batch():
    vocab = small_vocab()
    docs = [Doc(vocab, words=["a", "b", "c"] * 10)]
    model = StaticVectors(nO=64, dropout=0.5)
    model.initialize(X=docs)
    Y, _ = model(docs, is_train=True)
    dropped = ~Y.data.any(axis=0)
    assert 10 < dropped.sum() < 54  # whole columns, about half
    assert model(docs, is_train=False)[0].data[:, dropped].any()  # no dropout at prediction


def test_initializing_without_vectors_is_a_config_error():
    nlp = transfer_cli.blank("en")
    model = StaticVectors(nO=4)
    with pytest.raises(ConfigError, match=r"no vectors are loaded.*\[initialize\] vectors"):
        model.initialize(X=[Doc(nlp.vocab, words=["a"])])


def test_other_vectors_than_at_training_are_refused_and_the_check_survives_serialization():
    vocab = small_vocab("trained_with")
    docs = [Doc(vocab, words=["a", "b"])]
    model = StaticVectors(nO=4)
    model.initialize(X=docs)
    restored = StaticVectors(nO=4).from_bytes(model.to_bytes())
    assert numpy.array_equal(restored(docs, is_train=False)[0].data, model(docs, is_train=False)[0].data)
    other = small_vocab("another_table")
    with pytest.raises(PipelineError, match="trained with the vectors 'trained_with'"):
        restored([Doc(other, words=["a"])], is_train=False)
    empty = transfer_cli.blank("en").vocab
    with pytest.raises(PipelineError, match="has none"):
        restored([Doc(empty, words=["a"])], is_train=False)


def test_registered_names_and_multihashembed_with_static_vectors():
    load_registrations()
    assert registry.get("layers", "spacy.StaticVectors.v2") is StaticVectors
    assert registry.has("layers", "spacy.StaticVectors.v1")
    vocab = small_vocab()
    make = registry.get("architectures", "spacy.MultiHashEmbed.v2")
    embed = make(width=8, attrs=["NORM", "SHAPE"], rows=[50, 20], include_static_vectors=True)
    docs = [Doc(vocab, words=["a", "b"]), Doc(vocab, words=["c", "zz", "a"])]
    embed.initialize(X=docs)
    outputs, backprop = embed(docs, is_train=True)
    assert [o.shape for o in outputs] == [(2, 8), (3, 8)]
    backprop([numpy.ones_like(o) for o in outputs])
    static = embed.get_ref("static_vectors")
    assert static.get_dim("nM") == 3 and static.get_grad("W").any()
    legacy = registry.get("architectures", "spacy.MultiHashEmbed.v1")(width=8, rows=50, also_embed_subwords=False,
                                                                      also_use_static_vectors=True)
    legacy.initialize(X=docs)
    assert legacy.get_ref("static_vectors").get_dim("nM") == 3


@pytest.fixture(scope="module")
def vectors_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("vectors") / "vec"
    code, output = cli("init-vectors", "en", GLOVE, out)
    assert code == 0, output
    return out


def test_tagger_trains_with_vectors_and_the_saved_pipeline_keeps_them(vectors_dir, tmp_path):
    config = starter_config(["tagger"], TRAIN, DEV, max_steps=16, eval_frequency=8, vectors=str(vectors_dir),
                            overrides={"corpora.train.limit": 200})
    assert config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is True
    summary = train_from_config(config, tmp_path / "out", quiet=True)
    assert summary["best_scores"]["tag_acc"] > 0.2
    best = tmp_path / "out" / "model-best"
    assert (best / "vocab" / "vectors" / "vectors.npy").exists()
    nlp1, nlp2 = transfer_cli.load(best), transfer_cli.load(best)
    assert nlp1.meta["vectors"]["name"] == "glove_small" and nlp1.vocab.vectors.shape == (700, 50)
    texts = [eg.text for eg in Corpus(DEV, limit=10)(nlp1)]
    for d1, d2 in zip(nlp1.pipe(texts), nlp2.pipe(texts)):
        assert [t.tag_ for t in d1] == [t.tag_ for t in d2] and numpy.array_equal(d1.tensor, d2.tensor)
    static = nlp1.get_pipe("tok2vec").model.get_ref("embed").get_ref("static_vectors")
    assert static.attrs["vectors_name"] == "glove_small"
    nlp1.vocab.vectors = Vectors(data=numpy.zeros((5, 50), dtype=numpy.float32), keys=list(range(1, 6)), name="x")
    with pytest.raises(PipelineError, match="trained with the vectors 'glove_small'"):
        nlp1("the president")


def test_training_a_vectors_config_without_vectors_fails_clearly(vectors_dir, tmp_path):
    config = init_config(pipeline=["tagger"], optimize="efficiency", vectors=str(vectors_dir))
    (tmp_path / "config.cfg").write_text(config.to_str())
    code, output = cli("train", tmp_path / "config.cfg", "--paths.train", TRAIN, "--paths.dev", DEV,
                       "--paths.vectors", "null", "--training.max_steps", 2)
    assert code == 1 and "no vectors are loaded" in output and "[initialize.vectors]" in output, output
    assert "Traceback" not in output


def _docs_example() -> str:
    text = (ROOT / "docs" / "vectors.md").read_text(encoding="utf8")
    match = re.search(r"<!-- example: custom-embedding -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/vectors.md lost its custom embedding example"
    return match.group(1)


def test_the_docs_custom_embedding_example_trains_a_tagger(vectors_dir, tmp_path):
    code_file = tmp_path / "my_embedding.py"
    code_file.write_text(_docs_example(), encoding="utf8")
    config = init_config(pipeline=["tagger"], optimize="efficiency", vectors=str(vectors_dir), shared=False)
    config["components"]["tagger"]["model"]["tok2vec"]["embed"] = {
        "@architectures": "my_example.MyEmbedding.v1", "output_width": 96, "embed_rows": 2000}
    (tmp_path / "config.cfg").write_text(config.to_str())
    code, output = cli("train", tmp_path / "config.cfg", "--code", code_file, "--paths.train", TRAIN,
                       "--paths.dev", DEV, "--training.max_steps", 12, "--training.eval_frequency", 6,
                       "--corpora.train.limit", 200, "--output", tmp_path / "out", "--quiet")
    assert code == 0, output
    # the saved pipeline runs with the registered function available
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    doc = nlp("The president said it .")
    assert all(t.tag_ for t in doc)
    embed = nlp.get_pipe("tagger").model.get_ref("tok2vec").get_ref("embed")
    assert any(node.name == "static_vectors" and node.get_dim("nM") == 50 for node in embed.walk())


def test_floret_vectors_give_every_token_a_row(tmp_path):
    from transfer_cli.training.init_vectors import init_vectors

    init_vectors("en", ROOT / "tests" / "fixtures" / "vectors" / "floret_small.floret", tmp_path / "fl", mode="floret")
    nlp = transfer_cli.load(tmp_path / "fl")
    docs = [nlp("unseenword apple"), nlp("apple")]
    model = StaticVectors(nO=3)
    model.initialize(X=docs)
    Y, _ = model(docs, is_train=False)
    V = nlp.vocab.vectors.get_batch(["unseenword", "apple", "apple"])
    assert V.any(axis=1).all()
    assert numpy.allclose(Y.data, V @ model.get_param("W").T, atol=1e-6)
