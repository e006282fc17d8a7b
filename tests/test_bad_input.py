"""A user mistake is one error line through the CLI, never a traceback: bad JSONL values
and types, wrong label types, bad CoNLL-U and IOB columns, bad bytes, wrong override
values. Each case asserts exit status 1, exactly one output line that names the
file:line or the config key, and no traceback."""
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.config.quickstart import init_config

SAMPLE = Path(__file__).parent.parent / "sample_data"
TRAIN = SAMPLE / "en_ewt" / "train.conllu"
DEV = SAMPLE / "en_ewt" / "dev.conllu"

_register_commands()
runner = CliRunner()


def assert_one_error_line(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("✘ "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


JSONL_CASES = {
    "text_number": ('{"text": 5}', '"text" must be a string'),
    "tokens_not_list": ('{"tokens": "a b"}', '"tokens" must be a list'),
    "token_int": ('{"tokens": ["a", 1]}', '"tokens" must hold strings'),
    "token_object_text_int": ('{"tokens": [{"text": 5}]}', 'a token object needs "text"'),
    "tags_ints": ('{"tokens": ["a", "b"], "tags": [1, 2]}', '"tags" must hold tag strings'),
    "tags_short": ('{"tokens": ["a", "b"], "tags": ["NN"]}', "one tag per token (2), found 1"),
    "spaces_strings": ('{"tokens": ["a", "b"], "spaces": ["yes", "no"]}', '"spaces" must be a list of 2 booleans'),
    "label_object": ('{"text": "a b", "label": {"x": 1}}', '"label" must be a label string'),
    "label_null_in_list": ('{"text": "a b", "label": [null]}', '"label" must be a label string'),
    "label_float": ('{"text": "a b", "label": 0.5}', '"label" must be a label string'),
    "cats_strings": ('{"text": "a b", "cats": {"x": "yes"}}', '"cats" must map labels to numbers'),
    "cats_out_of_range": ('{"text": "a b", "cats": {"x": 1e400}}', '"cats" must map labels to numbers'),
    "cats_nan": ('{"text": "a b", "cats": {"x": NaN}}', '"cats" must map labels to numbers'),
    "entity_label_int": ('{"text": "a b", "entities": [[0, 1, 7]]}', "is not [start, end, label]"),
    "entity_offsets_float": ('{"text": "a b", "entities": [[0.0, 1.0, "X"]]}', "is not [start, end, label]"),
    "entity_outside": ('{"text": "a b", "entities": [[0, 50, "X"]]}', "outside the text"),
    "not_an_object": ("[1, 2]", "expected a JSON object per line"),
    "bad_json": ('{"text": ', "invalid JSON"),
    "nested_too_deep": ("[" * 100000 + "]" * 100000, "nested too deeply"),
}


@pytest.mark.parametrize("name", sorted(JSONL_CASES))
def test_bad_jsonl_values_are_one_line(tmp_path, name):
    line, expected = JSONL_CASES[name]
    path = tmp_path / "in.jsonl"
    path.write_text('{"tokens": ["fine"]}\n' + line + "\n")
    result = runner.invoke(app, ["convert", str(path), str(tmp_path / "out")])
    assert_one_error_line(result, f"{path}:2: ", expected)
    assert not list((tmp_path / "out").glob("*.spacy")) if (tmp_path / "out").exists() else True


def test_null_tags_are_missing_not_the_string_none(tmp_path):
    from transfer_cli.training.readers import read_docs

    path = tmp_path / "in.jsonl"
    path.write_text('{"tokens": ["a", "b"], "tags": [null, "NN"]}\n')
    doc = next(iter(read_docs(path)))
    assert [t.tag_ for t in doc] == ["", "NN"]


ROW = ["1", "Hi", "hi", "INTJ", "UH", "_", "0", "root", "_", "_"]
FIELDS = "ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC".split()


def conllu_row(**changes) -> str:
    row = list(ROW)
    for field, value in changes.items():
        row[FIELDS.index(field)] = value
    return "\t".join(row)


CONLLU_CASES = {
    "nine_columns": ("\t".join(ROW[:9]), "expected 10 tab-separated columns"),
    "eleven_columns": ("\t".join(ROW + ["x"]), "expected 10 tab-separated columns"),
    "id_not_a_number": (conllu_row(ID="x"), "bad token ID 'x'"),
    "id_out_of_sequence": (conllu_row(ID="3"), "token ID 3 out of sequence"),
    "head_not_a_number": (conllu_row(HEAD="x"), "HEAD 'x' is not a word ID"),
    "head_negative": (conllu_row(HEAD="-1"), "HEAD '-1' is not a word ID"),
    "head_past_the_end": (conllu_row(HEAD="7"), "HEAD 7 points past the end"),
    "feats_without_value": (conllu_row(FEATS="Number"), "FEATS: invalid morphological feature"),
    "bad_multiword_range": ("1-x\tHi\t_\t_\t_\t_\t_\t_\t_\t_\n" + conllu_row(), "bad multiword token ID '1-x'"),
    "empty_form": (conllu_row(FORM=""), "empty FORM"),
}


@pytest.mark.parametrize("name", sorted(CONLLU_CASES))
def test_bad_conllu_columns_are_one_line(tmp_path, name):
    body, expected = CONLLU_CASES[name]
    path = tmp_path / "in.conllu"
    path.write_text(conllu_row() + "\n\n" + body + "\n\n")
    result = runner.invoke(app, ["convert", str(path), str(tmp_path / "out")])
    assert_one_error_line(result, f"{path}:3: ", expected)


def test_bad_bytes_and_iob_tags_are_one_line(tmp_path):
    conllu = tmp_path / "latin1.conllu"
    conllu.write_bytes(conllu_row().encode() + b"\n\n" + conllu_row(FORM="caf\xe9").encode("latin-1") + b"\n\n")
    assert_one_error_line(runner.invoke(app, ["convert", str(conllu), str(tmp_path / "a")]),
                          f"{conllu}:3: not valid UTF-8")
    iob = tmp_path / "bad.iob"
    iob.write_text("Hi O\nthere X\n\n")
    assert_one_error_line(runner.invoke(app, ["convert", str(iob), str(tmp_path / "b")]),
                          f"{iob}:2: invalid entity tag 'X'")
    iob.write_text("Hi O\nthere\n\n")
    assert_one_error_line(runner.invoke(app, ["convert", str(iob), str(tmp_path / "c")]),
                          f"{iob}:2: expected a word and its entity tag")


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "config.cfg"
    path.write_text(init_config(pipeline=["tagger"], optimize="efficiency").to_str())
    return path


OVERRIDE_CASES = [
    (["--training.max_steps", "abc"], '[training.max_steps]: expected int, got "abc" (a string)'),
    (["--training.max_steps", "1.5"], "[training.max_steps]: expected int, got 1.5"),
    (["--training.dropout", "[1]"], "[training.dropout]: expected float, got [1] (a list)"),
    (["--training.dropout", "1"], "[training.dropout]: must be at least 0.0 and below 1.0, got 1"),
    (["--training.eval_frequency", "0"], "[training.eval_frequency]: must be 1 or more, got 0"),
    (["--training.patience", "-5"], "[training.patience]: must be 0 or more, got -5"),
    (["--training.accumulate_gradient", "0"], "[training.accumulate_gradient]: must be 1 or more, got 0"),
    (["--nlp.pipeline", "5"], "[nlp.pipeline]: expected List[str], got 5"),
    (["--paths.train", "[1]"], "[corpora.train.path]: expected Path or null, got [1]"),
    (["--corpora.train.limit", "-1"], "[corpora.train.limit]: must be 0 or more, got -1"),
    (["--components.tok2vec.model.embed.attrs", "NORM"],
     '[components.tok2vec.model.embed.attrs]: expected List[Union[str, int]], got "NORM"'),
    (["--components.tagger.label_smoothing", "x"], '[components.tagger.label_smoothing]: expected float, got "x"'),
    (["--training.optimizer.learn_rate", "fast"],
     "[training.optimizer]: cannot build this block: ValueError: Invalid schedule for 'learn_rate'"),
    (["--training.max_stepz", "4"], "did you mean 'training.max_steps'"),
]


@pytest.mark.parametrize("override,expected", OVERRIDE_CASES, ids=[c[0][0] + "=" + c[0][1] for c in OVERRIDE_CASES])
def test_wrong_override_values_are_one_line(tmp_path, config_path, override, expected):
    result = runner.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "out"), "--paths.train",
                                 str(TRAIN), "--paths.dev", str(DEV)] + override)
    assert_one_error_line(result, expected)
    assert not (tmp_path / "out").exists()


