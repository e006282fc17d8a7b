"""Pretraining (issue 17): `pretrain` on raw text writes weights, resumes exactly,
stops on time and on Ctrl-C without losing work; `train` starts from the weights;
the objectives, the subnetwork checks and the raw-text reader's splitting."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy
import pytest
import srsly
from conftest import EWT_DEV, EWT_TRAIN, ROOT, SAMPLE, cli, shared_config, starter_config, tagger, tok2vec_model
from confection import Config
from thinc.api import fix_random_seed

from transfer_cli.config.filling import fill_config
from transfer_cli.config.loading import config_to_str, load_config, load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.config.registry import registry
from transfer_cli.errors import ConfigError, DataError, PathError, UserError
from transfer_cli.ml.pretraining import CharacterLoss, VectorLoss, check_token_vectors, choose_hidden, mask_docs
from transfer_cli.ml.weights import model_from_bytes
from transfer_cli.pipeline.build import blank, pipeline_from_config
from transfer_cli.tokens import Doc
from transfer_cli.training.corpus import JsonlCorpus, split_doc
from transfer_cli.training.pretrain import find_subnetwork, init_pretraining, run_pretraining
from transfer_cli.training.train import train_from_config

RAW = SAMPLE / "raw" / "wiki_en.jsonl"
SPACY_PRETRAINING = ROOT / "tests" / "fixtures" / "spacy_configs" / "tagger_pretraining.cfg"
# a network small enough to pretrain in a second: 16 wide, one encoder layer, 30 records
TINY = {"components.tok2vec.model.encode.width": 16, "components.tok2vec.model.encode.depth": 1,
        "components.tok2vec.model.embed.rows": [300, 100, 100, 100],
        "pretraining.objective.hidden_size": 16, "pretraining.objective.n_characters": 2,
        "pretraining.batcher.size": 400, "corpora.pretrain.limit": 30, "paths.raw_text": str(RAW),
        "pretraining.max_epochs": 1}


def tiny_config(**overrides: Any) -> Config:
    """init-config's tagger config with --pretraining, shrunk (TINY), then `overrides`
    (dotted keys written with "__" for ".")."""
    extra = {key.replace("__", "."): value for key, value in overrides.items()}
    return starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=2, pretraining=True,
                          overrides={**TINY, **extra})


def pretrain(config: Config, output: Path, **kwargs: Any):
    return run_pretraining(init_pretraining(config), output, quiet=True, **kwargs)


def log_lines(output: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]


def weights(path: Path) -> List[Dict[str, numpy.ndarray]]:
    """The parameters of each node, as model_to_bytes stored them."""
    return srsly.msgpack_loads(path.read_bytes())["params"]


def assert_same_weights(a: Path, b: Path) -> None:
    first, second = weights(a), weights(b)
    assert len(first) == len(second)
    for x, y in zip(first, second):
        assert x.keys() == y.keys()
        for name in x:
            numpy.testing.assert_array_equal(x[name], y[name], err_msg=name)


# -- the command -------------------------------------------------------------------------------------
def test_fill_config_pretraining_then_pretrain_one_epoch_writes_weights(tmp_path):
    config, filled = tmp_path / "config.cfg", tmp_path / "pretrain.cfg"
    code, output = cli("init-config", config, "--pipeline", "tagger")
    assert code == 0, output
    code, output = cli("fill-config", config, filled, "--pretraining")
    assert code == 0, output
    assert "[pretraining]" in filled.read_text()
    out = tmp_path / "out"
    args = [f"--{key}={json.dumps(value) if not isinstance(value, str) else value}" for key, value in TINY.items()]
    code, output = cli("pretrain", filled, out, *args)
    assert code == 0, output
    assert "words/s" in output and "from 30 records" in output  # corpora.pretrain.limit 30
    names = sorted(p.name for p in out.iterdir())
    assert names == ["config.cfg", "log.jsonl", "model-last.bin", "model-last.opt", "model0.bin", "model0.opt"]
    for path in out.iterdir():  # ordinary modes: 0666 less the umask, never tempfile's 0600
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()
    [record] = log_lines(out)
    assert record["epoch"] == 0 and record["saved"] == ["model0.bin", "model-last.bin"]
    assert record["words"] == record["corpus"]["words"] > 1000 and record["corpus"]["records"] == 30
    assert record["words_per_second"] > 0 and record["loss"] > 0
    # the weights are the tok2vec's: they load into the component of the same config
    nlp = pipeline_from_config(load_config(out / "config.cfg", {"paths.raw_text": str(RAW)}))
    tok2vec = nlp.get_pipe("tok2vec").model
    model_from_bytes(tok2vec, (out / "model0.bin").read_bytes())
    assert tok2vec.get_ref("encode").get_dim("nO") == 16


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_spacy_written_pretraining_config_pretrains_unchanged(tmp_path):
    """tests/fixtures/spacy_configs/tagger_pretraining.cfg is `spacy init config -p tagger
    --pretraining` (spaCy 3.8): given only the raw text (and a short corpus), it pretrains."""
    out = tmp_path / "out"
    code, output = cli("pretrain", SPACY_PRETRAINING, out, "--paths.raw_text", RAW, "--pretraining.max_epochs", 1,
                       "--corpora.pretrain.limit", 8)
    assert code == 0, output
    assert (out / "model0.bin").stat().st_size > 1_000_000  # the 96-wide default tok2vec
    assert load_config(out / "config.cfg")["pretraining"]["objective"]["@architectures"] == \
        "spacy.PretrainCharacters.v1"


def test_config_without_pretraining_block_says_to_fill_it(tmp_path):
    config = tmp_path / "config.cfg"
    assert cli("init-config", config, "--pipeline", "tagger")[0] == 0
    code, output = cli("pretrain", config, tmp_path / "out", "--paths.raw_text", RAW)
    assert code == 1
    assert "[pretraining]" in output and "fill-config" in output and "--pretraining" in output
    assert not (tmp_path / "out").exists()


def test_loss_decreases_over_epochs(tmp_path):
    pretrain(tiny_config(pretraining__max_epochs=6, corpora__pretrain__limit=20,
                         pretraining__optimizer__learn_rate=0.01), tmp_path / "out")
    losses = [record["loss"] for record in log_lines(tmp_path / "out")]
    assert len(losses) == 6
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] * 0.8, losses


# -- using the weights -----------------------------------------------------------------------------------
SNAPSHOTS: Dict[str, Any] = {}


@registry.callbacks("test_pretrain.snapshot_tok2vec.v1")
def snapshot_tok2vec():
    def before_update(nlp, info):
        if info["step"] == 0:
            SNAPSHOTS["step0"] = [{name: node.get_param(name).copy() for name in node.param_names
                                   if node.has_param(name)} for node in nlp.get_pipe("tok2vec").model.walk()]
    return before_update


def test_train_with_init_tok2vec_starts_from_the_pretrained_weights(tmp_path):
    out = tmp_path / "out"
    pretrain(tiny_config(), out)
    config = tiny_config(initialize__init_tok2vec=str(out / "model-last.bin"), training__max_steps=1,
                         training__before_update={"@callbacks": "test_pretrain.snapshot_tok2vec.v1"})
    SNAPSHOTS.clear()
    train_from_config(config, None, quiet=True)
    saved = weights(out / "model-last.bin")
    assert len(SNAPSHOTS["step0"]) == len(saved)
    compared = 0
    for node_params, saved_params in zip(SNAPSHOTS["step0"], saved):
        for name, value in node_params.items():
            numpy.testing.assert_array_equal(value, saved_params[name])
            compared += 1
    assert compared >= 6  # embeddings, their maxout, the encoder
    # and not by chance: without init_tok2vec the first step sees other weights
    SNAPSHOTS.clear()
    train_from_config(tiny_config(training__max_steps=1,
                                  training__before_update={"@callbacks": "test_pretrain.snapshot_tok2vec.v1"}),
                      None, quiet=True)
    assert not all(numpy.array_equal(value, saved_params[name]) for node_params, saved_params
                   in zip(SNAPSHOTS["step0"], saved) for name, value in node_params.items())


def test_train_cli_with_paths_init_tok2vec(tmp_path):
    out = tmp_path / "out"
    pretrain(tiny_config(), out)
    config = tmp_path / "train.cfg"
    config.write_text(config_to_str(tiny_config()))
    code, output = cli("train", config, "--paths.init_tok2vec", out / "model-last.bin", "--training.max_steps", 2,
                       "--training.eval_frequency", 2, "--quiet")
    assert code == 0, output


def test_architecture_mismatch_names_both_settings(tmp_path):
    out = tmp_path / "out"
    pretrain(tiny_config(), out)
    config = tiny_config(components__tok2vec__model__encode__width=24, initialize__init_tok2vec=str(out / "model0.bin"))
    with pytest.raises(ConfigError) as info:
        train_from_config(config, None, quiet=True)
    message = str(info.value)
    assert "[initialize.init_tok2vec]" in message
    assert "components.tok2vec.model.encode.width = 24 here but 16 in the pretraining config" in message
    assert str(out / "config.cfg") in message
    # no pretraining config beside the weights: the block and the shapes are named
    (out / "config.cfg").unlink()
    with pytest.raises(DataError) as info:
        train_from_config(config, None, quiet=True)
    message = str(info.value)
    assert message.startswith(str(out / "model0.bin")) and "init_tok2vec" in message
    assert "[components.tok2vec.model]" in message and "Attempt to change dimension" in message


# -- resuming and stopping ---------------------------------------------------------------------------------
def test_resume_from_an_epoch_continues_numbering_weights_and_optimizer(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    pretrain(tiny_config(pretraining__max_epochs=2), whole)
    pretrain(tiny_config(pretraining__max_epochs=1), parts)
    first = (parts / "model0.bin").read_bytes()
    summary = pretrain(tiny_config(pretraining__max_epochs=2), parts, resume_path=parts / "model0.bin")
    assert summary.resumed_optimizer is True
    assert (parts / "model0.bin").read_bytes() == first  # never overwritten
    assert sorted(p.name for p in parts.glob("model*.bin")) == ["model-last.bin", "model0.bin", "model1.bin"]
    assert not (parts / "model0.opt").exists()  # only the newest epoch keeps its optimizer state
    assert_same_weights(whole / "model1.bin", parts / "model1.bin")
    assert [r["step"] for r in log_lines(parts)] == [r["step"] for r in log_lines(whole)]  # step count carried on
    state = srsly.msgpack_loads((parts / "model1.opt").read_bytes())
    whole_state = srsly.msgpack_loads((whole / "model1.opt").read_bytes())
    assert [n for _, _, n in state["nr_update"]] == [n for _, _, n in whole_state["nr_update"]]


def test_max_time_saves_and_resume_continues_mid_epoch_exactly(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    pretrain(tiny_config(pretraining__max_epochs=2), whole)
    summary = pretrain(tiny_config(pretraining__max_epochs=2), parts, max_time=0)  # stops after one batch
    assert summary.stopped == "max_time" and summary.progress.step == 1
    assert sorted(p.name for p in parts.iterdir()) == ["config.cfg", "log.jsonl", "model-last.bin",
                                                       "model-last.opt"]
    [record] = log_lines(parts)
    assert record["event"] == "max_time" and record["step"] == 1
    code, output = cli("pretrain", SPACY_PRETRAINING, parts, "--resume-path", parts / "model-last.bin",
                       "--paths.raw_text", RAW)
    assert code == 1 and "was saved for a different model" in output  # another config's state is refused
    summary = pretrain(tiny_config(pretraining__max_epochs=2), parts, resume_path=parts / "model-last.bin")
    assert summary.stopped == "max_epochs"
    assert_same_weights(whole / "model0.bin", parts / "model0.bin")
    assert_same_weights(whole / "model1.bin", parts / "model1.bin")


def test_resume_refuses_to_overwrite_later_epochs_and_a_foreign_directory(tmp_path):
    out = tmp_path / "out"
    pretrain(tiny_config(pretraining__max_epochs=2), out)
    with pytest.raises(PathError, match="model1.bin exists"):
        pretrain(tiny_config(pretraining__max_epochs=3), out, resume_path=out / "model0.bin")
    with pytest.raises(PathError, match="not empty"):  # a new run never writes over an earlier one
        pretrain(tiny_config(), out)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(PathError, match="not written by pretrain"):
        pretrain(tiny_config(pretraining__max_epochs=3), foreign, resume_path=out / "model-last.bin")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_resume_from_weights_without_state_starts_a_fresh_optimizer(tmp_path):
    out, other = tmp_path / "out", tmp_path / "other"
    pretrain(tiny_config(), out)
    (other).mkdir()
    (other / "model4.bin").write_bytes((out / "model0.bin").read_bytes())  # e.g. weights from elsewhere
    summary = pretrain(tiny_config(pretraining__max_epochs=6), tmp_path / "next", resume_path=other / "model4.bin")
    assert summary.resumed_optimizer is False
    assert sorted(p.name for p in (tmp_path / "next").glob("model*.bin")) == ["model-last.bin", "model5.bin"]
    with pytest.raises(UserError, match="--epoch-resume"):  # model-last.bin alone names no epoch
        (other / "model-last.bin").write_bytes((out / "model0.bin").read_bytes())
        pretrain(tiny_config(pretraining__max_epochs=6), tmp_path / "more", resume_path=other / "model-last.bin")


def test_interrupt_saves_model_last(tmp_path):
    out = tmp_path / "out"
    calls = []

    def interrupt(record):
        calls.append(record)
        if len(calls) == 1:
            raise KeyboardInterrupt

    summary = run_pretraining(init_pretraining(tiny_config(pretraining__n_save_every=1, pretraining__max_epochs=3)),
                              out, quiet=True, on_log=interrupt)
    assert summary.stopped == "interrupted"
    assert [r["event"] for r in log_lines(out)] == ["n_save_every", "interrupted"]
    state = srsly.msgpack_loads((out / "model-last.opt").read_bytes())
    assert state["progress"]["step"] == 1 and not state["progress"]["epoch_done"]


def test_sigterm_saves_model_last_and_the_run_resumes(tmp_path):
    config, out = tmp_path / "p.cfg", tmp_path / "out"
    config.write_text(config_to_str(tiny_config()))
    command = [sys.executable, "-m", "transfer_cli", "pretrain", str(config), str(out),
               "--pretraining.max_epochs", "100000", "--pretraining.n_save_every", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 180
        while not (out / "log.jsonl").exists():
            assert process.poll() is None and time.time() < deadline, process.communicate()[0]
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, output
    assert "Terminated (SIGTERM) at step" in output and "Traceback" not in output
    assert log_lines(out)[-1]["event"] == "interrupted"
    stopped = srsly.msgpack_loads((out / "model-last.opt").read_bytes())["progress"]
    summary = pretrain(tiny_config(pretraining__max_epochs=stopped["epoch"] + 2), out,
                       resume_path=out / "model-last.bin")
    assert summary.resumed_optimizer is True and summary.progress.step > stopped["step"]
    assert (out / f"model{stopped['epoch'] + 1}.bin").exists()


# -- objectives and the subnetwork -----------------------------------------------------------------------
def test_vectors_objective_without_vectors_is_a_clear_error():
    config = tiny_config(pretraining__objective={"@architectures": "spacy.PretrainVectors.v1", "maxout_pieces": 2,
                                                 "hidden_size": 16, "loss": "cosine"})
    with pytest.raises(ConfigError) as info:
        init_pretraining(config)
    assert "[initialize.vectors]" in str(info.value) and "init-vectors" in str(info.value)


def test_vectors_objective_predicts_static_vectors(tmp_path):
    vectors = tmp_path / "vectors"
    code, output = cli("init-vectors", "en", SAMPLE / "vectors" / "glove_small.txt", vectors)
    assert code == 0, output
    config = tiny_config(paths__vectors=str(vectors), pretraining__max_epochs=3,
                         pretraining__objective={"@architectures": "spacy.PretrainVectors.v1", "maxout_pieces": 2,
                                                 "hidden_size": 16, "loss": "L2"})
    pretrain(config, tmp_path / "out")
    losses = [r["loss"] for r in log_lines(tmp_path / "out")]
    assert losses[-1] < losses[0]


def test_bad_layer_and_component_name_the_setting():
    with pytest.raises(ConfigError) as info:
        init_pretraining(tiny_config(pretraining__layer="tok2vecc"))
    assert "[pretraining.layer]" in str(info.value) and "no layer 'tok2vecc'" in str(info.value)
    assert "embed, encode" in str(info.value)  # the names there are
    with pytest.raises(ConfigError, match=r"\[pretraining.component\].*no component 'tagr'"):
        init_pretraining(tiny_config(pretraining__component="tagr"))
    # the tagger only listens to the tok2vec: pretraining it would train nothing of its own
    with pytest.raises(ConfigError, match=r"\[pretraining.component\].*listens to the component 'tok2vec'"):
        init_pretraining(tiny_config(pretraining__component="tagger"))


def test_a_layer_inside_another_component_can_be_pretrained_but_not_a_classifier():
    config = shared_config(None, {"tagger": tagger(tok2vec_model(width=16, depth=1, rows=(200, 50, 50, 50)))},
                           EWT_TRAIN, EWT_DEV)
    nlp = pipeline_from_config(config)
    layer = find_subnetwork(nlp, "tagger", "tok2vec")
    assert layer is nlp.get_pipe("tagger").model.get_ref("tok2vec")
    text = config_to_str(fill_config(config, pretraining=True))
    overrides = {"paths.raw_text": str(RAW), "corpora.pretrain.limit": 5, "pretraining.objective.hidden_size": 8}
    setup = init_pretraining(load_config_from_str(text, {**overrides, "pretraining.component": "tagger",
                                                         "pretraining.layer": "tok2vec"}))
    assert setup.subnetwork is setup.nlp.get_pipe("tagger").model.get_ref("tok2vec")
    with pytest.raises(ConfigError, match=r"\[pretraining.component\].*not a token-to-vector network"):
        init_pretraining(load_config_from_str(text, {**overrides, "pretraining.component": "tagger"}))


def test_only_one_vector_per_token_is_a_token_to_vector_output():
    nlp = blank("en")
    docs = [nlp.make_doc("One two three ."), nlp.make_doc("Four five .")]
    check_token_vectors(docs, [numpy.zeros((4, 8)), numpy.zeros((3, 8))])
    with pytest.raises(TypeError, match="not a list"):  # a classifier: one row per doc
        check_token_vectors(docs, numpy.zeros((2, 8)))
    with pytest.raises(TypeError, match=r"a doc of 3 tokens gave ndarray of shape \(1, 8\)"):
        check_token_vectors(docs, [numpy.zeros((4, 8)), numpy.zeros((1, 8))])


def test_masking_hides_a_share_of_tokens_and_keeps_the_rest():
    nlp = blank("en")
    docs = [nlp.make_doc("the quick brown fox jumps over the lazy dog " * 20) for _ in range(5)]
    fix_random_seed(0)
    hidden = choose_hidden(sum(map(len, docs)), 0.15, None)
    assert 0.1 < hidden.mean() < 0.2
    masked = mask_docs(docs, hidden)
    before = [w for d in docs for w in d.words]
    after = [w for d in masked for w in d.words]
    assert all(a == b for a, b, h in zip(after, before, hidden) if not h)  # only hidden tokens change
    changed = sum(a != b for a, b in zip(after, before))
    assert 0.6 < changed / hidden.sum() <= 1.0 and after.count("[MASK]") > 0.6 * hidden.sum()
    assert choose_hidden(10, 0.0, numpy.array([False] * 9 + [True])).tolist() == [False] * 9 + [True]


def test_losses_and_their_gradients():
    rng = numpy.random.default_rng(0)
    guesses = rng.normal(size=(3, 2 * 256)).astype("float32")
    truths = numpy.array([[1, 2], [255, 0], [7, 7]], dtype="uint8")
    loss_fn = CharacterLoss(2)
    d, loss = loss_fn(guesses, truths)
    eps, i, j = 1e-2, 1, 255  # the gradient of the loss, numerically
    up, down = guesses.copy(), guesses.copy()
    up[i, j] += eps
    down[i, j] -= eps
    assert abs((loss_fn(up, truths)[1] - loss_fn(down, truths)[1]) / (2 * eps) - d[i, j]) < 1e-3
    perfect = numpy.full((1, 512), -50.0, dtype="float32")
    perfect[0, 65], perfect[0, 256 + 66] = 50.0, 50.0
    assert loss_fn(perfect, numpy.array([[65, 66]], dtype="uint8"))[1] < 1e-6
    vectors = rng.normal(size=(4, 5)).astype("float32")
    for kind in ("cosine", "L2"):
        d, loss = VectorLoss(kind)(vectors * 2.0, vectors)
        assert (loss < 1e-6) == (kind == "cosine")  # same direction: no cosine distance, but an L2 one
        assert VectorLoss(kind)(vectors, vectors)[1] < 1e-6


# -- raw text ---------------------------------------------------------------------------------------------
def test_long_records_are_split_not_skipped(tmp_path):
    sentence = "This sentence has exactly nine tokens in it ."
    long_text = " ".join([sentence] * 130)  # 1,170 tokens
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(json.dumps({"text": t}) for t in [long_text, "Too short .", sentence]) + "\n")
    nlp = blank("en")
    corpus = JsonlCorpus(raw, min_length=5, max_length=500)
    pieces = [eg.predicted for eg in corpus(nlp)]
    assert corpus.stats == {"records": 3, "words": 1179, "too_short": 1, "split": 1, "pieces": 3}
    assert [len(p) for p in pieces] == [387, 396, 387, 9]  # three pieces of the long record, each < 500
    assert all(p.words[-1] == "." for p in pieces)  # cut at sentence ends
    assert " ".join(w for p in pieces[:3] for w in p.words) == " ".join(nlp.make_doc(long_text).words)
    unbroken = Doc(nlp.vocab, ["word"] * 1200)  # no sentence end: cut evenly
    assert [len(p) for p in split_doc(unbroken, 500)] == [400, 400, 400]
    # and pretrain reports it in its log
    pretrain(tiny_config(paths__raw_text=str(raw)), tmp_path / "out")
    [record] = log_lines(tmp_path / "out")
    assert record["corpus"]["split"] == 1 and record["words"] == 1179


def test_spacy_docs_are_raw_text_too(tmp_path):
    code, output = cli("convert", EWT_TRAIN, tmp_path, "-n", 10)
    assert code == 0, output
    docs = tmp_path / "train.spacy"
    pretrain(tiny_config(corpora__pretrain={"@readers": "spacy.Corpus.v1", "path": str(docs), "limit": 5}),
             tmp_path / "out")
    [record] = log_lines(tmp_path / "out")
    assert record["corpus"]["records"] == 5 and record["words"] == record["corpus"]["words"] > 50


def test_pretrain_cli_errors_are_one_line(tmp_path):
    config = tmp_path / "p.cfg"
    config.write_text(config_to_str(tiny_config()))
    code, output = cli("pretrain", config, tmp_path / "out", "--epoch-resume", 3)
    assert code == 1 and "--epoch-resume needs --resume-path" in output
    code, output = cli("pretrain", config, tmp_path / "out", "--pretraining.layer", "nope")
    assert code == 1 and "[pretraining.layer]" in output and "Traceback" not in output
    missing = tmp_path / "missing.jsonl"
    code, output = cli("pretrain", config, tmp_path / "out", "--paths.raw_text", missing)
    assert code == 1 and str(missing) in output
    assert not (tmp_path / "out").exists()
