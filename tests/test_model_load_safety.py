"""Reading configs and saved pipelines safely: component names are plain names (never
paths), nothing outside a model directory is read through a link, devices and FIFOs
are refused, torch weights never reach torch.load, and an empty or truncated file in
a model directory is one clear error naming it."""
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import srsly
from conftest import EWT_DEV as DEV
from conftest import EWT_TRAIN as TRAIN
from conftest import ROOT, SAMPLE
from typer.testing import CliRunner

import transfer_cli
from transfer_cli.cli.app import app
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.names import component_name_problem
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import ConfigError, DataError, PathError, PipelineError, UserError
from transfer_cli.ml.weights import model_to_bytes
from transfer_cli.model_files import file_sha256
from transfer_cli.pipeline.build import pipeline_from_config
from transfer_cli.pipeline.vectors import load_vectors
from transfer_cli.tokens.vectors import Vectors
from transfer_cli.training.initialize import init_pipeline, load_pretrained_tok2vec

RAW = SAMPLE / "raw" / "wiki_en.jsonl"
SECRET = "SECRET-ROOT-PASSWORD-LINE: do not quote me"
runner = CliRunner()


def cli(*args):
    """(exit code, raw output): the raw output shows how many errors were printed."""
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def assert_one_error(code: int, output: str, *needles: str) -> None:
    """Exit 1 with one error (wasabi may wrap it) and no traceback."""
    assert code == 1, output
    assert output.count("✘") == 1 and "Traceback" not in output and "Aborted" not in output, output
    flat = " ".join(output.split())
    for needle in needles:
        assert needle in flat, flat


def tagger_config_text(*, encode: str = "") -> str:
    text = init_config(pipeline=["tagger"], optimize="efficiency").to_str()
    if encode:  # replace the tok2vec encoder block (e.g. by a PyTorch LSTM)
        start = text.index("[components.tok2vec.model.encode]")
        end = text.index("\n\n", start)
        text = text[:start] + encode.strip() + text[end:]
        text = text.replace("${components.tok2vec.model.encode.width}", "32")
    return text


def save_small_pipeline(path: Path, config_text: str, *, vectors: bool = True):
    """A tok2vec + tagger pipeline after one update (and, optionally, a small vectors table)."""
    config = load_config_from_str(config_text, {"paths.train": str(TRAIN), "paths.dev": str(DEV),
                                                "corpora.train.limit": 12})
    setup = init_pipeline(config)
    nlp = setup.nlp
    nlp.update(list(setup.train_corpus(nlp)), sgd=setup.optimizer)
    if vectors:
        data = numpy.random.default_rng(0).random((5, 4), dtype=numpy.float32)
        nlp.vocab.vectors = Vectors(data=data, keys=["the", "a", "of", "dog", "cat"], name="tiny")
    nlp.to_disk(path)
    return nlp


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model"
    save_small_pipeline(path, tagger_config_text())
    return path


@pytest.fixture
def model(saved_model, tmp_path):
    """A fresh copy of the saved pipeline to damage."""
    copy = tmp_path / "model"
    shutil.copytree(saved_model, copy)
    return copy


# -- 1. component names are plain names --------------------------------------------------------------
@pytest.mark.parametrize("name", ["tagger", "textcat_multilabel", "ner2", "my-component", "ner.v2", "T2V"])
def test_plain_component_names_are_accepted(name):
    assert component_name_problem(name) is None
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("sentencizer", name=name)
    assert nlp.pipe_names == [name]


BAD_NAMES = ["/tmp/esc", "../up", "a/b", "a\\b", "..", ".", "...", "", "x\x00y", "tab\there", "new\nline",
             "vocab", "tokenizer", "config.cfg", "meta.json", "x" * 129]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_path_like_component_names_are_refused_by_the_pipeline(name):
    nlp = transfer_cli.blank("en")
    if name:  # add_pipe(name="") means the factory's name
        with pytest.raises(PipelineError, match="not a valid component name") as info:
            nlp.add_pipe("sentencizer", name=name)
        assert "\n" not in str(info.value) and "letters" in str(info.value)
    nlp.add_pipe("sentencizer", name="ok")
    with pytest.raises(PipelineError, match="not a valid component name"):
        nlp.rename_pipe("ok", name)
    assert nlp.pipe_names == ["ok"]


