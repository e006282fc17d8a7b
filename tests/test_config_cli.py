"""init-config, fill-config and debug-config from the command line, overrides,
--code and the one-line errors (exit 1, no traceback)."""
import re
import sys

import catalogue
import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import app
from transfer_cli.cli import debug_config, fill_config, init_config  # noqa: F401  (register the commands)
from transfer_cli.config import load_config, resolve_path
from transfer_cli.config.resolving import USER_CODE_PREFIX

from config_fakes import spacy_like

runner = CliRunner()


@pytest.fixture(autouse=True)
def spacy_names():
    with spacy_like():
        yield


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line(text: str) -> str:
    """Terminal output with the printer's colors and line wrapping undone."""
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())


def test_done_when_sequence(tmp_path):
    c, full, again = tmp_path / "c.cfg", tmp_path / "full.cfg", tmp_path / "again.cfg"
    result = run("init-config", "-p", "tagger,ner,textcat", c)
    assert result.exit_code == 0, result.output
    assert "Saved config" in result.output
    result = run("fill-config", c, full, "--diff")
    assert result.exit_code == 0, result.output
    assert "Nothing to fill" in result.output
    assert full.read_text() == c.read_text()
    result = run("debug-config", full)
    assert result.exit_code == 0, result.output
    assert "is valid" in one_line(result.output)
    assert "[components.tagger.model.tok2vec]" in result.stdout and "width = 96" in result.stdout  # interpolated
    result = run("fill-config", full, again)
    assert result.exit_code == 0
    assert again.read_bytes() == full.read_bytes()


def test_init_config_to_stdout_prints_only_the_config():
    result = run("init-config", "-", "-p", "ner", "-o", "accuracy", "--independent")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[paths]\n")
    assert "Saved" not in result.stdout
    assert "[components.ner.model.tok2vec.embed]" in result.stdout
    assert "width = ${components.ner.model.tok2vec.encode.width}" in result.stdout


def test_init_config_refuses_to_overwrite(tmp_path):
    out = tmp_path / "c.cfg"
    out.write_text("keep")
    result = run("init-config", out)
    assert result.exit_code == 1
    assert one_line(result.output) == f"✘ {out}: the output file exists: pass --force to overwrite it"
    assert out.read_text() == "keep"
    assert run("init-config", out, "--force").exit_code == 0
    assert out.read_text().startswith("[paths]")


def test_init_config_gpu_vectors_pretraining(tmp_path):
    out = tmp_path / "c.cfg"
    result = run("init-config", out, "-p", "tagger", "-G", "--pretraining")
    assert result.exit_code == 0, result.output
    assert "models/roberta-base" in one_line(result.output)
    assert "no tok2vec component" in one_line(result.output)  # the transformer pipeline has nothing to pretrain
    config = load_config(out)
    assert config["pretraining"]["max_epochs"] == 1000
    result = run("init-config", tmp_path / "v.cfg", "-p", "tagger", "--vectors", "vecs")
    assert result.exit_code == 0
    assert "include_static_vectors = true" in (tmp_path / "v.cfg").read_text()


def test_fill_config_fills_partial_and_shows_diff(tmp_path):
    base = tmp_path / "base.cfg"
    base.write_text('[components.tagger]\nfactory = "tagger"\n')
    result = run("fill-config", base, tmp_path / "out.cfg", "--diff", "--training.max_steps", "50")
    assert result.exit_code == 0, result.output
    assert "+[components.tagger.model]\n+@architectures = \"spacy.Tagger.v2\"" in result.output
    assert "+patience = 1600" in result.output
    out = load_config(tmp_path / "out.cfg")
    assert out["training"]["max_steps"] == 50
    assert out["nlp"]["pipeline"] == ["tagger"]


def test_fill_config_output_left_out_with_overrides(tmp_path):
    base = tmp_path / "base.cfg"
    base.write_text('[components.tagger]\nfactory = "tagger"\n')
    result = run("fill-config", base, "--training.max_steps", "7", "--nlp.lang", "de")
    assert result.exit_code == 0, result.output
    assert "max_steps = 7" in result.stdout and 'lang = "de"' in result.stdout
    assert not (tmp_path / "7").exists()


def test_fill_config_stdout_keeps_stdout_clean(tmp_path):
    base = tmp_path / "base.cfg"
    base.write_text('[components.tagger]\nfactory = "tagger"\n')
    result = run("fill-config", base, "-", "--diff")
    assert result.exit_code == 0
    assert result.stdout.startswith("[paths]")
    assert "+[components.tagger.model]" in result.stderr and "+[components" not in result.stdout


