"""Reusing trained components: `source = "path"` blocks (with `component = ...`), source
by installed package name, frozen/annotating sourced components, replace_listeners in
config and in Python for tok2vec and transformer listeners, nlp.add_pipe(source=nlp),
the vectors check, errors for a missing source and for listeners left without an
upstream, and fill-config keeping source blocks."""
import json
import shutil
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import numpy
import pytest
from confection import Config
from typer.testing import CliRunner

from transfer_cli import blank, load
from transfer_cli.cli.app import app
from transfer_cli.config.loading import load_config, load_config_from_str
from transfer_cli.errors import ConfigError, PipelineError
from transfer_cli.ml.listeners import LISTENER_WRAPPER, find_listeners
from transfer_cli.pipeline.build import pipeline_from_config
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.init_vectors import init_vectors
from transfer_cli.training.initialize import init_pipeline

from conftest import (EWT_DEV, EWT_TRAIN, NER_DEV, NER_TRAIN, SAMPLE, cli, listener, shared_config, tagger,
                       tok2vec_model, training_overrides)
from transformer_fixtures import tiny_bert_dir  # noqa: F401
from transformer_pipelines import one_torch_thread  # noqa: F401

WIDTH = 32
GLOVE = SAMPLE / "vectors" / "glove_small.txt"
_RUNNER = CliRunner()
# the NER sample's offsets of a few numbers fall inside tokens: trained as missing, with a warning
pytestmark = pytest.mark.filterwarnings("ignore:Component 'ner'")
TEXTS = ["The quick brown fox jumps over the lazy dog.", "I would like two tickets to Boston, please.",
         "She wrote 3 emails on Monday and none on Tuesday.", "Is this the right way to the station?"]


def small_tok2vec() -> Dict[str, Any]:
    return tok2vec_model(width=WIDTH, depth=1, rows=(1000, 500, 500, 500))


def ner_block(tok2vec: Dict[str, Any]) -> Dict[str, Any]:
    return {"factory": "ner", "model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                                        "extra_state_tokens": False, "hidden_width": 32, "maxout_pieces": 2,
                                        "use_upper": True, "nO": None, "tok2vec": tok2vec}}


def write(config: Config, path: Path) -> Path:
    path.write_text(config.to_str(), encoding="utf8")
    return path


def train(config_path: Path, output: Path, *overrides: Any) -> None:
    code, out = cli("train", config_path, "--output", output, *overrides)
    assert code == 0, out


def tags(nlp, texts=TEXTS, name: str = "tagger") -> List[List[str]]:
    with nlp.select_pipes(enable=[n for n in nlp.component_names if n in ("tok2vec", name)]):
        return [[token.tag_ for token in doc] for doc in nlp.pipe(texts)]


def tagger_scores(nlp, name: str, texts=TEXTS) -> List[numpy.ndarray]:
    """The tagger model's raw scores per doc (the listener reads what tok2vec stored)."""
    docs = list(nlp.pipe(texts))
    return [numpy.asarray(s) for s in nlp.get_pipe(name).model.predict(docs)]


def params(*models) -> List[Tuple[Tuple[int, ...], bytes]]:
    """Every parameter array of the models, as sorted (shape, bytes) pairs."""
    found = []
    for model in models:
        for node in model.walk():
            for name in node.param_names:
                if node.has_param(name):
                    value = numpy.asarray(node.get_param(name))
                    found.append((value.shape, value.tobytes()))
    return sorted(found)


@pytest.fixture(scope="module")
def tagged_ner(tmp_path_factory) -> Dict[str, Path]:
    """The EWT sample's tags with the NER sample's entities (the same sentences): a corpus on
    which a sourced tagger that is not frozen would go on learning."""
    tmp = tmp_path_factory.mktemp("tagged_ner")
    nlp = blank("en")
    paths = {}
    for split, conllu, jsonl in (("train", EWT_TRAIN, NER_TRAIN), ("dev", EWT_DEV, NER_DEV)):
        lines = [json.loads(line) for line in jsonl.read_text(encoding="utf8").splitlines()]
        docbin = DocBin()
        for example, line in zip(Corpus(conllu)(nlp), lines):
            doc = example.reference
            spans = [doc.char_span(start, end, label) for start, end, label in line["entities"]]
            doc.ents = [span for span in spans if span is not None]
            docbin.add(doc)
        paths[split] = tmp / f"{split}.spacy"
        docbin.to_disk(paths[split])
    return paths


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory) -> Path:
    """tok2vec + a tagger listening to it, trained on the EWT sample."""
    tmp = tmp_path_factory.mktemp("source")
    config = shared_config(small_tok2vec(), {"tagger": tagger(listener(WIDTH))}, EWT_TRAIN, EWT_DEV,
                           max_steps=40, eval_frequency=20)
    train(write(config, tmp / "config.cfg"), tmp / "out")
    return tmp / "out" / "model-last"


