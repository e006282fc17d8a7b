"""Every code and config example in docs/*.md runs as written (one test item per block).

The blocks of a page run in order, in one folder per page, as a reader working through the
page would run them. That folder holds what the README's quickstart makes first:
`sample_data/` (the repository's) and `corpus/train.spacy`, `corpus/dev.spacy` (its en_ewt
excerpts, converted with `-n 10`); a page whose examples name `model/model-best` also gets
the quickstart's trained tagger there (trained for a few steps), and a page naming
`eng.train.iob2.tsv` gets small CoNLL-2003-format files (`eng.train.iob2.tsv`,
`eng.testa.iob2.tsv`: the entities of `sample_data/ner/`, one `word<TAB>tag` line per token).
Files the `transfer-cli` commands of a block write must have ordinary modes (the umask's).

- ```bash / ```sh / ```console: each command line (backslash continuations joined) that starts
  with `transfer-cli` or `python -m transfer_cli` runs through the CLI in this process and must
  exit 0, or N where the line (or a comment line right after it) says `(exit N)`. Other lines
  (torchrun, shell set-up) are not run and are counted in the skip reason of their block.
- ```python: run in one Python process per page (later blocks see earlier blocks' names),
  started in the page's folder with the repository importable.
- ```ini / ```cfg: a whole config (one with [nlp]) is checked with `debug-config`; a fragment
  must be marked `<!-- example: fragment INIT-CONFIG-ARGS [--code FILE] -->`: it is merged
  into the config `init-config INIT-CONFIG-ARGS` writes (a fragment's key replaces the base's;
  a section whose registered function differs replaces the base's section and subsections)
  and the result is checked with `debug-config`. A fragment's section also takes the place
  of a setting of its name in the base (`[corpora.train.augmenter]` for `augmenter = null`),
  and a fragment's setting the place of a section of its name, as when a user writes them.
  A config block marked `<!-- example: train ARGS -->` is then trained (`train CONFIG
  --output DIR ARGS`), and the trained pipeline's config must hold the block's sections.

Markers (HTML comments on the lines right before a fence, several allowed):
`<!-- example: skip REASON -->` does not run the block (the reason is required and shows
in pytest's skip report); `<!-- example: file NAME -->` also saves the block as NAME in the
page's folder (for a later `--code NAME`); any other word names the block for other tests.
Unlabelled and ```text blocks show output and are not run.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.config.loading import load_config_from_str

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
RUN_LANGUAGES = {"bash": "shell", "sh": "shell", "console": "shell", "python": "python", "ini": "config",
                 "cfg": "config"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*example:\s*(\S+)\s*(.*?)\s*-->")
EXIT_NOTE = re.compile(r"\(exit (\d+)\b")

_register_commands()


@dataclass
class Block:
    page: str
    line: int
    kind: str  # shell, python or config
    code: str
    markers: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}-{self.kind}"

    def marker(self, name: str) -> Optional[str]:
        return next((arg for kind, arg in self.markers if kind == name), None)


def markers_before(text: str, start: int) -> List[Tuple[str, str]]:
    """The `<!-- example: ... -->` comments on the lines right above a fence (blank lines allowed)."""
    found = []
    for line in reversed(text[:start].rstrip("\n").splitlines()):
        if not line.strip():
            continue
        match = MARKER.fullmatch(line.strip())
        if not match:
            break
        found.append((match.group(1), match.group(2)))
    return found[::-1]


def collect_blocks(path: Path) -> List[Block]:
    text = path.read_text(encoding="utf8")
    blocks = []
    for match in FENCE.finditer(text):
        kind = RUN_LANGUAGES.get(match.group(1))
        if kind is not None:
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(Block(path.name, line, kind, match.group(2), markers_before(text, match.start())))
    return blocks


ALL_BLOCKS = [block for page in sorted(DOCS.glob("*.md")) for block in collect_blocks(page)]


def command_lines(code: str) -> List[Tuple[List[str], int]]:
    """(words, expected exit code) per command line; comment-only lines may carry `(exit N)`
    for the command before them."""
    commands: List[Tuple[List[str], int]] = []
    for line in code.replace("\\\n", " ").splitlines():
        note = EXIT_NOTE.search(line.split("#", 1)[1]) if "#" in line else None
        words = shlex.split(line, comments=True)
        if words:
            commands.append((words, int(note.group(1)) if note else 0))
        elif note and commands:
            commands[-1] = (commands[-1][0], int(note.group(1)))
    return commands


def cli_words(words: List[str]) -> Optional[List[str]]:
    if words[0] == "transfer-cli":
        return words[1:]
    if words[:3] == ["python", "-m", "transfer_cli"]:
        return words[3:]
    return None


# Python blocks of a page run in one interpreter that reads blocks as JSON lines on stdin and
# answers one JSON line each ({"ok": true} or {"ok": false, "error": traceback}).
PYTHON_WORKER = r"""
import json, sys, traceback
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    block = json.loads(line)
    try:
        exec(compile(block["code"], block["name"], "exec"), namespace)
        answer = {"ok": True}
    except BaseException:
        answer = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.flush()
    print("\n@@answer@@" + json.dumps(answer), flush=True)
