"""The transformer's fused CPU optimizer step (ml/transformer/adam_step.py) against thinc's own
PyTorchShim step: the same weights, moments, averages and update counts, over several steps
and every Adam setting a config can give; and thinc's step wherever the fused one cannot run."""
import copy

import numpy
import pytest
import torch
from thinc.api import Adam, PyTorchShim, RAdam, SGD

from transfer_cli.ml.transformer.adam_step import TransformerShim, fused_adam_step
from transfer_cli.ml.transformer.model import TransformerModel
from transfer_cli.ml.transformer.span_getters import configure_get_doc_spans
from transfer_cli.tokens import Doc, Vocab
from transformer_fixtures import tiny_bert_dir  # noqa: F401


def _pair(dtype=torch.float32):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Embedding(30, 8), torch.nn.Linear(8, 6), torch.nn.LayerNorm(6)).to(dtype)
    module[0].weight.requires_grad_(True)
    return PyTorchShim(copy.deepcopy(module)), TransformerShim(copy.deepcopy(module))


def _set_grads(shims, step, frozen=()):
    generator = torch.Generator().manual_seed(100 + step)
    for name, param in shims[0]._model.named_parameters():
        if name in frozen:  # no gradient this step: neither step touches it
            for shim in shims:
                dict(shim._model.named_parameters())[name].grad = None
            continue
        grad = torch.randn(param.shape, generator=generator, dtype=param.dtype) * (0.5 if step % 2 else 3.0)
        for shim in shims:
            dict(shim._model.named_parameters())[name].grad = grad.clone()


def _optimizer(**settings):
    return Adam(**{"learn_rate": 0.01, **settings})


def _state(shim, optimizer):
    params = {name: p.detach().clone() for name, p in shim._model.named_parameters()}
    tables = {}
    for table in ("mom1", "mom2", "averages"):
        values = getattr(optimizer, table) or {}
        tables[table] = {name: numpy.asarray(values[(shim.id, name)]).reshape(-1) for name in params
                         if (shim.id, name) in values}
    counts = {name: optimizer.nr_update[(shim.id, name)] for name in params if (shim.id, name) in optimizer.nr_update}
    return params, tables, counts


SETTINGS = [
    {},  # thinc's defaults: L2 0 as weight decay, grad_clip 1.0, averages on
    {"L2": 0.01, "L2_is_weight_decay": True, "grad_clip": 1.0, "use_averages": False},  # the transformer config
    {"L2": 0.01, "L2_is_weight_decay": False, "grad_clip": 0.0, "use_averages": True},
    {"beta1": 0.8, "beta2": 0.95, "eps": 1e-4, "grad_clip": 2.5, "use_averages": False},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_the_fused_step_equals_thincs_step(settings):
    reference, fused = _pair()
    thinc_optimizer, fused_optimizer = _optimizer(**settings), _optimizer(**settings)
    for step in range(4):
        _set_grads((reference, fused), step, frozen=("2.bias",) if step == 2 else ())
        reference.finish_update(thinc_optimizer)
        assert fused_adam_step(fused, fused_optimizer)
        for optimizer in (thinc_optimizer, fused_optimizer):
            optimizer.step_schedules()
    expected, found = _state(reference, thinc_optimizer), _state(fused, fused_optimizer)
    assert expected[2] == found[2] and found[2]["2.bias"] == 3 and found[2]["1.weight"] == 4
    start = {name: p.detach() for name, p in _pair()[0]._model.named_parameters()}
    for name, value in expected[0].items():
        moved = float((value - start[name]).abs().max())
        assert moved > 0.01  # each step moves a weight by about the learn rate
        # float32 rounding apart (thinc computes 1 - beta2 in float32: 1.3e-5 off for 0.999)
        assert float((found[0][name] - value).abs().max()) < 1e-4 * moved, name
    for table, arrays in expected[1].items():
        assert set(found[1][table]) == set(arrays)
        for name, array in arrays.items():
            # the averages follow the weights, whose rounding differences are absolute
            numpy.testing.assert_allclose(found[1][table][name], array, rtol=5e-5,
                                          atol=1e-6 if table == "averages" else 1e-9)
    for _, param in fused._model.named_parameters():
        assert param.grad is None or not bool(param.grad.any())  # zeroed, as thinc's shim leaves them


def test_it_goes_on_from_moments_thinc_left_or_a_checkpoint_restored():
    reference, fused = _pair()
    thinc_optimizer, fused_optimizer = _optimizer(), _optimizer()
    _set_grads((reference, fused), 0)
    reference.finish_update(thinc_optimizer)
    PyTorchShim.finish_update(fused, fused_optimizer)  # thinc's step first, as before a resume
    for key in list(fused_optimizer.mom1):  # a restored checkpoint's arrays are read-only copies
        fused_optimizer.mom1[key] = numpy.array(fused_optimizer.mom1[key])
        fused_optimizer.mom1[key].flags.writeable = False
    _set_grads((reference, fused), 1)
    reference.finish_update(thinc_optimizer)
    fused.finish_update(fused_optimizer)
    for (name, value), (_, found) in zip(reference._model.named_parameters(), fused._model.named_parameters()):
        assert float((found - value).detach().abs().max()) < 2e-6, name  # steps of about 0.01: rounding apart


@pytest.mark.parametrize("optimizer", [RAdam(0.01), SGD(0.01)])
def test_other_optimizers_take_thincs_step(optimizer):
    reference, fused = _pair()
    assert not fused_adam_step(fused, optimizer)
    second = copy.deepcopy(optimizer)
    _set_grads((reference, fused), 0)
    reference.finish_update(optimizer)
    fused.finish_update(second)
    for (name, value), (_, found) in zip(reference._model.named_parameters(), fused._model.named_parameters()):
        assert torch.equal(found, value), name


def test_float64_parameters_take_thincs_step():
    _, fused = _pair(torch.float64)
    _set_grads((fused,), 0)
    assert not fused_adam_step(fused, _optimizer())


def test_a_loaded_transformer_steps_through_the_fused_shim(tiny_bert_dir):  # noqa: F811
    model = TransformerModel(str(tiny_bert_dir), configure_get_doc_spans())
    model.initialize()
    shim = model.layers[0].shims[0]
    assert isinstance(shim, TransformerShim)
    docs = [Doc(Vocab(), words=["the", "cat", "sat", "on", "the", "mat"])]
    batch, backprop = model.begin_update(docs)
    backprop(batch.unsplit_by_doc([[numpy.ones_like(d.model_output.last_hidden_state)] for d in batch.doc_data]))
    before = {name: p.detach().clone() for name, p in shim._model.named_parameters()}
    optimizer = _optimizer(use_averages=False)
    model.finish_update(optimizer)
    after = dict(shim._model.named_parameters())
    assert any(not torch.equal(after[name].detach(), value) for name, value in before.items())
    assert len(optimizer.mom1) == sum(1 for p in after.values() if p.grad is not None)  # not the unused pooler
