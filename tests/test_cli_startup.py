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
