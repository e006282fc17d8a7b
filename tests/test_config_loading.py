"""Loading configs: syntax errors, interpolation errors, overrides (config/loading.py,
interpolation.py, overrides.py)."""
from pathlib import Path

import pytest
from confection import Config

from transfer_cli.cli._util import parse_overrides
from transfer_cli.config import config_to_str, load_config, load_config_from_str, write_config
from transfer_cli.errors import ConfigError, PathError

from config_fakes import spacy_like

BASE = """[paths]
train = null
dev = "dev.spacy"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${paths.train}

[training]
max_steps = 100
dropout = 0.2
"""


def write(tmp_path: Path, text: str, name: str = "config.cfg") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf8")
    return path


def test_load_keeps_variables_and_interpolates_on_request(tmp_path):
    path = write(tmp_path, BASE)
    raw = load_config(path)
    assert raw["corpora"]["train"]["path"] == "${paths.train}"
    assert not raw.is_interpolated
    interpolated = load_config(path, interpolate=True)
    assert interpolated["corpora"]["train"]["path"] is None
    assert interpolated["training"] == {"max_steps": 100, "dropout": 0.2}


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(PathError) as info:
        load_config(tmp_path / "nope.cfg")
    assert str(info.value) == f"{tmp_path / 'nope.cfg'}: config file not found"


@pytest.mark.parametrize("text,line,message", [
    ("[a]\nx = 1\nfoo\n", 3, "syntax error: expected 'key = value' or '[section]', got 'foo'"),
    ("x = 1\n[a]\ny = 2\n", 1, "syntax error: a setting before the first [section] header: 'x = 1'"),
    ("[a]\nx = 1\nx = 2\n", 3, "[a.x]: setting 'x' appears twice in [a]"),
    ("[a]\nx = 1\n\n[a]\ny = 2\n", 4, "section [a] appears twice"),
    ("[training]\nx = 1\n[trainin.batcher]\ny = 2\n", 3,
     "section [trainin.batcher] has no parent section [trainin]; did you mean [training]?"),
    ("[a]\nb = 1\n[a.b]\nc = 2\n", 3, "'b' is both a setting in [a] and a section [a.b]"),
])
def test_syntax_errors_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:{line}")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_partial_config_without_top_level_header_parses(tmp_path):
    text = '[components.ner]\nfactory = "ner"\n\n[components.ner.model]\nhidden_width = 64\n'
    config = load_config(write(tmp_path, text))
    assert config["components"]["ner"] == {"factory": "ner", "model": {"hidden_width": 64}}
    # line numbers still refer to the user's file
    with pytest.raises(ConfigError, match=r"config\.cfg:3: syntax error"):
        load_config(write(tmp_path, '[components.ner]\nfactory = "ner"\noops\n'))


def test_bad_variable_names_the_variable_key_and_line(tmp_path):
    path = write(tmp_path, BASE.replace("${paths.train}", "${paths.trian}"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}:9 [corpora.train.path]: unknown variable ${{paths.trian}}; "
                               f"did you mean ${{paths.train}}?")


def test_malformed_variable_is_explained(tmp_path):
    path = write(tmp_path, "[a]\nx = 1\n[b]\ny = ${a.x\n")
    with pytest.raises(ConfigError, match=r":4 \[b\.y\]: malformed variable in '\$\{a\.x': write \$\{section\.key\}"):
        load_config(path)
    # a lone $ is kept as a literal character
    assert load_config(write(tmp_path, "[a]\nx = \"US$ 5\"\n"), interpolate=True)["a"]["x"] == "US$ 5"


def test_variables_may_refer_to_default_sections(tmp_path):
    # a partial config using ${paths.train} without a [paths] section of its own
    config = load_config(write(tmp_path, "[corpora]\n[corpora.train]\npath = ${paths.train}\n"))
    assert config["corpora"]["train"]["path"] == "${paths.train}"


def test_overrides_are_json_parsed_and_reach_variables(tmp_path):
    path = write(tmp_path, BASE)
    overrides = parse_overrides(["--paths.train", "corpus/train.spacy", "--training.max_steps", "200",
                                 "--training.dropout=0.5"])
    config = load_config(path, overrides, interpolate=True)
    assert config["corpora"]["train"]["path"] == "corpus/train.spacy"
    assert config["training"]["max_steps"] == 200
    assert config["training"]["dropout"] == 0.5
    raw = load_config(path, overrides)
    assert raw["corpora"]["train"]["path"] == "${paths.train}"  # variable kept, value set at its source