def test_fill_config_pretraining(tmp_path):
    c, p = tmp_path / "c.cfg", tmp_path / "p.cfg"
    assert run("init-config", c, "-p", "tagger").exit_code == 0
    result = run("fill-config", c, p, "--pretraining")
    assert result.exit_code == 0, result.output
    config = load_config(p, interpolate=True)
    assert config["pretraining"]["objective"]["n_characters"] == 4
    assert config["corpora"]["pretrain"]["max_length"] == 500


def test_debug_config_reports_every_problem(tmp_path):
    c = tmp_path / "c.cfg"
    assert run("init-config", c, "-p", "tagger,ner").exit_code == 0
    text = c.read_text().replace("hidden_width = 64", 'hidden_width = "wide"').replace(
        "depth = 4\n", "").replace('"spacy.Tagger.v2"', '"spacy.Tager.v2"')
    c.write_text(text)
    result = run("debug-config", c)
    assert result.exit_code == 1
    out = one_line(result.stdout)
    assert "[components.ner.model]" in out  # the config is printed
    assert "✘ 3 problems in" in out
    assert '[components.ner.model.hidden_width]: expected int, got "wide" (a string)' in out
    assert "[components.tok2vec.model.encode.depth]: missing required argument of " \
           "'spacy.MaxoutWindowEncoder.v2' (expected int)" in out
    assert "[components.tagger.model]: 'spacy.Tager.v2' is not registered in @architectures; " \
           "did you mean 'spacy.Tagger.v2'" in out
    assert "Traceback" not in result.output


def test_debug_config_shows_variables_and_takes_overrides(tmp_path):
    c = tmp_path / "c.cfg"
    assert run("init-config", c, "-p", "tagger").exit_code == 0
    result = run("debug-config", c, "-V", "--paths.train", "corpus/train.spacy")
    assert result.exit_code == 0, result.output
    assert "corpora.train.path = ${paths.train} -> 'corpus/train.spacy'" in result.stdout


