"""Embedding gradients added in place (ml/transformer/embedding_grads.py): the same .grad as
torch's backward, padding rows left out, accumulation over several backward passes, and
pass-through of the lookups it does not handle."""
import pytest
import torch
import torch.nn.functional as F

from transfer_cli.ml.transformer.embedding_grads import embedding_grads_in_place
from torch_ops import OpNames


def _tiny_bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    return BertModel(config)


def _grads(model, batches, in_place):
    model.zero_grad(set_to_none=True)
    for ids, mask in batches:
        if in_place:
            with embedding_grads_in_place():
                output = model(input_ids=ids, attention_mask=mask).last_hidden_state
        else:
            output = model(input_ids=ids, attention_mask=mask).last_hidden_state
        output.backward(torch.linspace(-1, 1, output.numel()).view(output.shape))  # runs outside the mode
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_the_grads_are_torchs_over_several_backward_passes():
    model = _tiny_bert()
    # repeated ids (their rows sum) and padding id 0 (no gradient for its row)
    batches = [(torch.tensor([[2, 7, 7, 9, 0, 0], [3, 7, 4, 5, 6, 8]]), torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6])),
               (torch.tensor([[9, 9, 11, 0]]), torch.tensor([[1, 1, 1, 0]]))]
    expected = _grads(model, batches, in_place=False)
    with OpNames() as ops:
        found = _grads(model, batches, in_place=True)
    assert "embedding_dense_backward" not in ops.names and "index_add_" in ops.names  # the rows were added in place
    assert found.keys() == expected.keys()
    for name in expected:
        assert torch.allclose(found[name], expected[name], atol=1e-6), name
    word_grads = found["embeddings.word_embeddings.weight"]
    assert torch.all(word_grads[0] == 0) and word_grads[7].abs().sum() > 0


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_a_plain_lookup_matches_torch_with_any_padding_index(padding_idx):
    ids = torch.tensor([[0, 1, 4, 4], [4, 3, 1, 2]])
    expected_weight = torch.randn(5, 3, requires_grad=True)
    weight = expected_weight.detach().clone().requires_grad_()
    F.embedding(ids, expected_weight, padding_idx).pow(2).sum().backward()
    with embedding_grads_in_place():
        rows = F.embedding(ids, weight, padding_idx)
    assert torch.equal(rows, F.embedding(ids, expected_weight, padding_idx))
    rows.pow(2).sum().backward()
    assert torch.allclose(weight.grad, expected_weight.grad)


def test_lookups_it_does_not_handle_go_to_torch():
    ids = torch.tensor([1, 2, 2])
    frozen = torch.randn(4, 3)
    with embedding_grads_in_place():
        assert not F.embedding(ids, frozen).requires_grad
        weight = torch.randn(4, 3, requires_grad=True)
        with torch.no_grad():
            assert not F.embedding(ids, weight).requires_grad
        scaled = F.embedding(ids, weight, scale_grad_by_freq=True)
    assert scaled.grad_fn.name() == "EmbeddingBackward0"
    scaled.sum().backward()
    assert torch.allclose(weight.grad[2], torch.ones(3))  # two lookups of row 2, scaled by their count
