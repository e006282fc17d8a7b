"""Fast CPU dropout (ml/transformer/dropout.py): the drop rate and scaling, exact gradients,
SDPA's attention dropout against a hand computation, seeding, pass-through of what it does not
handle, and that a training pass of the transformer uses it instead of torch's bernoulli_."""
import numpy
import pytest
import torch
import torch.nn.functional as F

from transfer_cli.ml.transformer.dropout import fast_cpu_dropout
from transfer_cli.ml.transformer.model import TransformerModel
from transfer_cli.ml.transformer.span_getters import configure_get_doc_spans
from transfer_cli.tokens import Doc, Vocab
from torch_ops import OpNames
from transformer_fixtures import tiny_bert_dir  # noqa: F401

P = 0.1
THRESHOLD = round(P * 65536)
SCALE = 65536 / (65536 - THRESHOLD)


def test_dropout_drops_at_rate_p_and_keeps_the_expectation():
    torch.manual_seed(0)
    x = torch.ones(400_000, requires_grad=True)
    with fast_cpu_dropout():
        y = F.dropout(x, P, training=True)
    dropped = float((y == 0).float().mean())
    assert abs(dropped - P) < 0.003
    assert torch.all((y == 0) | (y == torch.tensor(SCALE, dtype=torch.float32)))
    assert abs(float(y.detach().mean()) - 1.0) < 0.01
    y.backward(torch.full_like(y, 2.0))
    assert torch.equal(x.grad, torch.where(y != 0, torch.tensor(2.0 * SCALE), torch.tensor(0.0)))


def test_masks_follow_torchs_seed():
    x = torch.ones(10_000)

    def masks(seed):
        torch.manual_seed(seed)
        with fast_cpu_dropout():
            return F.dropout(x, P, training=True) == 0

    assert torch.equal(masks(3), masks(3))
    assert not torch.equal(masks(3), masks(4))


def test_what_it_does_not_handle_passes_through_unchanged():
    x = torch.randn(64, 8)
    with fast_cpu_dropout():
        assert torch.equal(F.dropout(x, P, training=False), x)
        assert torch.equal(F.dropout(x, 0.0, training=True), x)
        q, k, v = torch.randn(3, 2, 4, 5, 8).unbind(0)
        assert torch.allclose(F.scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v))
        seen = _ops_of(lambda: F.dropout(x.clone(), P, training=True, inplace=True))
    assert "bernoulli_" in seen  # in-place dropout is left to torch


def _reference_attention(q, k, v, mask, seed, p):
    """Softmax attention with the mask the mode's generator draws first for the probabilities."""
    scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min) if mask.dtype == torch.bool else scores + mask
    probs = torch.softmax(scores, dim=-1)
    threshold = round(p * 65536)
    raw = numpy.random.SFC64(seed).random_raw((probs.numel() + 3) // 4).view(numpy.uint16)[:probs.numel()]
    keep = torch.from_numpy(raw >= threshold).view(probs.shape)
    return torch.where(keep, probs * (65536 / (65536 - threshold)), 0.0) @ v


@pytest.mark.parametrize("mask_kind", ["additive", "bool"])
def test_attention_dropout_is_softmax_attention_with_the_drawn_mask(mask_kind):
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 3, 6, 4, dtype=torch.float64).unbind(0)
    keys_kept = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])[:, None, None, :].expand(2, 1, 6, 6)
    mask = keys_kept if mask_kind == "bool" else torch.zeros(keys_kept.shape, dtype=torch.float64).masked_fill(~keys_kept, -1e9)
    with fast_cpu_dropout(seed=11):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.3)
    assert torch.allclose(out, _reference_attention(q, k, v, mask, 11, 0.3), atol=1e-12)

    def attention(q, k, v):
        with fast_cpu_dropout(seed=11):  # the same masks on every call
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.3)

    inputs = tuple(t.clone().requires_grad_() for t in (q, k, v))
    assert torch.autograd.gradcheck(attention, inputs)


def test_a_query_that_may_attend_to_nothing_gets_zeros_as_in_sdpa():
    q, k, v = torch.randn(3, 1, 1, 3, 4).unbind(0)
    mask = torch.tensor([[True, True, False], [False, False, False], [True, False, True]])
    with fast_cpu_dropout(seed=0):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.2)
    assert torch.all(out[0, 0, 1] == 0) and torch.all(torch.isfinite(out))


def test_masks_are_applied_by_multiplication_not_by_where_or_masked_fill():
    """torch.where and masked_fill with a bool mask run about ten times slower on CPU than a multiplication."""
    x = torch.randn(4, 6, 8, requires_grad=True)
    q, k, v = (torch.randn(2, 3, 6, 4, requires_grad=True) for _ in range(3))
    keys_kept = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])[:, None, None, :].expand(2, 1, 6, 6)

    def passes():
        with fast_cpu_dropout(seed=1):
            out = F.dropout(x, P, training=True).sum()
            out = out + F.scaled_dot_product_attention(q, k, v, attn_mask=keys_kept, dropout_p=P).sum()
        return out

    ops = _ops_of(passes)
    assert "mul" in ops and not ops & {"where", "masked_fill", "masked_fill_", "bernoulli_", "native_dropout"}


def _ops_of(run):
    with OpNames() as ops:
        result = run()
        if isinstance(result, torch.Tensor) and result.requires_grad:
            result.sum().backward()
    return ops.names


def test_a_training_pass_of_the_transformer_drops_out_without_bernoulli(tiny_bert_dir):  # noqa: F811
    model = TransformerModel(str(tiny_bert_dir), configure_get_doc_spans(),
                             transformer_config={"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1})
    model.initialize()
    docs = [Doc(Vocab(), words=["the", "cat", "sat", "on", "the", "mat"] * 4)]

    def train_pass():
        batch, backprop = model.begin_update(docs)
        backprop(batch.unsplit_by_doc([[numpy.ones_like(d.model_output.last_hidden_state)]
                                       for d in batch.doc_data]))

    ops = _ops_of(train_pass)
    assert "bernoulli_" not in ops and "native_dropout" not in ops
    assert "mul" in ops  # the masks were applied
    first = model.begin_update(docs)[0].model_output.last_hidden_state
    second = model.begin_update(docs)[0].model_output.last_hidden_state
    assert not numpy.allclose(first, second)  # a new mask on every pass
    assert numpy.allclose(model.predict(docs).model_output.last_hidden_state,
                          model.predict(docs).model_output.last_hidden_state)
