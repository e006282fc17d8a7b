"""The README's quickstart runs as written on a fresh checkout: every line of its bash
block (run from a folder that holds only the repository's sample_data), then its
Python snippet; its list of docs pages is complete; init-config's hint trains."""
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf8")

_register_commands()
runner = CliRunner()


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else len(README)]


def code_block(text: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert match, f"no {language} block"
    return match.group(1)


def quickstart_commands():
    """The bash block's command lines, without comments; `source` only sets up the shell."""
    commands = []
    for line in code_block(section("Quickstart"), "bash").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] != "source":
            commands.append(words)
    return commands


def test_quickstart_names_only_files_that_exist():
    commands = quickstart_commands()
    assert [c[0] for c in commands] == ["transfer-cli"] * len(commands)
    inputs = [w for c in commands for w in c if w.startswith("sample_data/")]
    assert inputs, "the quickstart reads nothing from sample_data/"
    for path in inputs:
        assert (ROOT / path).is_file(), path
    assert any(c[1] == "pretrain" for c in commands)


@pytest.mark.slow
def test_quickstart_runs_as_written(tmp_path, monkeypatch):
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for words in quickstart_commands():
        result = runner.invoke(app, words[1:])
        assert result.exit_code == 0, f"{' '.join(words)}\n{result.output}"
    assert (tmp_path / "model" / "model-best").is_dir() and (tmp_path / "metrics.json").is_file()
    assert (tmp_path / "pretrained" / "model0.bin").is_file()
    assert (tmp_path / "model-pretrained" / "model-best").is_dir()
    assert (tmp_path / "tagged.jsonl").read_text().count("\n") == 276
    namespace: dict = {}
    exec(code_block(README, "python"), namespace)  # the Python snippet, on the model just trained
    assert len(namespace["doc"]) == 6


def test_readme_lists_every_docs_page():
    listed = set(re.findall(r"`([\w-]+\.md)`", section("Documentation")))
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_init_config_hint_is_one_runnable_line_with_output(tmp_path):
    config = tmp_path / "config.cfg"
    result = runner.invoke(app, ["init-config", str(config), "--pipeline", "tagger"])
    assert result.exit_code == 0, result.output
    hint = [line for line in result.output.splitlines() if line.startswith("Train it with: ")]
    assert len(hint) == 1
    words = shlex.split(hint[0][len("Train it with: "):])
    assert words[:3] == ["transfer-cli", "train", str(config)]
    assert "--output" in words and "--paths.train" in words and "--paths.dev" in words
