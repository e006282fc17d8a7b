"""`transfer-cli --help`, `--version` and each command's --help start without thinc,
torch or transformers: the CLI edge imports an engine only inside the command that
runs it, and `transfer_cli.registry` is loaded on first use."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
HEAVY = ("torch", "thinc", "transformers", "cupy", "confection")

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
import thinc.compat
print("PROBE " + json.dumps({"code": code, "loaded": sorted(m for m in ("torch", "transformers") if m in sys.modules),
                             "thinc_has_torch": thinc.compat.has_torch}))
"""


def run_main(args, cwd) -> dict:
    """`transfer-cli ARGS` as the console script runs it (main()), in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", MAIN_PROBE, json.dumps([str(a) for a in args])], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1][len("PROBE "):])


def test_config_commands_do_not_import_torch_and_write_the_same_config(tmp_path):
    """init-config, fill-config and debug-config import thinc with torch hidden (no model is
    built): torch and transformers stay unloaded, and the configs are those the same commands
    write in a process where thinc has torch (this one, through the Typer app)."""
    from typer.testing import CliRunner

    from transfer_cli.cli.app import _register_commands, app

    _register_commands()
    runner = CliRunner()
    for args in (["init-config", "-p", "tagger,ner", "{out}"], ["init", "config", "--gpu", "-p", "ner", "{out}"]):
        ours, reference = tmp_path / "light.cfg", tmp_path / "reference.cfg"
        report = run_main([a.format(out=ours) for a in args], tmp_path)
        assert report == {"code": 0, "loaded": [], "thinc_has_torch": False}, report
        result = runner.invoke(app, [a.format(out=reference) for a in args])
        assert result.exit_code == 0, result.output
        assert ours.read_text() == reference.read_text()
        base = tmp_path / "base.cfg"
        base.write_text("[nlp]\nlang = \"en\"\npipeline = [\"tagger\"]\n\n[components]\n\n[components.tagger]\n"
                        "factory = \"tagger\"\n")
        for command in (["fill-config"], ["init", "fill-config"]):
            filled, filled_reference = tmp_path / "filled.cfg", tmp_path / "filled_reference.cfg"
            report = run_main([*command, base, filled, "--force"], tmp_path)
            assert report == {"code": 0, "loaded": [], "thinc_has_torch": False}, report
            assert runner.invoke(app, [*command, str(base), str(filled_reference), "--force"]).exit_code == 0
            assert filled.read_text() == filled_reference.read_text()
        ours.unlink()
        reference.unlink()
    for command in (["debug-config"], ["debug", "config"]):
        report = run_main([*command, filled], tmp_path)
        assert report == {"code": 0, "loaded": [], "thinc_has_torch": False}, report


def test_torch_is_importable_after_a_config_command(tmp_path):
    """Hiding torch from thinc's import does not hide it from user code (--code)."""
    code = tmp_path / "code.py"
    code.write_text("import torch\nassert torch.zeros(1).shape == (1,)\n")
    report = run_main(["init-config", "-p", "tagger", tmp_path / "c.cfg", "--code", code], tmp_path)
    assert report["code"] == 0 and report["loaded"] == ["torch"], report


def test_commands_that_build_models_import_thinc_with_torch():
    from transfer_cli.cli.app import builds_no_model

    assert builds_no_model(["init-config", "x.cfg"]) and builds_no_model(["init", "fill-config", "a", "b"])
    assert builds_no_model(["debug", "config", "c.cfg"])
    for args in (["train", "c.cfg"], ["init", "vectors"], ["debug", "data", "c.cfg"], ["apply"], ["pretrain"],
                 ["evaluate"], ["init-vectors"], []):
        assert not builds_no_model(args), args
