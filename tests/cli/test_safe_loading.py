"""Safe loading: nothing a user loads is unpickled or runs code. Crafted files (a pickle
in a weights file, a msgpack ext type, an object-dtype array in msgpack or .npy, a
transformer whose config asks for remote code) are refused with one error and never
execute anything; a model's config cannot name a function only --code registers unless
--code is given; files changed after saving are caught by their checksum."""
import ast
import os
import pickle
import shutil
from pathlib import Path

import numpy
import pytest
import srsly
from conftest import ROOT
from matrix_fixtures import tiny_model, tiny_model_dir, tiny_trf_model_dir  # noqa: F401  (fixtures)
from typer.testing import CliRunner

import transfer_cli
from transfer_cli.cli.app import _register_commands, app
from transfer_cli.errors import UserError
from transfer_cli.model_files import FILE_CHECKSUMS_KEY, file_sha256

_register_commands()
PACKAGE = ROOT / "transfer_cli"


class Payload:
    """Unpickling this writes the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('payload ran')",))


def record_checksum(model: Path, relative: str) -> None:
    """Whoever crafts a model records matching checksums: they guard against damage only."""
    meta = srsly.read_json(model / "meta.json")
    meta[FILE_CHECKSUMS_KEY][relative] = file_sha256(model / relative)
    srsly.write_json(model / "meta.json", meta)


def assert_refused_without_running(model: Path, marker: Path, tmp_path: Path, *fragments: str) -> None:
    with pytest.raises(UserError) as info:
        transfer_cli.load(model)
    assert "\n" not in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)
    text = tmp_path / "in.txt"
    text.write_text("Hello world\n")
    result = CliRunner().invoke(app, ["apply", str(model), str(text), str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and not (tmp_path / "out.jsonl").exists()
    assert not marker.exists(), "the crafted file ran code"


def test_a_pickle_as_weights_file_is_never_unpickled(tiny_model, tmp_path):
    marker = tmp_path / "marker"
    (tiny_model / "tagger" / "model").write_bytes(pickle.dumps(Payload(marker)))
    record_checksum(tiny_model, "tagger/model")
    assert_refused_without_running(tiny_model, marker, tmp_path, "tagger", "not a weights file")


def test_msgpack_weights_with_an_ext_type_or_an_object_array_are_refused(tiny_model, tmp_path):
    from srsly import msgpack

    marker = tmp_path / "marker"
    weights = tiny_model / "tagger" / "model"
    msg = srsly.msgpack_loads(weights.read_bytes())
    msg["params"] = [{"W": msgpack.ExtType(42, pickle.dumps(Payload(marker)))}]
    weights.write_bytes(msgpack.packb(msg, use_bin_type=True))
    record_checksum(tiny_model, "tagger/model")
    assert_refused_without_running(tiny_model, marker, tmp_path, "tagger")
    # an object-dtype array in msgpack-numpy's encoding: numpy refuses to make it from bytes
    msg["params"] = [{"W": {b"nd": True, b"type": b"|O", b"kind": b"", b"shape": [1],
                            b"data": pickle.dumps(Payload(marker))}}]
    weights.write_bytes(msgpack.packb(msg, use_bin_type=True))
    record_checksum(tiny_model, "tagger/model")
    assert_refused_without_running(tiny_model, marker, tmp_path, "tagger", "not a weights file")


def test_an_object_dtype_npy_in_the_vectors_is_never_unpickled(tiny_model, tmp_path):
    marker = tmp_path / "marker"
    table = numpy.empty((5, 4), dtype=object)
    table[0, 0] = Payload(marker)
    numpy.save(tiny_model / "vocab" / "vectors" / "vectors.npy", table, allow_pickle=True)
    record_checksum(tiny_model, "vocab/vectors/vectors.npy")
    assert_refused_without_running(tiny_model, marker, tmp_path, "vectors.npy")


def test_spacy_user_data_is_msgpack_and_a_pickle_in_it_is_refused(tmp_path):
    import zlib

    from transfer_cli.lang import create_tokenizer
    from transfer_cli.tokens.docbin import DocBin

    marker = tmp_path / "marker"
    doc_bin = DocBin(store_user_data=True)
    doc_bin.add(create_tokenizer("en")("Hello world"))
    msg = srsly.msgpack_loads(zlib.decompress(doc_bin.to_bytes()))
    msg["user_data"] = [pickle.dumps({"x": Payload(marker)})]
    path = tmp_path / "in.spacy"
    path.write_bytes(zlib.compress(srsly.msgpack_dumps(msg)))
    result = CliRunner().invoke(app, ["convert", str(path), str(tmp_path / "out")])
    assert result.exit_code == 1 and "doc 0: damaged span groups or user_data" in result.output, result.output
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_remote_code_of_a_transformer_never_runs(tiny_trf_model_dir, tmp_path):
    model = Path(shutil.copytree(tiny_trf_model_dir, tmp_path / "model"))
    hf = model / "transformer" / "hf"
    marker = tmp_path / "marker"
    (hf / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('remote code ran')\n")
    (hf / "tokenization_evil.py").write_text(f"open({str(marker)!r}, 'w').write('remote code ran')\n")
    config = srsly.read_json(hf / "config.json")
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel", "AutoConfig": "modeling_evil.EvilConfig"}
    config["model_type"] = "evil"
    srsly.write_json(hf / "config.json", config)
    record_checksum(model, "transformer/hf/config.json")
    assert_refused_without_running(model, marker, tmp_path, "model_type")
    # a known model type, but a tokenizer that asks for its own code
    config["model_type"] = "bert"
    srsly.write_json(hf / "config.json", config)
    record_checksum(model, "transformer/hf/config.json")
    tokenizer_config = srsly.read_json(hf / "tokenizer_config.json")
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}
    tokenizer_config["tokenizer_class"] = "EvilTokenizer"
    srsly.write_json(hf / "tokenizer_config.json", tokenizer_config)
    record_checksum(model, "transformer/hf/tokenizer_config.json")
    (hf / "tokenizer.json").unlink()  # so the tokenizer class must come from the code
    meta = srsly.read_json(model / "meta.json")
    del meta[FILE_CHECKSUMS_KEY]["transformer/hf/tokenizer.json"]
    srsly.write_json(model / "meta.json", meta)
    assert_refused_without_running(model, marker, tmp_path, "tokenizer")


def test_trust_remote_code_is_never_turned_on_in_the_package():
    """Every call that passes trust_remote_code passes the constant False."""
    calls = 0
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                calls += 1
                assert isinstance(node.value, ast.Constant) and node.value.value is False, \
                    f"{path}:{node.value.lineno}"
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "trust_remote_code":
                        calls += 1
                        assert isinstance(value, ast.Constant) and value.value is False, f"{path}:{value.lineno}"
    assert calls >= 2  # the model and the tokenizer loads


def test_nothing_read_from_a_file_is_unpickled():
    """pickle.load(s) appears only in nlp.pipe's process transport (pipeline/processes.py,
    tokens/doc_state.py: bytes between a process and the workers it spawned, which
    multiprocessing queues would pickle anyway); numpy.load always has allow_pickle=False
    or reads a file this run wrote (init-vectors' staging)."""
    unpickling = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("loads", "load", "Unpickler") \
                    and isinstance(node.value, ast.Name) and node.value.id in ("pickle", "cPickle", "dill"):
                unpickling.add(path.relative_to(PACKAGE).as_posix())
            if isinstance(node, ast.Attribute) and node.attr == "load" and isinstance(node.value, ast.Name) \
                    and node.value.id == "torch":
                raise AssertionError(f"torch.load in {path}")
            if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, path
    assert unpickling <= {"pipeline/processes.py", "tokens/doc_state.py"}, unpickling


CUSTOM_CODE = """
from transfer_cli.config.registry import registry
from transfer_cli.ml.encoders import MaxoutWindowEncoder


@registry.architectures("{name}")
def encoder(width: int, window_size: int, maxout_pieces: int, depth: int):
    return MaxoutWindowEncoder(width, window_size, maxout_pieces, depth)
"""


def test_a_model_naming_a_code_function_needs_that_code_on_the_command_line(tiny_model, tmp_path):
    import hashlib
    import uuid

    name = f"my_company.Encoder{uuid.uuid4().hex[:8]}.v1"  # registered in no process yet
    config = (tiny_model / "config.cfg").read_text()
    assert '"spacy.MaxoutWindowEncoder.v2"' in config
    config = config.replace('"spacy.MaxoutWindowEncoder.v2"', f'"{name}"')
    (tiny_model / "config.cfg").write_text(config)
    meta = srsly.read_json(tiny_model / "meta.json")
    meta["config_sha256"] = hashlib.sha256(config.encode()).hexdigest()
    srsly.write_json(tiny_model / "meta.json", meta)
    text = tmp_path / "in.txt"
    text.write_text("Hello world\n")
    runner = CliRunner()
    result = runner.invoke(app, ["apply", str(tiny_model), str(text), str(tmp_path / "a.jsonl")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    flat = " ".join(result.stderr.split())
    assert name in flat and "--code" in flat and "Traceback" not in result.output, flat
    assert not (tmp_path / "a.jsonl").exists()
    code = tmp_path / "my_code.py"
    code.write_text(CUSTOM_CODE.format(name=name))
    result = runner.invoke(app, ["apply", str(tiny_model), str(text), str(tmp_path / "b.jsonl"), "--code", str(code)])
    assert result.exit_code == 0, result.output


def test_a_hard_link_out_of_a_model_is_not_written_through_by_a_save(tiny_model_dir, tmp_path):
    """A file of a saved model that is hard-linked elsewhere keeps its content when the
    model is saved again: saves write new files and rename them into place."""
    model = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    outside = tmp_path / "users_file.json"
    os.link(model / "tagger" / "cfg.json", outside)
    before = outside.read_bytes()
    nlp = transfer_cli.load(model)  # a hard link is a regular file: its content is checked by its SHA-256
    nlp.to_disk(model)
    assert outside.read_bytes() == before
    assert os.stat(outside).st_nlink == 1  # the model's file is a new one