def sourced_config(blocks: Dict[str, Dict[str, Any]], pipeline: List[str], train_path: Path = NER_TRAIN,
                   dev_path: Path = NER_DEV, training: Dict[str, Any] = None, max_steps: int = 12) -> Config:
    config = Config({"nlp": {"lang": "en", "pipeline": pipeline}, "components": blocks,
                     "training": training or {}})
    return load_config_from_str(config.to_str(), training_overrides(train_path, dev_path, max_steps, 6, {}))


# -- the Done-when case: a frozen sourced tagger with its own tok2vec copy beside a new NER ----------
def replaced_tagger_config(source: Path, corpus: Dict[str, Path], frozen: List[str]) -> Config:
    # a new tok2vec named like the source's: without replace_listeners the tagger would listen to it
    return sourced_config({"tagger": {"source": str(source), "replace_listeners": ["model.tok2vec"]},
                           "tok2vec": {"factory": "tok2vec", "model": small_tok2vec()},
                           "ner": ner_block(listener(WIDTH))},
                          ["tagger", "tok2vec", "ner"], corpus["train"], corpus["dev"],
                          training={"frozen_components": frozen})


def test_frozen_sourced_tagger_unchanged_beside_new_ner(source_dir, tagged_ner, tmp_path):
    source_copy = tmp_path / "source_pipeline"
    shutil.copytree(source_dir, source_copy)
    source = load(source_copy)
    expected_tags = tags(source)
    expected_scores = tagger_scores(source, "tagger")
    expected_params = params(source.get_pipe("tagger").model, source.get_pipe("tok2vec").model)
    config = replaced_tagger_config(source_copy, tagged_ner, frozen=["tagger"])
    train(write(config, tmp_path / "config.cfg"), tmp_path / "out")
    shutil.rmtree(source_copy)  # the trained pipeline must not need its source any more
    trained = load(tmp_path / "out" / "model-last")
    assert tags(trained) == expected_tags
    for ours, theirs in zip(tagger_scores(trained, "tagger"), expected_scores):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)  # the same network, the same input
    assert params(trained.get_pipe("tagger").model) == expected_params
    # the NER did train, and the saved config describes the tagger fully (no source, its own tok2vec)
    assert set(trained.get_pipe("ner").labels) == {"NAME", "NUMBER"}
    saved = load_config(tmp_path / "out" / "model-last" / "config.cfg")
    block = saved["components"]["tagger"]
    assert "source" not in block and "replace_listeners" not in block and block["factory"] == "tagger"
    assert block["model"]["tok2vec"]["@architectures"] == "spacy.Tok2Vec.v2"
    assert block["model"]["tok2vec"]["encode"]["width"] == WIDTH


def test_sourced_tagger_not_frozen_goes_on_training(source_dir, tagged_ner, tmp_path):
    """The control for the test above: the same run without frozen_components changes the
    tagger (so 'unchanged' there is the freezing, not a tagger that gets no gradient)."""
    source = load(source_dir)
    before = params(source.get_pipe("tagger").model, source.get_pipe("tok2vec").model)
    config = replaced_tagger_config(source_dir, tagged_ner, frozen=[])
    train(write(config, tmp_path / "config.cfg"), tmp_path / "out")
    trained = load(tmp_path / "out" / "model-last")
    assert params(trained.get_pipe("tagger").model) != before
    # sourced, not re-initialized: it kept its labels and goes on from its trained weights
    assert list(trained.get_pipe("tagger").labels) == list(source.get_pipe("tagger").labels)


