"""Data-parallel training (training/distributed.py) on CPU with gloo: ranks started as plain
processes with torch.distributed's environment variables, by torchrun over a two-"node"
rendezvous on localhost, and by `train --n-workers 2`. Each rank runs one torch/BLAS thread.

The ranks must end with identical weights, equal (within float tolerance) to one process
trained on the same global batches; that holds only because gradients are SUMMED over the
ranks, which is right only because the engine's losses are sums over examples: checked here
per component, and with a plain SGD optimizer (Adam would hide a factor of 2)."""
import inspect
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy
import pytest
import torch
from thinc.api import Adam
from conftest import EWT_DEV, EWT_TRAIN, NER_DEV, NER_TRAIN, ROOT, TEXTCAT_DEV, TEXTCAT_TRAIN, cli, starter_config

import transfer_cli
from transfer_cli import registry
from transfer_cli.errors import DistributedError
from transfer_cli.training import distributed
from transfer_cli.ml.transformer.model import hf_model
from transfer_cli.training.distributed import (DataParallel, LaunchEnvironment, TrainedParameters, backend_for,
                                               resumes, shard_indices, timeout_seconds)
from transfer_cli.training.initialize import init_pipeline
from transfer_cli.training.train import train_from_config
from transformer_fixtures import tiny_bert_dir  # noqa: F401
from transformer_pipelines import listener as trf_listener
from transformer_pipelines import tagged_examples, trf_pipeline

RUN_TIMEOUT = 600  # seconds; only a guard, so that a hang fails the test instead of stalling the suite

def weights_of(nlp) -> dict:
    """Every trainable parameter of the pipeline, keyed by component, node position and name."""
    weights = {}
    for name, component in nlp.components:
        if getattr(component, "is_trainable", False):
            for i, node in enumerate(component.model.walk()):
                for param in node.param_names:
                    if node.has_param(param):
                        weights[f"{name}/{i}/{param}"] = numpy.array(node.get_param(param))
    return weights


# A rank's program: train from CONFIG (rank 0 saves to OUT), then write its final weights.
WORKER = "import numpy\n" + inspect.getsource(weights_of) + """
import sys
from transfer_cli.config.loading import load_config
from transfer_cli.training.distributed import LaunchEnvironment, data_parallel
from transfer_cli.training.train import train_from_config

config_path, out, weights_path = sys.argv[1:4]
launch = LaunchEnvironment.detect()
kept = {}
with data_parallel(launch) as parallel:
    train_from_config(load_config(config_path, {}), out if launch.rank == 0 else None, quiet=True,
                      on_setup=lambda setup: kept.update(nlp=setup.nlp), parallel=parallel)
numpy.savez(weights_path, **weights_of(kept["nlp"]))
with open(weights_path + ".exchange", "w") as f:  # how the ranks summed their gradients
    f.write(type(parallel._exchange).__name__)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(**extra: str) -> dict:
    """The test's environment, one thread per rank, this checkout importable, no leftover rank variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", TRANSFER_CLI_BLAS_THREADS="1", PYTHONPATH=str(ROOT),
               TRANSFER_CLI_DIST_TIMEOUT="300", **extra)
    return env


def run_all(commands, tmp_path: Path, timeout: float = RUN_TIMEOUT):
    """Start every (argv, env) at once; (exit code, stdout, stderr, seconds until it ended) of each."""
    procs, files = [], []
    start = time.monotonic()
    for i, (argv, env) in enumerate(commands):
        out, err = open(tmp_path / f"stdout{i}", "w+"), open(tmp_path / f"stderr{i}", "w+")
        files.append((out, err))
        procs.append(subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err, text=True))
    ended = [None] * len(procs)
    try:
        while None in ended and time.monotonic() - start < timeout:
            for i, proc in enumerate(procs):
                if ended[i] is None and proc.poll() is not None:
                    ended[i] = time.monotonic() - start
            time.sleep(0.1)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for proc, (out, err), seconds in zip(procs, files, ended):
        out.seek(0)
        err.seek(0)
        results.append((proc.returncode, out.read(), err.read(), seconds))
        out.close()
        err.close()
    assert None not in ended, f"still running after {timeout} s: {results}"
    return results