def test_component_names_in_a_config_are_checked_before_anything_is_built(tmp_path):
    escape = str(tmp_path / "outside" / "esc")
    text = tagger_config_text().replace('"tok2vec", "tagger"', f'"tok2vec", "{escape}"')
    text = text.replace("[components.tagger", f"[components.{escape}")
    with pytest.raises(ConfigError) as info:
        pipeline_from_config(load_config_from_str(text))
    assert "[nlp.pipeline]" in str(info.value) and "not a valid component name" in str(info.value)
    # a [components] block with such a name is refused even when the pipeline does not use it
    text = tagger_config_text() + '\n[components.sub/dir]\nfactory = "sentencizer"\n'
    with pytest.raises(ConfigError, match=r"\[components\].*'sub/dir' is not a valid component name"):
        pipeline_from_config(load_config_from_str(text))


def test_train_does_not_write_outside_the_output_for_a_component_named_by_a_path(tmp_path):
    outside = tmp_path / "outside"
    escape = f"{outside}/esc"
    assert "." not in escape  # a dot would split the section name
    text = tagger_config_text().replace('"tok2vec", "tagger"', f'"tok2vec", "{escape}"')
    config_path = tmp_path / "esc.cfg"
    config_path.write_text(text.replace("[components.tagger", f"[components.{escape}"))
    code, output = cli("train", config_path, "--output", tmp_path / "out", "--paths.train", TRAIN,
                       "--paths.dev", DEV, "--training.max_steps", 2, "--training.eval_frequency", 1)
    assert_one_error(code, output, "[nlp.pipeline]", "not a valid component name")
    assert not outside.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["debug-config", "fill-config"])
def test_config_commands_report_a_component_named_by_a_path(tmp_path, command):
    text = tagger_config_text().replace('"tok2vec", "tagger"', '"tok2vec", "sub/tagger"')
    config_path = tmp_path / "config.cfg"
    config_path.write_text(text.replace("[components.tagger", "[components.sub/tagger"))
    args = [config_path] if command == "debug-config" else [config_path, tmp_path / "filled.cfg"]
    code, output = cli(command, *args)
    assert_one_error(code, output, "config.cfg", "[nlp.pipeline]", "'sub/tagger' is not a valid component name")
    assert not (tmp_path / "filled.cfg").exists()


def test_a_saved_pipeline_whose_config_names_a_path_is_refused(model, tmp_path):
    escape = str(tmp_path / "esc")  # the weights would be read from outside the model
    assert "." not in escape  # a dot would split the section name
    shutil.copytree(model / "tagger", escape)
    config_path = model / "config.cfg"
    text = config_path.read_text()
    config_path.write_text(text.replace('"tok2vec","tagger"', f'"tok2vec","{escape}"')
                           .replace('"tok2vec", "tagger"', f'"tok2vec", "{escape}"')
                           .replace("[components.tagger", f"[components.{escape}"))
    assert f'"{escape}"' in config_path.read_text()
    meta = srsly.read_json(model / "meta.json")
    del meta["config_sha256"]  # an edit made on purpose, as the checksum error says to do it
    srsly.write_json(model / "meta.json", meta)
    with pytest.raises(ConfigError, match="not a valid component name"):
        transfer_cli.load(model)
    code, output = cli("evaluate", model, DEV)
    assert_one_error(code, output, "not a valid component name")


# -- 2. links and special files in a model directory ----------------------------------------------------
def test_a_config_linked_to_a_file_outside_is_refused_and_never_quoted(model, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET + "\n")
    (model / "config.cfg").unlink()
    (model / "config.cfg").symlink_to(secret)
    with pytest.raises(PathError, match="symbolic link that leads outside") as info:
        transfer_cli.load(model)
    assert "SECRET" not in str(info.value)
    code, output = cli("evaluate", model, DEV)
    assert_one_error(code, output, "config.cfg", "symbolic link")
    assert "SECRET" not in output


@pytest.mark.parametrize("inside", ["tagger/model", "vocab/strings.json", "vocab/vectors/vectors.npy", "tokenizer"])
def test_any_file_linked_outside_the_model_is_refused(model, tmp_path, inside):
    outside = tmp_path / "copy"
    shutil.copyfile(model / inside, outside)  # the same bytes: only the link is wrong
    (model / inside).unlink()
    (model / inside).symlink_to(outside)
    with pytest.raises(PathError, match="symbolic link that leads outside") as info:
        transfer_cli.load(model)
    assert inside.split("/")[-1] in str(info.value)