# -- sourcing without replace_listeners: the source's tok2vec sourced too, shared by two listeners ---
def test_sourced_tok2vec_shared_by_sourced_tagger_and_new_ner_with_annotating(source_dir, tmp_path):
    source = load(source_dir)
    expected_tags = tags(source)
    expected_tok2vec = params(source.get_pipe("tok2vec").model)
    expected_tagger = params(source.get_pipe("tagger").model)
    config = sourced_config({"tok2vec": {"source": str(source_dir)}, "tagger": {"source": str(source_dir)},
                             "ner": ner_block(listener(WIDTH))},
                            ["tok2vec", "tagger", "ner"],
                            training={"frozen_components": ["tok2vec", "tagger"],
                                      "annotating_components": ["tok2vec", "tagger"]})
    train(write(config, tmp_path / "config.cfg"), tmp_path / "out")
    trained = load(tmp_path / "out" / "model-last")
    upstream = trained.get_pipe("tok2vec")
    listeners_of = {name for name in ("tagger", "ner")
                    if any(node in upstream.listeners for node in trained.get_pipe(name).model.walk())}
    assert listeners_of == {"tagger", "ner"}  # one tok2vec, two listeners
    assert tags(trained) == expected_tags
    assert params(upstream.model) == expected_tok2vec
    assert params(trained.get_pipe("tagger").model) == expected_tagger
    assert set(trained.get_pipe("ner").labels) == {"NAME", "NUMBER"}
    saved = load_config(tmp_path / "out" / "model-last" / "config.cfg")
    assert saved["components"]["tagger"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    assert all("source" not in block for block in saved["components"].values())


def test_component_renamed_from_the_source(source_dir, tmp_path):
    source = load(source_dir)
    config = sourced_config({"pos": {"source": str(source_dir), "component": "tagger",
                                     "replace_listeners": ["model.tok2vec"]}}, ["pos"])
    nlp = pipeline_from_config(config)
    assert nlp.component_names == ["pos"] and nlp.factory_name("pos") == "tagger"
    assert tags(nlp, name="pos") == tags(source)
    nlp.to_disk(tmp_path / "renamed")
    assert tags(load(tmp_path / "renamed"), name="pos") == tags(source)


def test_unknown_component_in_the_source_is_named(source_dir):
    config = sourced_config({"pos": {"source": str(source_dir), "component": "tagr"}}, ["pos"])
    with pytest.raises(ConfigError, match=r"components\.pos\.component.*no component 'tagr'.*tok2vec, tagger"):
        pipeline_from_config(config)


def test_listener_without_its_upstream_asks_for_replace_listeners(source_dir):
    config = sourced_config({"tagger": {"source": str(source_dir)}}, ["tagger"])
    with pytest.raises(ConfigError, match=r"components\.tagger.*listens to 'tok2vec'.*replace_listeners"):
        pipeline_from_config(config)


def test_frozen_listener_of_a_training_tok2vec_is_refused(source_dir):
    config = sourced_config({"tagger": {"source": str(source_dir)},
                             "tok2vec": {"factory": "tok2vec", "model": small_tok2vec()}},
                            ["tok2vec", "tagger"], EWT_TRAIN, EWT_DEV, training={"frozen_components": ["tagger"]})
    with pytest.raises(ConfigError, match="'tagger' is frozen but listens to 'tok2vec', which trains"):
        init_pipeline(config)


def test_source_block_takes_no_other_settings(source_dir):
    config = sourced_config({"tagger": {"source": str(source_dir), "overwrite": True,
                                        "replace_listeners": "model.tok2vec"}}, ["tagger"])
    with pytest.raises(ConfigError) as error:
        pipeline_from_config(config)
    assert "components.tagger.overwrite" in str(error.value)
    assert "components.tagger.replace_listeners" in str(error.value)


def test_missing_source_is_one_error_line(tmp_path):
    missing = tmp_path / "no_such_pipeline"
    config = sourced_config({"tagger": {"source": str(missing)}}, ["tagger"])
    config_path = write(config, tmp_path / "config.cfg")
    result = _RUNNER.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"{config_path}:" in lines[0] and "components.tagger.source" in lines[0] and str(missing) in lines[0]
    assert not (tmp_path / "out").exists()


def test_fill_config_keeps_the_source_block(source_dir, tmp_path):
    base = tmp_path / "base.cfg"
    base.write_text(f"""[nlp]
lang = "en"
pipeline = ["tagger","ner"]

[components.tagger]
source = "{source_dir}"
replace_listeners = ["model.tok2vec"]

[components.ner]
factory = "ner"
""", encoding="utf8")
    for args in (["fill-config"], ["init", "fill-config"]):
        out = tmp_path / f"filled_{len(args)}.cfg"
        code, output = cli(*args, base, out)
        assert code == 0, output
        filled = load_config(out)
        assert dict(filled["components"]["tagger"]) == {"source": str(source_dir),
                                                        "replace_listeners": ["model.tok2vec"]}
        assert filled["components"]["ner"]["model"]["@architectures"].startswith("spacy.TransitionBasedParser")


# -- nlp.replace_listeners in Python ---------------------------------------------------------------
def test_replace_listeners_in_python(source_dir, tmp_path):
    nlp = load(source_dir)
    expected = tags(nlp)
    tok2vec_params = params(nlp.get_pipe("tok2vec").model)
    nlp.replace_listeners("tok2vec", "tagger", ["model.tok2vec"])
    assert not nlp.get_pipe("tok2vec").listeners
    assert nlp.config["components"]["tagger"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2Vec.v2"
    nlp.remove_pipe("tok2vec")  # the tagger no longer needs it
    assert tags(nlp) == expected
    assert params(nlp.get_pipe("tagger").model) == sorted(params(load(source_dir).get_pipe("tagger").model)
                                                          + tok2vec_params)
    nlp.to_disk(tmp_path / "own_tok2vec")
    assert tags(load(tmp_path / "own_tok2vec")) == expected


def test_replace_listeners_errors(source_dir):
    nlp = load(source_dir)
    with pytest.raises(PipelineError, match="1 listener.*2 path"):
        nlp.replace_listeners("tok2vec", "tagger", ["model.tok2vec", "model.other"])
    with pytest.raises(PipelineError, match="has no 'model.tok2vecs'"):
        nlp.replace_listeners("tok2vec", "tagger", ["model.tok2vecs"])
    with pytest.raises(PipelineError, match="'tagger' is not a tok2vec"):
        nlp.replace_listeners("tagger", "tok2vec", ["model"])
    with pytest.raises(PipelineError, match="list of strings"):
        nlp.replace_listeners("tok2vec", "tagger", "model.tok2vec")
    assert tags(nlp) == tags(load(source_dir))  # nothing changed by the refused calls


def test_replace_a_weighted_listener(tmp_path):
    """transfer_cli.Tok2VecListener.v1 wraps the listener: the wrapper goes with it, so the
    saved config and the saved weights describe the same network."""
    nlp = blank("en")
    nlp.add_pipe("tok2vec", config={"model": small_tok2vec()})
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2",
                                             "tok2vec": listener(WIDTH, grad_factor=0.5)}})
    examples = list(Corpus(EWT_DEV, limit=20)(nlp))
    nlp.initialize(lambda: examples)
    expected = tags(nlp)
    nlp.replace_listeners("tok2vec", "tagger", ["model.tok2vec"])
    model = nlp.get_pipe("tagger").model
    assert not find_listeners(model) and not any(node.attrs.get(LISTENER_WRAPPER) for node in model.walk())
    nlp.remove_pipe("tok2vec")
    assert tags(nlp) == expected
    nlp.to_disk(tmp_path / "p")
    assert tags(load(tmp_path / "p")) == expected


