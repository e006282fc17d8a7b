"""`transfer-cli --help`, `--version` and each command's --help start without thinc,
torch, transformers, numpy or confection: the CLI edge imports an engine only inside the
command that runs it, and `transfer_cli.registry` is loaded on first use. init-config
fills the package's templates from a snapshot of the registry, and fill-config and
debug-config fill and check a config it covers from it (no thinc, torch or numpy);
`info` without a pipeline reads versions only. No timings: which modules each command
loads, checked in a fresh interpreter."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
# (not pydantic: typer imports it to parse a command's arguments)
HEAVY = ("torch", "thinc", "transformers", "cupy", "confection", "numpy", "srsly")

PROBE = """
import contextlib, io, json, sys
from transfer_cli.cli.app import _register_commands, app
_register_commands()
reports = []
for args in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            app(args=args, prog_name="transfer-cli")
        except SystemExit as exit_:
            code = exit_.code
    heavy = sorted(m for m in %r if m in sys.modules)
    reports.append({"args": args, "code": code, "heavy": heavy, "output": out.getvalue()})
print("PROBE " + json.dumps(reports))
""" % (HEAVY,)


def probe(*arg_lists) -> list:
    """Run the CLI with each list of arguments in turn, in one fresh interpreter; after
    each, which heavy modules are loaded."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(arg_lists)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1][len("PROBE "):])


def test_help_and_version_do_not_import_thinc_or_torch():
    main_help, version = probe(["--help"], ["--version"])
    assert main_help["code"] == 0 and main_help["heavy"] == [], main_help
    for command in ("convert", "train", "apply", "evaluate", "init-config", "fill-config", "debug-config",
                    "init-vectors", "pretrain"):
        assert command in main_help["output"]
    assert version["code"] == 0 and version["heavy"] == [], version
    assert version["output"].startswith("transfer-cli ")


def test_command_help_does_not_import_thinc_or_torch():
    commands = ["convert", "train", "apply", "evaluate", "init-config", "fill-config", "debug-config",
                "init-vectors", "pretrain"]
    reports = probe(*[[command, "--help"] for command in commands])
    for report in reports:
        assert report["code"] == 0 and report["heavy"] == [], report
    # the converters named in convert's help are the readers' (spelled out there to stay light)
    from transfer_cli.training.readers import CONVERTERS

    help_text = " ".join(reports[0]["output"].split())
    assert ", ".join(CONVERTERS[:-1]) + " or " + CONVERTERS[-1] in help_text


def test_registry_is_loaded_on_first_use():
    # (the probes above import transfer_cli without loading thinc)
    import transfer_cli
    from transfer_cli.config.registry import registry

    assert transfer_cli.registry is registry and "registry" in transfer_cli.__all__
    try:
        transfer_cli.no_such_name
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("a missing attribute must raise AttributeError")


MAIN_PROBE = """
import json, sys
from transfer_cli.cli.app import main
sys.argv = ["transfer-cli"] + json.loads(sys.argv[1])
try:
    main()
    code = 0
except SystemExit as exit_:
    code = exit_.code
loaded = sorted(m for m in ("torch", "transformers", "thinc", "numpy") if m in sys.modules)
thinc_has_torch = None
if "thinc" in sys.modules:
    import thinc.compat
    thinc_has_torch = thinc.compat.has_torch
print("PROBE " + json.dumps({"code": code, "loaded": loaded, "thinc_has_torch": thinc_has_torch}))
"""


