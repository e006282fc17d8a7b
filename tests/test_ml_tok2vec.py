"""Embedding and encoding architectures (transfer_cli.ml): gradients against finite
differences, equivalence with thinc's stock layers, shapes of every registered
version, config errors, determinism, empty docs and batches, a 50,000-token doc."""
from pathlib import Path
from typing import Callable, List

import numpy
import pytest
from confection import Config
from thinc.api import (HashEmbed as ThincHashEmbed, LayerNorm as ThincLayerNorm, Maxout as ThincMaxout, Model,
                       Ragged, chain, concatenate, expand_window, fix_random_seed, list2ragged,
                       ragged2list, residual, set_dropout_rate, with_array)

import transfer_cli.ml  # noqa: F401  (registers the architectures)
from transfer_cli.config.registry import registry
from transfer_cli.errors import ConfigError
from transfer_cli.ml import embeddings
from transfer_cli.ml.character_embed import CharEmbed
from transfer_cli.ml.embeddings import HashEmbed, MultiHashEmbed, unique_keys
from transfer_cli.ml.encoders import MaxoutWindowEncoder, MishWindowEncoder
from transfer_cli.ml.featurize import extract_keys, utf8_array
from transfer_cli.ml.layers import LayerNorm, Maxout, MishDense
from transfer_cli.ml.tok2vec import build_Tok2Vec_model
from transfer_cli.tokens import Doc, Vocab
from transfer_cli.tokens import attrs as A

EWT_DEV = Path(__file__).resolve().parent.parent / "sample_data" / "en_ewt" / "dev.conllu"


def read_sentences(limit: int = 60) -> List[List[str]]:
    sentences, words = [], []
    for line in EWT_DEV.read_text(encoding="utf8").splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if words:
                sentences.append(words)
                words = []
            if len(sentences) >= limit:
                break
            continue
        cols = line.split("\t")
        if "-" not in cols[0] and "." not in cols[0]:
            words.append(cols[1])
    return sentences


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab()


@pytest.fixture(scope="module")
def docs(vocab) -> List[Doc]:
    return [Doc(vocab, words=words) for words in read_sentences(12)]


def arch(name: str) -> Callable:
    return registry.get("architectures", name)


# -- helpers for gradient checks -------------------------------------------------------------------
def to_float64(model: Model) -> Model:
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, node.get_param(name).astype("float64"))
    return model


def numeric_gradient(loss: Callable[[], float], array: numpy.ndarray, indices, eps: float = 1e-6) -> numpy.ndarray:
    grads = []
    flat = array.reshape(-1)
    for i in indices:
        saved = flat[i]
        flat[i] = saved + eps
        plus = loss()
        flat[i] = saved - eps
        minus = loss()
        flat[i] = saved
        grads.append((plus - minus) / (2 * eps))
    return numpy.array(grads)


def check_param_gradients(model: Model, X, weights, n_checks: int = 12, rtol: float = 1e-4) -> int:
    """Compare every parameter's analytic gradient of sum(Y * weights) with central
    differences at a few random entries. Returns how many entries were checked."""
    rng = numpy.random.RandomState(0)

    def as_list(Y):
        return Y if isinstance(Y, list) else [Y]

    def loss() -> float:
        Y = as_list(model.predict(X))
        return float(sum((y * w).sum() for y, w in zip(Y, weights)))

    for node in model.walk():  # clear gradients
        for name in node.param_names:
            if node.has_grad(name):
                node.set_grad(name, node.get_grad(name) * 0)
    Y, backprop = model.begin_update(X)
    backprop(weights if isinstance(Y, list) else weights[0])
    checked = 0
    for node in model.walk():
        for name in node.param_names:
            if not node.has_param(name):
                continue
            param = node.get_param(name)
            analytic = node.get_grad(name).reshape(-1) if node.has_grad(name) else numpy.zeros(param.size)
            indices = rng.choice(param.size, size=min(n_checks, param.size), replace=False)
            # include entries with a nonzero gradient (sparse tables would otherwise test zeros only)
            nonzero = numpy.flatnonzero(analytic)
            if len(nonzero):
                indices = numpy.unique(numpy.concatenate([indices, rng.choice(nonzero, min(n_checks, len(nonzero)))]))
            numeric = numeric_gradient(loss, param, indices)
            numpy.testing.assert_allclose(analytic[indices], numeric, rtol=rtol, atol=1e-6,
                                          err_msg=f"{node.name}.{name}")
            checked += len(indices)
    return checked


