"""fill-config and debug-config fill and validate from the registry snapshot
(config/snapshot.py) when it covers the config and finds it valid, without importing
thinc, torch or numpy; everything else (a problem, a name or type the snapshot does not
record, --code, overrides) goes to the live registry. Either way the output is the live
path's, byte for byte, and so is every error."""
import importlib.util
import inspect
import json
import os
import subprocess
import sys

import pytest
from confection import Config

from conftest import ROOT, cli
from transfer_cli.config.annotations import NotInSnapshot, Unknown, build_annotation, describe_annotation
from transfer_cli.config.filling import check_config
from transfer_cli.config.loading import load_config, load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.config.snapshot import check_config_from_snapshot
from transfer_cli.config.writing import config_to_str

SPACY_CONFIGS = ROOT / "tests" / "fixtures" / "spacy_configs"

INIT_OPTIONS = [dict(pipeline=["tagger", "ner"]), dict(pipeline=["tagger"], optimize="accuracy"),
                dict(pipeline=["ner"], gpu=True), dict(pipeline=["textcat"]), dict(pipeline=["textcat_multilabel"]),
                dict(pipeline=["senter"], optimize="accuracy"), dict(pipeline=["tagger", "ner"], shared=False),
                dict(pipeline=["tagger", "ner", "textcat", "senter"], gpu=True, optimize="accuracy"),
                dict(pipeline=["tagger"], pretraining=True), dict(pipeline=["ner"], vectors="vectors/en"),
                dict(pipeline=["tagger"], lang="de")]
MINIMAL = ('[nlp]\nlang = "en"\npipeline = ["tagger"]\n\n[components]\n\n[components.tagger]\n'
           'factory = "tagger"\n')


def assert_same_check(config: Config) -> None:
    fast, live = check_config_from_snapshot(config), check_config(config)
    assert live.problems == [], live.problems
    assert fast is not None, "the snapshot should cover this config"
    assert config_to_str(fast.filled) == config_to_str(live.filled)
    assert config_to_str(fast.values) == config_to_str(live.values)
    assert fast.problems == [] and fast.unused_sections == live.unused_sections