"""


class Page:
    """One page's folder, its Python process, and which of its blocks have run."""

    def __init__(self, name: str, folder: Path):
        self.name = name
        self.folder = folder
        self.done: Dict[str, Optional[str]] = {}  # block id -> None (ran) or the failure
        self.python: Optional[subprocess.Popen] = None

    def run_python(self, block: Block) -> None:
        if self.python is None:
            env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(self.folder),
                   "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false"}
            self.python = subprocess.Popen([sys.executable, "-c", PYTHON_WORKER], cwd=self.folder, env=env,
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True)
        self.python.stdin.write(json.dumps({"code": block.code, "name": f"docs/{block.id}"}) + "\n")
        self.python.stdin.flush()
        output = []
        for line in self.python.stdout:
            if line.startswith("@@answer@@"):
                answer = json.loads(line[len("@@answer@@"):])
                break
            output.append(line)
        else:
            raise AssertionError(f"the Python process of {self.name} ended:\n{''.join(output)}")
        assert answer["ok"], f"{''.join(output)}\n{answer['error']}"

    def close(self) -> None:
        if self.python is not None:
            if not self.python.stdin.closed:
                self.python.stdin.close()
            self.python.wait(timeout=60)


def run_cli(words: List[str], expected: int, label: str) -> str:
    result = CliRunner().invoke(app, words)
    assert result.exit_code == expected, (
        f"{label}: `transfer-cli {shlex.join(words)}` exited {result.exit_code}, expected {expected}\n"
        f"{result.output}")
    return result.output


def section_function(lines: List[str]) -> Optional[str]:
    return next((line.split("=", 1)[1].strip() for line in lines if line.strip().startswith("@")), None)


def parse_sections(text: str) -> Dict[str, List[str]]:
    sections: Dict[str, List[str]] = {}
    current = None
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip() if not line.lstrip().startswith("@") else line.strip()
        if re.fullmatch(r"\[[^\]]+\]", stripped):
            current = stripped[1:-1]
            sections.setdefault(current, [])
        elif current is not None and stripped and not stripped.startswith("#"):
            sections[current].append(line)
    return sections


def setting_name(line: str) -> str:
    return line.split("=", 1)[0].strip()


def without_section(sections: Dict[str, List[str]], name: str) -> Dict[str, List[str]]:
    """`sections` less the section `name` and its subsections."""
    return {k: v for k, v in sections.items() if k != name and not k.startswith(name + ".")}


def merge_fragment(base: str, fragment: str) -> str:
    """The base config with the fragment's keys in it (see the module's docstring)."""
    sections = parse_sections(base)
    for name, lines in parse_sections(fragment).items():
        parent, _, last = name.rpartition(".")
        if parent in sections:  # the section takes the place of a setting of its name (e.g. `augmenter = null`)
            sections[parent] = [line for line in sections[parent] if setting_name(line) != last]
        old = sections.get(name)
        new_function = section_function(lines)
        if old is not None and new_function is not None and new_function != section_function(old):
            sections = without_section(sections, name)
            old = None
        keys = {setting_name(line): line for line in (old or [])}
        keys.update({setting_name(line): line for line in lines if "=" in line})
        for key in keys:  # a setting takes the place of a section of its name (e.g. `lookups = null`)
            if f"{name}.{key}" in sections:
                sections = without_section(sections, f"{name}.{key}")
        sections[name] = list(keys.values())
    return "\n\n".join(f"[{name}]\n" + "\n".join(lines) for name, lines in sections.items()) + "\n"