# -- vectors: a sourced component that reads static vectors needs the table it was trained with -----
@pytest.fixture(scope="module")
def vectors_source(tmp_path_factory) -> Dict[str, Path]:
    """Two vectors tables (GloVe sample, whole and cut to 300 rows) and a tok2vec + tagger
    pipeline initialized with the whole one."""
    tmp = tmp_path_factory.mktemp("vectors_source")
    init_vectors("en", GLOVE, tmp / "glove")
    init_vectors("en", GLOVE, tmp / "glove_300", truncate=300)
    model = small_tok2vec()
    model["embed"]["include_static_vectors"] = True
    config = shared_config(model, {"tagger": tagger(listener(WIDTH))}, EWT_DEV, EWT_DEV,
                           sections={"initialize": {"vectors": str(tmp / "glove")}})
    init_pipeline(config).nlp.to_disk(tmp / "pipeline")
    return {"pipeline": tmp / "pipeline", "glove": tmp / "glove", "glove_300": tmp / "glove_300"}


def vectors_config(source: Path, vectors: Any) -> Config:
    config = sourced_config({"tagger": {"source": str(source), "replace_listeners": ["model.tok2vec"]}},
                            ["tagger"], EWT_TRAIN, EWT_DEV)
    config["initialize"] = {"vectors": None if vectors is None else str(vectors)}
    return config


def test_sourced_vectors_must_match(vectors_source, tmp_path):
    source = vectors_source["pipeline"]
    config_path = write(vectors_config(source, vectors_source["glove_300"]), tmp_path / "config.cfg")
    result = _RUNNER.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    message = " ".join(result.output.split())
    for fragment in (f"{config_path}:", "components.tagger.source", "'tagger' is sourced from", str(source), "(700 x 50",
                     "(300 x 50", f"[initialize] vectors = {vectors_source['glove_300']}", "uses static vectors"):
        assert fragment in message, message
    with pytest.raises(ConfigError, match="but this pipeline has no vectors"):
        init_pipeline(vectors_config(source, None))
    # the same table (here read from the source pipeline itself, or from init-vectors' output) is fine
    for same in (source, vectors_source["glove"]):
        nlp = init_pipeline(vectors_config(source, same)).nlp
        assert tags(nlp) == tags(load(source))


