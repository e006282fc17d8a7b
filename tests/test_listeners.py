"""Shared tok2vec with listeners: broadcast, gradient flow, doc.tensor fallback, clear errors.
Built by hand from thinc layers so it tests the mechanism, not the architectures."""
from typing import List

import numpy
import pytest
from thinc.api import Adam, HashEmbed, Maxout, Model, chain, with_array

from transfer_cli.errors import PipelineError
from transfer_cli.ml.listeners import build_tok2vec_listener
from transfer_cli.ml.tagger import build_tagger_model
from transfer_cli.pipeline.pipeline import Pipeline
from transfer_cli.pipeline.tagger import Tagger
from transfer_cli.pipeline.tok2vec import Tok2Vec
from transfer_cli.tokens import Doc, Vocab
from transfer_cli.tokens.example import Example

WIDTH = 16
SENTENCES = [
    (["I", "like", "green", "eggs"], ["PRP", "VBP", "JJ", "NNS"], ["PRON", "VERB", "ADJ", "NOUN"]),
    (["Eat", "blue", "ham"], ["VB", "JJ", "NN"], ["VERB", "ADJ", "NOUN"]),
    (["You", "eat", "green", "ham"], ["PRP", "VBP", "JJ", "NN"], ["PRON", "VERB", "ADJ", "NOUN"]),
]


def orth_ids() -> Model:
    def forward(model, docs: List[Doc], is_train):
        return [doc.to_array(["ORTH"]).reshape((-1, 1)) for doc in docs], lambda d: []

    return Model("orth_ids", forward)


def tiny_tok2vec() -> Model:
    model = chain(orth_ids(), with_array(chain(HashEmbed(WIDTH, 100, column=0), Maxout(WIDTH, WIDTH, nP=2))))
    model.set_dim("nO", WIDTH)
    return model


def make_examples(vocab):
    return [Example.from_dict(Doc(vocab, words), {"words": words, "tags": tags, "pos": pos})
            for words, tags, pos in SENTENCES]


def shared_pipeline():
    vocab = Vocab()
    nlp = Pipeline(vocab, tokenizer=lambda text: Doc(vocab, text.split()))
    nlp.add_component("tok2vec", Tok2Vec(vocab, tiny_tok2vec()))
    nlp.add_component("tagger", Tagger(vocab, build_tagger_model(build_tok2vec_listener(WIDTH, "tok2vec"))))
    nlp.add_component("pos", Tagger(vocab, build_tagger_model(build_tok2vec_listener(WIDTH, "*")), attr="pos"))
    return nlp, make_examples(vocab)


def test_listeners_are_linked_and_both_components_learn():
    nlp, examples = shared_pipeline()
    tok2vec = nlp.get_pipe("tok2vec")
    assert len(tok2vec.listeners) == 2
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.05)
    before = _params(tok2vec.model)
    for _ in range(30):
        losses = nlp.update(examples, sgd=optimizer)
    after = _params(tok2vec.model)
    assert any(not numpy.array_equal(a, b) for a, b in zip(before, after)), "tok2vec weights did not change"
    assert losses["tagger"] < 1.0 and losses["pos"] < 1.0
    doc = nlp("You like blue eggs")
    assert doc.tensor.shape == (4, WIDTH)
    assert [t.tag_ for t in doc] == ["PRP", "VBP", "JJ", "NNS"]
    assert [t.pos_ for t in doc] == ["PRON", "VERB", "ADJ", "NOUN"]


def test_gradients_from_both_listeners_are_summed_once():
    nlp, examples = shared_pipeline()
    nlp.initialize(lambda: examples)
    nlp.update(examples, sgd=Adam(0.05))  # the output layers start at zero: move them first
    tok2vec = nlp.get_pipe("tok2vec")
    calls = []
    original = tok2vec.model._func

    def counting_forward(model, X, is_train):
        Y, backprop = original(model, X, is_train)

        def counted(dY):
            calls.append(sum(float(abs(d).sum()) for d in dY))
            return backprop(dY)

        return Y, counted

    tok2vec.model._func = counting_forward
    nlp.update(examples)
    assert len(calls) == 1 and calls[0] > 0


def test_listener_reads_doc_tensor_when_upstream_only_annotates():
    nlp, examples = shared_pipeline()
    nlp.initialize(lambda: examples)
    docs = [eg.predicted for eg in examples]
    with nlp.select_pipes(enable=["tok2vec"]):
        list(nlp.pipe(docs))
    tagger = nlp.get_pipe("tagger")
    assert all(doc.tensor.shape == (len(doc), WIDTH) for doc in docs)
    tagger.set_annotations(docs, tagger.predict(docs))  # reads doc.tensor, no broadcast


def test_frozen_upstream_without_annotating_is_a_clear_error():
    nlp, examples = shared_pipeline()
    nlp.initialize(lambda: examples)
    fresh = make_examples(nlp.vocab)
    with pytest.raises(PipelineError, match="annotating_components"):
        nlp.update(fresh, exclude=["tok2vec"])
    losses = nlp.update(fresh, exclude=["tok2vec"], annotates=["tok2vec"])
    assert losses["tagger"] > 0


def test_removing_or_replacing_an_upstream_with_listeners_is_refused():
    nlp, _ = shared_pipeline()
    with pytest.raises(PipelineError, match="listen to it"):
        nlp.remove_pipe("tok2vec")
    nlp.remove_pipe("tagger")
    nlp.remove_pipe("pos")
    nlp.remove_pipe("tok2vec")
    assert nlp.pipe_names == []


def test_listener_width_mismatch_is_reported():
    vocab = Vocab()
    nlp = Pipeline(vocab)
    nlp.add_component("tok2vec", Tok2Vec(vocab, tiny_tok2vec()))
    with pytest.raises(PipelineError, match="width"):
        nlp.add_component("tagger", Tagger(vocab, build_tagger_model(build_tok2vec_listener(WIDTH + 1, "tok2vec"))))


def _params(model):
    return [node.get_param(name).copy() for node in model.walk() for name in node.param_names if node.has_param(name)]