def test_links_inside_the_model_directory_are_followed(model):
    (model / "tagger" / "cfg.json").rename(model / "tagger-cfg.json")
    (model / "tagger" / "cfg.json").symlink_to(Path("..") / "tagger-cfg.json")
    nlp = transfer_cli.load(model)
    assert len(nlp.get_pipe("tagger").labels) > 3


LOAD_IN_A_SUBPROCESS = """
import resource, sys
limit = 6 * 1024 ** 3  # before the fix a weights file linked to /dev/zero grew the process to 20 GB
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import transfer_cli
from transfer_cli.errors import UserError
for path in sys.argv[1:]:
    try:
        transfer_cli.load(path)
    except UserError as e:
        print("USER ERROR:", e)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs a FIFO and /dev/zero")
def test_a_fifo_or_an_endless_device_in_the_model_is_refused_without_reading_it(saved_model, tmp_path):
    fifo, device = tmp_path / "fifo", tmp_path / "device"
    for copy in (fifo, device):
        shutil.copytree(saved_model, copy)
        (copy / "tok2vec" / "model").unlink()
    os.mkfifo(fifo / "tok2vec" / "model")
    (device / "tok2vec" / "model").symlink_to("/dev/zero")
    # in a child with bounded memory and time: a regression fails instead of hanging or swapping
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        result = subprocess.run([sys.executable, "-c", LOAD_IN_A_SUBPROCESS, str(fifo), str(device)],
                                capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("loading the model blocked")
    errors = [line for line in result.stdout.splitlines() if line.startswith("USER ERROR:")]
    assert len(errors) == 2, result.stdout + result.stderr[-2000:]
    assert "tok2vec/model" in errors[0] and "not a regular file" in errors[0]
    assert "tok2vec/model" in errors[1] and "symbolic link that leads outside" in errors[1]
    with pytest.raises(PathError, match="not a regular file"):
        transfer_cli.load(fifo)


def test_vectors_directories_for_initialize_are_checked_too(model, tmp_path):
    outside = tmp_path / "strings.json"
    shutil.copyfile(model / "vocab" / "strings.json", outside)
    (model / "vocab" / "strings.json").unlink()
    (model / "vocab" / "strings.json").symlink_to(outside)
    with pytest.raises(PathError, match="symbolic link"):
        load_vectors(transfer_cli.blank("en"), model)


# -- 3. torch weights: safetensors only, never torch.load ---------------------------------------------------
LSTM_ENCODE = """
[components.tok2vec.model.encode]
@layers = "PyTorchLSTM.v1"
nO = 32
nI = 32
bi = true
depth = 1
dropout = 0.0
"""


@pytest.fixture(scope="module")
def lstm_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("lstm") / "model"
    nlp = save_small_pipeline(path, tagger_config_text(encode=LSTM_ENCODE), vectors=False)
    return path, nlp


def _torch_shim_blobs(weights_path: Path):
    msg = srsly.msgpack_loads(weights_path.read_bytes())
    return msg, [(i, j) for i, blobs in enumerate(msg["shims"]) for j, _ in enumerate(blobs)]


def test_a_pytorch_lstm_pipeline_round_trips_exactly_without_torch_load(lstm_model, monkeypatch):
    import torch

    path, nlp = lstm_model
    msg, where = _torch_shim_blobs(path / "tok2vec" / "model")
    assert len(where) == 1
    i, j = where[0]
    stored = srsly.msgpack_loads(msg["shims"][i][j])
    assert stored["format"] == "safetensors" and not stored["state"].startswith(b"PK")  # torch.save writes a zip

    def refuse(*args, **kwargs):
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", refuse)
    reloaded = transfer_cli.load(path)
    before = [p.detach().numpy() for n in nlp.get_pipe("tok2vec").model.walk() for s in n.shims
              for p in s._model.parameters()]
    after = [p.detach().numpy() for n in reloaded.get_pipe("tok2vec").model.walk() for s in n.shims
             for p in s._model.parameters()]
    assert len(before) == len(after) > 0 and all(numpy.array_equal(a, b) for a, b in zip(before, after))
    text = "The quick brown fox jumps over the lazy dog ."
    a, b = nlp(text), reloaded(text)
    assert numpy.array_equal(a.tensor, b.tensor) and [t.tag_ for t in a] == [t.tag_ for t in b]
    # saving the reloaded pipeline gives the same weights again
    reloaded.to_disk(path.parent / "again")
    assert (path.parent / "again" / "tok2vec" / "model").read_bytes() == (path / "tok2vec" / "model").read_bytes()


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('payload ran')",))


@pytest.mark.parametrize("wrapping", ["thinc", "claims-safetensors"])
def test_a_pickled_torch_payload_never_runs_even_when_torch_is_told_to_unpickle(lstm_model, tmp_path, monkeypatch,
                                                                               wrapping):
    path, _ = lstm_model
    model = tmp_path / "model"
    shutil.copytree(path, model)
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Payload(marker))
    weights = model / "tok2vec" / "model"
    msg, [(i, j)] = _torch_shim_blobs(weights)
    blob = {"config": {}, "state": payload}  # what thinc's PyTorchShim.to_bytes writes
    if wrapping == "claims-safetensors":
        blob["format"] = "safetensors"
    msg["shims"][i][j] = srsly.msgpack_dumps(blob)
    weights.write_bytes(srsly.msgpack_dumps(msg))
    # whoever crafts the file also records its checksum: the checksum guards against damage, not attacks
    meta = srsly.read_json(model / "meta.json")
    meta["file_sha256"]["tok2vec/model"] = file_sha256(weights)
    srsly.write_json(model / "meta.json", meta)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(PipelineError, match="PyTorch weights") as info:
        transfer_cli.load(model)
    assert "tok2vec" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()
    code, output = cli("apply", model, RAW, tmp_path / "out.jsonl")
    assert_one_error(code, output, "PyTorch weights")
    assert not marker.exists() and not (tmp_path / "out.jsonl").exists()


def test_pretrained_tok2vec_weights_never_reach_torch_load(lstm_model, tmp_path, monkeypatch):
    path, nlp = lstm_model
    weights = tmp_path / "tok2vec.bin"
    weights.write_bytes(model_to_bytes(nlp.get_pipe("tok2vec").model))
    target = transfer_cli.load(path)
    values = {"pretraining": {"component": "tok2vec", "layer": ""}}  # [initialize] init_tok2vec
    load_pretrained_tok2vec(target, values, weights)
    marker = tmp_path / "marker"
    msg, [(i, j)] = _torch_shim_blobs(weights)
    msg["shims"][i][j] = srsly.msgpack_dumps({"config": {}, "state": pickle.dumps(_Payload(marker))})
    weights.write_bytes(srsly.msgpack_dumps(msg))
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(DataError, match="PyTorch weights not stored as safetensors"):
        load_pretrained_tok2vec(target, values, weights)
    assert not marker.exists()


# -- 4. empty and truncated files -----------------------------------------------------------------------
def _truncate(path: Path, fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])


def _truncate_mid_line(path: Path) -> None:
    """Cut near the middle, inside a line."""
    text = path.read_text(encoding="utf8")
    middle = text.index("\n", len(text) // 2)
    path.write_text(text[:middle - 2], encoding="utf8")


def _truncate_at_section_end(path: Path) -> None:
    """Cut just before the last section: what is left parses as a shorter config, so only
    meta.json's checksum tells it from a complete one."""
    text = path.read_text(encoding="utf8")
    path.write_text(text[:text.rindex("\n[") + 1], encoding="utf8")


