"""spaCy's command spellings run the same commands: `init config|fill-config|vectors` and
`debug config` give what init-config, fill-config, init-vectors and debug-config give."""
from conftest import EWT_DEV, EWT_TRAIN, SAMPLE, cli


def test_init_config_is_init_config(tmp_path):
    assert cli("init-config", tmp_path / "a.cfg", "-p", "tagger,ner", "-o", "accuracy")[0] == 0
    assert cli("init", "config", tmp_path / "b.cfg", "-p", "tagger,ner", "-o", "accuracy")[0] == 0
    assert (tmp_path / "a.cfg").read_bytes() == (tmp_path / "b.cfg").read_bytes()


def test_init_fill_config_is_fill_config_with_the_same_options(tmp_path):
    cli("init", "config", tmp_path / "base.cfg", "-p", "tagger")
    assert cli("fill-config", tmp_path / "base.cfg", tmp_path / "a.cfg", "--pretraining")[0] == 0
    assert cli("init", "fill-config", tmp_path / "base.cfg", tmp_path / "b.cfg", "--pretraining")[0] == 0
    assert (tmp_path / "a.cfg").read_bytes() == (tmp_path / "b.cfg").read_bytes()
    assert "[pretraining]" in (tmp_path / "b.cfg").read_text()


def test_init_vectors_is_init_vectors(tmp_path):
    source = SAMPLE / "vectors" / "glove_small.txt"
    assert cli("init-vectors", "en", source, tmp_path / "a", "--truncate", "50")[0] == 0
    assert cli("init", "vectors", "en", source, tmp_path / "b", "--truncate", "50")[0] == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for name in files:
        if name.name != "meta.json":  # holds the output path and a date
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_debug_config_is_debug_config_overrides_and_errors_included(tmp_path):
    cli("init", "config", tmp_path / "c.cfg", "-p", "tagger")
    args = [tmp_path / "c.cfg", "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV]
    assert cli("debug-config", *args) == cli("debug", "config", *args)
    code, output = cli("debug", "config", tmp_path / "c.cfg", "--training.dropout", "2.0")
    assert code == 1 and "training.dropout" in output
    assert (code, output) == cli("debug-config", tmp_path / "c.cfg", "--training.dropout", "2.0")


def test_the_groups_list_their_commands():
    code, output = cli("init", "--help")
    assert code == 0 and all(name in output for name in ("config", "fill-config", "vectors"))
    code, output = cli("debug", "--help")
    assert code == 0 and "config" in output
