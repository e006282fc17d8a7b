"""TransformerListener and Tok2VecTransformer: gradients reach the transformer (once per
batch, whatever the number of listeners), grad_factor 0 runs no backward pass and moves
no weight, schedules, widths, pooling layers, and listeners of both upstream kinds in one
pipeline. Tiny random models from transformer_fixtures."""
import numpy
import pytest
import torch
from thinc.api import Adam

import transfer_cli
from transfer_cli.errors import PipelineError
from transfer_cli.ml.listeners import batch_id
from transfer_cli.ml.transformer.model import hf_model
from transfer_cli.ml.transformer_listener import TransformerListener
from transformer_fixtures import WIDTH, tiny_bert_dir, tiny_roberta_dir  # noqa: F401
from transformer_pipelines import (TEXTS, changed, listener, one_torch_thread, tagged_examples,  # noqa: F401
                                   tagger_block, torch_state, trf_pipeline)


@pytest.fixture
def backward_calls(monkeypatch):
    """How many times torch ran a backward pass, and whether each transformer forward pass
    built an autograd graph."""
    calls = {"backward": 0}
    real_backward = torch.autograd.backward

    def counting_backward(*args, **kwargs):
        calls["backward"] += 1
        return real_backward(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "backward", counting_backward)
    return calls


def record_grad_mode(nlp):
    """A list that gets torch.is_grad_enabled() of every forward pass of the transformer."""
    modes = []
    hf_model(nlp.get_pipe("transformer").model).register_forward_hook(
        lambda module, inputs, output: modes.append(torch.is_grad_enabled()))
    return modes


def trained(nlp, steps=4, **update):
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    before = torch_state(nlp)
    losses = [nlp.update(examples, sgd=optimizer, **update) for _ in range(steps)]
    return before, losses


def test_listener_gradients_reach_the_transformer_once_per_batch(tiny_bert_dir, backward_calls):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener(), "pos": listener()})
    transformer = nlp.get_pipe("transformer")
    assert len(transformer.listeners) == 2
    nlp.initialize(lambda: tagged_examples(nlp))
    modes = record_grad_mode(nlp)
    before = torch_state(nlp)
    optimizer = Adam(0.01)
    losses = [nlp.update(tagged_examples(nlp), sgd=optimizer) for _ in range(3)]
    # two listeners, one backward pass per update (the four short docs are one sub-batch)
    assert backward_calls["backward"] == 3
    assert modes == [True, True, True]
    moved = changed(before, torch_state(nlp))
    assert any("encoder.layer.0" in key for key in moved) and any("embeddings" in key for key in moved)
    assert losses[-1]["transformer"] > 0
    assert losses[-1]["tagger"] < losses[0]["tagger"]


def test_grad_factor_zero_runs_no_backward_and_moves_no_weight(tiny_bert_dir, backward_calls):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener(0.0), "pos": listener(0.0)})
    nlp.initialize(lambda: tagged_examples(nlp))
    modes = record_grad_mode(nlp)
    before = torch_state(nlp)
    optimizer = Adam(0.01)
    losses = [nlp.update(tagged_examples(nlp), sgd=optimizer) for _ in range(3)]
    assert backward_calls["backward"] == 0
    assert modes == [False, False, False]  # no autograd graph was built
    assert changed(before, torch_state(nlp)) == []
    assert losses[-1]["tagger"] < losses[0]["tagger"]  # the taggers' own layers learn


def test_one_listener_at_zero_beside_one_at_one(tiny_bert_dir, backward_calls):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener(0.0), "pos": listener(1.0)})
    before, _ = trained(nlp, steps=2)
    assert backward_calls["backward"] == 2
    assert changed(before, torch_state(nlp))


def test_grad_factor_scales_the_gradient_sent_upstream(tiny_bert_dir):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener()})
    nlp.initialize(lambda: tagged_examples(nlp))
    transformer = nlp.get_pipe("transformer")
    layer = transformer.listeners[0]
    docs = [nlp.make_doc(text) for text in TEXTS]
    batch = transformer.predict(docs)
    sent = {}
    for factor in (1.0, 0.25, 0.0):
        received = []
        layer.receive(batch_id(docs), batch.doc_data, received.append)
        layer.attrs["grad_factor"] = factor
        rows, backprop = layer(docs, is_train=True)
        backprop([numpy.ones_like(r) for r in rows])
        sent[factor] = [d.model_output.last_hidden_state for d in received[0]] if received else None
    assert sent[0.0] is None  # nothing sent at all
    for full, quarter, data in zip(sent[1.0], sent[0.25], batch.doc_data):
        assert full.shape == data.model_output.last_hidden_state.shape and full.any()
        numpy.testing.assert_allclose(quarter, full * 0.25, rtol=1e-6)


def test_grad_factor_schedule_takes_one_value_per_step(tiny_bert_dir, backward_calls):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener()})
    nlp.initialize(lambda: tagged_examples(nlp))
    layer = nlp.get_pipe("transformer").listeners[0]
    layer.attrs["grad_factor"], layer.grad_factor_schedule = 0.0, iter([0.0, 1.0])
    optimizer = Adam(0.01)
    factors = []
    for _ in range(4):
        factors.append(layer.grad_factor)
        nlp.update(tagged_examples(nlp), sgd=optimizer)
    assert factors == [0.0, 0.0, 1.0, 1.0]  # an exhausted schedule keeps its last value
    assert backward_calls["backward"] == 2