def check_config(block: Block, page: Page) -> None:
    fragment = block.marker("fragment")
    folder = page.folder / "_configs"
    folder.mkdir(exist_ok=True)
    target = folder / f"{block.line}.cfg"
    code: List[str] = []
    if fragment is None:
        assert "[nlp]" in block.code, (f"docs/{block.id}: a config block without [nlp] must be marked "
                                       f"<!-- example: fragment INIT-CONFIG-ARGS --> or skipped with a reason")
        target.write_text(block.code, encoding="utf8")
    else:
        args = shlex.split(fragment)
        if "--code" in args:
            at = args.index("--code")
            code = ["--code", str(page.folder / args[at + 1])]
            del args[at:at + 2]
        base = folder / f"{block.line}-base.cfg"
        run_cli(["init-config", str(base), *args, *code], 0, f"docs/{block.id} (base config)")
        target.write_text(merge_fragment(base.read_text(encoding="utf8"), block.code), encoding="utf8")
    label = f"docs/{block.id} (merged into init-config {fragment})" if fragment is not None else f"docs/{block.id}"
    run_cli(["debug-config", str(target), *code], 0, label)
    train_args = block.marker("train")
    if train_args is not None:
        train_config(block, target, shlex.split(train_args), code, label)


def train_config(block: Block, config: Path, args: List[str], code: List[str], label: str) -> None:
    """`train` on the checked config; the trained pipeline's config.cfg must hold the
    example's sections (what the run was built from) with their registered functions."""
    output = config.parent / f"{block.line}-trained"
    run_cli(["train", str(config), "--output", str(output), "--quiet", *args, *code], 0, f"{label} (train)")
    trained = parse_sections((output / "model-last" / "config.cfg").read_text(encoding="utf8"))
    for name, lines in parse_sections(block.code).items():
        assert name in trained, f"{label}: the trained pipeline's config has no [{name}]"
        assert section_function(trained[name]) == section_function(lines), (
            f"{label}: the trained pipeline's [{name}] is {section_function(trained[name])}, not "
            f"{section_function(lines)}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs_corpus")
    for name in ["train", "dev"]:
        run_cli(["convert", str(ROOT / "sample_data" / "en_ewt" / f"{name}.conllu"), str(folder), "-n", "10"], 0,
                "making corpus/")
    return folder


@pytest.fixture(scope="module")
def quickstart_model(tmp_path_factory, corpus) -> Path:
    """The README quickstart's `model/` (its tagger, trained for 10 steps instead of 100)."""
    folder = tmp_path_factory.mktemp("docs_quickstart")
    run_cli(["init-config", str(folder / "config.cfg"), "--pipeline", "tagger"], 0, "making model/")
    run_cli(["train", str(folder / "config.cfg"), "--output", str(folder / "model"), "--quiet",
             "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "dev.spacy"),
             "--training.max_steps", "10", "--training.eval_frequency", "10"], 0, "making model/")
    return folder / "model"


