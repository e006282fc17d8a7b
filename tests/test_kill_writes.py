"""SIGKILL during `init-vectors` and `convert` writes: what is left at the output path is
the previous complete output or the new complete one (never a part), it loads, and the
hidden staging a killed run leaves beside it is cleaned by the next run.

Each test starts the real command (`python -m transfer_cli ...`) over an input large
enough that writing takes a measurable time, and kills it at one moment: as soon as its
hidden staging folder (`.NAME.tmp-PID-HEX`) appears, when the table or .spacy file is
being written inside it, or at a fraction of the time a complete run spent writing. The
swap of a previous directory output is also covered between its two renames in
test_outputs_safety.py (a forked writer killing itself there)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy
import pytest

import transfer_cli
from conftest import ROOT
from transfer_cli import fileio
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.tokens.vocab import Vocab

# moments to kill at: a condition polled on the output's folder, or a fraction of the
# time a complete run took from its staging folder's appearance to its exit
MOMENTS = ["staging-appears", "writing-inside-staging", 0.5, 0.95]
# (moment, previous output?): every moment over a previous output; a first output once
CASES = [(moment, True) for moment in MOMENTS] + [("writing-inside-staging", False)]
POLL_S = 0.001


def hidden_leftovers(parent: Path, name: str) -> List[str]:
    """The hidden siblings of `name` (staging, set-aside or being-deleted folders/files)."""
    if not parent.is_dir():
        return []
    return sorted(entry for entry in os.listdir(parent) if entry.startswith(f".{name}."))


def assert_clearly_named(leftovers: List[str], name: str) -> None:
    pattern = re.compile(rf"^\.{re.escape(name)}\.(tmp|old|del)-\d+-[0-9a-f]+$")
    assert all(pattern.match(entry) for entry in leftovers), leftovers


def start(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "transfer_cli", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def staging_of(parent: Path, name: str, pid: int) -> Optional[Path]:
    for entry in hidden_leftovers(parent, name):
        if entry.startswith(f".{name}.tmp-{pid}-"):
            return parent / entry
    return None


def run_timed(args, parent: Path, name: str) -> float:
    """Run to completion; seconds from the staging folder's appearance to the exit."""
    child = start(*args)
    appeared = None
    while child.poll() is None:
        if appeared is None and staging_of(parent, name, child.pid) is not None:
            appeared = time.monotonic()
        time.sleep(POLL_S)
    output = child.stdout.read().decode("utf8", errors="replace")
    assert child.returncode == 0, output
    assert appeared is not None, "the staging folder was never seen"
    return time.monotonic() - appeared


def being_written(file_name: str) -> Callable[[Path], bool]:
    """True once the staging folder holds a non-empty `file_name`: the command is writing it."""
    def writing(staging: Path) -> bool:
        path = staging / file_name
        return path.exists() and path.stat().st_size > 0
    return writing


def run_and_kill(args, parent: Path, name: str, moment, write_seconds: float,
                 writing: Callable[[Path], bool]) -> bool:
    """Start the command and SIGKILL it at `moment`; True when it was killed (False: it
    had already finished, which leaves the new complete output)."""
    child = start(*args)
    staging = None
    deadline = None
    try:
        while child.poll() is None:
            if staging is None:
                staging = staging_of(parent, name, child.pid)
                if staging is not None and isinstance(moment, float):
                    deadline = time.monotonic() + moment * write_seconds
            if staging is not None and (moment == "staging-appears"
                                        or (moment == "writing-inside-staging" and writing(staging))
                                        or (deadline is not None and time.monotonic() >= deadline)):
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(POLL_S)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert staging is not None or child.returncode == 0
    return child.returncode == -signal.SIGKILL


# -- init-vectors -----------------------------------------------------------------------------------
N_WORDS, DIMS = 8_000, 64


def write_vectors(path: Path, seed: int) -> Tuple[List[str], numpy.ndarray]:
    rng = numpy.random.default_rng(seed)
    words = [f"w{seed}x{i}" for i in range(N_WORDS)]
    data = rng.standard_normal((N_WORDS, DIMS)).astype("float32").round(4)
    rows = [w + " " + " ".join(map(str, row.tolist())) for w, row in zip(words, data)]
    path.write_text("\n".join(rows) + "\n", encoding="utf8")
    return words, data


@pytest.fixture(scope="module")
def vectors_runs(tmp_path_factory):
    """Two vector files (A, B), A's complete output, and how long writing B takes."""
    root = tmp_path_factory.mktemp("kill_vectors")
    tables = {label: write_vectors(root / f"{label}.txt", seed) for label, seed in (("A", 1), ("B", 2))}
    run_timed(["init-vectors", "en", root / "A.txt", root / "first" / "out", "-q"], root / "first", "out")
    seconds = run_timed(["init-vectors", "en", root / "B.txt", root / "timing" / "out", "-q"], root / "timing", "out")
    return root, tables, seconds


def vectors_label(path: Path, tables: Dict[str, Tuple[List[str], numpy.ndarray]]) -> str:
    """Which complete table `path` holds, loaded as a user loads it (checksums verified)."""
    vectors = transfer_cli.load(path).vocab.vectors
    for label, (words, data) in tables.items():
        if vectors.shape == data.shape and words[0] in vectors:
            assert numpy.array_equal(vectors.get_batch(words), data), label
            return label
    raise AssertionError(f"{path} holds neither table: {vectors.shape}")


