"""Fixtures of the bad-input matrix (imported by its test file): one tiny trained pipeline (and, for the transformer
cases, one tiny transformer pipeline) built once per session; each case copies it."""
import shutil
from pathlib import Path

import numpy
import pytest
from conftest import EWT_DEV, EWT_TRAIN, starter_config

from transfer_cli.tokens.vectors import Vectors
from transfer_cli.training.initialize import init_pipeline

SMALL = {"components.tok2vec.model.encode.width": 16, "components.tok2vec.model.encode.depth": 1,
         "components.tok2vec.model.embed.rows": [50, 20, 20, 20], "corpora.train.limit": 8}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """tok2vec + tagger after one update, with a 5-row vectors table: every kind of file a
    pipeline directory holds but a transformer's."""
    setup = init_pipeline(starter_config(["tagger"], EWT_TRAIN, EWT_DEV, overrides=SMALL))
    nlp = setup.nlp
    nlp.update(list(setup.train_corpus(nlp)), sgd=setup.optimizer)
    data = numpy.random.default_rng(0).random((5, 4), dtype=numpy.float32)
    nlp.vocab.vectors = Vectors(data=data, keys=["the", "a", "of", "dog", "cat"], name="tiny")
    path = tmp_path_factory.mktemp("tiny") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture
def tiny_model(tiny_model_dir, tmp_path) -> Path:
    """A copy of the tiny pipeline to damage."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


@pytest.fixture(scope="session")
def tiny_trf_model_dir(tmp_path_factory) -> Path:
    """A transformer + tagger pipeline over a tiny random BERT (no network)."""
    import torch
    from transformer_fixtures import build_bert
    from transformer_pipelines import tagged_examples, trf_pipeline

    torch.set_num_threads(1)
    bert = build_bert(tmp_path_factory.mktemp("bert") / "bert")
    nlp = trf_pipeline(bert)
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    path = tmp_path_factory.mktemp("trf") / "model"
    nlp.to_disk(path)
    return path