def tagger_config(max_steps: int = 8, **overrides):
    """A small CNN tagger (tok2vec width 32), no dropout, so runs are comparable."""
    return starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=max_steps, eval_frequency=4,
                          overrides={"training.dropout": 0.0, "components.tok2vec.model.encode.width": 32,
                                     "components.tok2vec.model.encode.depth": 2, **overrides})


def write_config(config, path: Path) -> Path:
    path.write_text(config.to_str(), encoding="utf8")
    return path


# -- pure pieces ---------------------------------------------------------------------------------
def test_shards_cover_the_batch_once_balanced_by_words():
    lengths = [30, 1, 5, 22, 8, 8, 13, 0, 2, 40]
    for world in (1, 2, 3, 4):
        shards = shard_indices(lengths, world)
        assert sorted(i for shard in shards for i in shard) == list(range(len(lengths)))
        assert all(shard == sorted(shard) for shard in shards)  # the batch's order within a shard
        loads = [sum(lengths[i] for i in shard) for shard in shards]
        assert max(loads) - min(loads) <= max(lengths)
        assert shard_indices(lengths, world) == shards  # the same split on every call (every rank)
    assert shard_indices([5], 2) == [[0], []]  # a batch smaller than the world leaves a rank idle


def test_launch_environment():
    assert LaunchEnvironment.detect({}) is None
    assert LaunchEnvironment.detect({"WORLD_SIZE": "1", "RANK": "0"}) is None  # torchrun --nproc_per_node 1
    full = {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"}
    launch = LaunchEnvironment.detect(full)
    assert (launch.rank, launch.world_size, launch.local_rank, launch.master) == (3, 4, 1, "10.0.0.1:29500")
    assert launch.device(-1) == -1 and launch.device(0) == 1 and launch.device(2) == 3  # GPU gpu_id + local rank
    assert backend_for(-1) == "gloo" and backend_for(0) == "nccl"
    for broken, needle in [({"MASTER_ADDR": ""}, "MASTER_ADDR is not set"), ({"RANK": "4"}, "not below"),
                           ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two'"), ({"MASTER_PORT": "x"}, "MASTER_PORT='x'")]:
        with pytest.raises(DistributedError, match=needle):
            LaunchEnvironment.detect({**full, **broken})
    assert timeout_seconds({}) == 1800 and timeout_seconds({"TRANSFER_CLI_DIST_TIMEOUT": "5"}) == 5
    with pytest.raises(DistributedError, match="TRANSFER_CLI_DIST_TIMEOUT"):
        timeout_seconds({"TRANSFER_CLI_DIST_TIMEOUT": "0"})


def test_gpu_rank_uses_its_device_and_nccl(monkeypatch):
    """The CUDA and process-group calls are mocked: no GPU here."""
    import torch
    import torch.distributed as dist

    calls = {}
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.setdefault("device", device))
    monkeypatch.setattr(dist, "init_process_group",
                        lambda backend, **kwargs: calls.update(backend=backend, **kwargs))
    launch = LaunchEnvironment(rank=3, world_size=4, local_rank=1, master="h:1")
    parallel = DataParallel(launch, gpu_id=launch.device(0), timeout_s=5)
    parallel.start()
    assert calls["device"] == 1 and calls["backend"] == "nccl"
    assert (calls["rank"], calls["world_size"], calls["timeout"].total_seconds()) == (3, 4, 5)
    assert not parallel.is_main


def test_shared_nodes_count_once():
    from thinc.api import Linear, chain

    shared = Linear(4, 3)
    first, second = chain(shared, Linear(2, 4)), chain(shared, Linear(2, 4))
    for model in (first, second):
        model.initialize()

    class Stub:
        def __init__(self, model):
            self.model = model

    parameters = TrainedParameters([("a", Stub(first)), ("b", Stub(second))])
    keys = [(node.id, name) for node, name in parameters.thinc]
    assert len(keys) == len(set(keys)) == 6  # W and b of the shared layer once, of each head once
    assert parameters.n_values == (4 * 3 + 4) + 2 * (2 * 4 + 2)


@pytest.fixture
def one_rank(monkeypatch):
    """A process group of this process alone (gloo): every collective is the identity."""
    import torch.distributed as dist

    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    parallel = DataParallel(LaunchEnvironment(rank=0, world_size=1, local_rank=0, master="127.0.0.1"))
    parallel.start()
    yield parallel
    parallel.close()
    assert not dist.is_initialized()


def test_one_rank_round_trip(one_rank):
    """The gradients, the losses and which parameters have no gradient come back as they were."""
    setup = init_pipeline(tagger_config())
    nlp = setup.nlp
    one_rank.prepare(nlp)
    params = TrainedParameters([(n, c) for n, c in nlp.components if c.is_trainable])
    batch = list(setup.train_corpus(nlp))[:6]
    one_rank.reduce_gradients({}, batch)  # no gradients anywhere yet: none appear
    assert not any(node.has_grad(name) for node, name in params.thinc)
    losses = {}
    nlp.update(batch, drop=0.0, losses=losses)
    before = [numpy.array(node.get_grad(name)) if node.has_grad(name) else None for node, name in params.thinc]
    step_losses = dict(losses)
    one_rank.reduce_gradients(step_losses, batch)
    after = [numpy.array(node.get_grad(name)) if node.has_grad(name) else None for node, name in params.thinc]
    for a, b in zip(before, after):
        assert (a is None) == (b is None)
        if a is not None:
            assert numpy.array_equal(a, b)
    assert step_losses.keys() == {"tok2vec", "tagger"}
    assert step_losses["tagger"] == pytest.approx(losses["tagger"], rel=1e-6)
    assert one_rank.share_score(0.25) == 0.25


def test_embedding_tables_send_only_the_rows_a_step_touched(one_rank, monkeypatch):
    """Big embedding tables (here the hash embeddings, made to count as big) travel as the rows
    some rank has a gradient for; the rest of the table's gradient stays zero."""
    setup = init_pipeline(tagger_config())
    nlp = setup.nlp
    assert not any(TrainedParameters([(n, c) for n, c in nlp.components if c.is_trainable]).row_sparse)
    monkeypatch.setattr(distributed, "SPARSE_MIN_ROWS", 1024)
    params = TrainedParameters([(n, c) for n, c in nlp.components if c.is_trainable])
    tables = [i for i, sparse in enumerate(params.row_sparse) if sparse]
    assert tables == params.tables and all(params.thinc[i][1] == "E" for i in tables)
    assert params.n_inline == params.n_values - sum(params.sizes[i] for i in tables)
    examples = list(setup.train_corpus(nlp))[:2]
    nlp.update(examples, drop=0.0, sgd=Adam(0.001))  # the tagger's output layer starts at zero: no gradient yet
    nlp.update(examples, drop=0.0, losses={})
    gradients = params.table_gradients(torch.device("cpu"))
    rows = params.rows_to_send(params.row_masks(gradients, torch.device("cpu")))
    buffer, sizes = params.pack_rows(gradients, rows, torch.device("cpu"))
    assert sum(sizes) < sum(params.sizes[i] for i in tables) / 2  # two short documents touch few rows
    for (i, grad), row in zip(gradients, rows):
        touched = numpy.flatnonzero(numpy.abs(grad.numpy()).sum(axis=1) > 0)
        assert numpy.array_equal(row.numpy(), touched)
        assert 0 < len(touched) < grad.shape[0]
    before = [numpy.array(params.thinc[i][0].get_grad(params.thinc[i][1])) for i in tables]
    for i in tables:  # receive into zeroed gradients: the untouched rows stay zero
        node, name = params.thinc[i]
        node.set_grad(name, node.ops.alloc(node.get_param(name).shape, dtype="f"))
    params.unpack_rows(buffer, rows, sizes, [1.0] * params.n_tensors)
    for i, expected in zip(tables, before):
        node, name = params.thinc[i]
        assert numpy.array_equal(node.get_grad(name), expected), name


def test_gradients_are_summed_in_place_through_shared_memory(one_rank, monkeypatch):
    """On one machine the ranks sum gradients through a shared-memory file (unlinked once every
    rank mapped it), and thinc's gradients stay views of it: a step copies none of them. With
    TRANSFER_CLI_DIST_SHARED_MEMORY=0, or without room in /dev/shm, gloo sums them."""
    setup = init_pipeline(tagger_config())
    nlp = setup.nlp
    left_before = set(Path(distributed.SHARED_MEMORY_DIR).glob("transfer-cli-gradients-*"))
    one_rank.prepare(nlp)
    exchange = one_rank._exchange
    assert isinstance(exchange, distributed.SharedMemoryExchange)
    assert set(Path(distributed.SHARED_MEMORY_DIR).glob("transfer-cli-gradients-*")) == left_before
    params = one_rank._parameters
    examples = list(setup.train_corpus(nlp))[:4]
    optimizer = Adam(0.001)
    for step in range(3):
        losses = {}
        nlp.update(examples, drop=0.0, losses=losses)
        expected = {(node.id, name): numpy.array(node.get_grad(name)) for node, name in params.thinc
                    if node.has_grad(name)}
        one_rank.reduce_gradients(losses, examples)
        for node, name in params.thinc:
            if node.has_grad(name):
                grad = node.get_grad(name)
                assert numpy.shares_memory(grad, exchange.slots[exchange.current]), (step, name)
                assert numpy.array_equal(grad, expected[(node.id, name)])
        nlp.finish_update(optimizer)
    assert any(node.has_grad(name) for node, name in params.thinc)

    # a rank on another machine finds no such file, or one without rank 0's token: gloo then
    size = distributed.SharedMemoryExchange.file_size(2, 10)
    path, token = distributed.SharedMemoryExchange.create(size)
    try:
        assert distributed.SharedMemoryExchange.open(path, token, size, 1, 2, 10) is not None
        assert distributed.SharedMemoryExchange.open(path, bytes(len(token)), size, 1, 2, 10) is None
        assert distributed.SharedMemoryExchange.open(path + "x", token, size, 1, 2, 10) is None
    finally:
        os.unlink(path)

    monkeypatch.setenv("TRANSFER_CLI_DIST_SHARED_MEMORY", "0")
    one_rank.prepare(nlp)
    assert isinstance(one_rank._exchange, distributed.GlooExchange)
    monkeypatch.delenv("TRANSFER_CLI_DIST_SHARED_MEMORY")
    monkeypatch.setattr(os, "posix_fallocate", lambda fd, offset, size: (_ for _ in ()).throw(OSError(28, "full")))
    one_rank.prepare(nlp)
    assert isinstance(one_rank._exchange, distributed.GlooExchange)
    assert set(Path(distributed.SHARED_MEMORY_DIR).glob("transfer-cli-gradients-*")) == left_before
    nlp.update(examples, drop=0.0)
    expected = [numpy.array(node.get_grad(name)) for node, name in params.thinc]
    one_rank.reduce_gradients({}, examples)
    for (node, name), value in zip(params.thinc, expected):
        assert numpy.array_equal(node.get_grad(name), value), name


def test_transformer_torch_gradients_go_through_the_buffer(one_rank, tiny_bert_dir):
    """The torch parameters inside the transformer's PyTorch shim are collected, their
    gradients come back unchanged, and the component's has_gradients flag is kept."""
    nlp = trf_pipeline(tiny_bert_dir, {"tagger": trf_listener()})
    examples = tagged_examples(nlp)
    nlp.initialize(lambda: examples)
    one_rank.prepare(nlp)
    transformer = nlp.get_pipe("transformer")
    params = TrainedParameters([(n, c) for n, c in nlp.components if c.is_trainable])
    assert params.torch and params.flagged == [transformer]
    assert sum(p.numel() for p in params.torch) == sum(p.numel() for p in hf_model(transformer.model).parameters())
    optimizer = Adam(0.001)
    nlp.update(examples, drop=0.0, sgd=optimizer)  # the tagger's output layer starts at zero: no gradient yet
    nlp.update(examples, drop=0.0)
    assert transformer.has_gradients
    before = [None if p.grad is None else p.grad.clone() for p in params.torch]
    assert any(g is None for g in before) and any(g is not None and g.any() for g in before)  # e.g. the pooler
    one_rank.reduce_gradients({}, examples)
    assert transformer.has_gradients
    for grad, param in zip(before, params.torch):
        assert param.grad is None if grad is None else torch.equal(grad, param.grad)
    nlp.finish_update(optimizer)
    assert not transformer.has_gradients
    one_rank.reduce_gradients({}, examples)  # no rank backpropagated: no step
    assert not transformer.has_gradients


@pytest.mark.parametrize("pipeline,train,dev", [(["tagger"], EWT_TRAIN, EWT_DEV), (["senter"], EWT_TRAIN, EWT_DEV),
                                                (["ner"], NER_TRAIN, NER_DEV),
                                                (["textcat"], TEXTCAT_TRAIN, TEXTCAT_DEV)])
def test_losses_are_sums_over_examples(pipeline, train, dev):
    """The gradient of a batch equals the sum of its halves' gradients: so the ranks' gradients
    are summed, not averaged."""
    setup = init_pipeline(starter_config(pipeline, train, dev))
    nlp = setup.nlp
    examples = list(setup.train_corpus(nlp))[:12]
    params = TrainedParameters([(n, c) for n, c in nlp.components if c.is_trainable])

    def gradients(*batches):
        for node, name in params.thinc:
            if node.has_grad(name):
                node.get_grad(name)[...] = 0
        for batch in batches:
            nlp.update(batch, drop=0.0)
        return [numpy.array(node.get_grad(name)) if node.has_grad(name) else None for node, name in params.thinc]

    whole = gradients(examples)
    halves = gradients(examples[:5], examples[5:])
    assert any(g is not None and g.any() for g in whole)
    for a, b in zip(whole, halves):
        assert (a is None) == (b is None)
        if a is not None:
            numpy.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * numpy.abs(a).max())