def test_vectors_of_a_component_without_static_vectors_are_not_checked(source_dir, vectors_source):
    nlp = init_pipeline(vectors_config(source_dir, vectors_source["glove"])).nlp
    assert tags(nlp) == tags(load(source_dir))


# -- transformer listeners: the sourced tagger gets a transformer of its own --------------------------
TRF_TEXTS = ["the cat sat on the mat", "a dog is in new york", "hello world", "the dog sat on a cat"]
TRF_LIMITS = {"corpora.train.limit": 40, "corpora.dev.limit": 12, "nlp.batch_size": 16}


def trf_listener(pooling: str = "reduce_max.v1", grad_factor: float = 0.5) -> Dict[str, Any]:
    return {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": grad_factor,
            "upstream": "*", "pooling": {"@layers": pooling}}


def transformer_component(model_dir: Path) -> Dict[str, Any]:
    return {"factory": "transformer",
            "model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(model_dir),
                      "get_spans": {"@span_getters": "spacy-transformers.doc_spans.v1"}}}


@contextmanager
def moved_away(directory: Path) -> Iterator[None]:
    """`directory` gone for the block (a model directory a config still names), then back."""
    hidden = directory.with_name(directory.name + "_moved_away")
    directory.rename(hidden)
    try:
        yield
    finally:
        hidden.rename(directory)


@pytest.fixture(scope="module")
def trf_source(tiny_bert_dir, tagged_ner, tmp_path_factory) -> Dict[str, Path]:
    """A transformer (a copy of the tiny BERT) + a tagger listening to it through
    TransformerListener.v1 (reduce_max pooling, grad_factor 0.5), trained."""
    tmp = tmp_path_factory.mktemp("trf_source")
    bert = tmp / "bert_of_the_source"
    shutil.copytree(tiny_bert_dir, bert)
    config = Config({"nlp": {"lang": "en", "pipeline": ["transformer", "tagger"]},
                     "components": {"transformer": transformer_component(bert),
                                    "tagger": {"factory": "tagger", "model": {"@architectures": "spacy.Tagger.v2",
                                                                              "tok2vec": trf_listener()}}},
                     "training": {"optimizer": {"@optimizers": "Adam.v1", "learn_rate": 0.003}}})
    config = load_config_from_str(config.to_str(), training_overrides(tagged_ner["train"], tagged_ner["dev"], 12, 12,
                                                                      TRF_LIMITS))
    train(write(config, tmp / "config.cfg"), tmp / "out")
    return {"pipeline": tmp / "out" / "model-last", "bert": bert}


def trf_tags(nlp, name: str = "tagger") -> List[List[str]]:
    with nlp.select_pipes(enable=[n for n in nlp.component_names if n in ("transformer", name)]):
        return [[token.tag_ for token in doc] for doc in nlp.pipe(TRF_TEXTS)]


def trf_scores(nlp, name: str = "tagger") -> List[numpy.ndarray]:
    with nlp.select_pipes(enable=[n for n in nlp.component_names if n in ("transformer", name)]):
        docs = list(nlp.pipe(TRF_TEXTS))
    return [numpy.asarray(s) for s in nlp.get_pipe(name).model.predict(docs)]


def own_transformer_state(nlp, name: str = "tagger") -> Dict[str, Any]:
    from transfer_cli.ml.transformer.model import hf_model

    (node,) = [n for n in nlp.get_pipe(name).model.walk() if n.name == "transformer"]
    return {key: value.detach().clone() for key, value in hf_model(node).state_dict().items()}


def same_state(ours: Dict[str, Any], theirs: Dict[str, Any]) -> bool:
    return ours.keys() == theirs.keys() and all(bool((ours[k] == theirs[k]).all()) for k in ours)


