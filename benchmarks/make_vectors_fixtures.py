"""Write the floret fixture for tests/test_vectors.py, with spaCy's vectors for some words as
the expected values (a fact about the floret format, produced by spaCy 3.8's implementation).

    .venv-bench/bin/python benchmarks/make_vectors_fixtures.py

tests/fixtures/vectors/floret_small.floret: a floret table (64 buckets x 8 dims, minn 3,
maxn 5, hash_count 2, hash_seed 2166136261, bow "<", eow ">") of seeded random values, in
floret's text export format. floret_small_expected.json: spaCy's vectors for the words below.

spacy_vectors/: what `spacy init vectors en FIRST_100_ROWS_OF_glove_small.txt OUT --prune 60
--name test_vectors` writes, minus the tokenizer and config (meta.json and vocab/: the
`vectors` .npy file, `key2row` msgpack, `vectors.cfg`, `strings.json`): a spaCy-format table
for the test that [initialize] vectors reads one.
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "vectors"
WORDS = ["apple", "Apple", "apples", "naïve", "日本語", "a", "ab", "x" * 40, "hello-world", "co-operate", "🙂"]


def main() -> None:
    import spacy

    FIXTURES.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(7)
    rows, dims = 64, 8
    table = rng.normal(0, 1, size=(rows, dims)).round(4)
    path = FIXTURES / "floret_small.floret"
    with open(path, "w", encoding="utf8") as f:
        f.write(f"{rows} {dims} 3 5 2 2166136261 < >\n")
        for i, row in enumerate(table):
            f.write(f"{i} " + " ".join(f"{x:.4f}" for x in row) + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(path), tmp, "--mode", "floret"],
                       check=True, capture_output=True)
        nlp = spacy.load(tmp)
        expected = {word: [float(x) for x in nlp.vocab.get_vector(word)] for word in WORDS}
    (FIXTURES / "floret_small_expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n",
                                                         encoding="utf8")
    write_spacy_vectors()


def write_spacy_vectors() -> None:
    glove = FIXTURES.parent.parent.parent / "sample_data" / "vectors" / "glove_small.txt"
    target = FIXTURES / "spacy_vectors"
    shutil.rmtree(target, ignore_errors=True)
    (target / "vocab").mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "g100.txt"
        source.write_text("".join(glove.read_text(encoding="utf8").splitlines(keepends=True)[:100]), encoding="utf8")
        out = Path(tmp) / "out"
        subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(source), str(out), "--prune", "60",
                        "--name", "test_vectors"], check=True, capture_output=True)
        shutil.copy(out / "meta.json", target / "meta.json")
        for name in ("vectors", "key2row", "vectors.cfg", "strings.json"):
            shutil.copy(out / "vocab" / name, target / "vocab" / name)


if __name__ == "__main__":
    main()