@pytest.mark.parametrize("moment,previous", CASES)
def test_init_vectors_killed_leaves_the_previous_or_the_new_table(vectors_runs, tmp_path, moment, previous):
    root, tables, seconds = vectors_runs
    target = tmp_path / "out"
    if previous:
        shutil.copytree(root / "first" / "out", target)
    killed = run_and_kill(["init-vectors", "en", root / "B.txt", target, "-q"], tmp_path, "out", moment, seconds,
                          being_written("vectors.npy"))
    leftovers = hidden_leftovers(tmp_path, "out")
    assert_clearly_named(leftovers, "out")
    allowed = {"A", "B"} if previous else {"B"}
    if target.exists():
        assert vectors_label(target, tables) in allowed
    else:  # never written, or killed between the swap's two renames: the previous one is set aside
        assert not previous or any(".out.old-" in entry for entry in leftovers), leftovers
    assert killed or (not leftovers and vectors_label(target, tables) == "B")
    # the next run's first step puts a set-aside output back and removes the staging
    fileio.recover(target)
    assert hidden_leftovers(tmp_path, "out") == []
    if previous:
        assert vectors_label(target, tables) in allowed
    else:
        assert not target.exists() or vectors_label(target, tables) == "B"
    if moment == "writing-inside-staging":  # and the next run completes normally
        run_timed(["init-vectors", "en", root / "A.txt", target, "-q"], tmp_path, "out")
        assert vectors_label(target, tables) == "A" and hidden_leftovers(tmp_path, "out") == []


# -- convert ----------------------------------------------------------------------------------------
N_DOCS, DOC_WORDS = 1_500, 40


def write_corpus(path: Path, tag: str, seed: int) -> List[Tuple[List[str], List[str]]]:
    rng = numpy.random.default_rng(seed)
    vocab = [f"{tag.lower()}{i}" for i in range(5000)]
    docs = []
    with path.open("w", encoding="utf8") as out:
        for _ in range(N_DOCS):
            words = [vocab[i] for i in rng.integers(0, len(vocab), DOC_WORDS).tolist()]
            docs.append((words, [tag] * len(words)))
            out.write(json.dumps({"tokens": words, "tags": [tag] * len(words)}) + "\n")
    return docs


@pytest.fixture(scope="module")
def convert_runs(tmp_path_factory):
    """Two corpora (A, B) of the same file name, A's complete output, how long writing B takes."""
    root = tmp_path_factory.mktemp("kill_convert")
    corpora = {}
    for label, seed in (("A", 1), ("B", 2)):
        (root / label).mkdir()
        corpora[label] = write_corpus(root / label / "corpus.jsonl", label, seed)
    run_timed(["convert", root / "A" / "corpus.jsonl", root / "first"], root / "first", "corpus.spacy")
    seconds = run_timed(["convert", root / "B" / "corpus.jsonl", root / "timing"], root / "timing", "corpus.spacy")
    return root, corpora, seconds


def corpus_label(path: Path, corpora) -> str:
    """Which complete corpus the .spacy file holds, read back with DocBin."""
    docs = list(DocBin().from_disk(path).get_docs(Vocab()))
    read = [([t.text for t in doc], [t.tag_ for t in doc]) for doc in docs]
    for label, expected in corpora.items():
        if read == expected:
            return label
    raise AssertionError(f"{path} holds {len(read)} docs, neither corpus")


@pytest.mark.parametrize("moment,previous", CASES)
def test_convert_killed_leaves_the_previous_or_the_new_corpus(convert_runs, tmp_path, moment, previous):
    root, corpora, seconds = convert_runs
    out_dir = tmp_path / "out"
    target = out_dir / "corpus.spacy"
    args = ["convert", root / "B" / "corpus.jsonl", out_dir]
    out_dir.mkdir()
    if previous:
        shutil.copy(root / "first" / "corpus.spacy", target)
        args.append("--force")
    killed = run_and_kill(args, out_dir, "corpus.spacy", moment, seconds, being_written("corpus.spacy"))
    leftovers = hidden_leftovers(out_dir, "corpus.spacy")
    assert_clearly_named(leftovers, "corpus.spacy")
    assert sorted(os.listdir(out_dir)) == sorted(leftovers + (["corpus.spacy"] if target.exists() else []))
    allowed = {"A", "B"} if previous else {"B"}
    if target.exists():
        assert corpus_label(target, corpora) in allowed
    else:
        assert not previous
    assert killed or (not leftovers and corpus_label(target, corpora) == "B")
    # the next run's first step (scratch_dir beside the first output) removes the staging a killed one left
    fileio.recover(target)
    assert os.listdir(out_dir) == (["corpus.spacy"] if target.exists() else [])
    if moment == "writing-inside-staging":  # and the next run completes normally
        with_leftover = out_dir / ".corpus.spacy.tmp-999999999-0123abcd"  # a dead writer's, should one remain
        with_leftover.mkdir()
        run_timed(["convert", root / "A" / "corpus.jsonl", out_dir, "--force"], out_dir, "corpus.spacy")
        assert os.listdir(out_dir) == ["corpus.spacy"] and corpus_label(target, corpora) == "A"