@pytest.fixture(scope="module")
def conll_files(tmp_path_factory) -> Path:
    """eng.train.iob2.tsv and eng.testa.iob2.tsv in the IOB2 layout of CoNLL-2003's TSV files,
    from sample_data/ner/ (the real files may not be shipped)."""
    from transfer_cli.lang import create_tokenizer
    from transfer_cli.training.readers import read_docs

    folder = tmp_path_factory.mktemp("docs_conll")
    tokenizer = create_tokenizer("en")
    for source, name in [("train", "eng.train.iob2.tsv"), ("dev", "eng.testa.iob2.tsv")]:
        lines = ["-DOCSTART-\tO", ""]
        path = ROOT / "sample_data" / "ner" / f"{source}.jsonl"
        for doc in read_docs(path, converter="jsonl", vocab=tokenizer.vocab, make_doc=tokenizer):
            words = [(t.text, f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O") for t in doc if t.text.strip()]
            lines += [f"{word}\t{tag}" for word, tag in words] + [""]
        (folder / name).write_text("\n".join(lines), encoding="utf8")
    return folder


# what a page's folder gets, besides sample_data/ and corpus/, when its examples name it
PREPARED = {"model/model-best": ("quickstart_model", "model"),
            "eng.train.iob2.tsv": ("conll_files", ".")}


@pytest.fixture(scope="module")
def pages(request, tmp_path_factory, corpus):
    opened: Dict[str, Page] = {}

    def get(name: str) -> Page:
        if name not in opened:
            folder = tmp_path_factory.mktemp(name.replace(".", "_"))
            (folder / "sample_data").symlink_to(ROOT / "sample_data", target_is_directory=True)
            shutil.copytree(corpus, folder / "corpus")
            runnable = "\n".join(b.code for b in ALL_BLOCKS if b.page == name and skip_reason(b) is None)
            for mention, (fixture, target) in PREPARED.items():
                if mention in runnable:
                    shutil.copytree(request.getfixturevalue(fixture), folder / target, dirs_exist_ok=True)
            opened[name] = Page(name, folder)
        return opened[name]

    yield get
    for page in opened.values():  # all pages' processes end at once, then each is waited for
        if page.python is not None:
            page.python.stdin.close()
    for page in opened.values():
        page.close()


def run_block(block: Block, page: Page) -> None:
    if block.marker("file") is not None:
        (page.folder / block.marker("file")).write_text(block.code, encoding="utf8")
    if block.kind == "python":
        page.run_python(block)
    elif block.kind == "config":
        check_config(block, page)
    else:
        before = snapshot(page.folder)
        for words, expected in command_lines(block.code):
            args = cli_words(words)
            if args is not None:
                run_cli(args, expected, f"docs/{block.id}")
        check_modes(page.folder, before, f"docs/{block.id}")


def snapshot(folder: Path) -> Dict[Path, float]:
    return {path: path.lstat().st_mtime_ns for path in folder.rglob("*") if not path.is_symlink()}


def check_modes(folder: Path, before: Dict[Path, float], label: str) -> None:
    """What the commands wrote has the modes of any file the user creates (0644/0755 under umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    wrong = []
    for path, mtime in snapshot(folder).items():
        if path not in before or (before[path] != mtime and not path.is_dir()):  # new, or a file rewritten
            mode = path.stat().st_mode & 0o777
            expected = (0o777 if path.is_dir() else 0o666) & ~umask
            if mode != expected:
                wrong.append(f"{path.relative_to(folder)} {oct(mode)} (expected {oct(expected)})")
    assert not wrong, f"{label}: outputs with unusual modes: {', '.join(wrong[:10])}"


def skip_reason(block: Block) -> Optional[str]:
    reason = block.marker("skip")
    if reason is not None:
        return reason
    if block.kind == "shell":
        commands = command_lines(block.code)
        if commands and all(cli_words(words) is None for words, _ in commands):
            return f"no transfer-cli command ({', '.join(sorted({words[0] for words, _ in commands}))})"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.id for b in ALL_BLOCKS])
def test_docs_example_runs(block: Block, pages, monkeypatch):
    reason = skip_reason(block)
    if reason is not None:
        pytest.skip(f"docs/{block.id}: {reason}")
    page = pages(block.page)
    monkeypatch.chdir(page.folder)
    # processes a command starts (train --n-workers, apply --n-process) import this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    # the blocks before this one set up what it uses (also when this block is selected alone)
    for earlier in [b for b in ALL_BLOCKS if b.page == block.page]:
        if earlier is block:
            break
        if earlier.id not in page.done and skip_reason(earlier) is None:
            try:
                run_block(earlier, page)
                page.done[earlier.id] = None
            except AssertionError as e:
                page.done[earlier.id] = str(e)
        if page.done.get(earlier.id):
            pytest.fail(f"an earlier example failed: docs/{earlier.id}", pytrace=False)
    if block.id in page.done:
        assert page.done[block.id] is None, page.done[block.id]
        return
    try:
        run_block(block, page)
    except AssertionError as e:
        page.done[block.id] = str(e)
        raise
    page.done[block.id] = None


def test_every_skip_states_a_reason():
    for block in ALL_BLOCKS:
        if block.marker("skip") is not None:
            assert len(block.marker("skip").split()) >= 2, f"docs/{block.id}: say why it is skipped"


def test_fragment_merge_replaces_a_changed_function_with_its_subsections():
    base = "[a]\nx = 1\n\n[a.model]\n@architectures = \"one\"\nwidth = 3\n\n[a.model.sub]\ny = 2\n"
    merged = parse_sections(merge_fragment(base, "[a.model]\n@architectures = \"two\"\ndepth = 4\n\n[a]\nz = 5\n"))
    assert merged == {"a": ["x = 1", "z = 5"], "a.model": ['@architectures = "two"', "depth = 4"]}


def test_fragment_merge_puts_a_section_in_place_of_a_setting_and_back():
    base = ("[corpora.train]\n@readers = \"spacy.Corpus.v1\"\naugmenter = null\nlimit = 0\n\n"
            "[initialize]\nvectors = null\n\n[initialize.lookups]\n@misc = \"x\"\n\n[initialize.lookups.t]\na = 1\n")
    fragment = ("[corpora.train.augmenter]\n@augmenters = \"spacy.lower_case.v1\"\nlevel = 0.1\n\n"
                "[corpora.train.augmenter.orth_variants]\nsingle = []\n\n[initialize]\nlookups = null\n")
    merged = merge_fragment(base, fragment)
    assert parse_sections(merged) == {
        "corpora.train": ['@readers = "spacy.Corpus.v1"', "limit = 0"],
        "initialize": ["vectors = null", "lookups = null"],
        "corpora.train.augmenter": ['@augmenters = "spacy.lower_case.v1"', "level = 0.1"],
        "corpora.train.augmenter.orth_variants": ["single = []"]}
    config = load_config_from_str(merged)  # what confection reads, no conflicting values
    assert config["corpora"]["train"]["augmenter"]["level"] == 0.1 and config["initialize"]["lookups"] is None


def test_exit_notes_and_continuations():
    code = "transfer-cli a b \\\n  c  # (exit 2)\ntorchrun x\ntransfer-cli d\n# fails (exit 1)\n"
    assert command_lines(code) == [(["transfer-cli", "a", "b", "c"], 2), (["torchrun", "x"], 0),
                                   (["transfer-cli", "d"], 1)]


def test_migration_page_names_what_is_registered():
    """The spaCy names docs/migrating-from-spacy.md says are accepted are registered, its
    factories are exactly the registered ones, and what it says is missing is missing."""
    from transfer_cli.config.registry import registered_functions, registry

    text = (DOCS / "migrating-from-spacy.md").read_text(encoding="utf8")
    names = re.compile(r"`(spacy(?:-transformers)?\.[\w.]+)`")
    registered = {name for reg in registry.registry_names() for name in registered_functions(reg)}
    accepted = text[text.index("### Registered names"):text.index("### Corpora and commands")]
    assert len(names.findall(accepted)) >= 60
    assert [n for n in names.findall(accepted) if n not in registered] == []
    factories_row = re.search(r"^\| factories \| (.*) \|$", accepted, re.M).group(1)
    own = {name for name, func in registered_functions("factories").items()  # not those of other pages' --code
           if func.__module__.startswith("transfer_cli.")}
    assert set(re.findall(r"`(\w+)`", factories_row)) == own
    missing = text[text.index("- **Components.**"):text.index("- **NER**")]
    assert names.findall(missing) and [n for n in names.findall(missing) if n in registered] == []
    components = re.findall(r"`(\w+)`", missing[:missing.index("is refused")])
    assert "parser" in components and set(components) & set(registered_functions("factories")) == set()