DAMAGE = {
    "empty config.cfg": ("config.cfg", lambda p: p.write_bytes(b"")),
    "blank config.cfg": ("config.cfg", lambda p: p.write_text("\n  \n")),
    "truncated config.cfg": ("config.cfg", lambda p: _truncate_mid_line(p)),
    "config.cfg cut at a section end": ("config.cfg", _truncate_at_section_end),
    "empty meta.json": ("meta.json", lambda p: p.write_bytes(b"")),
    "truncated meta.json": ("meta.json", _truncate),
    "meta.json not an object": ("meta.json", lambda p: p.write_text("[1, 2]")),
    "empty strings.json": ("vocab/strings.json", lambda p: p.write_bytes(b"")),
    "truncated strings.json": ("vocab/strings.json", _truncate),
    "strings.json of numbers": ("vocab/strings.json", lambda p: p.write_text("[1, 2]")),
    "empty vectors.npy": ("vocab/vectors/vectors.npy", lambda p: p.write_bytes(b"")),
    "truncated vectors.npy": ("vocab/vectors/vectors.npy", lambda p: _truncate(p, 0.9)),
    "truncated keys.npy": ("vocab/vectors/keys.npy", lambda p: _truncate(p, 0.9)),
    "empty vectors cfg.json": ("vocab/vectors/cfg.json", lambda p: p.write_bytes(b"")),
    "missing vectors cfg.json": ("vocab/vectors/cfg.json", lambda p: p.unlink()),
    "empty tagger weights": ("tagger/model", lambda p: p.write_bytes(b"")),
    "truncated tagger weights": ("tagger/model", _truncate),
    "truncated tok2vec weights": ("tok2vec/model", lambda p: _truncate(p, 0.99)),
    "garbage tok2vec weights": ("tok2vec/model", lambda p: p.write_bytes(b"\x93\x01\x02")),
    "empty tagger cfg.json": ("tagger/cfg.json", lambda p: p.write_bytes(b"")),
    "tagger cfg.json with bad labels": ("tagger/cfg.json", lambda p: p.write_text('{"labels": 7}')),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_model_file_is_one_error_naming_it(model, damage):
    relative, damage_file = DAMAGE[damage]
    damage_file(model / relative)
    with pytest.raises(UserError) as info:
        transfer_cli.load(model)
    message = str(info.value)
    assert "\n" not in message and str(model / relative) in message, message


@pytest.mark.parametrize("damage", ["empty config.cfg", "truncated meta.json", "empty strings.json",
                                    "empty vectors.npy", "truncated vectors.npy", "truncated tagger weights"])
def test_the_cli_reports_a_damaged_model_in_one_line(model, tmp_path, damage):
    relative, damage_file = DAMAGE[damage]
    damage_file(model / relative)
    code, output = cli("evaluate", model, DEV)
    assert_one_error(code, output, relative.split("/")[-1])
    code, output = cli("apply", model, RAW, tmp_path / "out.jsonl")
    assert_one_error(code, output, relative.split("/")[-1])
    assert not (tmp_path / "out.jsonl").exists()


def test_the_saved_pipeline_itself_loads_and_keeps_its_vectors(model):
    nlp = transfer_cli.load(model)
    assert nlp.pipe_names == ["tok2vec", "tagger"] and nlp.vocab.vectors.shape == (5, 4)
    code, output = cli("evaluate", model, DEV)
    assert code == 0, output


def test_an_empty_config_is_not_a_blank_pipeline_and_vectors_files_say_what_is_wrong(model):
    (model / "config.cfg").write_bytes(b"")
    with pytest.raises(DataError, match="config.cfg: the pipeline config is empty"):
        transfer_cli.load(model)
    vectors = model / "vocab" / "vectors" / "vectors.npy"
    data = vectors.read_bytes()
    vectors.write_bytes(data[:-4])
    with pytest.raises(DataError, match="header describes"):
        Vectors().from_disk(vectors.parent)


def test_a_config_edited_after_saving_is_refused_unless_its_checksum_is_removed(model):
    config_path = model / "config.cfg"
    config_path.write_text(config_path.read_text().replace("[training]", "[training]\n# edited"))
    with pytest.raises(DataError, match="checksum"):
        transfer_cli.load(model)
    meta = srsly.read_json(model / "meta.json")
    del meta["config_sha256"]
    srsly.write_json(model / "meta.json", meta)
    assert transfer_cli.load(model).pipe_names == ["tok2vec", "tagger"]


def test_a_pipeline_saved_by_spacy_is_named_as_such(model):
    # spaCy's meta.json has spacy_version and none of ours; its weights are in its own format
    meta = srsly.read_json(model / "meta.json")
    del meta["transfer_cli_version"]
    meta["spacy_version"] = ">=3.8.0,<3.9.0"
    srsly.write_json(model / "meta.json", meta)
    with pytest.raises(PathError, match="saved by spaCy"):
        transfer_cli.load(model)
    code, output = cli("evaluate", model, DEV)
    assert_one_error(code, output, "saved by spaCy")
