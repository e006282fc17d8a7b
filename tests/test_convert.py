"""`transfer-cli convert`: outputs, summaries, and bad input (exit 1, clear message, no output left)."""
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.tokens import Vocab
from transfer_cli.tokens.docbin import DocBin

SAMPLE = Path(__file__).parent.parent / "sample_data"
EWT_DEV = SAMPLE / "en_ewt" / "dev.conllu"

_register_commands()
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, ["convert", *map(str, args)])
    return result.exit_code, " ".join(result.output.split())  # one line: wasabi may wrap


def read(path: Path):
    return list(DocBin().from_disk(path).get_docs(Vocab()))


def assert_no_output(out_dir: Path) -> None:
    if out_dir.exists():
        assert sorted(os.listdir(out_dir)) == [], "a failed convert left files behind"


def test_convert_conllu(tmp_path):
    out = tmp_path / "out"
    code, output = run(EWT_DEV, out, "-n", "10")
    assert code == 0, output
    assert f"{out / 'dev.spacy'}: 28 docs, 276 sentences, 3079 tokens, 0 entities" in output
    assert os.listdir(out) == ["dev.spacy"]
    docs = read(out / "dev.spacy")
    assert sum(len(d) for d in docs) == 3079
    assert sum(len(list(d.sents)) for d in docs) == 276
    assert all(d.has_annotation("TAG", require_complete=True) for d in docs)
    assert docs[0][0].pos_ and docs[0][0].dep_


def test_convert_directory_jsonl_and_iob(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "ner.jsonl").write_text('{"text": "Ann met Bob in Paris.", "entities": [[0, 3, "PER"], [15, 20, "GPE"]]}\n'
                                   '{"text": "Rome", "entities": [[0, 2, "GPE"]]}\n')
    (src / "cats.jsonl").write_text('{"text": "good", "label": "pos"}\n{"text": "bad", "label": "neg"}\n')
    (src / "tagged.iob").write_text("EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n")
    out = tmp_path / "out"
    code, output = run(src, out, "-n", "1")
    assert code == 0, output
    assert sorted(os.listdir(out)) == ["cats.spacy", "ner.spacy", "tagged.spacy"]
    assert f"{out / 'ner.spacy'}: 2 docs, 0 sentences, 7 tokens, 2 entities" in output
    assert f"{out / 'tagged.spacy'}: 2 docs, 2 sentences, 4 tokens, 2 entities" in output
    # the misaligned entity is reported: which and how many
    assert "1 entity in" in output and "entity [0, 2, 'GPE'] 'Ro' does not match token boundaries" in output
    ner = read(out / "ner.spacy")
    assert [(e.text, e.label_) for e in ner[0].ents] == [("Ann", "PER"), ("Paris", "GPE")]
    assert [d.cats for d in read(out / "cats.spacy")] == [{"pos": 1.0, "neg": 0.0}, {"pos": 0.0, "neg": 1.0}]


def test_convert_explicit_converter_for_unknown_extension(tmp_path):
    src = tmp_path / "eng.sample"
    src.write_text("-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n")
    code, output = run(src, tmp_path / "out", "--converter", "iob")
    assert code == 0, output
    [doc] = read(tmp_path / "out" / "eng.spacy")
    assert [(e.text, e.label_) for e in doc.ents] == [("EU", "ORG")]


# -- bad input: exit 1, one clear line, nothing left in the output directory -----------------------------
BAD_CONLLU_LINE = "1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\n"  # 9 columns


@pytest.mark.parametrize("name, content, message", [
    ("cols.conllu", "# text = I\n" + BAD_CONLLU_LINE,
     "cols.conllu:2: expected 10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), found 9"),
    ("ids.conllu", "1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n1\tam\tbe\tAUX\tVBP\t_\t1\tcop\t_\t_\n",
     "ids.conllu:2: token ID 1 out of sequence: expected 2"),
    ("enc.conllu", b"1\tna\xefve\tx\tADJ\tJJ\t_\t0\troot\t_\t_\n", "enc.conllu:1: not valid UTF-8: byte 0xef"),
    ("bad.jsonl", '{"text": "ok"}\n{"text": oops}\n', "bad.jsonl:2: invalid JSON"),
    ("overlap.jsonl", '{"text": "Ann Lee", "entities": [[0, 5, "A"], [4, 7, "B"]]}\n', "overlap.jsonl:1:"),
    ("empty.conllu", "", "empty.conllu: no documents found (the input is empty)"),
    ("comments.conllu", "# only a comment\n\n", "no documents found"),
])
def test_bad_input_files(tmp_path, name, content, message):
    src = tmp_path / name
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        src.write_text(content)
    out = tmp_path / "out"
    code, output = run(src, out)
    assert code == 1
    assert message in output
    assert "Traceback" not in output
    assert_no_output(out)


def test_one_bad_file_in_a_directory_writes_nothing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a_good.conllu").write_text("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n")
    (src / "b_bad.conllu").write_text(BAD_CONLLU_LINE)
    out = tmp_path / "out"
    code, output = run(src, out)
    assert code == 1 and "b_bad.conllu:1:" in output
    assert_no_output(out)


def test_unknown_converter(tmp_path):
    code, output = run(EWT_DEV, tmp_path / "out", "--converter", "xml")
    assert code == 1
    assert "unknown converter 'xml' (expected one of: auto, conllu, iob, jsonl, spacy)" in output
    assert not (tmp_path / "out").exists()


def test_missing_input(tmp_path):
    code, output = run(tmp_path / "nope.conllu", tmp_path / "out")
    assert code == 1 and f"input not found: {tmp_path / 'nope.conllu'}" in output
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read any file")
def test_unreadable_input(tmp_path):
    src = tmp_path / "secret.conllu"
    src.write_text("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n")
    src.chmod(0)
    code, output = run(src, tmp_path / "out")
    assert code == 1 and "cannot read" in output and "secret.conllu" in output


def test_unreadable_input_reported(tmp_path, monkeypatch):
    """The same check for any user: make opening the file fail the way a permission error does."""
    src = tmp_path / "secret.conllu"
    src.write_text("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n")
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self.name == "secret.conllu":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    code, output = run(src, tmp_path / "out")
    assert code == 1 and f"cannot read {src}: Permission denied" in output
    assert_no_output(tmp_path / "out")


def test_output_path_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    code, output = run(EWT_DEV, target)
    assert code == 1 and "exists and is not a directory" in output


def test_raw_text_uses_the_language_tokenizer(tmp_path):
    src = tmp_path / "raw.jsonl"
    src.write_text('{"text": "I can\'t wait."}\n')
    code, output = run(src, tmp_path / "out", "--lang", "en")
    assert code == 0, output
    [doc] = read(tmp_path / "out" / "raw.spacy")
    assert doc.text == "I can't wait."
    assert len(doc) >= 4  # split into words by the English tokenizer, not whitespace