def test_bad_setup_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    config = write_config(tagger_config(), tmp_path / "c.cfg")
    code, output = cli("train", config, "--output", tmp_path / "out")
    assert code == 1
    assert output.startswith("✘ WORLD_SIZE=2 asks for a data-parallel run, but MASTER_ADDR is not set")
    assert "torchrun" in output and "Traceback" not in output and output.count("✘") == 1
    assert not (tmp_path / "out").exists()


# -- several processes ---------------------------------------------------------------------------
PAIRS_BATCHER = "test-distributed.pairs_of_batches.v1"


def _pairs_of_batches(inner):
    """The batches of `inner`, two at a time joined into one."""
    def batch_pairs(items):
        batches = iter(inner(items))
        for first in batches:
            yield first + next(batches, [])
    return batch_pairs


if not registry.has("batchers", PAIRS_BATCHER):
    registry.batchers.register(PAIRS_BATCHER, func=_pairs_of_batches)


def test_two_ranks_match_each_other_and_one_process(tmp_path):
    sgd = {"@optimizers": "SGD.v1", "learn_rate": 0.005, "L2": 0.0, "grad_clip": 0.0, "use_averages": False}
    config = tagger_config(max_steps=8)
    config["training"]["optimizer"] = sgd
    config_path = write_config(config, tmp_path / "c.cfg")
    runs = {}
    for exchange, shared_memory in (("SharedMemoryExchange", "1"), ("GlooExchange", "0")):
        port = str(free_port())
        commands = [([sys.executable, "-c", WORKER, str(config_path), str(tmp_path / f"out{shared_memory}"),
                      str(tmp_path / f"w{rank}_{shared_memory}.npz")],
                     rank_env(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                              MASTER_PORT=port, TRANSFER_CLI_DIST_SHARED_MEMORY=shared_memory))
                    for rank in (0, 1)]
        for code, out, err, _ in run_all(commands, tmp_path):
            assert code == 0, err[-3000:]
            assert out == ""  # library code never prints; both ranks were quiet
        for rank in (0, 1):
            assert (tmp_path / f"w{rank}_{shared_memory}.npz.exchange").read_text() == exchange
        runs[exchange] = [dict(numpy.load(tmp_path / f"w{rank}_{shared_memory}.npz")) for rank in (0, 1)]
    ranks = runs["SharedMemoryExchange"]
    assert ranks[0].keys() == ranks[1].keys() and ranks[0]
    for key in ranks[0]:
        assert numpy.array_equal(ranks[0][key], ranks[1][key]), key  # bit for bit
        # two ranks' sums are the same float sums through shared memory as through gloo
        assert all(numpy.array_equal(ranks[0][key], gloo[key]) for gloo in runs["GlooExchange"]), key

    # one process on the same global batches: each step joins two batches of the batcher, as the
    # two ranks do (each trains on about half of the pair)
    single_config = config.copy()
    single_config["training"]["batcher"] = {"@batchers": PAIRS_BATCHER, "inner": config["training"]["batcher"]}
    kept = {}
    train_from_config(single_config, tmp_path / "single", quiet=True,
                      on_setup=lambda setup: kept.update(nlp=setup.nlp))
    single = weights_of(kept["nlp"])
    assert single.keys() == ranks[0].keys()
    for key, value in single.items():
        numpy.testing.assert_allclose(ranks[0][key], value, rtol=1e-4, atol=1e-5, err_msg=key)
    initial = weights_of(init_pipeline(config).nlp)
    assert all(not numpy.allclose(single[key], initial[key]) for key in single if key.startswith("tagger"))
    # rank 0 logged the losses of the whole global batches
    logs = [[json.loads(line) for line in (tmp_path / d / "training_log.jsonl").read_text().splitlines()]
            for d in ("out1", "single")]
    assert [r["step"] for r in logs[0]] == [r["step"] for r in logs[1]] == [4, 8]
    for parallel_line, single_line in zip(*logs):
        assert parallel_line["words"] == single_line["words"]
        for name, loss in single_line["losses"].items():
            assert parallel_line["losses"][name] == pytest.approx(loss, rel=1e-4)
        assert parallel_line["score"] == pytest.approx(single_line["score"], abs=1e-3)


