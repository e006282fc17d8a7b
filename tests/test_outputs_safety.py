"""Outputs: a command never deletes or silently replaces what it did not write, never
writes over its own input, leaves nothing behind when it fails or is killed, and gives
its outputs the modes any file the user creates gets (umask 022: 0644 / 0755)."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EWT_DEV, EWT_TRAIN, NER_DEV, ROOT, SAMPLE, starter_config
from conftest import cli as cli_collapsed

import transfer_cli
from transfer_cli import fileio
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import PathError
from transfer_cli.pipeline import serialize
from transfer_cli.tokens import Vocab
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.train import check_output_dir, train_from_config

GLOVE = SAMPLE / "vectors" / "glove_small.txt"


def cli(*args):
    """(exit code, output on one line without the printer's colors)."""
    code, output = cli_collapsed(*args)
    return code, re.sub(r"\x1b\[[0-9;]*m", "", output)


def assert_one_error_line(output: str, *needles: str) -> None:
    assert output.startswith("✘ ") and output.count("✘") == 1 and "Traceback" not in output, output
    for needle in needles:
        assert needle in output, output


def snapshot(path: Path):
    """Every file under `path` with its bytes: to show a command left it untouched."""
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A blank English pipeline directory (tokenizer only): enough for apply and evaluate."""
    path = tmp_path_factory.mktemp("model") / "blank"
    transfer_cli.blank("en").to_disk(path)
    return path


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def foreign_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.txt").write_text("three years of work")
    (path / "data").mkdir()
    (path / "data" / "table.csv").write_text("a,b\n")
    return path


# -- 1. only directories we wrote are replaced ---------------------------------------------------------
def test_init_vectors_refuses_a_foreign_directory(tmp_path):
    out = foreign_dir(tmp_path / "v")
    before = snapshot(out)
    code, output = cli("init-vectors", "en", GLOVE, out)
    assert code == 1
    assert_one_error_line(output, str(out), "not written by transfer-cli")
    assert snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == ["v"]


def test_init_vectors_replaces_its_own_output_and_fills_an_empty_dir(tmp_path):
    out = tmp_path / "v"
    out.mkdir()  # empty: nothing to lose
    assert cli("init-vectors", "en", GLOVE, out, "--truncate", "10")[0] == 0
    assert len(transfer_cli.load(out).vocab.vectors) == 10
    code, output = cli("init-vectors", "en", GLOVE, out, "--truncate", "20")
    assert code == 0, output
    assert len(transfer_cli.load(out).vocab.vectors) == 20
    assert sorted(os.listdir(tmp_path)) == ["v"]  # no .old / .tmp left beside it


def test_our_directory_with_a_users_file_in_it_is_not_replaced(tmp_path):
    out = tmp_path / "v"
    assert cli("init-vectors", "en", GLOVE, out, "--truncate", "10")[0] == 0
    (out / "notes.md").write_text("mine")
    before = snapshot(out)
    code, output = cli("init-vectors", "en", GLOVE, out, "--truncate", "20")
    assert code == 1
    assert_one_error_line(output, str(out), "notes.md")
    assert snapshot(out) == before


def test_to_disk_refuses_a_foreign_directory_and_a_symlink(tmp_path):
    nlp = transfer_cli.blank("en")
    out = foreign_dir(tmp_path / "m")
    before = snapshot(out)
    with pytest.raises(PathError, match="not written by transfer-cli"):
        nlp.to_disk(out)
    assert snapshot(out) == before
    # a directory whose meta.json is someone else's is not ours either
    (out / "meta.json").write_text('{"spacy_version": "3.7"}')
    with pytest.raises(PathError, match="not written by transfer-cli"):
        nlp.to_disk(out)
    link = tmp_path / "link"
    link.symlink_to(out)
    with pytest.raises(PathError, match="symbolic link"):
        nlp.to_disk(link)
    assert link.is_symlink() and (out / "thesis.txt").exists()


def test_train_refuses_a_users_model_best_before_training(tmp_path):
    out = tmp_path / "out"
    foreign_dir(out / "model-best")
    (out / "notes.txt").write_text("keep me")
    before = snapshot(out)
    config = tmp_path / "c.cfg"
    config.write_text(init_config(pipeline=["tagger"]).to_str())
    code, output = cli("train", config, "--output", out, "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV)
    assert code == 1
    assert_one_error_line(output, str(out / "model-best"), "not written by transfer-cli")
    assert snapshot(out) == before


def test_train_refuses_a_log_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "training_log.jsonl").write_text("my own log\n")
    code, output = cli("train", tmp_path / "missing.cfg", "--output", out)
    assert code == 1
    assert_one_error_line(output, "training_log.jsonl", "not a training log")
    assert (out / "training_log.jsonl").read_text() == "my own log\n"


def test_train_output_that_is_a_file(tmp_path):
    existing = tmp_path / "model"
    existing.write_text("not a folder")
    code, output = cli("train", tmp_path / "missing.cfg", "--output", existing)
    assert code == 1
    assert_one_error_line(output, str(existing), "a file of that name exists")
    assert existing.read_text() == "not a folder"


def test_retraining_replaces_our_models_and_keeps_other_files(tmp_path, umask_022):
    out = tmp_path / "out"
    transfer_cli.blank("en").to_disk(out / "model-last")  # an earlier run's output: ours
    (out / "notes.txt").write_text("keep me")
    (out / "training_log.jsonl").write_text(json.dumps({"step": 1, "score": 0.1, "scores": {}}) + "\n")
    config = starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=4, eval_frequency=2,
                            overrides={"corpora.train.limit": 20, "corpora.dev.limit": 5})
    train_from_config(config, out, quiet=True)
    assert sorted(os.listdir(out)) == ["checkpoint", "model-best", "model-last", "notes.txt", "training_log.jsonl"]
    assert (out / "notes.txt").read_text() == "keep me"
    assert transfer_cli.load(out / "model-last").pipe_names == ["tok2vec", "tagger"]
    assert [json.loads(line)["step"] for line in (out / "training_log.jsonl").read_text().splitlines()] == [2, 4]
    assert_ordinary_modes(out)


# -- 2. an output is never an input ----------------------------------------------------------------------
@pytest.fixture
def corpus(tmp_path):
    gold = tmp_path / "gold.spacy"
    assert cli("convert", EWT_DEV, tmp_path)[0] == 0
    (tmp_path / "dev.spacy").rename(gold)
    texts = tmp_path / "in.jsonl"
    texts.write_text("".join(NER_DEV.read_text().splitlines(keepends=True)[:3]))
    return gold, texts


def test_apply_refuses_to_write_over_its_input(tmp_path, model, corpus):
    gold, texts = corpus
    for source in (gold, texts):
        before = source.read_bytes()
        for extra in ((), ("--force",)):
            code, output = cli("apply", model, source, source, *extra)
            assert code == 1
            assert_one_error_line(output, str(source), "this is the input file")
            assert source.read_bytes() == before
    # the same file reached through a symlink or a relative path
    link = tmp_path / "link.jsonl"
    link.symlink_to(texts)
    code, output = cli("apply", model, link, texts, "--force")
    assert code == 1
    assert_one_error_line(output, str(texts), f"the input file {link} (the same file)")
    code, output = cli("apply", model, texts, Path(os.path.relpath(texts)), "--force")
    assert code == 1


def test_apply_refuses_an_output_inside_the_input_directory(tmp_path, model, corpus):
    _, texts = corpus
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(texts.read_bytes())
    code, output = cli("apply", model, folder, folder / "out.jsonl")
    assert code == 1
    assert_one_error_line(output, str(folder / "out.jsonl"), "inside the input directory")
    assert os.listdir(folder) == ["a.jsonl"]
    # outside it, a re-run reads the same 3 docs (not 3 + its own output)
    for extra in ((), ("--force",)):
        code, output = cli("apply", model, folder, tmp_path / "out.jsonl", *extra)
        assert code == 0, output
        assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3


def test_apply_refuses_an_existing_output_without_force(tmp_path, model, corpus):
    _, texts = corpus
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    code, output = cli("apply", model, texts, out)
    assert code == 1
    assert_one_error_line(output, str(out), "exists", "--force")
    assert out.read_text() == "precious\n"
    code, output = cli("apply", model, texts, out, "--force")
    assert code == 0, output
    assert json.loads(out.read_text().splitlines()[0])["tokens"]


def test_evaluate_output_is_not_the_corpus_nor_an_existing_file(tmp_path, model, corpus):
    gold, _ = corpus
    before = gold.read_bytes()
    code, output = cli("evaluate", model, gold, "--output", gold, "--force")
    assert code == 1
    assert_one_error_line(output, str(gold), "this is the input file")
    assert gold.read_bytes() == before
    metrics = tmp_path / "metrics.json"
    metrics.write_text("{}")
    code, output = cli("evaluate", model, gold, "--output", metrics)
    assert code == 1
    assert_one_error_line(output, str(metrics), "--force")
    assert metrics.read_text() == "{}"
    code, output = cli("evaluate", model, gold, "--output", metrics, "-F")
    assert code == 0, output
    assert "speed" in json.loads(metrics.read_text())


# -- 3. no silent replacement of files -------------------------------------------------------------------
def test_convert_refuses_to_replace_an_output_file(tmp_path):
    a, b = tmp_path / "a" / "eng.conllu", tmp_path / "b" / "eng.conllu"
    a.parent.mkdir()
    b.parent.mkdir()
    lines = EWT_DEV.read_text().split("\n\n")
    a.write_text("\n\n".join(lines[:5]) + "\n\n")
    b.write_text("\n\n".join(lines[5:8]) + "\n\n")
    out = tmp_path / "out"
    assert cli("convert", a, out)[0] == 0
    first = (out / "eng.spacy").read_bytes()
    code, output = cli("convert", b, out)
    assert code == 1
    assert_one_error_line(output, str(out / "eng.spacy"), "--force")
    assert (out / "eng.spacy").read_bytes() == first and os.listdir(out) == ["eng.spacy"]
    code, output = cli("convert", b, out, "--force")
    assert code == 0, output
    assert len(list(DocBin().from_disk(out / "eng.spacy").get_docs(Vocab()))) == 3


def test_convert_refuses_to_write_into_the_input_folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "dev.conllu").write_bytes(EWT_DEV.read_bytes())
    code, output = cli("convert", src, src)
    assert code == 1
    assert_one_error_line(output, str(src), "input folder")
    assert os.listdir(src) == ["dev.conllu"]


def test_fill_config_refuses_to_replace_without_force(tmp_path):
    partial = tmp_path / "partial.cfg"
    partial.write_text('[nlp]\nlang = "en"\npipeline = []\n')
    out = tmp_path / "config.cfg"
    out.write_text("# my config\n")
    code, output = cli("fill-config", partial, out)
    assert code == 1
    assert_one_error_line(output, str(out), "--force")
    assert out.read_text() == "# my config\n"
    code, output = cli("fill-config", partial, out, "--force")
    assert code == 0, output
    assert "[training]" in out.read_text()


@pytest.mark.parametrize("command", ["apply", "evaluate", "convert", "fill-config", "init-config"])
def test_force_is_documented_in_help(command):
    code, output = cli(command, "--help")
    assert code == 0 and "--force" in output and "-F" in output, output


# -- 4. modes ------------------------------------------------------------------------------------------
def assert_ordinary_modes(root: Path, file_mode: int = 0o644, dir_mode: int = 0o755) -> None:
    paths = [root, *root.rglob("*")] if root.is_dir() else [root]
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (dir_mode if path.is_dir() else file_mode), f"{path}: {oct(mode)}"


def test_outputs_get_ordinary_modes(tmp_path, model, umask_022):
    config = tmp_path / "config.cfg"
    assert cli("init-config", config, "-p", "tagger")[0] == 0
    filled = tmp_path / "filled.cfg"
    assert cli("fill-config", config, filled)[0] == 0
    corpus_dir = tmp_path / "corpus"
    assert cli("convert", EWT_DEV, corpus_dir)[0] == 0
    metrics = tmp_path / "metrics.json"
    assert cli("evaluate", model, corpus_dir / "dev.spacy", "--output", metrics)[0] == 0
    for name in ("out.spacy", "out.jsonl"):
        assert cli("apply", model, NER_DEV, tmp_path / "apply" / name)[0] == 0
    vectors = tmp_path / "vectors"
    assert cli("init-vectors", "en", GLOVE, vectors, "--truncate", "10")[0] == 0
    pipeline = tmp_path / "pipeline"
    transfer_cli.blank("en").to_disk(pipeline)
    for path in (config, filled, corpus_dir, metrics, tmp_path / "apply", vectors, pipeline):
        assert_ordinary_modes(path)
    # replacing keeps the rule (no 0600 copy of the temp file)
    assert cli("init-config", config, "-p", "ner", "--force")[0] == 0
    transfer_cli.blank("en").to_disk(pipeline)
    assert_ordinary_modes(config)
    assert_ordinary_modes(pipeline)


def test_modes_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        fileio.write_text_atomic(tmp_path / "a" / "x.txt", "x")
        transfer_cli.blank("en").to_disk(tmp_path / "m")
    finally:
        os.umask(previous)
    assert_ordinary_modes(tmp_path / "a", 0o640, 0o750)
    assert_ordinary_modes(tmp_path / "m", 0o640, 0o750)


# -- 5. kill safety of directory swaps ---------------------------------------------------------------
def kill_during_save(target: Path, moment: str) -> None:
    """Save a pipeline to `target` in a forked child that SIGKILLs itself at `moment`."""
    nlp = transfer_cli.blank("en")
    nlp.meta["name"] = "second"
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            def die(*args, **kwargs):
                os.kill(os.getpid(), signal.SIGKILL)

            if moment == "between-renames":  # the old model set aside, the new one not yet in place
                real, calls = fileio._rename, []

                def rename(source, dest):
                    calls.append(dest)
                    if len(calls) == 2:
                        die()
                    real(source, dest)

                fileio._rename = rename
            elif moment == "while-writing":  # some of the files written
                serialize.srsly.write_json = die
            elif moment == "while-deleting-old":
                fileio.shutil.rmtree = die
            nlp.to_disk(target)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def first_model(tmp_path: Path) -> Path:
    target = tmp_path / "out" / "model-best"
    nlp = transfer_cli.blank("en")
    nlp.meta["name"] = "first"
    nlp.to_disk(target)
    return target


@pytest.mark.parametrize("moment", ["between-renames", "while-writing", "while-deleting-old"])
def test_a_save_killed_at_any_moment_leaves_or_recovers_a_complete_model(tmp_path, moment):
    target = first_model(tmp_path)
    kill_during_save(target, moment)
    leftovers = [name for name in os.listdir(target.parent) if name != "model-best"]
    assert leftovers and all(name.startswith(".model-best.") for name in leftovers)
    # the next run (here: train's check of its --output) restores and cleans up
    check_output_dir(target.parent)
    assert os.listdir(target.parent) == ["model-best"]
    name = transfer_cli.load(target).meta["name"]
    assert name == ("second" if moment == "while-deleting-old" else "first")
    # and the next save works as usual
    transfer_cli.blank("en").to_disk(target)
    assert os.listdir(target.parent) == ["model-best"]


def test_a_half_written_directory_does_not_load(tmp_path):
    target = tmp_path / "model-best"
    kill_during_save(target, "while-writing")  # the first save: no model-best yet
    assert not target.exists()
    (tmp,) = [p for p in tmp_path.iterdir()]
    assert tmp.name.startswith(".model-best.tmp-")
    assert not (tmp / "config.cfg").exists() and not (tmp / "meta.json").exists()
    with pytest.raises(PathError):
        transfer_cli.load(tmp)
    transfer_cli.blank("en").to_disk(target)  # the next save removes the dead writer's temp dir
    assert os.listdir(tmp_path) == ["model-best"]


def test_a_failed_second_rename_puts_the_previous_model_back(tmp_path, monkeypatch):
    target = first_model(tmp_path)
    real, renames_to_target = os.replace, []

    def replace(source, dest):  # the rename of the new model into place fails; the one back works
        if Path(dest) == target:
            renames_to_target.append(source)
            if len(renames_to_target) == 1:
                raise OSError(28, "No space left on device")
        return real(source, dest)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PathError, match="No space left"):
        transfer_cli.blank("en").to_disk(target)
    monkeypatch.undo()
    assert os.listdir(target.parent) == ["model-best"]
    assert transfer_cli.load(target).meta["name"] == "first"


def test_ctrl_c_during_the_swap_waits_until_it_is_complete(tmp_path, monkeypatch):
    target = first_model(tmp_path)
    real = fileio._rename

    def rename(source, dest):
        # arrives between the two renames; raise_signal delivers it to this thread at once
        # (os.kill may land on an idle torch thread, which on a loaded machine is scheduled
        # only after the swap and the test are over)
        signal.raise_signal(signal.SIGINT)
        real(source, dest)

    monkeypatch.setattr(fileio, "_rename", rename)
    # Python's Ctrl-C handler, as at a terminal: a process started in the background by a
    # non-interactive shell (`cmd &`, as CI may run) inherits SIGINT ignored, and then a
    # deferred Ctrl-C is rightly ignored too
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    nlp = transfer_cli.blank("en")
    nlp.meta["name"] = "second"
    try:
        with pytest.raises(KeyboardInterrupt):
            nlp.to_disk(target)
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.undo()
    assert os.listdir(target.parent) == ["model-best"]  # no half-deleted .old left
    assert transfer_cli.load(target).meta["name"] == "second"


def test_leftovers_of_a_live_writer_are_left_alone(tmp_path):
    target = first_model(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    live = str(os.getppid())
    for pid in (dead, live):
        (target.parent / f".model-best.tmp-{pid}-00ab").mkdir()
    transfer_cli.blank("en").to_disk(target)
    assert sorted(os.listdir(target.parent)) == [f".model-best.tmp-{live}-00ab", "model-best"]


# -- 6. a failed convert leaves nothing ------------------------------------------------------------------
@pytest.mark.parametrize("name, content", [
    ("bad.jsonl", b'{"text": "fine"}\n{bad json\n'),
    ("bad.conllu", b"1\tword\n"),
    ("bytes.conllu", b"1\t\xff\xfe\t_\t_\t_\t_\t0\troot\t_\t_\n\n"),
])
def test_failed_convert_leaves_no_folder(tmp_path, name, content):
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "new" / "out"
    code, output = cli("convert", source, out)
    assert code == 1
    assert_one_error_line(output, str(source))
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert cli("convert", source, existing)[0] == 1
    assert os.listdir(existing) == []


def test_failed_apply_leaves_no_file_nor_folder(tmp_path, model):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    code, output = cli("apply", model, empty, tmp_path / "new" / "out.jsonl")
    assert code == 1
    assert_one_error_line(output, "no texts")
    assert sorted(os.listdir(tmp_path)) == ["empty.txt"]


# -- 7. SIGTERM saves model-last like Ctrl-C ---------------------------------------------------------
def test_sigterm_during_training_saves_model_last(tmp_path):
    config = tmp_path / "c.cfg"
    config.write_text(init_config(pipeline=["tagger"]).to_str())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "transfer_cli", "train", str(config), "--output", str(out),
               "--paths.train", str(EWT_TRAIN), "--paths.dev", str(EWT_DEV), "--training.max_steps", "100000",
               "--training.eval_frequency", "3", "--training.patience", "0", "--corpora.dev.limit", "10", "-q"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 180
        while not (out / "model-best" / "meta.json").exists():
            assert process.poll() is None and time.time() < deadline, process.communicate()[0]
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, output
    assert "Terminated (SIGTERM) at step" in output and "saved model-last" in output and "Traceback" not in output
    assert sorted(os.listdir(out)) == ["checkpoint", "model-best", "model-last", "training_log.jsonl"]
    assert transfer_cli.load(out / "model-last").pipe_names == ["tok2vec", "tagger"]
