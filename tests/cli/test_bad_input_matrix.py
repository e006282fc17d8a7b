"""The bad-input matrix: every command against files and settings a user can get wrong.

Each case is one distinct bad input, run in-process through the CLI. It must end with
exit status 1 (2 for a command-line usage error, which click reports), ONE error line on
stderr naming the file, line or key and what was expected (the case's fragment), no
traceback, and no output left behind: the output path is absent afterwards, or
unchanged when it existed before.

A case is a function registered with @case(name); it gets a Ctx (a tmp folder, copies of
the tiny pipelines, sample files) and returns a Case: the command line, the fragment,
and the output path that must not appear or change."""
import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
import srsly
from conftest import EWT_DEV, SAMPLE
from matrix_fixtures import tiny_model, tiny_model_dir, tiny_trf_model_dir  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.config.quickstart import init_config
from transfer_cli.model_files import FILE_CHECKSUMS_KEY, file_sha256
from transfer_cli.tokens.docbin import DocBin

_register_commands()
GLOVE = SAMPLE / "vectors" / "glove_small.txt"
NER_DEV = SAMPLE / "ner" / "dev.jsonl"
ROW = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_"


@dataclass
class Case:
    args: List[object]
    fragment: str
    output: Optional[Path] = None  # must not appear, or stay as it was
    code: int = 1
    report: bool = False  # debug-config: a report of every problem on stdout, not one error line


class Ctx:
    def __init__(self, tmp: Path, request) -> None:
        self.tmp = tmp
        self._request = request

    @property
    def model(self) -> Path:
        return self._request.getfixturevalue("tiny_model")

    @property
    def trf_model(self) -> Path:
        path = self.tmp / "trf"
        if not path.exists():
            shutil.copytree(self._request.getfixturevalue("tiny_trf_model_dir"), path)
        return path

    def file(self, name: str, content: object = "") -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content), encoding="utf8")
        return path

    def text(self) -> Path:
        return self.file("in.txt", "Hello world .\nA second line .\n")

    def config(self, text: Optional[str] = None, **replace: str) -> Path:
        text = text if text is not None else init_config(pipeline=["tagger"], optimize="efficiency").to_str()
        for old, new in replace.items():
            assert old in text, old
            text = text.replace(old, new)
        return self.file("config.cfg", text)

    def train(self, config: Path, *extra: object) -> List[object]:
        return ["train", config, "--output", self.tmp / "out", "--paths.train", EWT_DEV, "--paths.dev", EWT_DEV,
                "--corpora.train.limit", 4, "--corpora.dev.limit", 2, "--training.max_steps", 2, *extra]


CASES: Dict[str, Callable[[Ctx], Case]] = {}


def case(name: str) -> Callable:
    def register(build: Callable[[Ctx], Case]) -> Callable[[Ctx], Case]:
        assert name not in CASES, name
        CASES[name] = build
        return build
    return register