def test_n_workers_cli(tmp_path):
    config_path = write_config(tagger_config(max_steps=6, **{"training.eval_frequency": 3}), tmp_path / "c.cfg")
    [(code, out, err, _)] = run_all([([sys.executable, "-m", "transfer_cli", "train", str(config_path), "--output",
                                    str(tmp_path / "out"), "--n-workers", "2"], rank_env())], tmp_path)
    assert code == 0, err[-3000:]
    assert out.count("Best score") == 1 and out.count("Pipeline: ") == 1  # rank 0 alone prints
    log = [json.loads(line) for line in (tmp_path / "out" / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    assert (tmp_path / "out" / "model-best" / "tagger" / "model").exists()
    assert (tmp_path / "out" / "model-last" / "tagger" / "model").exists()


def test_two_nodes_on_one_machine(tmp_path):
    """Two torchrun invocations, one process each, meeting through a c10d rendezvous."""
    config_path = write_config(tagger_config(max_steps=4), tmp_path / "c.cfg")
    endpoint, run_id = f"127.0.0.1:{free_port()}", uuid.uuid4().hex[:8]
    commands = []
    for node in (0, 1):
        argv = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                "--node_rank", str(node), "--rdzv_backend", "c10d", "--rdzv_endpoint", endpoint, "--rdzv_id", run_id,
                "-m", "transfer_cli", "train", str(config_path), "--output", str(tmp_path / f"out{node}")]
        commands.append((argv, rank_env()))
    for code, out, err, _ in run_all(commands, tmp_path):
        assert code == 0, err[-3000:]
    saved = [node for node in (0, 1) if (tmp_path / f"out{node}" / "model-last").exists()]
    assert len(saved) == 1  # one global rank 0, whichever node the rendezvous made it
    log = (tmp_path / f"out{saved[0]}" / "training_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in log] == [4]


def test_a_failing_rank_stops_the_other(tmp_path):
    """Rank 1 fails at step 3; rank 0 learns it promptly and says so in one line (no hang)."""
    code_file = tmp_path / "fail.py"
    code_file.write_text(
        "import os\n"
        "from transfer_cli.config.registry import registry\n\n"
        "@registry.callbacks('fail_on_rank_1')\n"
        "def make():\n"
        "    def before_update(nlp, info):\n"
        "        if os.environ['RANK'] == '1' and info['step'] == 3:\n"
        "            raise ValueError('rank 1 broke on purpose')\n"
        "    return before_update\n\n"
        + inspect.getsource(_pairs_of_batches)
        + f"\nregistry.batchers.register({PAIRS_BATCHER!r}, func=_pairs_of_batches)\n")
    config = tagger_config(max_steps=20)
    config["training"]["before_update"] = {"@callbacks": "fail_on_rank_1"}
    config_path = write_config(config, tmp_path / "c.cfg")
    port = str(free_port())
    commands = [([sys.executable, "-m", "transfer_cli", "train", str(config_path), "--code", str(code_file),
                  "--output", str(tmp_path / "out")],
                 rank_env(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
                for rank in (0, 1)]
    (code0, out0, err0, ended0), (code1, out1, err1, ended1) = run_all(commands, tmp_path)
    assert code1 != 0 and "rank 1 broke on purpose" in err1
    assert ended0 - ended1 < 60  # rank 0 noticed the closed connection, not the 300 s timeout
    assert code0 == 1, err0[-2000:]
    lines = [line for line in err0.splitlines() if line.strip()]
    assert len(lines) == 1 and "rank 0 of 2: lost the other processes" in lines[0], err0


def test_elastic_restart_resumes_from_rank_0s_checkpoint(tmp_path):
    """torchrun --max-restarts 1: rank 1 fails once after the step-4 checkpoint; the restarted
    ranks continue from rank 0's checkpoint in --output and end where one uninterrupted
    process ends."""
    code_file = tmp_path / "fail_once.py"
    code_file.write_text(
        "import os\n"
        "from transfer_cli.config.registry import registry\n\n"
        "@registry.callbacks('fail_once_on_rank_1')\n"
        "def make():\n"
        "    def before_update(nlp, info):\n"
        "        first_try = os.environ.get('TORCHELASTIC_RESTART_COUNT') == '0'\n"
        "        if first_try and os.environ.get('RANK') == '1' and info['step'] == 6:\n"
        "            raise ValueError('rank 1 broke on purpose')\n"
        "    return before_update\n\n"
        + inspect.getsource(_pairs_of_batches)
        + f"\nregistry.batchers.register({PAIRS_BATCHER!r}, func=_pairs_of_batches)\n")
    config = tagger_config(max_steps=8, **{"training.checkpoint_frequency": 4})
    config["training"]["optimizer"] = {"@optimizers": "SGD.v1", "learn_rate": 0.005, "L2": 0.0, "grad_clip": 0.0,
                                       "use_averages": False}
    config["training"]["before_update"] = {"@callbacks": "fail_once_on_rank_1"}
    config_path = write_config(config, tmp_path / "c.cfg")
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "--max-restarts", "1", "-m", "transfer_cli", "train", str(config_path), "--code", str(code_file),
            "--output", str(tmp_path / "out")]
    [(code, out, err, _)] = run_all([(argv, rank_env())], tmp_path)
    assert code == 0, err[-3000:]
    assert "rank 1 broke on purpose" in err
    assert "Resuming from step 4" in out or "Resuming from step 6" in out, out
    log = [json.loads(line) for line in (tmp_path / "out" / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [4, 8]

    # one process on the same global batches (two of the batcher's batches per step)
    config["training"]["batcher"] = {"@batchers": PAIRS_BATCHER, "inner": config["training"]["batcher"]}
    single_path = write_config(config, tmp_path / "single.cfg")
    cli_ok, _ = cli("train", single_path, "--code", code_file, "--output", tmp_path / "single", "--quiet")
    assert cli_ok == 0
    single = weights_of(transfer_cli.load(tmp_path / "single" / "model-last"))
    restarted = weights_of(transfer_cli.load(tmp_path / "out" / "model-last"))
    assert single.keys() == restarted.keys()
    for key, value in single.items():
        numpy.testing.assert_allclose(restarted[key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_resume_decision_under_elastic_restarts():
    fresh = LaunchEnvironment(rank=0, world_size=2, local_rank=0, master="h:1")
    assert resumes(None, False, True) is False and resumes(None, True, True) is True  # one process: --resume
    assert resumes(fresh, False, True) is False  # no --max-restarts: as one process
    elastic = LaunchEnvironment(rank=0, world_size=2, local_rank=0, master="h:1", restart=0, max_restarts=2)
    assert resumes(elastic, False, False) is False and resumes(elastic, True, True) is True
    with pytest.raises(DistributedError, match="earlier run's checkpoint"):
        resumes(elastic, False, True)  # a restart would continue someone else's run
    restarted = LaunchEnvironment(rank=1, world_size=2, local_rank=1, master="h:1", restart=1, max_restarts=2)
    assert resumes(restarted, False, True) is True  # the failed attempt's checkpoint
    assert resumes(restarted, False, False) is False  # it failed before its first checkpoint: afresh
    launch = LaunchEnvironment.detect({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "a", "MASTER_PORT": "1",
                                       "TORCHELASTIC_RESTART_COUNT": "1", "TORCHELASTIC_MAX_RESTARTS": "3"})
    assert (launch.restart, launch.max_restarts) == (1, 3)


def test_batch_stream_groups_the_batchers_batches():
    """With group K a step's batch joins the batcher's next K batches (fewer at an epoch's
    end); the position counts the batcher's batches, so a stream restored from it goes on
    with the same batches whatever the group."""
    from transfer_cli.training.batch_stream import BatchStream

    def corpus(nlp):
        return list(range(10))

    def batcher(items):
        items = list(items)
        return (items[i:i + 3] for i in range(0, len(items), 3))

    single = [batch for _, batch in BatchStream(corpus, None, batcher, 2, seed=0)]
    assert [len(b) for b in single] == [3, 3, 3, 1] * 2
    paired = BatchStream(corpus, None, batcher, 2, seed=0, group=2)
    steps = iter(paired)
    first = [next(steps) for _ in range(3)]
    assert [batch for _, batch in first] == [single[0] + single[1], single[2] + single[3], single[4] + single[5]]
    assert [epoch for epoch, _ in first] == [0, 0, 1]  # a group never spans two epochs
    restored = BatchStream(corpus, None, batcher, 2, seed=0)
    restored.restore(paired.position())
    assert [batch for _, batch in restored] == single[6:]
    with pytest.raises(ValueError):
        BatchStream(corpus, None, batcher, 2, seed=0, group=0)