def test_frozen_sourced_transformer_tagger_unchanged_beside_new_ner(trf_source, tagged_ner, tiny_bert_dir, tmp_path):
    """The Done-when case with a tagger that listened to a transformer: sourced with
    replace_listeners, frozen, beside a new transformer and a new NER that train."""
    source_copy = tmp_path / "source_pipeline"
    shutil.copytree(trf_source["pipeline"], source_copy)
    source = load(source_copy)
    expected_tags, expected_scores = trf_tags(source), trf_scores(source)
    expected_transformer = own_transformer_state(source, "transformer")
    config = sourced_config({"tagger": {"source": str(source_copy), "replace_listeners": ["model.tok2vec"]},
                             "transformer": transformer_component(tiny_bert_dir),
                             "ner": ner_block(trf_listener("reduce_mean.v1", 1.0))},
                            ["tagger", "transformer", "ner"], tagged_ner["train"], tagged_ner["dev"],
                            training={"frozen_components": ["tagger"]}, max_steps=6)
    config = load_config_from_str(config.to_str(), TRF_LIMITS)
    train(write(config, tmp_path / "config.cfg"), tmp_path / "out")
    shutil.rmtree(source_copy)
    with moved_away(trf_source["bert"]):  # the model directory the tagger's transformer came from
        trained = load(tmp_path / "out" / "model-last")
        assert trf_tags(trained) == expected_tags
        for ours, theirs in zip(trf_scores(trained), expected_scores):
            numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
        assert same_state(own_transformer_state(trained), expected_transformer)
        # the new transformer did train (the tagger no longer listens to it) and so did the NER
        assert not same_state(own_transformer_state(trained, "transformer"), expected_transformer)
        assert trained.get_pipe("transformer").listeners == find_listeners(trained.get_pipe("ner").model)
        assert set(trained.get_pipe("ner").labels) == {"NAME", "NUMBER"}
    saved = load_config(tmp_path / "out" / "model-last" / "config.cfg")["components"]["tagger"]
    assert "source" not in saved and "replace_listeners" not in saved
    own = saved["model"]["tok2vec"]
    assert own["@architectures"] == "spacy-transformers.Tok2VecTransformer.v3"
    assert own["name"] == str(trf_source["bert"]) and own["pooling"] == {"@layers": "reduce_max.v1"}
    assert own["grad_factor"] == 0.5
    assert own["get_spans"] == {"@span_getters": "spacy-transformers.doc_spans.v1"}


def test_replace_transformer_listeners_in_python(trf_source, tmp_path):
    nlp = load(trf_source["pipeline"])
    expected_tags, expected_scores = trf_tags(nlp), trf_scores(nlp)
    expected_transformer = own_transformer_state(nlp, "transformer")
    nlp.replace_listeners("transformer", "tagger", ["model.tok2vec"])
    assert not nlp.get_pipe("transformer").listeners and not find_listeners(nlp.get_pipe("tagger").model)
    (own,) = [node for node in nlp.get_pipe("tagger").model.walk() if node.name == "transformer-tok2vec"]
    assert own.attrs["grad_factor"] == 0.5 and own.layers[1].name == "reduce_max"
    assert nlp.config["components"]["tagger"]["model"]["tok2vec"]["@architectures"] == \
        "spacy-transformers.Tok2VecTransformer.v3"
    nlp.remove_pipe("transformer")  # the tagger no longer needs it
    assert trf_tags(nlp) == expected_tags
    for ours, theirs in zip(trf_scores(nlp), expected_scores):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    nlp.to_disk(tmp_path / "own_transformer")
    with moved_away(trf_source["bert"]):
        loaded = load(tmp_path / "own_transformer")
        assert trf_tags(loaded) == expected_tags
        assert same_state(own_transformer_state(loaded), expected_transformer)


def test_sourced_transformer_listener_without_replace_asks_for_it(trf_source):
    config = sourced_config({"tagger": {"source": str(trf_source["pipeline"])}}, ["tagger"])
    with pytest.raises(ConfigError, match=r"listens to 'transformer'.*replace_listeners.*its own copy of "
                                          r"'transformer'"):
        pipeline_from_config(config)