@pytest.mark.parametrize("content,args,expected", [
    (None, [], "✘ {path}: config file not found"),
    ("[training]\nmax_steps 100\n", [], "✘ {path}:2: syntax error: expected 'key = value' or '[section]', "
                                        "got 'max_steps 100'"),
    ("[training]\nseed = ${system.sed}\n", [],
     "✘ {path}:2 [training.seed]: unknown variable ${{system.sed}}; did you mean ${{system.seed}}?"),
    ("[training]\nmax_steps = 100\n", ["--training.max_step", "5"],
     "✘ {path} [training.max_step]: no setting 'training.max_step' in the config; "
     "did you mean 'training.max_steps'?"),
    ('[components.ner]\nfactory = "ner"\n\n[components.ner.model]\nhidden_width = "x"\n', [],
     '✘ {path}:5 [components.ner.model.hidden_width]: expected int, got "x" (a string)'),
])
@pytest.mark.parametrize("command", ["fill-config", "debug-config"])
def test_errors_are_one_line_exit_1_without_traceback(tmp_path, command, content, args, expected):
    path = tmp_path / "c.cfg"
    if content is not None:
        path.write_text(content)
    result = run(command, path, *args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    output = one_line(result.output)
    if command == "debug-config" and "hidden_width" in expected:  # a validation problem: listed under the config
        assert one_line(expected.format(path=path).replace("✘ ", "")) in output
    else:
        assert output == expected.format(path=path)


# -- --code ----------------------------------------------------------------------------------------
SPAN_GETTER = '''
from typing import Callable, List

import transfer_cli


@transfer_cli.registry.span_getters("custom_sent_spans")
def configure_custom_sent_spans(max_length: int) -> Callable:
    if max_length < 1:
        raise ValueError("max_length must be positive")

    def get_sent_spans(docs: List) -> List[List]:
        return [[doc[i:i + max_length] for i in range(0, len(doc), max_length)] for doc in docs]

    return get_sent_spans
'''

TRANSFORMER = """[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = "models/tiny"

[components.transformer.model.get_spans]
@span_getters = "custom_sent_spans"
max_length = 25
"""


@pytest.fixture
def user_code(tmp_path):
    yield tmp_path
    catalogue.REGISTRY.pop(("transfer_cli", "span_getters", "custom_sent_spans"), None)
    for name in [n for n in sys.modules if n.startswith(USER_CODE_PREFIX)]:
        del sys.modules[name]


def test_code_registers_span_getter_used_by_name(user_code):
    code, config, out = user_code / "functions.py", user_code / "c.cfg", user_code / "out.cfg"
    code.write_text(SPAN_GETTER)
    config.write_text(TRANSFORMER)
    result = run("fill-config", config, out, "--code", code)
    assert result.exit_code == 0, result.output
    filled = load_config(out)
    assert filled["components"]["transformer"]["model"]["get_spans"] == {"@span_getters": "custom_sent_spans",
                                                                          "max_length": 25}
    get_spans = resolve_path(filled, "components.transformer.model.get_spans")
    assert get_spans([list(range(60))]) == [[list(range(25)), list(range(25, 50)), list(range(50, 60))]]
    assert run("debug-config", out, "--code", code).exit_code == 0
    result = run("debug-config", out, "--code", code, "--components.transformer.model.get_spans.max_lenght", "5")
    assert result.exit_code == 1
    assert "did you mean 'components.transformer.model.get_spans.max_length'?" in one_line(result.output)


def test_code_function_without_code_file_is_unknown(user_code):
    config = user_code / "c.cfg"
    config.write_text(TRANSFORMER)
    result = run("fill-config", config, "-")
    assert result.exit_code == 1
    assert "[components.transformer.model.get_spans]: 'custom_sent_spans' is not registered in @span_getters" \
        in one_line(result.output)


def test_error_inside_code_file_names_file_and_line(user_code):
    code, config = user_code / "functions.py", user_code / "c.cfg"
    code.write_text("import transfer_cli\n\nvalue = 1 / 0\n")
    config.write_text(TRANSFORMER)
    result = run("fill-config", config, "-", "--code", code)
    assert result.exit_code == 1
    assert one_line(result.output) == f"✘ error in --code file {code}:3: ZeroDivisionError: division by zero"
    code.write_text("import transfer_cli\n\ndef broken(:\n    pass\n")
    result = run("fill-config", config, "-", "--code", code)
    assert result.exit_code == 1
    assert one_line(result.output).startswith(f"✘ error in --code file {code}:3: SyntaxError")


def test_error_raised_by_user_function_when_resolving_names_file_and_line(user_code):
    code, config = user_code / "functions.py", user_code / "c.cfg"
    code.write_text(SPAN_GETTER)
    config.write_text(TRANSFORMER.replace("max_length = 25", "max_length = 0"))
    assert run("fill-config", config, user_code / "out.cfg", "--code", code).exit_code == 0
    from transfer_cli.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        resolve_path(load_config(user_code / "out.cfg"), "components.transformer.model.get_spans")
    assert str(info.value) == (f"{code}:10 [components.transformer.model.get_spans]: ValueError: max_length must "
                               f"be positive (raised in configure_custom_sent_spans(), building this block)")


# -- sections --------------------------------------------------------------------------------------
def test_debug_config_rejects_a_misspelled_section(tmp_path):
    c = tmp_path / "c.cfg"
    assert run("init-config", c, "-p", "tagger").exit_code == 0
    c.write_text(c.read_text().replace("[training]", "[traning]", 1))
    line = c.read_text().splitlines().index("[traning]") + 1
    result = run("debug-config", c)
    assert result.exit_code == 1
    assert f"{c}:{line} [traning]: unknown section [traning]; did you mean [training]?" in one_line(result.output)
    assert "is valid" not in one_line(result.output)


def test_debug_config_lists_extra_sections_nothing_uses(tmp_path):
    c = tmp_path / "c.cfg"
    assert run("init-config", c, "-p", "tagger").exit_code == 0
    c.write_text(c.read_text() + '\n[my_values]\nlr = 0.002\n\n[old_stuff]\nx = 1\n')
    result = run("debug-config", c, "--training.optimizer.learn_rate", "${my_values.lr}")
    assert result.exit_code == 0, result.output
    output = one_line(result.output)
    assert "section [old_stuff] is not used" in output and "is valid" in output
    assert "[my_values] is not used" not in output


def test_deeply_nested_sections_are_one_line_not_a_traceback(tmp_path):
    c = tmp_path / "c.cfg"
    c.write_text("".join(f"[{'.'.join(['a'] * depth)}]\nx = 1\n" for depth in range(1, 1001)))
    for command in ("debug-config", "fill-config"):
        result = run(command, c)
        assert result.exit_code == 1
        assert one_line(result.output) == (f"✘ {c}:201: section [{'.'.join(['a'] * 19)}...] is nested 101 levels "
                                           f"deep; at most 100 levels are supported")
