"""docs/cli.md is what scripts/cli_reference.py renders from the Typer app: a command,
argument, option, default or help text changed without regenerating the page fails here."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return load_generator()


def test_docs_cli_md_matches_the_app(generator):
    rendered = generator.render()
    on_disk = (ROOT / "docs" / "cli.md").read_text(encoding="utf8")
    if rendered != on_disk:
        pytest.fail("docs/cli.md differs from the Typer app's commands: run `python scripts/cli_reference.py` "
                    "to update it", pytrace=False)


def test_reference_covers_every_command_and_spelling(generator):
    text = generator.render()
    for title in ["apply", "convert", "debug-config", "debug-data", "evaluate", "fill-config", "init-config",
                  "init-vectors", "pretrain", "train", "info", "init config", "init fill-config", "init vectors",
                  "debug config", "debug data"]:
        assert f"# `{title}`\n" in text, title
    assert "| `--training.max_steps`" not in text  # overrides are described once, not as options
    assert "transfer-cli train [OPTIONS] CONFIG_PATH [--section.key VALUE]...\n" in text
    assert "| `--n-workers` | int (>= 1) | `1` |" in text


def test_rendering_ignores_the_terminal(generator, monkeypatch):
    first = generator.render()
    monkeypatch.setenv("COLUMNS", "37")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert generator.render() == first
    assert "\x1b[" not in first


def test_a_changed_help_text_is_drift(generator, monkeypatch):
    root = generator.root_command()
    ctx = root.context_class(root, info_name="transfer-cli")
    option = next(p for p in root.get_command(ctx, "train").params if p.name == "gpu_id")
    monkeypatch.setattr(option, "help", "A different help text.")
    monkeypatch.setattr(generator, "root_command", lambda: root)
    assert "A different help text." in generator.render()