def random_weights(Y, seed: int = 1):
    rng = numpy.random.RandomState(seed)
    return [rng.uniform(-1, 1, y.shape) for y in (Y if isinstance(Y, list) else [Y])]


# -- gradient checks --------------------------------------------------------------------------------
@pytest.mark.parametrize("nP", [1, 2, 3])
def test_maxout_gradients(nP):
    fix_random_seed(0)
    model = to_float64(Maxout(nO=4, nI=5, nP=nP).initialize())
    X = numpy.random.RandomState(2).uniform(-1, 1, (7, 5))
    Y = model.predict(X)
    weights = random_weights(Y)
    assert check_param_gradients(model, X, weights) > 0
    _, backprop = model.begin_update(X)
    dX = backprop(weights[0])
    loss = lambda: float((model.predict(X) * weights[0]).sum())  # noqa: E731
    numpy.testing.assert_allclose(dX.reshape(-1)[:10], numeric_gradient(loss, X, range(10)), rtol=1e-4, atol=1e-6)


def test_layernorm_and_mish_gradients():
    fix_random_seed(0)
    for model in (LayerNorm(nI=6), MishDense(nO=3, nI=6)):
        model = to_float64(model.initialize())
        if model.name == "layernorm":  # move G and b off their initial 1/0 so they matter
            model.set_param("G", numpy.random.RandomState(3).uniform(0.5, 1.5, 6))
            model.set_param("b", numpy.random.RandomState(4).uniform(-0.5, 0.5, 6))
        X = numpy.random.RandomState(2).uniform(-2, 2, (5, 6))
        weights = random_weights(model.predict(X))
        check_param_gradients(model, X, weights)
        _, backprop = model.begin_update(X)
        dX = backprop(weights[0])
        loss = lambda: float((model.predict(X) * weights[0]).sum())  # noqa: E731
        numpy.testing.assert_allclose(dX.reshape(-1), numeric_gradient(loss, X, range(X.size)), rtol=1e-4,
                                      atol=1e-6, err_msg=model.name)


def test_hashembed_gradient_sums_repeated_keys():
    fix_random_seed(0)
    model = to_float64(HashEmbed(3, 11, seed=8).initialize())
    keys = numpy.array([5, 17, 5, 99, 17, 5, 2 ** 63 + 1], dtype="uint64")
    weights = random_weights(model.predict(keys))
    assert check_param_gradients(model, keys, weights, n_checks=33) >= 33


def test_encoder_gradients_across_doc_boundaries():
    fix_random_seed(0)
    for model in (MaxoutWindowEncoder(width=4, window_size=2, maxout_pieces=3, depth=2),
                  MishWindowEncoder(width=4, window_size=1, depth=2)):
        model = to_float64(model.initialize())
        rng = numpy.random.RandomState(5)
        X = [rng.uniform(-1, 1, (n, 4)) for n in (3, 1, 0, 5)]
        weights = random_weights(model.predict(X))
        check_param_gradients(model, X, weights)
        _, backprop = model.begin_update(X)
        dX = backprop(weights)
        for i, x in enumerate(X):
            if not len(x):
                assert dX[i].shape == (0, 4)
                continue

            def loss() -> float:
                return float(sum((y * w).sum() for y, w in zip(model.predict(X), weights)))

            numpy.testing.assert_allclose(dX[i].reshape(-1), numeric_gradient(loss, x, range(x.size)), rtol=1e-4,
                                          atol=1e-6, err_msg=f"{model.name} doc {i}")


