"""Linear layers through numpy's BLAS (ml/transformer/blas_linear.py): the same outputs and
gradients as torch's F.linear, pass-through of what it does not handle, the choice between the two
libraries, and a transformer training pass whose linear layers run no torch matrix product."""
import numpy
import pytest
import torch
import torch.nn.functional as F

from transfer_cli.errors import ConfigError
from transfer_cli.ml.transformer import blas_linear as blas
from transfer_cli.ml.transformer.model import TransformerModel
from transfer_cli.ml.transformer.span_getters import configure_get_doc_spans
from transfer_cli.tokens import Doc, Vocab
from torch_ops import OpNames
from transformer_fixtures import tiny_bert_dir  # noqa: F401


@pytest.fixture
def numpy_chosen(monkeypatch):
    monkeypatch.setenv(blas.ENV_CHOICE, "numpy")


def _linear_and_grads(x, weight, bias, grad, mode):
    inputs = [t.detach().clone().requires_grad_(t.requires_grad) if t is not None else None for t in (x, weight, bias)]
    if mode:
        with blas.blas_linear():
            out = F.linear(*inputs)
    else:
        out = F.linear(*inputs)
    out.backward(grad)
    return out.detach(), [t.grad if t is not None else None for t in inputs]


@pytest.mark.parametrize("shape", [(7, 16), (3, 7, 16), (2, 3, 4, 16)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_outputs_and_gradients_equal_torchs(numpy_chosen, shape, with_bias):
    torch.manual_seed(0)
    x = torch.randn(shape, requires_grad=True)
    weight = torch.randn(5, 16, requires_grad=True)
    bias = torch.randn(5, requires_grad=True) if with_bias else None
    grad = torch.randn(*shape[:-1], 5)
    expected, expected_grads = _linear_and_grads(x, weight, bias, grad, mode=False)
    found, found_grads = _linear_and_grads(x, weight, bias, grad, mode=True)
    assert found.shape == expected.shape and torch.allclose(found, expected, atol=1e-5)
    for e, f in zip(expected_grads, found_grads):
        assert (e is None) == (f is None)
        if e is not None:
            assert f.shape == e.shape and torch.allclose(f, e, atol=1e-5)


def test_frozen_weights_and_inputs_without_gradients(numpy_chosen):
    x = torch.randn(4, 8, requires_grad=True)
    weight, bias = torch.randn(3, 8), torch.randn(3)
    with blas.blas_linear():
        out = F.linear(x, weight, bias)
    out.sum().backward()
    assert torch.allclose(x.grad, weight.sum(0).expand(4, 8), atol=1e-5)
    with blas.blas_linear(), torch.no_grad():
        assert torch.allclose(F.linear(x, weight, bias), x @ weight.T + bias, atol=1e-5)
    non_contiguous = torch.randn(8, 4).T  # a transposed view
    with blas.blas_linear():
        assert torch.allclose(F.linear(non_contiguous, weight), non_contiguous @ weight.T, atol=1e-5)


def _ops(run):
    with OpNames() as ops:
        run()
    return ops.names


def test_what_it_does_not_handle_goes_to_torch(numpy_chosen):
    with blas.blas_linear():
        double = _ops(lambda: F.linear(torch.randn(4, 8, dtype=torch.float64), torch.randn(3, 8, dtype=torch.float64)))
        vector = _ops(lambda: F.linear(torch.randn(8), torch.randn(3, 8)))
        handled = _ops(lambda: F.linear(torch.randn(4, 8), torch.randn(3, 8), torch.randn(3)))
    assert "mm" in double or "addmm" in double
    assert "mv" in vector or "mm" in vector or "addmv" in vector
    assert not handled & {"mm", "addmm", "matmul"}


def test_the_environment_variable_then_a_pinned_choice_then_a_measurement_choose(monkeypatch):
    def uses_numpy():
        with blas.blas_linear():
            names = _ops(lambda: F.linear(torch.randn(4, 8), torch.randn(3, 8), torch.randn(3)))
        assert blas.cpu_matmul_choice() == ("torch" if "addmm" in names else "numpy")
        return "addmm" not in names

    try:
        for pinned in ("torch", "numpy"):
            blas.pin_cpu_matmul(pinned)
            for choice in ("torch", "numpy"):
                monkeypatch.setenv(blas.ENV_CHOICE, choice)
                assert uses_numpy() is (choice == "numpy")  # the variable first
            monkeypatch.delenv(blas.ENV_CHOICE)
            assert uses_numpy() is (pinned == "numpy")  # then what a checkpoint pinned
        blas.pin_cpu_matmul(None)
        assert uses_numpy() is blas._measured_numpy_faster(torch.get_num_threads())  # then the measurement
    finally:
        blas.pin_cpu_matmul(None)


def test_a_transformer_training_pass_runs_its_linear_layers_through_numpy(tiny_bert_dir, monkeypatch):  # noqa: F811
    model = TransformerModel(str(tiny_bert_dir), configure_get_doc_spans(),
                             transformer_config={"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})
    model.initialize()
    docs = [Doc(Vocab(), words=["the", "cat", "sat", "on", "the", "mat"] * 3), Doc(Vocab(), words=["a", "dog"])]
    torch_model = model.layers[0].shims[0]._model

    def train_pass(choice):
        monkeypatch.setenv(blas.ENV_CHOICE, choice)
        torch_model.zero_grad(set_to_none=True)
        with OpNames() as ops:
            batch, backprop = model.begin_update(docs)
            backprop(batch.unsplit_by_doc([[numpy.ones_like(d.model_output.last_hidden_state)]
                                           for d in batch.doc_data]))
        grads = {name: p.grad.clone() for name, p in torch_model.named_parameters() if p.grad is not None}
        return batch.model_output.last_hidden_state, grads, ops.names

    expected, expected_grads, torch_ops = train_pass("torch")
    found, found_grads, numpy_ops = train_pass("numpy")
    assert "addmm" in torch_ops and not numpy_ops & {"addmm", "mm"}
    numpy.testing.assert_allclose(found, expected, atol=1e-5)
    assert set(found_grads) == set(expected_grads) and len(found_grads) > 10
    for name, grad in expected_grads.items():
        assert torch.allclose(found_grads[name], grad, atol=1e-4, rtol=1e-4), name


def test_a_wrong_value_of_the_variable_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(blas.ENV_CHOICE, "mkl")
    with pytest.raises(ConfigError, match="TRANSFER_CLI_CPU_MATMUL must be 'numpy' or 'torch'.*'mkl'"):
        with blas.blas_linear():
            pass