def test_grad_factor_schedule_from_the_config(tiny_bert_dir):
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener({"@schedules": "constant_then.v1", "rate": 0.0,
                                                           "steps": 1, "schedule": {"@schedules": "constant.v1",
                                                                                    "rate": 0.5}})})
    layer = nlp.get_pipe("transformer").listeners[0]
    assert layer.grad_factor == 0.0
    layer.step_grad_factor()
    assert layer.grad_factor == 0.5


@pytest.mark.parametrize("pooling", ["reduce_mean.v1", "reduce_max.v1", "reduce_first.v1", "reduce_last.v1"])
def test_every_pooling_layer_gives_one_row_per_token(tiny_roberta_dir, pooling):
    """Whitespace tokens have no wordpieces: they get zero rows (reduce_max, _first and
    _last refuse empty groups in thinc)."""
    nlp = trf_pipeline(tiny_roberta_dir, {"tagger": listener(pooling=pooling)})
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    doc = nlp.make_doc("the  cat sat")  # a whitespace token between "the" and "cat"
    assert [t.text for t in doc] == ["the", " ", "cat", "sat"]
    nlp.get_pipe("transformer")(doc)
    layer = nlp.get_pipe("transformer").listeners[0]
    (rows,), backprop = layer([doc], is_train=True)
    assert rows.shape == (4, WIDTH)
    assert not rows[1].any() and rows[0].any() and rows[2].any()
    nlp.update(examples, sgd=Adam(0.01))  # and they backpropagate


def test_listener_width_must_be_the_hidden_size(tiny_bert_dir):
    nlp = trf_pipeline(tiny_bert_dir, {})
    with pytest.raises(PipelineError, match=f"listens to 'transformer' with width 16, but the transformer's "
                                            f"hidden size is {WIDTH}: set the listener's width to {WIDTH}"):
        nlp.add_pipe("tagger", config=tagger_block(listener(width=16)))
    nlp.add_pipe("tagger", config=tagger_block(listener(width=WIDTH)))
    assert nlp.get_pipe("transformer").listeners[0].get_dim("nO") == WIDTH


def test_listener_width_error_from_the_cli(tiny_bert_dir, tmp_path):
    from conftest import EWT_DEV, EWT_TRAIN, cli
    from transfer_cli.config.quickstart import init_config

    config = tmp_path / "trf.cfg"
    init_config(pipeline=["tagger"], gpu=True).to_disk(config)
    code, output = cli("train", config, "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV,
                       "--components.transformer.model.name", tiny_bert_dir,
                       "--components.tagger.model.tok2vec.width", 48)
    assert code == 1
    assert f"listens to 'transformer' with width 48, but the transformer's hidden size is {WIDTH}" in output
    assert "Traceback" not in output


def test_listeners_link_to_their_own_upstream_kind(tiny_bert_dir):
    """A "*" tok2vec listener and a "*" transformer listener in one pipeline: each upstream
    feeds only its own kind, and both taggers train."""
    nlp = trf_pipeline(tiny_bert_dir, {"pos": listener()})
    nlp.add_pipe("tok2vec", first=True)
    nlp.add_pipe("tagger", config=tagger_block({"@architectures": "spacy.Tok2VecListener.v1", "width": 96}))
    tok2vec, transformer = nlp.get_pipe("tok2vec"), nlp.get_pipe("transformer")
    assert [type(l).__name__ for l in transformer.listeners] == ["TransformerListener"]
    assert len(tok2vec.listeners) == 1 and not isinstance(tok2vec.listeners[0], TransformerListener)
    before, losses = trained(nlp, steps=3)
    assert losses[-1]["tagger"] < losses[0]["tagger"] and losses[-1]["pos"] < losses[0]["pos"]
    assert changed(before, torch_state(nlp))
    docs = list(nlp.pipe(TEXTS))
    assert all(token.tag_ and token.pos_ for doc in docs for token in doc)


def test_tok2vec_transformer_trains_saves_and_loads(tiny_bert_dir, tmp_path, backward_calls):
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": {
        "@architectures": "spacy-transformers.Tok2VecTransformer.v3", "name": str(tiny_bert_dir),
        "get_spans": {"@span_getters": "spacy-transformers.doc_spans.v1"}, "tokenizer_config": {"use_fast": True},
        "pooling": {"@layers": "reduce_mean.v1"}, "grad_factor": 1.0}}})
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    transformer = nlp.get_pipe("tagger").model.get_ref("tok2vec").get_ref("transformer")
    before = {k: v.clone() for k, v in hf_model(transformer).state_dict().items()}
    optimizer = Adam(0.01)
    losses = [nlp.update(examples, sgd=optimizer)["tagger"] for _ in range(4)]
    assert losses[-1] < losses[0] and backward_calls["backward"] == 4
    assert changed(before, hf_model(transformer).state_dict())
    tags = [[t.tag_ for t in doc] for doc in nlp.pipe(TEXTS)]
    nlp.to_disk(tmp_path / "pipeline")
    saved = sorted(p.name for p in (tmp_path / "pipeline" / "tagger" / "transformer0").iterdir())
    assert "config.json" in saved and "tokenizer.json" in saved
    assert not any(name.endswith((".bin", ".safetensors")) for name in saved)  # weights are in tagger/model
    loaded = transfer_cli.load(tmp_path / "pipeline")
    assert [[t.tag_ for t in doc] for doc in loaded.pipe(TEXTS)] == tags


def test_a_listener_without_a_transformer_is_a_clear_error():
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("tagger", config=tagger_block(listener()))
    with pytest.raises(PipelineError, match="linked to no transformer component"):
        nlp.initialize(lambda: tagged_examples(nlp))