# -- damage helpers -------------------------------------------------------------------------
def garble(path: Path) -> None:
    """Flip bits in the middle of the file: its size and most of its structure stay."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(max(0, middle - 4), min(len(data), middle + 4)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def drop_checksums(model: Path) -> None:
    """What a pipeline saved before checksums were recorded looks like: no check."""
    meta = srsly.read_json(model / "meta.json")
    meta.pop(FILE_CHECKSUMS_KEY)
    srsly.write_json(model / "meta.json", meta)


def apply_case(ctx: Ctx, model: Path, fragment: str) -> Case:
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", model, ctx.text(), out], fragment, out)


# -- missing, unreadable, wrong kind of path ------------------------------------------------------
@case("convert: input missing")
def _(ctx):
    return Case(["convert", ctx.tmp / "nope.conllu", ctx.tmp / "out"], "input not found", ctx.tmp / "out")


@case("convert: input folder without files")
def _(ctx):
    (ctx.tmp / "empty").mkdir()
    return Case(["convert", ctx.tmp / "empty", ctx.tmp / "out"], "has no files to read", ctx.tmp / "out")


@case("convert: output folder is a file")
def _(ctx):
    out = ctx.file("out", "keep me")
    return Case(["convert", EWT_DEV, out], "exists and is not a directory", out)


@case("convert: empty file")
def _(ctx):
    return Case(["convert", ctx.file("in.conllu"), ctx.tmp / "out"], "no documents found", ctx.tmp / "out")


@case("apply: model missing")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.tmp / "nope", ctx.text(), out], "pipeline directory not found", out)


@case("apply: model is a file")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.file("model.cfg", "[nlp]"), ctx.text(), out], "expected a directory", out)


@case("apply: model folder without config.cfg")
def _(ctx):
    (ctx.tmp / "empty").mkdir()
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.tmp / "empty", ctx.text(), out], "config.cfg is missing", out)


@case("apply: input missing")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, ctx.tmp / "nope.txt", out], "input path does not exist", out)


@case("apply: input folder without inputs")
def _(ctx):
    ctx.file("inputs/notes.md", "# not an input")
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, ctx.tmp / "inputs", out], "no input files", out)


@case("apply: empty input")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, ctx.file("in.txt", "\n\n"), out], "holds no texts", out)


@case("apply: a CoNLL-U corpus as input")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, EWT_DEV, out], "cannot apply a pipeline to a '.conllu' file", out)


@case("apply: output neither .spacy nor .jsonl")
def _(ctx):
    out = ctx.tmp / "out.txt"
    return Case(["apply", ctx.model, ctx.text(), out], "must end in .spacy or .jsonl", out)


@case("apply: output is a directory")
def _(ctx):
    (ctx.tmp / "out.jsonl").mkdir()
    return Case(["apply", ctx.model, ctx.text(), ctx.tmp / "out.jsonl"], "is a directory: expected a file path",
                ctx.tmp / "out.jsonl")


@case("apply: output exists")
def _(ctx):
    out = ctx.file("out.jsonl", "the user's earlier results\n")
    return Case(["apply", ctx.model, ctx.text(), out], "pass --force to overwrite it", out)


@case("apply: output is the input")
def _(ctx):
    text = ctx.file("in.jsonl", '{"text": "Hello"}\n')
    return Case(["apply", ctx.model, text, text, "--force"], "which the output would replace", text)


@case("evaluate: corpus missing")
def _(ctx):
    return Case(["evaluate", ctx.model, ctx.tmp / "nope.spacy"], "nope.spacy")


@case("evaluate: metrics output exists")
def _(ctx):
    out = ctx.file("metrics.json", "{}")
    return Case(["evaluate", ctx.model, EWT_DEV, "--output", out], "pass --force", out)


@case("info: model missing")
def _(ctx):
    return Case(["info", ctx.tmp / "nope"], "not found")


@case("train: config missing")
def _(ctx):
    return Case(ctx.train(ctx.tmp / "nope.cfg"), "nope.cfg", ctx.tmp / "out")


@case("train: config is a directory")
def _(ctx):
    (ctx.tmp / "cfgdir").mkdir()
    return Case(ctx.train(ctx.tmp / "cfgdir"), "cfgdir", ctx.tmp / "out")


@case("train: --output is a file")
def _(ctx):
    out = ctx.file("out", "keep me")
    return Case(ctx.train(ctx.config()), "--output must be a folder", out)


@case("train: training corpus missing")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--paths.train", ctx.tmp / "nope.spacy"), "nope.spacy", ctx.tmp / "out")


@case("train: --resume without a checkpoint")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--resume"), "no checkpoint to resume from", ctx.tmp / "out")


@case("init-vectors: vectors file missing")
def _(ctx):
    return Case(["init-vectors", "en", ctx.tmp / "nope.txt", ctx.tmp / "vec"], "nope.txt", ctx.tmp / "vec")


@case("init-vectors: output is a file")
def _(ctx):
    out = ctx.file("vec", "keep me")
    return Case(["init-vectors", "en", GLOVE, out], "vec", out)


@case("fill-config: base config missing")
def _(ctx):
    return Case(["fill-config", ctx.tmp / "nope.cfg", ctx.tmp / "filled.cfg"], "nope.cfg", ctx.tmp / "filled.cfg")


@case("fill-config: output exists")
def _(ctx):
    out = ctx.file("filled.cfg", "# the user's config\n")
    return Case(["fill-config", ctx.config(), out], "--force", out)


@case("init-config: output exists")
def _(ctx):
    out = ctx.file("new.cfg", "# the user's config\n")
    return Case(["init-config", out], "--force", out)


@case("pretrain: output is a file")
def _(ctx):
    out = ctx.file("pretrain-out", "keep me")
    return Case(["pretrain", ctx.config(init_config(pipeline=["tagger"], pretraining=True).to_str()), out,
                 "--paths.raw_text", SAMPLE / "raw" / "wiki_en.jsonl"], "pretrain-out", out)


# -- bytes and encodings ------------------------------------------------------------------------
@case("convert: latin-1 bytes in CoNLL-U")
def _(ctx):
    path = ctx.file("in.conllu", ROW.encode() + b"\n\n" + ROW.replace("Hi", "caf\xe9").encode("latin-1") + b"\n\n")
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:3: not valid UTF-8: byte 0xe9", ctx.tmp / "out")


@case("convert: UTF-16 JSONL (BOM FF FE)")
def _(ctx):
    path = ctx.file("in.jsonl", '{"text": "Hello"}\n'.encode("utf-16"))
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:1: not valid UTF-8: byte 0xff", ctx.tmp / "out")


@case("convert: BOM in the middle of a JSONL file")
def _(ctx):
    path = ctx.file("in.jsonl", '{"text": "Hello"}\n\ufeff{"text": "again"}\n')
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:2: invalid JSON", ctx.tmp / "out")


@case("convert: JSONL with a lone surrogate")
def _(ctx):
    path = ctx.file("in.jsonl", '{"text": "ok"}\n{"text": "a \\ud800 b"}\n')
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:2: a lone surrogate escape (\\ud800)", ctx.tmp / "out")


@case("apply: JSONL with a lone surrogate")
def _(ctx):
    path = ctx.file("in.jsonl", '{"text": "ok"}\n{"text": "\\udfff"}\n')
    out = ctx.tmp / "out.spacy"
    return Case(["apply", ctx.model, path, out], f"{path}:2: a lone surrogate escape (\\udfff)", out)


@case("apply: latin-1 text")
def _(ctx):
    path = ctx.file("in.txt", b"Hello\ncaf\xe9\n")
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, path, out], f"{path}:2: not valid UTF-8: byte 0xe9", out)


@case("apply: CRLF JSONL with a bad line")
def _(ctx):
    path = ctx.file("in.jsonl", b'{"text": "ok"}\r\n{"txt": "no"}\r\n')
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, path, out], f'{path}:2: expected a JSON object with a "text" string', out)


@case("train: config with latin-1 bytes")
def _(ctx):
    path = ctx.file("config.cfg", init_config(pipeline=["tagger"]).to_str().encode() + b"\n# caf\xe9\n")
    return Case(ctx.train(path), "UTF-8", ctx.tmp / "out")


@case("train: empty config")
def _(ctx):
    return Case(ctx.train(ctx.file("config.cfg", "")), "config.cfg", ctx.tmp / "out")


# -- compressed vectors cut short, malformed vectors files ------------------------------------------
def _vectors_text() -> bytes:
    return GLOVE.read_bytes()


@case("init-vectors: truncated .gz")
def _(ctx):
    data = gzip.compress(_vectors_text())
    path = ctx.file("vectors.txt.gz", data[: len(data) // 2])
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], "vectors.txt.gz", ctx.tmp / "vec")


@case("init-vectors: truncated .bz2")
def _(ctx):
    data = bz2.compress(_vectors_text())
    path = ctx.file("vectors.txt.bz2", data[: len(data) // 2])
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], "vectors.txt.bz2", ctx.tmp / "vec")


@case("init-vectors: truncated .xz")
def _(ctx):
    data = lzma.compress(_vectors_text())
    path = ctx.file("vectors.txt.xz", data[: len(data) // 2])
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], "vectors.txt.xz", ctx.tmp / "vec")


@case("init-vectors: .gz that is not gzip")
def _(ctx):
    path = ctx.file("vectors.txt.gz", _vectors_text())
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], "vectors.txt.gz", ctx.tmp / "vec")


@case("init-vectors: empty vectors file")
def _(ctx):
    return Case(["init-vectors", "en", ctx.file("vectors.txt"), ctx.tmp / "vec"], "vectors.txt", ctx.tmp / "vec")


@case("init-vectors: a row with a word instead of a number")
def _(ctx):
    lines = _vectors_text().decode().splitlines()
    lines[3] = lines[3].rsplit(" ", 1)[0] + " oops"
    path = ctx.file("vectors.txt", "\n".join(lines) + "\n")
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], f"{path}:4", ctx.tmp / "vec")


@case("init-vectors: a row with too few numbers")
def _(ctx):
    lines = _vectors_text().decode().splitlines()
    lines[5] = lines[5].rsplit(" ", 3)[0]
    path = ctx.file("vectors.txt", "\n".join(lines) + "\n")
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], f"{path}:6", ctx.tmp / "vec")


@case("init-vectors: latin-1 word")
def _(ctx):
    data = _vectors_text()
    assert data.startswith(b"the ")
    path = ctx.file("vectors.txt", b"th\xe9" + data[3:])
    return Case(["init-vectors", "en", path, ctx.tmp / "vec"], f"{path}:1: the word is not valid UTF-8",
                ctx.tmp / "vec")


@case("init-vectors: --prune -5")
def _(ctx):
    return Case(["init-vectors", "en", GLOVE, ctx.tmp / "vec", "--prune", "-5"], "--prune must be a positive number",
                ctx.tmp / "vec")


@case("init-vectors: --prune 0")
def _(ctx):
    return Case(["init-vectors", "en", GLOVE, ctx.tmp / "vec", "--prune", "0"], "--prune must be a positive number",
                ctx.tmp / "vec")


@case("init-vectors: unknown language code")
def _(ctx):
    return Case(["init-vectors", "english", GLOVE, ctx.tmp / "vec"], "'english' is not a language code",
                ctx.tmp / "vec")


# -- malformed corpora ----------------------------------------------------------------------------
@case("convert: CoNLL-U HEAD cycle")
def _(ctx):
    rows = ["1\ta\ta\tX\tX\t_\t2\tdep\t_\t_", "2\tb\tb\tX\tX\t_\t1\tdep\t_\t_", "3\tc\tc\tX\tX\t_\t0\troot\t_\t_"]
    path = ctx.file("in.conllu", "\n".join(rows) + "\n\n")
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:1: HEAD 2 of word 1 is on a cycle", ctx.tmp / "out")


@case("convert: CoNLL-U word that is its own HEAD")
def _(ctx):
    rows = ["1\ta\ta\tX\tX\t_\t0\troot\t_\t_", "2\tb\tb\tX\tX\t_\t2\tdep\t_\t_"]
    path = ctx.file("in.conllu", "\n".join(rows) + "\n\n")
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:2: HEAD 2 of word 2 is on a cycle", ctx.tmp / "out")


@case("convert: CoNLL-U sentence cut mid-row")
def _(ctx):
    path = ctx.file("in.conllu", ROW + "\n\n" + "\t".join(ROW.split("\t")[:4]))
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:3: expected 10 tab-separated columns", ctx.tmp / "out")


@case("convert: IOB tag without a type")
def _(ctx):
    path = ctx.file("in.iob", "Hi O\nthere B-\n\n")
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:2: invalid entity tag 'B-'", ctx.tmp / "out")


@case("convert: JSONL cut mid-line")
def _(ctx):
    path = ctx.file("in.jsonl", '{"text": "ok"}\n{"text": "cut sh')
    return Case(["convert", path, ctx.tmp / "out"], f"{path}:2: invalid JSON", ctx.tmp / "out")


@case("convert: unknown converter")
def _(ctx):
    return Case(["convert", EWT_DEV, ctx.tmp / "out", "--converter", "csv"], "unknown converter 'csv'",
                ctx.tmp / "out")


@case("convert: unknown --lang")
def _(ctx):
    return Case(["convert", NER_DEV, ctx.tmp / "out", "--lang", "xx_nope"], "'xx_nope' is not a language code",
                ctx.tmp / "out")


@case("convert: format that cannot be told")
def _(ctx):
    path = ctx.file("in.data", "just some words\n")
    return Case(["convert", path, ctx.tmp / "out"], "cannot tell the format", ctx.tmp / "out")


# -- .spacy files that lie ----------------------------------------------------------------------
def docbin_msg() -> dict:
    from transfer_cli.lang import create_tokenizer

    doc_bin = DocBin(store_user_data=True)
    make_doc = create_tokenizer("en")
    for text in ("Hello world .", "A second doc ."):
        doc = make_doc(text)
        doc.cats = {"POS": 1.0}
        doc_bin.add(doc)
    return srsly.msgpack_loads(zlib.decompress(doc_bin.to_bytes()))


def spacy_file(ctx: Ctx, change: Callable[[dict], None], name: str = "in.spacy") -> Path:
    msg = docbin_msg()
    change(msg)
    return ctx.file(name, zlib.compress(srsly.msgpack_dumps(msg)))


def _lengths_lie(msg):
    msg["lengths"] = struct.pack("<2i", 3, 40)


def _cats_strings(msg):
    msg["cats"][1] = {"POS": "yes"}


def _cats_list(msg):
    msg["cats"][0] = ["POS"]


def _flags_string(msg):
    msg["flags"][0] = {"has_unknown_spaces": "no"}


def _span_outside(msg):
    span = struct.pack(">QQQllll", 0, 0, 0, 1, 99, 0, 0)
    group = srsly.msgpack_dumps({"name": "sc", "attrs": {}, "spans": [span]})
    msg["span_groups"][0] = srsly.msgpack_dumps({group: ["sc"]})


def _span_garbage(msg):
    msg["span_groups"][1] = b"\xc1\xc1 not msgpack"


def _user_data_garbage(msg):
    msg["user_data"][0] = b"\xc1 not msgpack"


def _user_data_not_a_map(msg):
    msg["user_data"][0] = srsly.msgpack_dumps([1, 2, 3])


SPACY_LIES = {
    "lengths that lie": (_lengths_lie, "sizes disagree"),
    "cats with string values": (_cats_strings, "doc 1: cats must map label strings to numbers"),
    "cats that are a list": (_cats_list, "doc 0: cats must map label strings to numbers"),
    "flags with a string": (_flags_string, "doc 0: flags must be a map"),
    "a span outside its doc": (_span_outside, "outside the doc"),
    "span groups that are not msgpack": (_span_garbage, "doc 1: damaged span groups or user_data"),
    "user_data that is not msgpack": (_user_data_garbage, "doc 0: damaged span groups or user_data"),
    "user_data that is not a map": (_user_data_not_a_map, "user_data must be a map"),
}
for _name, (_change, _fragment) in SPACY_LIES.items():
    def _build(ctx, change=_change, fragment=_fragment):
        path = spacy_file(ctx, change)
        return Case(["convert", path, ctx.tmp / "out"], fragment, ctx.tmp / "out")
    case(f"convert: .spacy with {_name}")(_build)


@case("apply: .spacy with cats that lie")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, spacy_file(ctx, _cats_strings), out], "cats must map label strings", out)


@case("evaluate: .spacy whose lengths lie")
def _(ctx):
    return Case(["evaluate", ctx.model, spacy_file(ctx, _lengths_lie)], "sizes disagree")


@case("convert: .spacy cut short")
def _(ctx):
    path = spacy_file(ctx, lambda msg: None)
    truncate(path)
    return Case(["convert", path, ctx.tmp / "out"], "not a .spacy file", ctx.tmp / "out")


@case("convert: .spacy that is not zlib")
def _(ctx):
    path = ctx.file("in.spacy", b"PK\x03\x04 a zip file")
    return Case(["convert", path, ctx.tmp / "out"], "not a .spacy file", ctx.tmp / "out")


# -- configs --------------------------------------------------------------------------------------
@case("train: unknown section")
def _(ctx):
    return Case(ctx.train(ctx.config(ctx.config().read_text() + "\n[trainin]\nmax_steps = 3\n")), "trainin",
                ctx.tmp / "out")


@case("train: unknown key in [training]")
def _(ctx):
    return Case(ctx.train(ctx.config(**{"[training]\n": "[training]\nmax_stepz = 5\n"})), "training.max_stepz",
                ctx.tmp / "out")


@case("train: unknown registered architecture")
def _(ctx):
    config = ctx.config(**{'"spacy.MaxoutWindowEncoder.v2"': '"spacy.MaxoutWindowEncoder.v9"'})
    return Case(ctx.train(config), "spacy.MaxoutWindowEncoder.v9", ctx.tmp / "out")


@case("train: unknown factory")
def _(ctx):
    return Case(ctx.train(ctx.config(**{'factory = "tagger"': 'factory = "taggr"'})), "taggr", ctx.tmp / "out")


@case("train: wrong type of a setting")
def _(ctx):
    return Case(ctx.train(ctx.config(**{"max_epochs = 0": 'max_epochs = "many"'})), "[training.max_epochs]",
                ctx.tmp / "out")


@case("train: interpolation of a missing variable")
def _(ctx):
    config = ctx.config(**{"width = ${components.tok2vec.model.encode.width}": "width = ${components.nope.width}"})
    return Case(ctx.train(config), "components.nope.width", ctx.tmp / "out")


@case("train: unclosed section header")
def _(ctx):
    return Case(ctx.train(ctx.config(**{"[training]\n": "[training\n"})), "config.cfg", ctx.tmp / "out")


@case("train: override of a missing key")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--training.max_stepz", 3), "did you mean 'training.max_steps'",
                ctx.tmp / "out")


@case("train: override of a missing section")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--trainin.max_steps", 3), "trainin", ctx.tmp / "out")


@case("train: override without a section")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--max_steps", 3), "has no section", ctx.tmp / "out")


@case("train: negative learn_rate")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--training.optimizer.learn_rate", -0.001),
                "[training.optimizer.learn_rate]: must be more than 0, got -0.001", ctx.tmp / "out")


@case("train: beta1 of 2")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--training.optimizer.beta1", 2),
                "[training.optimizer.beta1]: must be at least 0.0 and below 1.0", ctx.tmp / "out")


@case("train: encoder depth 0")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--components.tok2vec.model.encode.depth", 0),
                "[components.tok2vec.model.encode.depth]: must be 1 or more", ctx.tmp / "out")


@case("train: unknown nlp.lang")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--nlp.lang", "zz"), "[nlp.lang]: 'zz' is not a language code",
                ctx.tmp / "out")


@case("debug-config: unknown registered optimizer")
def _(ctx):
    # debug-config reports every problem of the config (a header line, one line each)
    return Case(["debug-config", ctx.config(**{'"Adam.v1"': '"Adamm.v1"'})],
                "[training.optimizer]: 'Adamm.v1' is not registered in @optimizers", report=True)


@case("fill-config: interpolation of a missing section")
def _(ctx):
    out = ctx.tmp / "filled.cfg"
    config = ctx.config(**{"width = ${components.tok2vec.model.encode.width}": "width = ${nope.width}"})
    return Case(["fill-config", config, out], "nope.width", out)


@case("debug-data: training corpus missing")
def _(ctx):
    return Case(["debug-data", ctx.config(), "--paths.train", ctx.tmp / "nope.spacy", "--paths.dev", EWT_DEV],
                "nope.spacy")


@case("init-config: unknown language")
def _(ctx):
    return Case(["init-config", ctx.tmp / "new.cfg", "--lang", "zz"], "'zz' is not a language code",
                ctx.tmp / "new.cfg")


@case("init-config: unknown component")
def _(ctx):
    return Case(["init-config", ctx.tmp / "new.cfg", "--pipeline", "tagger,parsr"], "parsr", ctx.tmp / "new.cfg")


# -- --code files ------------------------------------------------------------------------------
@case("train: --code with a syntax error")
def _(ctx):
    code = ctx.file("code.py", "def broken(:\n    pass\n")
    return Case(ctx.train(ctx.config(), "--code", code), f"error in --code file {code}:1: SyntaxError",
                ctx.tmp / "out")


@case("apply: --code raising at import")
def _(ctx):
    code = ctx.file("code.py", "import os\nraise RuntimeError('no GPU here')\n")
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, ctx.text(), out, "--code", code],
                f"error in --code file {code}:2: RuntimeError: no GPU here", out)


@case("debug-config: --code file missing")
def _(ctx):
    return Case(["debug-config", ctx.config(), "--code", ctx.tmp / "nope.py"], "Code file not found")


@case("fill-config: --code that is not Python")
def _(ctx):
    code = ctx.file("code.txt", "just text")
    return Case(["fill-config", ctx.config(), ctx.tmp / "filled.cfg", "--code", code], "code.txt",
                ctx.tmp / "filled.cfg")


@case("apply: model config names a function only --code registers")
def _(ctx):
    model = ctx.model
    config = (model / "config.cfg").read_text()
    config = config.replace('"spacy.MaxoutWindowEncoder.v2"', '"my_company.Encoder.v1"')
    (model / "config.cfg").write_text(config)
    meta = srsly.read_json(model / "meta.json")
    meta["config_sha256"] = hashlib.sha256(config.encode()).hexdigest()
    srsly.write_json(model / "meta.json", meta)
    return apply_case(ctx, model, "my_company.Encoder.v1")


# -- damaged model directories (every file in turn) -------------------------------------------------
MODEL_FILES = ["meta.json", "vocab/strings.json", "tokenizer", "tok2vec/model", "tok2vec/cfg.json", "tagger/model",
               "tagger/cfg.json", "vocab/vectors/vectors.npy", "vocab/vectors/keys.npy", "vocab/vectors/rows.npy",
               "vocab/vectors/row_keys.npy", "vocab/vectors/cfg.json"]
DAMAGE = {"missing": lambda path: path.unlink(), "truncated": truncate, "garbled": garble}


def _damaged_model_case(relative: str, how: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        model = ctx.model
        DAMAGE[how](model / relative)
        if relative == "meta.json":
            fragment = {"missing": "meta.json", "truncated": "not valid JSON", "garbled": "meta.json"}[how]
        else:
            fragment = {"missing": "the file is missing", "truncated": "the file does not match its SHA-256",
                        "garbled": "the file does not match its SHA-256"}[how]
        return apply_case(ctx, model, f"{model / relative}: {fragment}" if relative != "meta.json" else fragment)
    return build


for _relative in MODEL_FILES:
    for _how in ("missing", "truncated", "garbled"):
        if _relative == "meta.json" and _how != "truncated":
            continue
        case(f"apply: model with {_how} {_relative}")(_damaged_model_case(_relative, _how))


@case("apply: model with config.cfg missing")
def _(ctx):
    (ctx.model / "config.cfg").unlink()
    return apply_case(ctx, ctx.model, "config.cfg is missing")


@case("apply: model with config.cfg truncated at a line end")
def _(ctx):
    config = ctx.model / "config.cfg"
    text = config.read_text()
    config.write_text(text[: text.index("\n", len(text) // 2) + 1])
    return apply_case(ctx, ctx.model, "does not match the checksum in meta.json")


@case("apply: model with config.cfg garbled")
def _(ctx):
    garble(ctx.model / "config.cfg")
    return apply_case(ctx, ctx.model, "config.cfg")


@case("apply: model whose meta.json is a list")
def _(ctx):
    (ctx.model / "meta.json").write_text("[1, 2]")
    return apply_case(ctx, ctx.model, "should hold an object in JSON, not list")


@case("apply: model whose file checksums are not a map")
def _(ctx):
    meta = srsly.read_json(ctx.model / "meta.json")
    meta[FILE_CHECKSUMS_KEY] = ["tagger/model"]
    srsly.write_json(ctx.model / "meta.json", meta)
    return apply_case(ctx, ctx.model, "'file_sha256' should map file names to SHA-256 strings")


@case("apply: model whose checksums name a file outside it")
def _(ctx):
    meta = srsly.read_json(ctx.model / "meta.json")
    meta[FILE_CHECKSUMS_KEY]["../../etc/passwd"] = "0" * 64
    srsly.write_json(ctx.model / "meta.json", meta)
    return apply_case(ctx, ctx.model, "names a file outside the directory")


# a pipeline saved before checksums were recorded: the readers' own checks still catch damage
@case("apply: unchecked model with strings [1, null]")
def _(ctx):
    drop_checksums(ctx.model)
    (ctx.model / "vocab" / "strings.json").write_text("[1, null]")
    return apply_case(ctx, ctx.model, "should be a JSON list of strings")


@case("apply: unchecked model with truncated weights")
def _(ctx):
    drop_checksums(ctx.model)
    truncate(ctx.model / "tagger" / "model")
    return apply_case(ctx, ctx.model, "cannot load the weights of component 'tagger'")


@case("apply: unchecked model with a truncated vectors table")
def _(ctx):
    drop_checksums(ctx.model)
    truncate(ctx.model / "vocab" / "vectors" / "vectors.npy")
    return apply_case(ctx, ctx.model, "vectors.npy")


@case("apply: unchecked model with a garbled tokenizer")
def _(ctx):
    drop_checksums(ctx.model)
    (ctx.model / "tokenizer").write_bytes(b"\x00\x01 not settings")
    return apply_case(ctx, ctx.model, "tokenizer")


@case("apply: unchecked model with a component folder missing")
def _(ctx):
    drop_checksums(ctx.model)
    shutil.rmtree(ctx.model / "tagger")
    return apply_case(ctx, ctx.model, "tagger")


@case("apply: model with a symlink to a file outside")
def _(ctx):
    secret = ctx.file("secret.txt", "password")
    (ctx.model / "tagger" / "cfg.json").unlink()
    os.symlink(secret, ctx.model / "tagger" / "cfg.json")
    return apply_case(ctx, ctx.model, "a symbolic link that leads outside the directory")


@case("info: model with meta.json that is a list")
def _(ctx):
    (ctx.model / "meta.json").write_text("[]")
    return Case(["info", ctx.model], "meta.json")


@case("evaluate: model with garbled weights")
def _(ctx):
    garble(ctx.model / "tok2vec" / "model")
    return Case(["evaluate", ctx.model, EWT_DEV], "does not match its SHA-256")


TRF_FILES = ["transformer/hf/model.safetensors", "transformer/hf/tokenizer.json", "transformer/hf/config.json",
             "transformer/hf/tokenizer_config.json"]


def _damaged_trf_case(relative: str, how: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        model = ctx.trf_model
        DAMAGE[how](model / relative)
        fragment = "the file is missing" if how == "missing" else "the file does not match its SHA-256"
        return apply_case(ctx, model, f"{model / relative}: {fragment}")
    return build


for _relative in TRF_FILES:
    for _how in ("missing", "garbled"):
        case(f"apply: transformer model with {_how} {_relative}")(_damaged_trf_case(_relative, _how))


@case("apply: unchecked transformer model with truncated weights")
def _(ctx):
    drop_checksums(ctx.trf_model)
    truncate(ctx.trf_model / "transformer" / "hf" / "model.safetensors")
    return apply_case(ctx, ctx.trf_model, "are not a safetensors file")


@case("apply: unchecked transformer model with a garbled tokenizer.json")
def _(ctx):
    drop_checksums(ctx.trf_model)
    (ctx.trf_model / "transformer" / "hf" / "tokenizer.json").write_text('{"version": ')
    return apply_case(ctx, ctx.trf_model, "tokenizer")


# -- labels and checkpoints -----------------------------------------------------------------------
@case("train: resume from a checkpoint of another config")
def _(ctx):
    config = ctx.config()
    runner = CliRunner()
    first = runner.invoke(app, [str(a) for a in ctx.train(config, "--components.tok2vec.model.encode.width", 16,
                                                             "--components.tok2vec.model.encode.depth", 1,
                                                             "--training.eval_frequency", 1)])
    assert first.exit_code == 0, first.output
    out = ctx.tmp / "out"
    return Case(ctx.train(config, "--components.tok2vec.model.encode.width", 24,
                          "--components.tok2vec.model.encode.depth", 1, "--training.eval_frequency", 1, "--resume"),
                "saved by a run of another config", out)


# -- command-line usage errors: exit 2 from click --------------------------------------------------
@case("apply: --batch-size that is not a number")
def _(ctx):
    out = ctx.tmp / "out.jsonl"
    return Case(["apply", ctx.model, ctx.text(), out, "--batch-size", "many"], "Invalid value for '--batch-size'", out,
                code=2)


@case("apply: missing argument")
def _(ctx):
    return Case(["apply", ctx.tmp / "model"], "Missing argument", code=2)


@case("convert: unknown option")
def _(ctx):
    return Case(["convert", EWT_DEV, ctx.tmp / "out", "--fast"], "No such option: --fast", ctx.tmp / "out", code=2)


@case("init-config: --optimize that is not a choice")
def _(ctx):
    return Case(["init-config", ctx.tmp / "new.cfg", "--optimize", "speed"], "speed", ctx.tmp / "new.cfg", code=2)


@case("train: --n-workers 0")
def _(ctx):
    return Case(ctx.train(ctx.config(), "--n-workers", 0), "--n-workers", ctx.tmp / "out", code=2)


@case("unknown command")
def _(ctx):
    return Case(["tran", ctx.config()], "No such command 'tran'", code=2)


# -- the test ----------------------------------------------------------------------------------------
def snapshot(path: Optional[Path]) -> Optional[Dict[str, bytes]]:
    if path is None or not os.path.lexists(path):
        return None
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(path.rglob("*"))}


def check_result(result, expected: Case) -> str:
    output = result.output
    assert "Traceback" not in output, output
    assert isinstance(result.exception, SystemExit), f"{result.exception!r}\n{output}"
    assert result.exit_code == expected.code, output
    flat = " ".join((result.output if expected.report else result.stderr).split())
    assert expected.fragment in flat, f"{expected.fragment!r} not in {flat!r}"
    if expected.code == 1 and not expected.report:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("✘ "), result.stderr
    return flat


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, request):
    ctx = Ctx(tmp_path, request)
    expected = CASES[name](ctx)
    before = snapshot(expected.output)
    result = CliRunner().invoke(app, [str(a) for a in expected.args])
    check_result(result, expected)
    assert snapshot(expected.output) == before, f"{expected.output} was changed"


def test_the_matrix_has_at_least_80_distinct_cases():
    assert len(CASES) >= 80, len(CASES)