def test_tok2vec_and_character_embed_gradients(vocab):
    fix_random_seed(0)
    tiny_docs = [Doc(vocab, words=["The", "cat", "sat", "."]), Doc(vocab, words=[]),
                 Doc(vocab, words=["Zoë", "the", "cat", "the"])]
    tok2vec = build_Tok2Vec_model(MultiHashEmbed(4, ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [7, 5, 5, 3], False),
                                  MaxoutWindowEncoder(width=4, window_size=1, maxout_pieces=2, depth=1))
    chars = build_Tok2Vec_model(arch("spacy.CharacterEmbed.v2")(width=3, rows=7, nM=2, nC=3,
                                                                 include_static_vectors=False),
                                MishWindowEncoder(width=3, window_size=1, depth=1))
    for model in (tok2vec, chars):
        model = to_float64(model.initialize())
        if model is chars:  # CharEmbed starts at zero; give it values so its gradient path is exercised
            table = next(node for node in model.walk() if node.name == "charembed")
            table.set_param("E", numpy.random.RandomState(6).uniform(-0.1, 0.1, table.get_param("E").shape))
        weights = random_weights(model.predict(tiny_docs))
        assert check_param_gradients(model, tiny_docs, weights) > 50


# -- equivalence with thinc's layers -------------------------------------------------------------------
def test_hashembed_matches_thinc_forward_and_gradient():
    fix_random_seed(0)
    ours = HashEmbed(8, 50, seed=9).initialize()
    theirs = ThincHashEmbed(8, 50, seed=9).initialize()
    theirs.set_param("E", ours.get_param("E").copy())
    keys = numpy.random.RandomState(0).randint(0, 40, 300).astype("uint64") * numpy.uint64(0x9E3779B97F4A7C15)
    Y1, bp1 = ours.begin_update(keys)
    Y2, bp2 = theirs.begin_update(keys)
    numpy.testing.assert_allclose(Y1, Y2, rtol=1e-6)
    dY = numpy.random.RandomState(1).uniform(-1, 1, Y1.shape).astype("f")
    bp1(dY.copy())
    bp2(dY.copy())
    numpy.testing.assert_allclose(ours.get_grad("E"), theirs.get_grad("E"), rtol=1e-5, atol=1e-6)