def test_label_smoothing_that_thinc_refuses_is_a_config_error(tmp_path, config_path):
    args = ["train", str(config_path), "--output", str(tmp_path / "out"), "--paths.dev", str(DEV),
            "--corpora.train.limit", "20", "--corpora.dev.limit", "5"]
    result = runner.invoke(app, args + ["--paths.train", str(TRAIN), "--components.tagger.label_smoothing", "2"])
    assert_one_error_line(result, "[components.tagger.label_smoothing]: must be at least 0.0 and below 0.9")
    one_tag = tmp_path / "one_tag.conllu"
    one_tag.write_text(conllu_row() + "\n\n" + conllu_row(FORM="Hello") + "\n\n")
    result = runner.invoke(app, args + ["--paths.train", str(one_tag)])
    assert_one_error_line(result, "[components.tagger.label_smoothing]: label smoothing needs at least two labels")


def test_apply_bad_input_is_one_line(tmp_path):
    from transfer_cli import blank

    model = tmp_path / "model"
    blank("en").to_disk(model)
    bad = tmp_path / "in.jsonl"
    bad.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    assert_one_error_line(runner.invoke(app, ["apply", str(model), str(bad), str(tmp_path / "o1.jsonl")]),
                          f"{bad}:2: not valid UTF-8: byte 0xe9")
    bad.write_text('{"text": "ok"}\n\n{"text": 5}\n')
    assert_one_error_line(runner.invoke(app, ["apply", str(model), str(bad), str(tmp_path / "o2.jsonl")]),
                          f'{bad}:3: expected a JSON object with a "text" string')
