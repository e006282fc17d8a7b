"""Checkpoints and `train --resume`: a run stopped at any point (SIGKILL, SIGTERM, Ctrl-C,
during an evaluation, during the checkpoint's own save) and resumed ends exactly where
the same run never stopped ends: the same weights, the same scores, the same log. A
checkpoint that is missing, damaged or from another config is one clear error."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import srsly
from conftest import EWT_DEV, EWT_TRAIN, ROOT, cli, listener, shared_config, tagger, tok2vec_model
from transformer_fixtures import tiny_bert_dir  # noqa: F401
from transformer_pipelines import listener as trf_listener
from transformer_pipelines import transformer_block

from transfer_cli import fileio
from transfer_cli.cli._util import import_code
from transfer_cli.config.filling import check_config
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.ml.transformer import blas_linear as blas
from transfer_cli.training import checkpoint as checkpoint_module
from transfer_cli.training.checkpoint import CHECKPOINT_DIR, config_fingerprint, read_checkpoint, restore_checkpoint
from transfer_cli.training.initialize import init_pipeline
from transfer_cli.training.train import check_output_dir, train_from_config

# A before_update callback that stops the run when `step` steps are done, as the test asks
# through RESUME_TEST_STOP: KILL / TERM (the signal to itself), RAISE (KeyboardInterrupt,
# as Ctrl-C raises it). Unset, it does nothing, so every run shares one config.
STOP_CODE = '''
import os
import signal

from transfer_cli.config.registry import registry


@registry.callbacks("resume_test.stop_at.v1")
def stop_at(step: int):
    def before_update(nlp, info):
        how = os.environ.get("RESUME_TEST_STOP")
        if how and info["step"] == step:
            if how == "RAISE":
                raise KeyboardInterrupt()
            os.kill(os.getpid(), getattr(signal, "SIG" + how))
    return before_update


@registry.batchers("resume_test.batch_by_schedule.v1")
def batch_by_schedule():
    """A batcher of the kind a user registers: a plain function over a schedule it shares
    between epochs, which cannot say where that schedule is."""
    sizes = iter(range(3, 10**6))

    def batch(items):
        items = list(items)
        while items:
            size = next(sizes) % 7 + 3
            yield items[:size]
            items = items[size:]
    return batch
'''

MAX_STEPS, STOP_STEP = 24, 13
SETTINGS = {"corpora.train.limit": 40, "corpora.dev.limit": 10, "training.checkpoint_frequency": 5,
            "training.before_update": {"@callbacks": "resume_test.stop_at.v1", "step": STOP_STEP}}
TIMING = ("words_per_second", "seconds")


@pytest.fixture(scope="module")
def code_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("code") / "stop_at.py"
    path.write_text(STOP_CODE, encoding="utf8")
    import_code(path)  # for the runs in this process; subprocesses get --code
    return path


def config_text(**overrides: Any) -> str:
    """A tagger on a small tok2vec: 40 training sentences make epochs of ~6 steps, so a run
    crosses epochs; evaluated every 4 steps, checkpointed every 5."""
    config = shared_config(tok2vec_model(width=16, depth=1, rows=(500, 100, 100, 100)),
                           {"tagger": tagger(listener(16))}, EWT_TRAIN, EWT_DEV, max_steps=MAX_STEPS,
                           eval_frequency=4, overrides={**SETTINGS, **overrides})
    return config.to_str()


def train(out: Path, monkeypatch=None, stop: str = "", resume: bool = False, **overrides: Any) -> Dict[str, Any]:
    """Train in this process (stopping at STOP_STEP with stop="RAISE")."""
    if monkeypatch is not None:
        monkeypatch.setenv("RESUME_TEST_STOP", stop)
    return train_from_config(load_config_from_str(config_text(**overrides)), out, quiet=True, resume=resume)


def train_in_subprocess(code_file: Path, config: Path, out: Path, stop: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RESUME_TEST_STOP": stop}
    command = [sys.executable, "-m", "transfer_cli", "train", str(config), "--output", str(out), "--code",
               str(code_file), "-q"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def uninterrupted(code_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "out"
    os.environ.pop("RESUME_TEST_STOP", None)
    summary = train_from_config(load_config_from_str(config_text()), out, quiet=True)
    assert summary["steps"] == MAX_STEPS and not summary["interrupted"]
    return out


def weights(pipeline: Path) -> Dict[str, bytes]:
    """Every file of a saved pipeline but meta.json (which holds the evaluation speed)."""
    return {str(p.relative_to(pipeline)): p.read_bytes() for p in sorted(pipeline.rglob("*"))
            if p.is_file() and p.name != "meta.json"}


def log(out: Path) -> List[Dict[str, Any]]:
    records = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    for record in records:
        for key in TIMING:
            record.pop(key)
        record["scores"].pop("speed")
    return records


def assert_same_run(out: Path, reference: Path) -> None:
    assert log(out) == log(reference)  # every evaluation: steps, losses, scores, which was best
    assert weights(out / "model-last") == weights(reference / "model-last")
    assert weights(out / "model-best") == weights(reference / "model-best")
    performance = json.loads((reference / "model-best" / "meta.json").read_text())["performance"]
    assert json.loads((out / "model-best" / "meta.json").read_text())["performance"]["tag_acc"] == \
        performance["tag_acc"]


def assert_one_error_line(output: str, *needles: str) -> None:
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert output.startswith("✘ ") and output.count("✘") == 1 and "Traceback" not in output, output
    for needle in needles:
        assert needle in output, output


def snapshot(path: Path) -> Dict[str, Any]:
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


# -- stopped any way, resumed: the uninterrupted run ---------------------------------------------------------
def test_sigkill_then_resume_ends_where_the_uninterrupted_run_ends(code_file, uninterrupted, tmp_path, monkeypatch):
    config, out = tmp_path / "c.cfg", tmp_path / "out"
    config.write_text(config_text(), encoding="utf8")
    result = train_in_subprocess(code_file, config, out, "KILL")
    assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr
    saved = read_checkpoint(out / CHECKPOINT_DIR, config_fingerprint(_filled(config)))
    assert saved.step == 10 and saved.epoch >= 1  # the last periodic checkpoint, epochs into the run
    assert [r["step"] for r in log(out)] == [4, 8, 12]  # the killed run logged beyond its checkpoint
    monkeypatch.setenv("RESUME_TEST_STOP", "")
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume")
    assert code == 0, output
    assert "Resuming from step 10" in output
    assert "Initial learn rate" not in output  # step 0's rate would be wrong here
    assert_same_run(out, uninterrupted)  # the log went on from step 10: no step twice


def test_sigterm_then_resume_ends_where_the_uninterrupted_run_ends(code_file, uninterrupted, tmp_path, monkeypatch):
    config, out = tmp_path / "c.cfg", tmp_path / "out"
    config.write_text(config_text(), encoding="utf8")
    result = train_in_subprocess(code_file, config, out, "TERM")
    assert result.returncode == 143, result.stdout + result.stderr
    assert "saved model-last and a checkpoint" in result.stdout and "--resume" in result.stdout
    assert read_checkpoint(out / CHECKPOINT_DIR, config_fingerprint(_filled(config))).step == STOP_STEP
    monkeypatch.setenv("RESUME_TEST_STOP", "")
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume")
    assert code == 0, output
    assert_same_run(out, uninterrupted)


def test_ctrl_c_during_an_evaluation_then_resume(code_file, uninterrupted, tmp_path, monkeypatch):
    """Stopped inside the step-12 evaluation (weights updated, evaluation not done): the
    resumed run evaluates step 12 first."""
    out = tmp_path / "out"
    monkeypatch.setenv("RESUME_TEST_STOP", "")
    calls = []

    def stop_in_third_evaluation(setup):
        evaluate = setup.nlp.evaluate

        def stopping(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt()
            return evaluate(*args, **kwargs)
        setup.nlp.evaluate = stopping

    summary = train_from_config(load_config_from_str(config_text()), out, quiet=True,
                                on_setup=stop_in_third_evaluation)
    assert summary["interrupted"]
    assert [r["step"] for r in log(out)] == [4, 8]
    summary = train(out, monkeypatch, resume=True)
    assert summary["steps"] == MAX_STEPS and not summary["interrupted"]
    assert_same_run(out, uninterrupted)


def test_a_finished_run_resumed_with_more_steps_equals_the_longer_run(code_file, uninterrupted, tmp_path,
                                                                    monkeypatch):
    out = tmp_path / "out"
    train(out, monkeypatch, **{"training.max_steps": 12})
    assert train(out, monkeypatch, resume=True, **{"training.max_steps": 12})["steps"] == 12  # nothing left to do
    assert [r["step"] for r in log(out)] == [4, 8, 12]
    train(out, monkeypatch, resume=True)
    assert_same_run(out, uninterrupted)


def test_a_batcher_that_cannot_say_where_it_is_replays_every_epoch(code_file, tmp_path, monkeypatch):
    batcher = {"training.batcher": {"@batchers": "resume_test.batch_by_schedule.v1"}}
    reference, out = tmp_path / "reference", tmp_path / "out"
    train(reference, monkeypatch, **batcher)
    assert train(out, monkeypatch, stop="RAISE", **batcher)["interrupted"]
    assert read_checkpoint(out / CHECKPOINT_DIR, _fingerprint(**batcher)).epoch >= 1
    train(out, monkeypatch, resume=True, **batcher)
    assert_same_run(out, reference)


@pytest.mark.slow
def test_a_transformer_and_its_listeners_grad_factor_schedule_resume(code_file, tiny_bert_dir, tmp_path,
                                                                      monkeypatch):
    """torch weights (a PyTorch shim among the optimizer's keys) and a listener whose
    grad_factor is a schedule (0 for three steps, then 1)."""
    import torch

    grad_factor = {"@schedules": "constant_then.v1", "rate": 0.0, "steps": 3,
                   "schedule": {"@schedules": "constant.v1", "rate": 1.0}}
    config = load_config_from_str(config_text(**{"training.max_steps": 10, "corpora.train.limit": 12}))
    config["nlp"]["pipeline"] = ["transformer", "tagger"]
    config["components"] = {"transformer": {"factory": "transformer", **transformer_block(tiny_bert_dir)},
                            "tagger": tagger(trf_listener(grad_factor))}
    config["training"]["before_update"]["step"] = 7
    text = config.to_str()
    reference, out = tmp_path / "reference", tmp_path / "out"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # torch's thread pool spins against the other processes of a busy machine
    try:
        monkeypatch.setenv("RESUME_TEST_STOP", "")
        train_from_config(load_config_from_str(text), reference, quiet=True)
        monkeypatch.setenv("RESUME_TEST_STOP", "RAISE")
        assert train_from_config(load_config_from_str(text), out, quiet=True)["interrupted"]
        saved = read_checkpoint(out / CHECKPOINT_DIR, config_fingerprint(_filled_config(text))).state["cpu_matmul"]
        assert saved in blas.CHOICES
        # the resumed process would measure the other library faster: it still goes by the checkpoint's
        monkeypatch.setattr(blas, "_measured_numpy_faster", lambda threads: saved != "numpy")
        monkeypatch.delenv(blas.ENV_CHOICE, raising=False)
        monkeypatch.setenv("RESUME_TEST_STOP", "")
        train_from_config(load_config_from_str(text), out, quiet=True, resume=True)
        assert blas.cpu_matmul_choice() == saved
    finally:
        torch.set_num_threads(threads)
        blas.pin_cpu_matmul(None)
    assert read_checkpoint(out / CHECKPOINT_DIR, config_fingerprint(_filled_config(text))).step == 10
    assert weights(out / "model-last") == weights(reference / "model-last")
    assert log(out) == log(reference)


def test_a_float16_gradient_scalers_scale_goes_on(tiny_bert_dir):
    """Mixed precision on a GPU scales float16 gradients by a factor it learns step by step
    (no GPU here: the scaler is switched on by hand)."""
    from thinc.api import PyTorchGradScaler

    from transformer_pipelines import tagged_examples, trf_pipeline

    def pipeline_with_scalers():
        nlp = trf_pipeline(tiny_bert_dir)
        nlp.initialize(lambda: tagged_examples(nlp))
        shims = [shim for _, shim in checkpoint_module._shims(nlp)]
        for shim in shims:
            shim._grad_scaler = PyTorchGradScaler(enabled=True)
        return nlp, shims

    nlp, shims = pipeline_with_scalers()
    assert shims
    shims[0]._grad_scaler._scale.fill_(512.0)
    shims[0]._grad_scaler._growth_tracker.fill_(7)
    saved = checkpoint_module._grad_scalers(nlp)
    fresh, fresh_shims = pipeline_with_scalers()
    checkpoint_module._restore_grad_scalers(fresh, srsly.msgpack_loads(srsly.msgpack_dumps(saved)))
    assert fresh_shims[0]._grad_scaler._scale.item() == 512.0
    assert fresh_shims[0]._grad_scaler._growth_tracker.item() == 7


# -- damaged, missing or foreign checkpoints: one clear error, nothing started ------------------------------
def test_a_checkpoint_from_another_config_is_refused(code_file, uninterrupted, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(uninterrupted, out)
    config = tmp_path / "c.cfg"
    config.write_text(config_text(), encoding="utf8")
    before = snapshot(out)
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume", "--training.dropout", 0.3)
    assert code == 1
    assert_one_error_line(output, str(out / CHECKPOINT_DIR), "another config",
                          "training.dropout = 0.3 here but 0.1 in the checkpoint")
    assert snapshot(out) == before
    # where the files are, when to stop and how often to save may change: the run resumes
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume", "--paths.dev", EWT_DEV,
                       "--training.max_steps", MAX_STEPS + 1, "--training.checkpoint_frequency", 0)
    assert code == 0, output


@pytest.mark.parametrize("damaged", ["optimizer.safetensors", "state.msgpack", "model/tagger/model", "meta.json"])
@pytest.mark.parametrize("how", ["truncated", "flipped"])
def test_a_damaged_checkpoint_is_one_error_naming_the_file(code_file, uninterrupted, tmp_path, damaged, how):
    out = tmp_path / "out"
    shutil.copytree(uninterrupted, out)
    path = out / CHECKPOINT_DIR / damaged
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    else:  # one bit flipped, the length kept: in the middle, or in meta.json's step (still valid JSON)
        at = data.index(b'"step":') + len('"step":') if damaged == "meta.json" else len(data) // 2
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    config = tmp_path / "c.cfg"
    config.write_text(config_text(), encoding="utf8")
    before = snapshot(out)
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume")
    assert code == 1
    # a checkpoint folder whose meta.json does not parse cannot be told from a user's folder
    unreadable = damaged == "meta.json" and how == "truncated"
    assert_one_error_line(output, str(out / CHECKPOINT_DIR) + (": this directory was not written" if unreadable
                                                              else f"/{damaged}: "))
    assert snapshot(out) == before


def test_resume_without_a_checkpoint_or_without_output(code_file, tmp_path):
    config = tmp_path / "c.cfg"
    config.write_text(config_text(), encoding="utf8")
    code, output = cli("train", config, "--code", code_file, "--resume")
    assert code == 1
    assert_one_error_line(output, "--resume needs --output")
    out = tmp_path / "out"
    code, output = cli("train", config, "--output", out, "--code", code_file, "--resume")
    assert code == 1
    assert_one_error_line(output, str(out / CHECKPOINT_DIR), "no checkpoint to resume from")
    assert not out.exists()


def test_a_users_folder_named_checkpoint_is_refused_before_training(code_file, tmp_path):
    out = tmp_path / "out"
    (out / CHECKPOINT_DIR).mkdir(parents=True)
    (out / CHECKPOINT_DIR / "notes.txt").write_text("mine")
    config = tmp_path / "c.cfg"
    config.write_text(config_text(), encoding="utf8")
    code, output = cli("train", config, "--output", out, "--code", code_file)
    assert code == 1
    assert_one_error_line(output, str(out / CHECKPOINT_DIR), "not written by transfer-cli")
    assert sorted(os.listdir(out)) == [CHECKPOINT_DIR]


# -- a kill while the checkpoint itself is saved ----------------------------------------------------------------
def kill_during_checkpoint_save(out: Path, moment: str) -> None:
    """Save a checkpoint (step 99) over out's in a forked child that SIGKILLs itself at `moment`."""
    config = load_config_from_str(config_text())
    setup = init_pipeline(config)
    fingerprint = config_fingerprint(setup.config.filled)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            def die(*args, **kwargs):
                os.kill(os.getpid(), signal.SIGKILL)

            if moment == "between-renames":  # the old checkpoint set aside, the new one not yet in place
                real, calls = fileio._rename, []

                def rename(source, dest):
                    calls.append(dest)
                    if len(calls) == 2:
                        die()
                    real(source, dest)

                fileio._rename = rename
            elif moment == "while-writing":  # the weights written, the state not yet
                checkpoint_module.srsly.msgpack_dumps = die
            elif moment == "while-deleting-old":  # the new checkpoint in place, the old one being deleted
                real_rmtree = fileio.shutil.rmtree

                def rmtree(path, *args, **kwargs):
                    if Path(path).name.startswith(f".{CHECKPOINT_DIR}.del-"):
                        die()
                    real_rmtree(path, *args, **kwargs)

                fileio.shutil.rmtree = rmtree
            state = checkpoint_module.TrainingState(step=99, position={"epoch": 0, "taken": 0, "starts": []},
                                                    random=checkpoint_module.random_states.capture())
            checkpoint_module.save_checkpoint(out / CHECKPOINT_DIR, setup.nlp, setup.optimizer, state, fingerprint)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


@pytest.mark.parametrize("moment", ["between-renames", "while-writing", "while-deleting-old"])
def test_a_kill_during_the_checkpoint_save_leaves_a_checkpoint_that_loads(code_file, uninterrupted, tmp_path,
                                                                          moment):
    out = tmp_path / "out"
    shutil.copytree(uninterrupted, out)
    kill_during_checkpoint_save(out, moment)
    check_output_dir(out)  # what train does first: restores the set-aside checkpoint, removes leftovers
    assert sorted(os.listdir(out)) == [CHECKPOINT_DIR, "model-best", "model-last", "training_log.jsonl"]
    setup = init_pipeline(load_config_from_str(config_text()))
    saved = read_checkpoint(out / CHECKPOINT_DIR, config_fingerprint(setup.config.filled))
    assert saved.step == (99 if moment == "while-deleting-old" else MAX_STEPS)
    assert restore_checkpoint(saved, setup.nlp, setup.optimizer).step == saved.step


# -- the config key -------------------------------------------------------------------------------------------
def test_a_spacy_config_without_the_key_gets_the_default(tmp_path):
    spacy_config = ROOT / "tests" / "fixtures" / "spacy_configs" / "tagger_eff.cfg"
    assert "checkpoint_frequency" not in spacy_config.read_text()
    code, output = cli("debug-config", spacy_config)
    assert code == 0, output
    code, output = cli("fill-config", spacy_config, tmp_path / "filled.cfg")
    assert code == 0, output
    assert "checkpoint_frequency = ${training.eval_frequency}" in (tmp_path / "filled.cfg").read_text()


def test_the_fingerprint_ignores_paths_stopping_and_saving_but_not_training_settings():
    base = _fingerprint()
    assert _fingerprint(**{"paths.train": "elsewhere.conllu", "training.max_steps": 5, "training.patience": 9,
                           "training.max_epochs": 3, "training.checkpoint_frequency": 0,
                           "corpora.dev.path": "dev.spacy"}) == base
    for key, value in [("training.dropout", 0.3), ("training.seed", 7), ("training.eval_frequency", 3),
                       ("training.optimizer.learn_rate", 0.01), ("components.tagger.model.tok2vec.width", 32),
                       ("corpora.train.limit", 41)]:
        assert _fingerprint(**{key: value}) != base, key


def _filled(config_path: Path):
    from transfer_cli.config.loading import load_config

    return check_config(load_config(config_path)).valid().filled


def _filled_config(text: str):
    return check_config(load_config_from_str(text)).valid().filled


def _fingerprint(**overrides: Any) -> Dict[str, Any]:
    return config_fingerprint(_filled_config(config_text(**overrides)))