def run_main(args, cwd) -> dict:
    """`transfer-cli ARGS` as the console script runs it (main()), in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", MAIN_PROBE, json.dumps([str(a) for a in args])], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1][len("PROBE "):])


INIT_CONFIG_ARGS = (["init-config", "-p", "tagger,ner", "{out}"], ["init", "config", "--gpu", "-p", "ner", "{out}"],
                    ["init-config", "-p", "senter,textcat", "-o", "accuracy", "--pretraining", "{out}"],
                    ["init", "config", "-p", "ner,textcat_multilabel", "--independent", "--vectors", "vecs", "{out}"],
                    ["init-config", "-l", "de", "--gpu", "-o", "accuracy", "-p", "tagger,senter", "{out}"])


def test_init_config_imports_neither_thinc_nor_numpy_and_writes_the_filled_config(tmp_path):
    """init-config writes, from the snapshot, the config the live registry fills
    (quickstart.init_config), loading none of thinc, torch, transformers or numpy."""
    from transfer_cli.config.quickstart import init_config
    from transfer_cli.config.writing import config_to_str

    expected = {
        0: dict(pipeline=["tagger", "ner"]), 1: dict(pipeline=["ner"], gpu=True),
        2: dict(pipeline=["senter", "textcat"], optimize="accuracy", pretraining=True),
        3: dict(pipeline=["ner", "textcat_multilabel"], shared=False, vectors="vecs"),
        4: dict(lang="de", gpu=True, optimize="accuracy", pipeline=["tagger", "senter"])}
    for i, args in enumerate(INIT_CONFIG_ARGS):
        out = tmp_path / f"{i}.cfg"
        report = run_main([a.format(out=out) for a in args], tmp_path)
        assert report == {"code": 0, "loaded": [], "thinc_has_torch": None}, (args, report)
        assert out.read_text() == config_to_str(init_config(**expected[i])), args


def test_init_config_of_a_component_without_a_template_fills_with_thinc_without_torch(tmp_path):
    """A factory with no template (here the rule-based sentencizer) is filled and validated
    by the live registry: thinc, with torch hidden, as fill-config."""
    from transfer_cli.config.quickstart import init_config
    from transfer_cli.config.writing import config_to_str

    out = tmp_path / "c.cfg"
    report = run_main(["init-config", "-p", "sentencizer,tagger", out], tmp_path)
    assert report == {"code": 0, "loaded": ["numpy", "thinc"], "thinc_has_torch": False}, report
    assert out.read_text() == config_to_str(init_config(pipeline=["sentencizer", "tagger"]))


def test_config_commands_fill_and_check_from_the_snapshot_and_write_the_same_config(tmp_path):
    """fill-config and debug-config fill and validate a config the snapshot covers without
    thinc, torch or numpy (tests/test_config_snapshot_check.py compares their output with
    the live path's), and the config is the one the same command writes in a process where
    thinc is loaded (this one, through the Typer app: the live registry)."""
    from typer.testing import CliRunner

    from transfer_cli.cli.app import _register_commands, app

    _register_commands()
    runner = CliRunner()
    base = tmp_path / "base.cfg"
    base.write_text("[nlp]\nlang = \"en\"\npipeline = [\"tagger\"]\n\n[components]\n\n[components.tagger]\n"
                    "factory = \"tagger\"\n")
    for command in (["fill-config"], ["init", "fill-config"]):
        filled, filled_reference = tmp_path / "filled.cfg", tmp_path / "filled_reference.cfg"
        report = run_main([*command, base, filled, "--force"], tmp_path)
        assert report == {"code": 0, "loaded": [], "thinc_has_torch": None}, report
        assert runner.invoke(app, [*command, str(base), str(filled_reference), "--force"]).exit_code == 0
        assert filled.read_text() == filled_reference.read_text()
    for command in (["debug-config"], ["debug", "config"]):
        report = run_main([*command, filled], tmp_path)
        assert report == {"code": 0, "loaded": [], "thinc_has_torch": None}, report


def test_config_commands_the_snapshot_cannot_decide_import_thinc_without_torch(tmp_path):
    """A config with a problem (or a name the snapshot does not record) is checked by the
    live registry: thinc with torch hidden (no model is built)."""
    base = tmp_path / "base.cfg"
    base.write_text("[nlp]\nlang = \"en\"\npipeline = [\"tagger\"]\n\n[components]\n\n[components.tagger]\n"
                    "factory = \"taggr\"\n")
    for command in (["fill-config", base, tmp_path / "out.cfg"], ["debug", "config", base]):
        report = run_main(command, tmp_path)
        assert report == {"code": 1, "loaded": ["numpy", "thinc"], "thinc_has_torch": False}, report


def test_info_without_a_pipeline_imports_no_engine(tmp_path):
    report = run_main(["info"], tmp_path)
    assert report == {"code": 0, "loaded": [], "thinc_has_torch": None}, report


def test_torch_is_importable_after_a_config_command(tmp_path):
    """Hiding torch from thinc's import does not hide it from user code (--code)."""
    code = tmp_path / "code.py"
    code.write_text("import torch\nassert torch.zeros(1).shape == (1,)\n")
    report = run_main(["init-config", "-p", "tagger", tmp_path / "c.cfg", "--code", code], tmp_path)
    # --code fills with the live registry (the user's file may register functions)
    assert report["code"] == 0 and "torch" in report["loaded"] and "thinc" in report["loaded"], report
    assert report["thinc_has_torch"] is False, report


def test_commands_that_build_models_import_thinc_with_torch():
    from transfer_cli.cli.app import builds_no_model

    assert builds_no_model(["init-config", "x.cfg"]) and builds_no_model(["init", "fill-config", "a", "b"])
    assert builds_no_model(["debug", "config", "c.cfg"])
    for args in (["train", "c.cfg"], ["init", "vectors"], ["debug", "data", "c.cfg"], ["apply"], ["pretrain"],
                 ["evaluate"], ["init-vectors"], []):
        assert not builds_no_model(args), args


def test_registry_snapshot_is_what_the_code_registers():
    """registry_snapshot.json is regenerated (python -m transfer_cli.config.snapshot_build)
    whenever a registered function's or a factory's defaults change: else this fails."""
    from transfer_cli.config.snapshot import SNAPSHOT_PATH

    # built in a fresh interpreter: this one may hold other tests' registrations
    build = "import sys\nfrom transfer_cli.config.snapshot_build import snapshot_text\nsys.stdout.write(snapshot_text())\n"
    result = subprocess.run([sys.executable, "-c", build], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            capture_output=True, text=True, encoding="utf8", timeout=300)
    assert result.returncode == 0, result.stderr
    assert SNAPSHOT_PATH.read_text(encoding="utf8") == result.stdout, (
        "registry_snapshot.json is stale: run python -m transfer_cli.config.snapshot_build")


def test_init_config_from_the_snapshot_is_the_live_fill():
    """Every template component, alone and together, each optimize/hardware/embedding
    choice, with and without pretraining and vectors: the same text as the live fill."""
    import itertools

    from transfer_cli.config.assembly import COMPONENTS
    from transfer_cli.config.quickstart import init_config
    from transfer_cli.config.snapshot import init_config_from_snapshot
    from transfer_cli.config.writing import config_to_str

    pipelines = [[name] for name in COMPONENTS] + [list(COMPONENTS), list(reversed(COMPONENTS)),
                                                   ["tok2vec", "tagger", "ner"], ["senter", "ner"]]
    hardware = [dict(gpu=False, shared=True), dict(gpu=False, shared=False), dict(gpu=True, shared=True)]
    compared = 0
    for i, (pipeline, optimize, hw) in enumerate(itertools.product(pipelines, ("efficiency", "accuracy"), hardware)):
        options = dict(pipeline=pipeline, optimize=optimize, pretraining=i % 2 == 0,
                       vectors=("vectors/en" if i % 3 == 0 else None), lang=("en", "de", "xx")[i % 3], **hw)
        light = init_config_from_snapshot(**options)
        assert light is not None, options
        assert config_to_str(light) == config_to_str(init_config(**options)), options
        compared += 1
    assert compared == len(pipelines) * 6


def test_the_snapshot_leaves_what_it_does_not_cover_to_the_live_registry():
    from confection import Config

    from transfer_cli.config.snapshot import fill_from_snapshot, init_config_from_snapshot

    assert init_config_from_snapshot(pipeline=["sentencizer"]) is None  # no template: validated live
    assert init_config_from_snapshot(pipeline=["my_factory"]) is None
    assert init_config_from_snapshot(pipeline=["tagger"], vectors="${nowhere.x}") is None  # does not resolve
    config = Config().from_str("[nlp]\nlang = \"en\"\n\n[components]\n\n[components.x]\nfactory = \"tagger\"\n\n"
                               "[components.x.model]\n@architectures = \"my.Arch.v1\"\n", interpolate=False)
    assert fill_from_snapshot(config) is None  # a function the snapshot does not know


def test_init_config_hides_pydantic_v1_from_confection_only_while_importing_it(tmp_path):
    """confection loads without pydantic.v1 for init-config (no --code); pydantic.v1 is
    importable afterwards, and the config is the same as with it."""
    probe = ("import json, sys\nfrom transfer_cli.cli.app import main\n"
             "sys.argv = ['transfer-cli', 'init-config', '-p', 'tagger', sys.argv[1]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "hidden = 'pydantic.v1' not in sys.modules\nimport pydantic.v1\n"
             "print('PROBE ' + json.dumps({'hidden': hidden, 'confection': 'confection' in sys.modules}))\n")
    out = tmp_path / "c.cfg"
    result = subprocess.run([sys.executable, "-c", probe, str(out)], cwd=tmp_path, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines and json.loads(lines[-1][6:]) == {"hidden": True, "confection": True}, result.stdout + result.stderr
    from transfer_cli.config.quickstart import init_config
    from transfer_cli.config.writing import config_to_str

    assert out.read_text() == config_to_str(init_config(pipeline=["tagger"]))