def test_override_of_unknown_key_names_nearest_key(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_config(path, {"training.max_step": 5})
    assert str(info.value) == (f"{path} [training.max_step]: no setting 'training.max_step' in the config; "
                               f"did you mean 'training.max_steps'?")
    with pytest.raises(ConfigError, match=r"no section 'trainig' in the config .*did you mean 'training.max_steps'"):
        load_config(path, {"trainig.max_steps": 5})
    with pytest.raises(ConfigError, match="overrides look like --section.key value"):
        load_config(path, {"max_steps": 5})


def test_override_may_set_keys_the_defaults_provide(tmp_path):
    path = write(tmp_path, BASE)
    config = load_config(path, {"training.patience": 10, "nlp.lang": "de"})
    assert config["training"]["patience"] == 10
    assert config["nlp"] == {"lang": "de"}


def test_override_may_set_arguments_of_registered_functions_and_factory_defaults(tmp_path):
    with spacy_like():
        path = write(tmp_path, BASE + '\n[components]\n\n[components.tagger]\nfactory = "tagger"\n')
        config = load_config(path, {"corpora.train.limit": 10,
                                    "components.tagger.model.tok2vec.width": 64})
        assert config["corpora"]["train"]["limit"] == 10
        assert config["components"]["tagger"]["model"] == {"tok2vec": {"width": 64}}
        with pytest.raises(ConfigError) as info:
            load_config(path, {"components.tagger.model.tok2vec.widht": 64})
        assert "did you mean 'components.tagger.model.tok2vec.width'?" in str(info.value)


def test_load_from_stdin(monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(BASE))
    config = load_config("-")
    assert config["training"]["max_steps"] == 100


def test_write_config_round_trip_and_atomic(tmp_path):
    config = load_config_from_str(BASE)
    out = tmp_path / "sub" / "out.cfg"
    write_config(config, out)
    assert out.read_text() == config_to_str(config)
    assert load_config(out) == config
    assert [p.name for p in out.parent.iterdir()] == ["out.cfg"]  # no temp file left


def test_config_to_str_keeps_variables():
    text = config_to_str(load_config_from_str(BASE))
    assert "path = ${paths.train}" in text
    assert Config().from_str(text, interpolate=False)["corpora"]["train"]["path"] == "${paths.train}"


# -- interpolation ---------------------------------------------------------------------------------
SPACY_CONFIGS = Path(__file__).parent / "fixtures" / "spacy_configs"


def chain(n: int) -> str:
    return "[vars]\nv0 = 1\n" + "".join(f"v{i} = ${{vars.v{i - 1}}}\n" for i in range(1, n + 1))


@pytest.mark.parametrize("n", [11, 2000])
def test_long_chain_of_variables_is_not_a_loop(tmp_path, n):
    config = load_config(write(tmp_path, chain(n)), interpolate=True)
    assert config["vars"][f"v{n}"] == 1


def test_string_variables_holding_variables_are_not_requoted(tmp_path):
    text = ('[vars]\nv1 = "ab"\nv2 = "${vars.v1}${vars.v1}"\nv3 = "${vars.v2}"\n\n'
            '[other]\nx = "${vars.v2}${vars.v2}"\ny = ${vars.v2}\nz = "${vars.v2}/${vars.v1}"\n')
    config = load_config(write(tmp_path, text), interpolate=True)
    assert config["vars"] == {"v1": "ab", "v2": "abab", "v3": "abab"}
    assert config["other"] == {"x": "abababab", "y": "abab", "z": "abab/ab"}


def test_variables_keep_confections_rules(tmp_path):
    text = ('[a]\nn = 3\ns = "x"\nb = true\nl = [1, 2]\n\n[a.sub]\nk = ${a.n}\n\n'
            '[b]\nn = ${a.n}\nquoted = "${a.n}"\npath = "${a.s}/y"\nlist = [${a.n}, 2]\nstrings = ["${a.s}", 2]\n'
            'copy = ${a.l}\nflag = "v${a.b}"\nsection = ${a.sub}\nsections = [${a.sub}, ${a.sub}]\n'
            'dollar = "US$$ ${a.n}"\nsibling = ${n}\n')
    config = load_config(write(tmp_path, text), interpolate=True)
    assert config["b"] == {"n": 3, "quoted": "3", "path": "x/y", "list": [3, 2], "strings": ["x", 2],
                           "copy": [1, 2], "flag": "vtrue", "section": {"k": 3}, "sections": [{"k": 3}, {"k": 3}],
                           "dollar": "US$ 3", "sibling": 3}


@pytest.mark.parametrize("path", sorted(SPACY_CONFIGS.glob("*.cfg")), ids=lambda p: p.name)
def test_spacy_configs_interpolate_as_confection_does(path):
    ours = load_config(path, interpolate=True)
    assert ours == Config().from_disk(path)


def test_loop_names_its_variables(tmp_path):
    path = write(tmp_path, "[a]\nx = ${b.y}\n\n[b]\ny = ${c.z}\n\n[c]\nz = ${a.x}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}:2 [a.x]: variables refer to each other in a loop: "
                               f"${{a.x}} -> ${{b.y}} -> ${{c.z}} -> ${{a.x}}")


def test_section_variable_inside_a_string_is_explained(tmp_path):
    path = write(tmp_path, '[a]\nx = 1\n\n[b]\ny = "at ${a}"\n')
    with pytest.raises(ConfigError, match=r":5 \[b\.y\]: a variable naming a whole section"):
        load_config(path, interpolate=True)


def test_deeply_nested_sections_are_one_error_line(tmp_path):
    names = [".".join(["a"] * depth) for depth in range(1, 1001)]
    path = write(tmp_path, "".join(f"[{name}]\nx = 1\n\n" for name in names))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:301: section [a.a.a")
    assert "is nested 101 levels deep; at most 100 levels are supported" in str(info.value)
    # 100 levels are fine
    config = load_config(write(tmp_path, "".join(f"[{name}]\nx = 1\n\n" for name in names[:100])), interpolate=True)
    assert config["a"]["x"] == 1