@pytest.mark.parametrize("options", INIT_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_init_config_outputs_check_the_same_from_the_snapshot(options):
    config = load_config_from_str(config_to_str(init_config(**options)))
    assert_same_check(config)


@pytest.mark.parametrize("name", ["tagger_eff.cfg", "ner_acc.partial.cfg", "tagger_ner_gpu.cfg",
                                  "textcat.partial.cfg", "tagger_pretraining.cfg",
                                  "tagger_ner_textcat_senter.filled.cfg"])
def test_spacy_written_configs_check_the_same_from_the_snapshot(name):
    assert_same_check(load_config(SPACY_CONFIGS / name))


def test_a_minimal_config_fills_the_same_from_the_snapshot():
    assert_same_check(load_config_from_str(MINIMAL))
    extra = MINIMAL + '\n[custom]\nx = 1\n\n[paths]\ntrain = "nowhere/train.spacy"\n'
    assert_same_check(load_config_from_str(extra))  # an unused section; a path that does not exist


BROKEN = {  # each a problem the live validation reports: the snapshot must never accept it
    "wrong type": ("components.tok2vec.model.encode.width", '"wide"'),
    "unknown attribute": ("components.tok2vec.model.embed.attrs", '["NORM", "PERFIX"]'),
    "attribute the package's configs never give": ("components.tok2vec.model.embed.attrs", '["ORTH", "SHAPE"]'),
    "out of range": ("training.dropout", "1.5"),
    "optimizer range": ("training.optimizer.learn_rate", "-0.1"),
    "at_least": ("corpora.train.max_length", "-1"),
    "missing pipeline component": ("nlp.pipeline", '["tok2vec", "tagger", "parser"]'),
    "unknown setting": ("training.max_stepz", "3"),
    "plain value for a model": ("components.tagger.model", "3"),
    "bad language": ("nlp.lang", '"english"'),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_snapshot_never_accepts_what_live_validation_rejects_or_cannot_decide(case):
    key, value = BROKEN[case]
    config = init_config(pipeline=["tagger", "ner"])
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = json.loads(value)
    config = load_config_from_str(config_to_str(config))
    assert check_config_from_snapshot(config) is None
    if case != "attribute the package's configs never give":
        assert check_config(config).problems, case
    else:  # valid, but not among the values recorded for the check: decided live
        assert check_config(config).problems == []


def test_names_the_snapshot_does_not_record_are_left_to_the_live_registry():
    config = load_config_from_str(MINIMAL + '\n[components.tagger.model]\n@architectures = "my.Arch.v1"\n')
    assert check_config_from_snapshot(config) is None
    config = load_config_from_str(MINIMAL.replace('factory = "tagger"', 'factory = "my_factory"'))
    assert check_config_from_snapshot(config) is None


def test_recorded_annotations_rebuild_equal_to_the_live_ones():
    """Every argument type of every registered function and factory that the snapshot
    records exactly is rebuilt equal to the live one; an opaque one is Unknown."""
    from transfer_cli.config.factories import factory_names, get_factory_meta
    from transfer_cli.config.registry import load_registrations, registry
    from transfer_cli.config.schemas import ValueCheck
    from transfer_cli.config.validation import function_parameters

    load_registrations()
    funcs = [getattr(registry, name).get_all()[f] for name in registry.registry_names() if name != "factories"
             for f in getattr(registry, name).get_all()]
    funcs += [get_factory_meta(name).func for name in factory_names()]
    exact = opaque = 0
    for func in funcs:
        parameters = function_parameters(func)
        if parameters.signature is None:
            continue
        for param in parameters.signature.parameters.values():
            annotation = parameters.hints.get(param.name, param.annotation)
            described = describe_annotation(annotation, lambda check: None)
            if "opaque" in json.dumps(described):
                opaque += 1
                continue
            rebuilt = build_annotation(described)
            if annotation is inspect.Parameter.empty:
                assert rebuilt is inspect.Parameter.empty
            else:
                assert rebuilt == annotation, (func, param.name)
            exact += 1
    assert exact > 300 and opaque > 0
    assert build_annotation({"opaque": "Model"}) is Unknown
    recorded = build_annotation({"annotated": {"class": "builtins:int"}, "checks": [{"accepts": ["1"]}]})
    check = recorded.__metadata__[0]
    assert isinstance(check, ValueCheck) and check.check(1) is None
    with pytest.raises(NotInSnapshot):
        check.check(2)


# -- the commands, in fresh processes --------------------------------------------------------------
PROBE = """
import contextlib, io, json, sys
if sys.argv[2] == "live":  # thinc imported first, as main() did for these commands: the live registry
    from transfer_cli.cli._util import import_thinc_without_torch
    import_thinc_without_torch()
from transfer_cli.cli.app import main
reports = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["transfer-cli"] + args
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code
    loaded = sorted(m for m in ("torch", "thinc", "numpy") if m in sys.modules)
    reports.append({"code": code, "loaded": loaded, "out": out.getvalue(), "err": err.getvalue()})
print("PROBE " + json.dumps(reports))
"""


def run(commands, cwd, mode="fast") -> list:
    """Each command in turn through main(), in one fresh interpreter ("live": one that has
    imported thinc without torch, so the live registry fills and checks, as before the
    snapshot did)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps([[str(a) for a in c] for c in commands]),
                             mode], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1][len("PROBE "):])


def test_fill_config_and_debug_config_load_no_thinc_and_print_what_the_live_path_prints(tmp_path):
    configs = {"init.cfg": config_to_str(init_config(pipeline=["tagger", "ner"])),
               "gpu.cfg": config_to_str(init_config(pipeline=["ner"], gpu=True, optimize="accuracy")),
               "spacy.cfg": (SPACY_CONFIGS / "tagger_eff.partial.cfg").read_text(encoding="utf8"),
               "minimal.cfg": MINIMAL}
    commands = []
    for name in configs:
        stem = name[:-4]
        commands += [["init", "fill-config", name, f"{stem}.out.cfg", "--diff"], ["fill-config", name, "-"],
                     ["debug", "config", name], ["debug-config", name, "-V"]]
    commands.append(["fill-config", "minimal.cfg", "pretraining.out.cfg", "--pretraining"])
    written = {}
    for mode in ("fast", "live"):
        (tmp_path / mode).mkdir()
        for name, text in configs.items():
            (tmp_path / mode / name).write_text(text, encoding="utf8")
        written[mode] = run(commands, tmp_path / mode, mode), {
            path.name: path.read_text(encoding="utf8") for path in (tmp_path / mode).glob("*.out.cfg")}
    (fast, fast_files), (live, live_files) = written["fast"], written["live"]
    for command, fast_report, live_report in zip(commands, fast, live):
        assert fast_report["code"] == 0 and fast_report["loaded"] == [], (command, fast_report)
        assert live_report["loaded"] == ["numpy", "thinc"], (command, live_report)
        assert {**fast_report, "loaded": None} == {**live_report, "loaded": None}, command
    assert len(fast_files) == 5 and fast_files == live_files


def test_configs_the_snapshot_cannot_decide_give_the_live_errors(tmp_path):
    """A problem, a name the snapshot does not know, overrides or --code: the live path
    runs (thinc without torch) and prints what it printed before."""
    config = init_config(pipeline=["tagger"])
    config["components"]["tok2vec"]["model"]["encode"]["width"] = "wide"
    (tmp_path / "wrong_type.cfg").write_text(config_to_str(config), encoding="utf8")
    (tmp_path / "unknown.cfg").write_text(MINIMAL + '\n[components.tagger.model]\n@architectures = "my.Arch.v1"\n',
                                          encoding="utf8")
    (tmp_path / "ok.cfg").write_text(MINIMAL, encoding="utf8")
    (tmp_path / "code.py").write_text("x = 1\n", encoding="utf8")
    (tmp_path / "bad.cfg").write_text("[nlp\nlang = en\n", encoding="utf8")
    cases = [(["fill-config", "wrong_type.cfg", "out.cfg", "--force"], 1),
             (["debug", "config", "wrong_type.cfg"], 1),
             (["init", "fill-config", "unknown.cfg", "out.cfg", "--force"], 1),
             (["debug-config", "ok.cfg", "--training.max_steps", "-5"], 1),
             (["fill-config", "ok.cfg", "-", "--training.max_steps", "5"], 0),
             (["debug", "config", "ok.cfg", "--code", "code.py"], 0),
             (["fill-config", "bad.cfg", "out.cfg", "--force"], 1),
             (["debug-config", "missing.cfg"], 1)]
    live = run([command for command, _ in cases], tmp_path, "live")
    for (command, code), live_report in zip(cases, live):
        [fast] = run([command], tmp_path)  # each in a process of its own, as the console script runs it
        assert fast["code"] == code, (command, fast)
        assert {**fast, "loaded": None} == {**live_report, "loaded": None}, command
        if command[1] not in ("bad.cfg", "missing.cfg"):  # decided live (a file that does not parse needs no thinc)
            assert fast["loaded"] == ["numpy", "thinc"], (command, fast)
    assert "components.tok2vec.model.encode.width" in live[0]["err"]


def test_debug_config_warns_when_the_lookups_package_is_missing(tmp_path, monkeypatch):
    text = MINIMAL + ('\n[initialize]\n\n[initialize.lookups]\n@misc = "spacy.LookupsDataLoader.v1"\n'
                      'lang = ${nlp.lang}\ntables = ["lexeme_norm"]\n')
    path = tmp_path / "lookups.cfg"
    path.write_text(text, encoding="utf8")
    if importlib.util.find_spec("spacy_lookups_data") is None:
        for command in (["debug-config"], ["debug", "config"]):
            code, output = cli(*command, path)
            assert code == 0, output
            assert output.count("initialize.lookups: spacy.LookupsDataLoader.v1 loads its tables from the "
                                "spacy-lookups-data package") == 1, output
            assert "pip install spacy-lookups-data" in output and "lookups = null" in output, output
        [fast] = run([["debug", "config", path.name]], tmp_path)  # from the snapshot: the same line
        lines = [line for line in fast["out"].splitlines() if "spacy-lookups-data" in line]
        assert fast["loaded"] == [] and fast["code"] == 0 and len(lines) == 1, fast
        assert "initialize.lookups: spacy.LookupsDataLoader.v1" in lines[0] and "pip install" in lines[0]
    site = tmp_path / "site" / "spacy_lookups_data"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("", encoding="utf8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    code, output = cli("debug-config", path)
    assert code == 0 and "spacy-lookups-data" not in output, output


def test_debug_config_does_not_warn_about_lookups_a_config_does_not_load(tmp_path):
    path = tmp_path / "c.cfg"
    path.write_text(MINIMAL, encoding="utf8")
    code, output = cli("debug-config", path)
    assert code == 0 and "spacy-lookups-data" not in output, output