def test_maxout_and_layernorm_match_thinc():
    fix_random_seed(0)
    ours = Maxout(nO=5, nI=7, nP=3).initialize()
    theirs = ThincMaxout(nO=5, nI=7, nP=3).initialize()
    theirs.set_param("W", ours.get_param("W").transpose((1, 0, 2)).copy())
    theirs.set_param("b", ours.get_param("b").T.copy())
    X = numpy.random.RandomState(0).uniform(-1, 1, (9, 7)).astype("f")
    Y1, bp1 = ours.begin_update(X)
    Y2, bp2 = theirs.begin_update(X)
    numpy.testing.assert_allclose(Y1, Y2, rtol=1e-5, atol=1e-6)
    dY = numpy.random.RandomState(1).uniform(-1, 1, Y1.shape).astype("f")
    numpy.testing.assert_allclose(bp1(dY), bp2(dY), rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(ours.get_grad("W"), theirs.get_grad("W").transpose((1, 0, 2)), rtol=1e-5,
                                  atol=1e-6)
    norm, thinc_norm = LayerNorm(nI=7).initialize(), ThincLayerNorm(nI=7).initialize()
    Z1, bpn1 = norm.begin_update(X)
    Z2, bpn2 = thinc_norm.begin_update(X)
    numpy.testing.assert_allclose(Z1, Z2, rtol=1e-5, atol=1e-5)
    dZ = numpy.random.RandomState(2).uniform(-1, 1, X.shape).astype("f")
    numpy.testing.assert_allclose(bpn1(dZ), bpn2(dZ), rtol=1e-4, atol=1e-5)


def test_tok2vec_matches_thinc_composition(docs):
    """With depth 1 spaCy's composition (thinc HashEmbed, concatenate, Maxout with
    LayerNorm, expand_window, with_array padding) computes exactly what ours does."""
    fix_random_seed(0)
    attrs, rows, width = ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [300, 50, 100, 100], 16
    ours = build_Tok2Vec_model(MultiHashEmbed(width, attrs, rows, False),
                               MaxoutWindowEncoder(width=width, window_size=1, maxout_pieces=3, depth=1))
    ours.initialize()
    columns = A.intify_attrs(attrs)

    def extract(model, docs, is_train):
        return [doc.to_array(columns) for doc in docs], lambda d: []

    tables = [ThincHashEmbed(width, n, column=i, seed=8 + i, dropout=0.0) for i, n in enumerate(rows)]
    mix = ThincMaxout(width, width * 4, nP=3, dropout=0.0, normalize=True)
    block = ThincMaxout(width, width * 3, nP=3, dropout=0.0, normalize=True)
    theirs = chain(Model("extract", extract), list2ragged(), with_array(concatenate(*tables)), with_array(mix),
                   ragged2list(), with_array(residual(chain(expand_window(1), block)), pad=1))
    theirs.initialize()
    our_tables = [n for n in ours.walk() if n.name == "hashembed"]
    thinc_tables = [n for n in theirs.walk() if n.name == "hashembed"]  # inside chain(getitem, hashembed)
    for table, our_table in zip(thinc_tables, our_tables):
        table.set_param("E", our_table.get_param("E"))
    our_maxouts = [n for n in ours.walk() if n.name == "maxout"]
    our_norms = [n for n in ours.walk() if n.name == "layernorm"]
    for thinc_maxout, our_maxout, our_norm in zip((mix, block), our_maxouts, our_norms):
        dense, norm = thinc_maxout.layers[0].layers
        dense.set_param("W", our_maxout.get_param("W").transpose((1, 0, 2)).copy())
        dense.set_param("b", our_maxout.get_param("b").T.copy())
        norm.set_param("G", our_norm.get_param("G") + 0.1)
        our_norm.set_param("G", our_norm.get_param("G") + 0.1)
    for y1, y2 in zip(ours.predict(docs), theirs.predict(docs)):
        numpy.testing.assert_allclose(y1, y2, rtol=1e-4, atol=1e-5)


# -- every registered architecture and version through a config ------------------------------------
CONFIGS = {
    "v2": """
[model]
@architectures = "spacy.Tok2Vec.v2"
[model.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 32
attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]
rows = [500,100,250,250]
include_static_vectors = false
[model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 32
window_size = 1
maxout_pieces = 3
depth = 2
""",
    "v1 legacy form": """
[model]
@architectures = "spacy.Tok2Vec.v1"
[model.embed]
@architectures = "spacy.MultiHashEmbed.v1"
width = 32
rows = 500
also_embed_subwords = true
also_use_static_vectors = false
[model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v1"
width = 32
window_size = 1
maxout_pieces = 3
depth = 2
""",
    "v1 attrs form": """
[model]
@architectures = "spacy.Tok2Vec.v2"
[model.embed]
@architectures = "spacy.MultiHashEmbed.v1"
width = 32
attrs = ["ORTH","LOWER"]
rows = [500,500]
include_static_vectors = false
[model.encode]
@architectures = "spacy.MishWindowEncoder.v2"
width = 32
window_size = 2
depth = 2
""",
    "mish v1": """
[model]
@architectures = "spacy.Tok2Vec.v1"
[model.embed]
@architectures = "spacy.MultiHashEmbed.v1"
width = 32
rows = 500
also_embed_subwords = false
also_use_static_vectors = false
[model.encode]
@architectures = "spacy.MishWindowEncoder.v1"
width = 32
window_size = 1
depth = 1
""",
    "hashembedcnn v2": """
[model]
@architectures = "spacy.HashEmbedCNN.v2"
width = 32
depth = 2
embed_size = 500
window_size = 1
maxout_pieces = 3
subword_features = true
pretrained_vectors = null
""",
    "hashembedcnn v1": """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = false
pretrained_vectors = false
""",
    "characterembed v2": """
[model]
@architectures = "spacy.Tok2Vec.v2"
[model.embed]
@architectures = "spacy.CharacterEmbed.v2"
width = 32
rows = 500
nM = 8
nC = 4
include_static_vectors = false
[model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 32
window_size = 1
maxout_pieces = 3
depth = 1
""",
    "characterembed v1": """
[model]
@architectures = "spacy.Tok2Vec.v1"
[model.embed]
@architectures = "spacy.CharacterEmbed.v1"
width = 32
rows = 500
nM = 8
nC = 4
also_use_static_vectors = false
feature = "NORM"
[model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v1"
width = 32
window_size = 1
maxout_pieces = 3
depth = 1
""",
    "tok2vec v1 with an array encoder": """
[model]
@architectures = "spacy.Tok2Vec.v1"
[model.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 32
attrs = ["NORM"]
rows = [500]
include_static_vectors = false
[model.encode]
@layers = "Maxout.v1"
nO = 32
nI = 32
nP = 2
""",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_registered_architectures_build_from_config(name, docs):
    fix_random_seed(0)
    model = registry.resolve(Config().from_str(CONFIGS[name]))["model"]
    model.initialize(X=docs[:3])
    assert model.get_dim("nO") == 32
    batch = docs[:4] + [Doc(docs[0].vocab, words=[])]
    Y, backprop = model.begin_update(batch)
    assert [y.shape for y in Y] == [(len(doc), 32) for doc in batch]
    assert all(numpy.isfinite(y).all() for y in Y)
    assert not [p for node in model.walk() for p in node.param_names if node.has_grad(p) and node.get_grad(p).any()]
    assert backprop([numpy.ones_like(y) for y in Y]) == []  # docs take no gradient
    # the gradient reaches every layer with weights: the embedding tables as well as the output
    layers = [node for node in model.walk() if node.param_names]
    grads = {(node.id, p): node.get_grad(p) for node in layers for p in node.param_names if node.has_grad(p)}
    assert all(numpy.isfinite(g).all() for g in grads.values())
    assert [node.name for node in layers if not any(grads.get((node.id, p), numpy.zeros(1)).any()
                                                    for p in node.param_names)] == []


def test_multihashembed_v1_legacy_rows_and_seeds():
    model = arch("spacy.MultiHashEmbed.v1")(width=16, rows=1000, also_embed_subwords=True,
                                             also_use_static_vectors=False)
    tables = [node for node in model.walk() if node.name == "hashembed"]
    assert [t.get_dim("nV") for t in tables] == [1000, 500, 500, 500]
    assert [t.attrs["seed"] for t in tables] == [8, 9, 10, 11]
    extractor = next(node for node in model.walk() if node.name == "extract_features")
    assert extractor.attrs["columns"] == [A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE]


@pytest.mark.parametrize("kwargs,message", [
    ({"width": 8, "rows": 100, "attrs": ["NORM"], "also_embed_subwords": True, "also_use_static_vectors": False},
     "mixes its two forms"),
    ({"width": 8, "rows": [100, 50], "also_embed_subwords": True}, "mixes its two forms"),
    ({"width": 8, "rows": 100, "include_static_vectors": False}, "mixes its two forms"),
    ({"width": 8, "rows": 100, "also_embed_subwords": True}, "also_use_static_vectors must be set"),
    ({"width": 8, "attrs": ["NORM"]}, "rows is required"),
    ({"width": 8, "rows": [100, 50], "include_static_vectors": False}, "attrs must name"),
    ({"width": 8, "attrs": ["NORM", "SHAPE"], "rows": [100], "include_static_vectors": False}, "2 attrs but 1 rows"),
    ({"width": 8, "attrs": ["NROM"], "rows": [100], "include_static_vectors": False}, "NROM"),
    ({"width": 8, "attrs": ["NORM"], "rows": [100]}, "include_static_vectors must be set"),
])
def test_multihashembed_v1_invalid_forms(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        arch("spacy.MultiHashEmbed.v1")(**kwargs)
    assert "spacy.MultiHashEmbed.v1" in str(err.value)


def test_invalid_mix_reported_through_config():
    text = CONFIGS["v1 legacy form"].replace("also_embed_subwords = true", "attrs = [\"NORM\"]")
    with pytest.raises(ConfigError, match="mixes its two forms"):
        registry.resolve(Config().from_str(text))


def test_encoder_config_errors():
    with pytest.raises(ConfigError, match="maxout_pieces must be 1 or more"):
        arch("spacy.MaxoutWindowEncoder.v2")(width=8, window_size=1, maxout_pieces=0, depth=2)
    with pytest.raises(ConfigError, match="window_size"):
        arch("spacy.MishWindowEncoder.v2")(width=8, window_size=-1, depth=2)


# -- static vectors plug-in ----------------------------------------------------------------------------
def test_static_vectors_missing_is_a_config_error(monkeypatch):
    monkeypatch.setattr(embeddings, "STATIC_VECTORS_NAME", "test-missing.StaticVectors.v2")
    with pytest.raises(ConfigError, match="static vectors need the layer 'test-missing.StaticVectors.v2'"):
        arch("spacy.MultiHashEmbed.v2")(width=8, attrs=["NORM"], rows=[50], include_static_vectors=True)
    with pytest.raises(ConfigError, match="static vectors"):
        arch("spacy.CharacterEmbed.v2")(width=8, rows=50, nM=4, nC=2, include_static_vectors=True)


def _projected_table(nO: int, nM=None, dropout=None) -> Model:
    """A real (if small) static-vectors layer: a fixed random table indexed by ORTH,
    projected by a learned W; Model[List[Doc], Ragged] as the registry contract says."""
    table = numpy.random.RandomState(7).uniform(-1, 1, (13, 5)).astype("f")

    def forward(model, docs, is_train):
        keys, lengths = extract_keys(docs, [A.ORTH])
        V = table[(keys[:, 0] % numpy.uint64(13)).astype("int64")]
        W = model.get_param("W")

        def backprop(dY):
            model.inc_grad("W", dY.data.T @ V)
            return []

        return Ragged(V @ W.T, lengths), backprop

    def init(model, X=None, Y=None):
        model.set_param("W", numpy.random.RandomState(8).uniform(-1, 1, (nO, 5)).astype("f"))

    return Model("static_vectors", forward, init=init, params={"W": None}, dims={"nO": nO, "nM": 5})


def test_static_vectors_plug_in(monkeypatch, docs):
    name = "test-plugin.StaticVectors.v2"
    if not registry.has("layers", name):
        registry.layers.register(name, func=_projected_table)
    monkeypatch.setattr(embeddings, "STATIC_VECTORS_NAME", name)
    for model in (arch("spacy.MultiHashEmbed.v2")(width=8, attrs=["NORM"], rows=[50], include_static_vectors=True),
                  arch("spacy.CharacterEmbed.v2")(width=8, rows=50, nM=4, nC=2, include_static_vectors=True)):
        model.initialize(X=docs[:2])
        assert model.get_ref("maxout").get_dim("nI") == (16 if model.name == "multihashembed" else 24)
        Y, backprop = model.begin_update(docs[:3])
        assert [y.shape for y in Y] == [(len(d), 8) for d in docs[:3]]
        backprop([numpy.ones_like(y) for y in Y])
        assert abs(model.get_ref("static_vectors").get_grad("W")).sum() > 0


def test_static_vectors_with_the_registered_layer():
    """include_static_vectors / pretrained_vectors use the package's spacy.StaticVectors.v2."""
    from transfer_cli.tokens.vectors import Vectors

    vocab = Vocab()
    words = ["the", "cat", "sat", "on", "a", "mat"]
    vocab.vectors = Vectors(data=numpy.random.RandomState(0).uniform(-1, 1, (6, 5)).astype("f"), keys=words)
    batch = [Doc(vocab, words=["the", "cat", "sat", "."]), Doc(vocab, words=[]), Doc(vocab, words=["a", "dog"])]
    fix_random_seed(0)
    model = arch("spacy.HashEmbedCNN.v2")(width=8, depth=1, embed_size=50, window_size=1, maxout_pieces=3,
                                           subword_features=True, pretrained_vectors=True)
    model.initialize(X=batch)
    static = next(node for node in model.walk() if node.name == "static_vectors")
    assert static.get_dim("nM") == 5 and model.get_ref("embed").get_ref("maxout").get_dim("nI") == 8 * 5
    Y, backprop = model.begin_update(batch)
    assert [y.shape for y in Y] == [(4, 8), (0, 8), (2, 8)]
    backprop([numpy.ones_like(y) for y in Y])
    assert abs(static.get_grad("W")).sum() > 0


# -- behaviour: determinism, empty input, long docs, doc independence --------------------------------------
def build_efficiency_tok2vec(width: int = 96) -> Model:
    return build_Tok2Vec_model(MultiHashEmbed(width, ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [5000, 1000, 2500, 2500],
                                              False),
                               MaxoutWindowEncoder(width=width, window_size=1, maxout_pieces=3, depth=4))


def test_determinism_with_fixed_seed(docs):
    outputs = []
    for _ in range(2):
        fix_random_seed(42)
        model = build_efficiency_tok2vec(width=16).initialize()
        set_dropout_rate(model, 0.2)
        Y, backprop = model.begin_update(docs)
        backprop([numpy.ones_like(y) for y in Y])
        params = [node.get_param(p).copy() for node in model.walk() for p in node.param_names]
        grads = [node.get_grad(p).copy() for node in model.walk() for p in node.param_names if node.has_grad(p)]
        outputs.append((Y, params, grads))
    (Y1, p1, g1), (Y2, p2, g2) = outputs
    assert all(numpy.array_equal(a, b) for a, b in zip(Y1, Y2))
    assert all(numpy.array_equal(a, b) for a, b in zip(p1, p2))
    assert len(g1) == len(g2) and all(numpy.array_equal(a, b) for a, b in zip(g1, g2))
    fix_random_seed(43)
    other = build_efficiency_tok2vec(width=16).initialize()
    assert not numpy.array_equal(other.predict(docs)[0], outputs[0][0][0])


def test_dropout_is_set_by_set_dropout_rate(docs):
    fix_random_seed(0)
    model = build_efficiency_tok2vec(width=16).initialize()
    rates = [node.attrs["dropout_rate"] for node in model.walk() if "dropout_rate" in node.attrs]
    assert len(rates) == 4 + 1 + 4 and set(rates) == {0.0}  # 4 tables, the mixer, 4 encoder blocks
    clean = model.predict(docs)
    set_dropout_rate(model, 0.5)
    noisy, _ = model.begin_update(docs)
    assert not numpy.allclose(clean[0], noisy[0])
    numpy.testing.assert_array_equal(model.predict(docs)[0], clean[0])  # prediction ignores dropout


def test_empty_docs_and_empty_batch(vocab, docs):
    fix_random_seed(0)
    model = build_efficiency_tok2vec(width=16).initialize()
    assert model.predict([]) == []
    Y, backprop = model.begin_update([])
    assert Y == [] and backprop([]) == []
    empty = [Doc(vocab, words=[]), Doc(vocab, words=[])]
    Y, backprop = model.begin_update(empty)
    assert [y.shape for y in Y] == [(0, 16), (0, 16)]
    backprop(Y)
    mixed = [empty[0], docs[0], empty[1]]
    Y = model.predict(mixed)
    assert [y.shape for y in Y] == [(0, 16), (len(docs[0]), 16), (0, 16)]
    numpy.testing.assert_allclose(Y[1], model.predict([docs[0]])[0], rtol=1e-4, atol=1e-5)


def test_docs_do_not_see_each_other(docs):
    """Windows stop at document boundaries: a doc's vectors do not depend on its batch."""
    fix_random_seed(0)
    model = build_efficiency_tok2vec(width=16).initialize()
    together = model.predict(docs[:5])
    for doc, y in zip(docs[:5], together):
        numpy.testing.assert_allclose(y, model.predict([doc])[0], rtol=1e-4, atol=1e-5)


def test_50000_token_doc(vocab):
    words = [w for sentence in read_sentences(400) for w in sentence]
    words = (words * (50000 // len(words) + 1))[:50000]
    doc = Doc(vocab, words=words)
    fix_random_seed(0)
    model = build_efficiency_tok2vec(width=32).initialize()
    Y, backprop = model.begin_update([doc])
    assert Y[0].shape == (50000, 32) and numpy.isfinite(Y[0]).all()
    backprop([numpy.ones_like(Y[0])])
    assert all(numpy.isfinite(node.get_grad(p)).all() for node in model.walk() for p in node.param_names
               if node.has_grad(p))


def test_serialization_round_trip(docs):
    fix_random_seed(0)
    model = build_efficiency_tok2vec(width=16).initialize()
    data = model.to_bytes()
    fix_random_seed(1)
    other = build_efficiency_tok2vec(width=16).initialize().from_bytes(data)
    for y1, y2 in zip(model.predict(docs), other.predict(docs)):
        numpy.testing.assert_array_equal(y1, y2)


# -- featurization ---------------------------------------------------------------------------------------
def test_extract_keys_is_the_docs_columns(vocab, docs):
    batch = docs[:4] + [Doc(vocab, words=[])] + [docs[5][2:6]]
    attrs = [A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE, A.ORTH, A.LOWER]
    keys, lengths = extract_keys(batch, attrs)
    expected = numpy.concatenate([docs[i].to_array(attrs) for i in range(4)]
                                 + [docs[5].to_array(attrs)[2:6]])
    numpy.testing.assert_array_equal(keys, expected)
    assert lengths.tolist() == [len(d) for d in batch]
    flags, _ = extract_keys(docs[:2], [A.IS_ALPHA, A.NORM])  # a derived attribute falls back to to_array
    numpy.testing.assert_array_equal(flags, numpy.concatenate([d.to_array([A.IS_ALPHA, A.NORM]) for d in docs[:2]]))
    keys, lengths = extract_keys([], attrs)
    assert keys.shape == (0, 6) and lengths.shape == (0,)


def reference_utf8(word: str, nr_char: int) -> List[int]:
    """Bytes in the order 0, -1, 1, -2, ...; 255 pads (spaCy's Doc.to_utf8_array)."""
    data = word.encode("utf8")
    out, front, back = [], 0, len(data) - 1
    while len(out) < nr_char and front <= back:
        out.append(data[front])
        front += 1
        if len(out) < nr_char and front <= back:
            out.append(data[back])
            back -= 1
    return out + [255] * (nr_char - len(out))


def test_utf8_array(vocab):
    words = ["a", "of", "jumping", "Zoë", "日本語", "naïveté", "😀x", "x" * 30]
    doc = Doc(vocab, words=words)
    for nr_char in (1, 4, 7, 10):
        expected = numpy.array([reference_utf8(w, nr_char) for w in words], dtype="uint8")
        numpy.testing.assert_array_equal(utf8_array([doc], nr_char), expected)
    ascii_doc = Doc(vocab, words=["jumping", "cat"])
    assert utf8_array([ascii_doc], 4).tolist() == [list(b"jgun"), [99, 116, 97, 255]]
    assert utf8_array([Doc(vocab, words=[])], 4).shape == (0, 4)


def test_charembed_rows_follow_byte_positions(vocab):
    model = CharEmbed(nM=2, nC=3).initialize()
    E = numpy.arange(3 * 256 * 2, dtype="f").reshape((3, 256, 2))
    model.set_param("E", E)
    Y = model.predict([Doc(vocab, words=["ab", "c"])])
    expected = numpy.concatenate([numpy.concatenate([E[0, ord("a")], E[1, ord("b")], E[2, 255]]),
                                  numpy.concatenate([E[0, ord("c")], E[1, 255], E[2, 255]])]).reshape((2, 6))
    numpy.testing.assert_array_equal(Y, expected)


def test_unique_keys():
    ids = numpy.array([9, 3, 9, 2 ** 64 - 1, 3, 0], dtype="uint64")
    uniq, inverse = unique_keys(ids)
    assert uniq.tolist() == [0, 3, 9, 2 ** 64 - 1]
    numpy.testing.assert_array_equal(uniq[inverse], ids)


def test_all_names_registered():
    names = ["spacy.Tok2Vec.v1", "spacy.Tok2Vec.v2", "spacy.MultiHashEmbed.v1", "spacy.MultiHashEmbed.v2",
             "spacy.MaxoutWindowEncoder.v1", "spacy.MaxoutWindowEncoder.v2", "spacy.MishWindowEncoder.v2",
             "spacy.HashEmbedCNN.v1", "spacy.HashEmbedCNN.v2", "spacy.CharacterEmbed.v1", "spacy.CharacterEmbed.v2"]
    assert [n for n in names if not registry.has("architectures", n)] == []
