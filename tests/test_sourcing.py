"""Reusing trained components: `source = "path"` blocks (with `component = ...`),
frozen/annotating sourced components, replace_listeners in config and in Python, the
vectors check, errors for a missing source and for listeners left without an upstream,
and fill-config keeping source blocks."""
import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import numpy
import pytest
from confection import Config

from transfer_cli import blank, load
from transfer_cli.config.loading import load_config, load_config_from_str
from transfer_cli.errors import ConfigError, PipelineError
from transfer_cli.pipeline.build import pipeline_from_config
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.corpus import Corpus

from conftest import (EWT_DEV, EWT_TRAIN, NER_DEV, NER_TRAIN, SAMPLE, cli, listener, shared_config, tagger,
                       tok2vec_model, training_overrides)

WIDTH = 32
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


def params(*models) -> List[bytes]:
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
        numpy.testing.assert_array_equal(ours, theirs)
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