# -- nlp.add_pipe(name, source=nlp) ------------------------------------------------------------------
def test_add_pipe_from_a_source_pipeline_copies_the_component(source_dir, tmp_path):
    source = load(source_dir)
    expected = tags(source)
    nlp = blank("en")
    with pytest.raises(PipelineError, match=r"'tagger' listens to 'tok2vec' in the source pipeline, which this "
                                            r"pipeline does not have.*source_nlp\.replace_listeners\(\"tok2vec\""):
        nlp.add_pipe("tagger", source=source)
    assert nlp.component_names == []  # nothing left half-added
    nlp.add_pipe("tok2vec", source=source)
    nlp.add_pipe("tagger", source=source, name="tagger2")
    assert nlp.component_names == ["tok2vec", "tagger2"] and nlp.factory_name("tagger2") == "tagger"
    assert tags(nlp, name="tagger2") == expected
    # a copy: the source keeps its own component, still linked to its own tok2vec
    assert nlp.get_pipe("tagger2") is not source.get_pipe("tagger")
    assert nlp.get_pipe("tagger2").vocab is nlp.vocab
    assert tags(source) == expected and len(source.get_pipe("tok2vec").listeners) == 1
    assert params(nlp.get_pipe("tagger2").model) == params(source.get_pipe("tagger").model)
    assert nlp.config["components"]["tagger2"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    assert set(nlp.sourced) == {"tok2vec", "tagger2"}  # initialize() keeps their weights
    nlp.to_disk(tmp_path / "p")
    assert tags(load(tmp_path / "p"), name="tagger2") == expected


def test_add_pipe_after_replace_listeners_and_position(source_dir):
    source = load(source_dir)
    expected = tags(source)
    source.replace_listeners("tok2vec", "tagger", ["model.tok2vec"])
    nlp = blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("tagger", source=source, first=True)
    assert nlp.component_names == ["tagger", "sentencizer"]
    assert tags(nlp) == expected


def test_add_pipe_source_errors(source_dir, vectors_source):
    source = load(source_dir)
    nlp = blank("en")
    with pytest.raises(PipelineError, match="no component 'tagr'.*tok2vec, tagger"):
        nlp.add_pipe("tagr", source=source)
    with pytest.raises(PipelineError, match=r"takes a loaded pipeline.*transfer_cli\.load"):
        nlp.add_pipe("tagger", source=str(source_dir))
    with pytest.raises(PipelineError, match="config or source, not both"):
        nlp.add_pipe("tagger", source=source, config={"overwrite": True})
    with pytest.raises(PipelineError, match="Cannot insert after 'ner'"):
        nlp.add_pipe("tok2vec", source=source, after="ner")
    nlp.add_pipe("tok2vec", source=source)
    with pytest.raises(PipelineError, match="'tok2vec' already exists"):
        nlp.add_pipe("tok2vec", source=source)
    # vectors: a component that reads static vectors needs the table it was trained with
    with_vectors = load(vectors_source["pipeline"])
    with_vectors.replace_listeners("tok2vec", "tagger", ["model.tok2vec"])
    with pytest.raises(PipelineError) as error:
        blank("en").add_pipe("tagger", source=with_vectors)
    message = str(error.value)
    assert "'tagger' uses static vectors" in message and "(700 x 50" in message and "this pipeline has no vectors" \
        in message
    same_vectors = load(vectors_source["glove"])
    same_vectors.add_pipe("tagger", source=with_vectors)
    assert tags(same_vectors) == tags(load(vectors_source["pipeline"]))


def test_add_pipe_of_a_transformer_tagger(trf_source):
    source = load(trf_source["pipeline"])
    expected = trf_tags(source)
    nlp = blank("en")
    with pytest.raises(PipelineError, match="listens to 'transformer'.*replace_listeners"):
        nlp.add_pipe("tagger", source=source)
    nlp.add_pipe("transformer", source=source)
    nlp.add_pipe("tagger", source=source)
    assert trf_tags(nlp) == expected and trf_tags(source) == expected
    assert nlp.get_pipe("transformer").listeners == find_listeners(nlp.get_pipe("tagger").model)


def no_pipeline_saved(monkeypatch, *, component_folders: bool) -> None:
    """Saving or loading a whole pipeline fails from here on (and, without
    `component_folders`, any temporary directory in sourcing.py)."""
    import transfer_cli.pipeline.build as build_module
    import transfer_cli.pipeline.pipeline as pipeline_module
    import transfer_cli.pipeline.sourcing as sourcing_module

    def refused(*args, **kwargs):
        raise AssertionError("a whole pipeline was saved or loaded to copy one component")

    monkeypatch.setattr(pipeline_module.Pipeline, "to_disk", refused)
    monkeypatch.setattr(pipeline_module, "write_pipeline", refused)
    monkeypatch.setattr(pipeline_module.Pipeline, "load_saved", staticmethod(refused))
    monkeypatch.setattr(build_module, "load", refused)
    if not component_folders:
        monkeypatch.setattr(sourcing_module.tempfile, "TemporaryDirectory", refused)


def test_add_pipe_from_an_in_memory_pipeline_copies_its_state_without_saving(source_dir, monkeypatch):
    """The source's state as it is in memory (weights changed since it was loaded, a
    sentencizer setting changed in code) is copied, component by component, in memory:
    no pipeline is saved or loaded, nothing is written."""
    source = load(source_dir)
    noise = numpy.random.default_rng(0)
    for node in source.get_pipe("tagger").model.walk():  # weights no saved pipeline has
        for name in node.param_names:
            if node.has_param(name):
                value = node.get_param(name)
                node.set_param(name, value + noise.normal(0.0, 0.5, value.shape).astype(value.dtype))
    sentencizer = source.add_pipe("sentencizer")
    sentencizer.punct_chars = {"!"}  # a setting its config block does not have
    expected_scores, expected_tags = tagger_scores(source, "tagger"), tags(source)
    assert expected_tags != tags(load(source_dir))  # what a copy read from disk would predict
    no_pipeline_saved(monkeypatch, component_folders=False)
    nlp = blank("en")
    nlp.add_pipe("tok2vec", source=source)
    nlp.add_pipe("tagger", source=source, name="tagger2")
    nlp.add_pipe("sentencizer", source=source)
    assert tags(nlp, name="tagger2") == expected_tags
    assert all(numpy.array_equal(a, b) for a, b in zip(tagger_scores(nlp, "tagger2"), expected_scores))
    assert params(nlp.get_pipe("tagger2").model) == params(source.get_pipe("tagger").model)
    assert nlp.get_pipe("sentencizer").punct_chars == {"!"} and nlp.get_pipe("sentencizer") is not sentencizer
    assert [s.text for s in nlp("One! Two. Three!").sents] == ["One!", "Two. Three!"]
    assert nlp.get_pipe("tagger2").labels == source.get_pipe("tagger").labels
    assert tags(source) == expected_tags  # the source is as it was


def test_component_bytes_round_trip_and_damaged_bytes_are_one_error(source_dir):
    source = load(source_dir)
    tagger_bytes = source.get_pipe("tagger").to_bytes()
    nlp = blank("en")
    nlp.add_pipe("tok2vec", source=source)
    copy = nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2",
                                                    "tok2vec": listener(WIDTH)}})
    copy.from_bytes(tagger_bytes)
    assert copy.labels == source.get_pipe("tagger").labels
    assert params(copy.model) == params(source.get_pipe("tagger").model)
    for damaged in (b"", b"\x93garbage", tagger_bytes[:len(tagger_bytes) // 2]):
        with pytest.raises(PipelineError, match="component 'tagger'"):
            nlp.get_pipe("tagger").from_bytes(damaged)


def test_add_pipe_of_transformers_copies_only_their_component_folders(trf_source, monkeypatch):
    """A transformer's config and tokenizer are files: the transformer component, and a
    tagger with its own transformer (replace_listeners), are copied through their own
    folders only; the rest of the source is not saved."""
    source = load(trf_source["pipeline"])
    expected_tags, expected_scores = trf_tags(source), trf_scores(source)
    no_pipeline_saved(monkeypatch, component_folders=True)
    nlp = blank("en")
    nlp.add_pipe("transformer", source=source)
    nlp.add_pipe("tagger", source=source)
    assert trf_tags(nlp) == expected_tags
    source.replace_listeners("transformer", "tagger", ["model.tok2vec"])
    own = blank("en")
    own.add_pipe("tagger", source=source)
    assert trf_tags(own) == expected_tags
    assert all(numpy.allclose(a, b, atol=1e-6) for a, b in zip(trf_scores(own), expected_scores))
    assert same_state(own_transformer_state(own), own_transformer_state(source))


# -- source = the name of an installed pipeline package ------------------------------------------------
def test_source_by_installed_package_name(source_dir, tmp_path, monkeypatch):
    code, output = cli("package", source_dir, tmp_path / "dist", "--name", "srctest_pipeline", "--version", "0.1.0")
    assert code == 0, output
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:  # what pip install does with a pure wheel
        archive.extractall(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.chdir(tmp_path)
    config = sourced_config({"tagger": {"source": "en_srctest_pipeline", "replace_listeners": ["model.tok2vec"]}},
                            ["tagger"])
    nlp = pipeline_from_config(config)
    assert tags(nlp) == tags(load(source_dir))
    assert nlp.sourced["tagger"].path == "en_srctest_pipeline"
    missing = sourced_config({"tagger": {"source": "en_not_installed_here"}}, ["tagger"])
    with pytest.raises(ConfigError) as error:
        pipeline_from_config(missing)
    message = str(error.value)
    assert message.startswith("[components.tagger.source]: cannot source component 'tagger': pipeline directory "
                              "not found, and no installed pipeline package is named 'en_not_installed_here'")
    assert "en_srctest_pipeline 0.1.0" in message  # what is installed
