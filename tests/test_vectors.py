"""Static vectors: the Vectors table, init-vectors (formats, truncate, prune, floret, bad
input), the vectors of tokens/spans/docs/lexemes, and loading tables into pipelines."""
import bz2
import ctypes
import gzip
import json
import random
import struct
import zipfile
from pathlib import Path

import numpy
import pytest
import srsly
from conftest import ROOT, cli

import transfer_cli
from transfer_cli.errors import ConfigError, DataError, PipelineError, UserError
from transfer_cli.pipeline.vectors import load_vectors
from transfer_cli.tokens import Doc
from transfer_cli.tokens.strings import hash_string
from transfer_cli.tokens.vectors import Vectors
from transfer_cli.tokens.vectors.hashing import hash_strings, murmurhash3_parts
from transfer_cli.tokens.vectors.parse import parse_floats, tokenize
from transfer_cli.training.init_vectors import init_vectors

GLOVE = ROOT / "sample_data" / "vectors" / "glove_small.txt"
FIXTURES = ROOT / "tests" / "fixtures" / "vectors"


def reference_table(path: Path):
    """words and float32 rows of a GloVe-style text file, parsed the plain way."""
    words, rows = [], []
    for line in path.read_text(encoding="utf8").splitlines():
        fields = line.split()
        words.append(fields[0])
        rows.append([numpy.float32(float(x)) for x in fields[1:]])
    return words, numpy.array(rows, dtype=numpy.float32)


GLOVE_WORDS, GLOVE_DATA = reference_table(GLOVE)


def write_table(path: Path, words, data, header=False, sep=" ", newline="\n", trailing=""):
    lines = [f"{len(words)} {data.shape[1]}"] if header else []
    lines += [w + sep + sep.join(repr(float(x)) for x in row) + trailing for w, row in zip(words, data)]
    path.write_bytes((newline.join(lines) + newline).encode("utf8"))
    return path


def table_of(output: Path) -> Vectors:
    return Vectors().from_disk(output / "vocab" / "vectors")


def assert_no_leftovers(parent: Path, name: str):
    assert not (parent / name).exists()
    assert not [p for p in parent.iterdir() if p.name.startswith(f".{name}.")]


# -- hashing and number parsing -------------------------------------------------------------------
def test_batched_key_hashes_equal_the_string_store_hash():
    rng = random.Random(0)
    words = ["".join(rng.choice("ab<>é日🙂-") for _ in range(rng.randint(1, 40))) for _ in range(500)]
    words += ["x" * 300, "the", "The"]
    assert hash_strings(words).tolist() == [hash_string(w) for w in words]


def _c_murmurhash3():
    """The murmurhash package's C MurmurHash3_x64_128, as a reference."""
    import murmurhash.mrmr as mrmr

    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    pointer = get(mrmr.__pyx_capi__["hash128_x64"], b"void (void const *, int, uint32_t, void *)")
    func = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)(pointer)

    def hash128(data: bytes, seed: int):
        out = (ctypes.c_uint64 * 2)()
        func(data, len(data), seed, ctypes.addressof(out))
        return out[0], out[1]

    return hash128


def test_batched_murmurhash3_equals_the_c_implementation():
    reference = _c_murmurhash3()
    rng = random.Random(1)
    grams = [("".join(rng.choice("<ab>é日") for _ in range(rng.randint(0, 50)))).encode() for _ in range(300)]
    for seed in (0, 2166136261):
        parts = murmurhash3_parts(grams, seed)
        for gram, row in zip(grams, parts.tolist()):
            h1, h2 = reference(gram, seed)
            assert row == [h1 & 0xFFFFFFFF, h1 >> 32, h2 & 0xFFFFFFFF, h2 >> 32]


def test_vectorized_number_parsing_equals_float():
    rng = random.Random(2)
    tokens = []
    for _ in range(20000):
        x = rng.uniform(-10, 10) * 10 ** rng.randint(-9, 9)
        tokens.append(rng.choice([repr(x), f"{x:.{rng.randint(0, 10)}f}", f"{x:.{rng.randint(0, 12)}e}",
                                  str(numpy.float32(x)), str(rng.randint(-999, 999))]))
    odd = ["+5", ".5", "5.", "-.5e-3", "1E+03", "-0.0", "1e-400", "123456789012345678", "0." + "0" * 30 + "1"]
    bad = ["nan", "inf", "-", "1e", "e5", "1.2.3", "--1", "0x10", "abc", "1e400", "1.5e3.2"]
    tokens += odd + bad
    buf = numpy.frombuffer(" \n".join(tokens).encode(), dtype=numpy.uint8)
    starts, ends = tokenize(buf)
    values, failed = parse_floats(buf, starts, ends)
    assert sorted(tokens[i] for i in failed.tolist()) == sorted(bad)
    for i, token in enumerate(tokens[:-len(bad)]):
        expected = float(token)
        assert values[i] == expected and numpy.signbit(values[i]) == numpy.signbit(expected), token


# -- the Vectors table ----------------------------------------------------------------------------
def test_vectors_keys_rows_and_batches():
    data = numpy.arange(12, dtype=numpy.float32).reshape(4, 3)
    table = Vectors(data=data, keys=["a", "b", "c", "d"], name="t")
    assert table.shape == (4, 3) and table.n_keys == 4 and "c" in table and "z" not in table
    assert table["c"].tolist() == [6, 7, 8]
    assert table.find(keys=["d", "z", "a"]).tolist() == [3, -1, 0]
    batch = table.get_batch(["b", "zz"])
    assert batch.tolist() == [[3, 4, 5], [0, 0, 0]]
    table.add("b2", row=1)  # several keys may share a row
    assert table.find(key="b2") == 1 and table.n_keys == 5
    row = table.add("e", vector=numpy.ones(3))
    assert row == 4 and table.shape == (5, 3) and table["e"].tolist() == [1, 1, 1]
    table["a"] = numpy.full(3, 9.0)
    assert table.get_batch(["a"]).tolist() == [[9, 9, 9]]
    with pytest.raises(ValueError, match="width"):
        table.add("f", vector=numpy.ones(4))
    with pytest.raises(KeyError):
        table["nope"]


def test_most_similar_is_batched_cosine_and_returns_the_rows_own_keys():
    data = numpy.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=numpy.float32)
    table = Vectors(data=data, keys=["x", "y", "xy", "neg"])
    table.add("also_x", row=0)  # shares row 0; row 0 still reports its own key "x"
    keys, rows, scores = table.most_similar(numpy.array([[2, 0.1], [-1, -0.1]], dtype=numpy.float32), n=2)
    assert rows.tolist() == [[0, 2], [3, 1]]
    assert keys[0].tolist() == [hash_string("x"), hash_string("xy")]
    assert scores[0, 0] == pytest.approx(2 / numpy.hypot(2, 0.1), abs=1e-6)
    by_word, _, _ = table.most_similar(["y"], n=1)
    assert by_word.tolist() == [[hash_string("y")]]


def test_vectors_to_disk_from_disk_round_trip_is_exact_and_memory_mapped(tmp_path):
    rng = numpy.random.default_rng(0)
    table = Vectors(data=rng.normal(size=(50, 7)).astype(numpy.float32), keys=[f"w{i}" for i in range(50)],
                    name="rt", attr="LOWER")
    table.add("alias", row=3)
    table.to_disk(tmp_path / "v")
    loaded = Vectors().from_disk(tmp_path / "v")
    assert isinstance(loaded.data, numpy.memmap)
    assert numpy.array_equal(loaded.data, table.data) and loaded.info() == table.info()
    assert loaded.key2row == table.key2row and loaded.row_keys().tolist() == table.row_keys().tolist()
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "v").iterdir())
    loaded.add("new", vector=numpy.ones(7))  # a memory-mapped table is copied on first change
    assert loaded.shape == (51, 7) and numpy.array_equal(Vectors().from_disk(tmp_path / "v").data, table.data)
    loaded.to_disk(tmp_path / "v2")
    assert Vectors().from_disk(tmp_path / "v2")["new"].tolist() == [1.0] * 7


def test_from_disk_rejects_inconsistent_or_missing_tables(tmp_path):
    with pytest.raises(UserError, match="not a vectors directory"):
        Vectors().from_disk(tmp_path)
    Vectors(data=numpy.ones((3, 2), dtype=numpy.float32), keys=["a", "b", "c"]).to_disk(tmp_path / "v")
    numpy.save(tmp_path / "v" / "rows.npy", numpy.array([0, 1, 7]))
    with pytest.raises(DataError, match="inconsistent"):
        Vectors().from_disk(tmp_path / "v")


# -- init-vectors -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def glove_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("glove") / "vec"
    code, output = cli("init-vectors", "en", GLOVE, out)
    assert code == 0, output
    assert "Converted 700 vectors of 50 dimensions" in output
    return out


def test_init_vectors_writes_a_loadable_pipeline_with_the_exact_table(glove_dir):
    table = table_of(glove_dir)
    assert table.shape == (700, 50) and table.n_keys == 700 and table.name == "glove_small"
    assert numpy.array_equal(table.get_batch(GLOVE_WORDS), GLOVE_DATA)
    nlp = transfer_cli.load(glove_dir)
    assert nlp.meta["vectors"]["name"] == "glove_small" and nlp.meta["vectors"]["width"] == 50
    keys, _, scores = nlp.vocab.vectors.most_similar(["president", "year"], n=4)
    neighbours = [[nlp.vocab.strings[int(k)] for k in row] for row in keys]
    assert neighbours[0][0] == "president" and scores[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert "month" in neighbours[1] or "last" in neighbours[1]


@pytest.mark.parametrize("variant", ["header", "crlf_trailing_space", "gz", "bz2", "zip", "tabs"])
def test_text_variants_give_the_same_table(tmp_path, glove_dir, variant):
    words, data = GLOVE_WORDS[:200], GLOVE_DATA[:200]
    if variant == "header":
        path = write_table(tmp_path / "v.vec", words, data, header=True)
    elif variant == "crlf_trailing_space":
        path = write_table(tmp_path / "v.vec", words, data, header=True, newline="\r\n", trailing=" ")
    elif variant == "tabs":
        path = write_table(tmp_path / "v.txt", words, data, sep="\t")
    else:
        text = write_table(tmp_path / "plain.txt", words, data).read_bytes()
        if variant == "gz":
            path = tmp_path / "v.txt.gz"
            path.write_bytes(gzip.compress(text))
        elif variant == "bz2":
            path = tmp_path / "v.txt.bz2"
            path.write_bytes(bz2.compress(text))
        else:
            path = tmp_path / "v.zip"
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr("inner/vectors.txt", text)
    init_vectors("en", path, tmp_path / "out")
    table = table_of(tmp_path / "out")
    assert table.shape == (200, 50) and numpy.array_equal(table.get_batch(words), data)


def test_word2vec_binary(tmp_path):
    words, data = GLOVE_WORDS[:30] + ["naïve"], numpy.vstack([GLOVE_DATA[:30], GLOVE_DATA[:1] * 2])
    body = b"".join(w.encode() + b" " + struct.pack(f"<{data.shape[1]}f", *row) + b"\n" for w, row in zip(words, data))
    path = tmp_path / "w2v.bin"
    path.write_bytes(f"{len(words)} {data.shape[1]}\n".encode() + body)
    init_vectors("en", path, tmp_path / "out")
    assert numpy.array_equal(table_of(tmp_path / "out").get_batch(words), data)
    path.write_bytes(f"{len(words)} {data.shape[1]}\n".encode() + body[:-100])
    with pytest.raises(DataError, match="ends inside a row"):
        init_vectors("en", path, tmp_path / "out2")
    path.write_bytes(struct.pack("<i", 793712314) + b"\x00" * 64)
    with pytest.raises(DataError, match="fastText model"):
        init_vectors("en", path, tmp_path / "out3")


def test_a_word_with_spaces_and_blank_lines(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 1 2 3\n\n. . . 4 5 6\nnew york 7 8 9\n", encoding="utf8")
    init_vectors("en", path, tmp_path / "out")
    table = table_of(tmp_path / "out")
    assert table.get_batch(["the", ". . .", "new york"]).tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_truncate_reads_only_the_first_rows(tmp_path):
    code, output = cli("init-vectors", "en", GLOVE, tmp_path / "out", "--truncate", 100)
    assert code == 0 and "(truncated)" in output, output
    table = table_of(tmp_path / "out")
    assert table.shape == (100, 50) and numpy.array_equal(table.data, GLOVE_DATA[:100])


def test_prune_keeps_the_first_rows_and_maps_the_rest_to_their_nearest(tmp_path):
    code, output = cli("init-vectors", "en", GLOVE, tmp_path / "out", "--prune", 100)
    assert code == 0 and "Pruned to 100 rows: 600 words" in output, output
    table = table_of(tmp_path / "out")
    assert table.shape == (100, 50) and table.n_keys == 700
    assert numpy.array_equal(table.data, GLOVE_DATA[:100])
    kept = GLOVE_DATA[:100] / numpy.linalg.norm(GLOVE_DATA[:100], axis=1, keepdims=True)
    expected = [int(numpy.argmax(kept @ row)) for row in GLOVE_DATA[100:]]  # brute force, per word
    assert table.find(keys=GLOVE_WORDS[100:]).tolist() == expected
    assert table.find(keys=GLOVE_WORDS[:100]).tolist() == list(range(100))
    nlp = transfer_cli.load(tmp_path / "out")
    assert nlp.vocab.strings[int(table.row_keys()[table.find(key=GLOVE_WORDS[150])])] == GLOVE_WORDS[expected[50]]


def test_floret_table_matches_spacys_vectors(tmp_path):
    code, output = cli("init-vectors", "en", FIXTURES / "floret_small.floret", tmp_path / "out", "--mode", "floret")
    assert code == 0 and "floret table of 64 x 8" in output, output
    nlp = transfer_cli.load(tmp_path / "out")
    assert nlp.vocab.vectors.mode == "floret"
    expected = json.loads((FIXTURES / "floret_small_expected.json").read_text(encoding="utf8"))
    for word, vector in expected.items():
        assert numpy.allclose(nlp.vocab.get_vector(word), vector, atol=1e-6), word
    doc = nlp("apple naïve zzzq")
    assert all(t.has_vector for t in doc)  # every word gets a vector
    assert numpy.allclose(doc[1].vector, expected["naïve"], atol=1e-6)
    code, output = cli("init-vectors", "en", FIXTURES / "floret_small.floret", tmp_path / "o2", "--mode", "floret",
                       "--prune", 10)
    assert code == 1 and "--prune cannot be used with --mode floret" in output
    code, output = cli("init-vectors", "en", FIXTURES / "floret_small.floret", tmp_path / "o3")
    assert code == 1 and "looks like a floret header" in output and "--mode floret" in output


@pytest.mark.parametrize("content, message, line", [
    ("a 1 2 3\nb 1 2\nc 1 2 3\n", "the row has 2 values, expected 3", 2),
    ("3 3\na 1 2 3\nb 1 2 3 4\nc 1 2 3\n", "the row has 4 values, expected 3", 3),
    ("a 1 2 3\nb 1 x 3\n", "value 2 of the row is 'x', not a finite number", 2),
    ("a 1 2 3\nb 1 nan 3\n", "not a finite number", 2),
    ("", "the file is empty", None),
    ("5 3\n", "no vectors found after the header line", None),
])
def test_bad_input_names_the_line_and_leaves_nothing(tmp_path, content, message, line):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf8")
    code, output = cli("init-vectors", "en", path, tmp_path / "out")
    assert code == 1, output
    assert message in output and (line is None or f"bad.txt:{line}" in output), output
    assert "Traceback" not in output
    assert_no_leftovers(tmp_path, "out")


def test_bad_input_in_a_later_chunk_keeps_an_existing_output(tmp_path, monkeypatch):
    from transfer_cli.tokens.vectors import loaders

    monkeypatch.setattr(loaders, "CHUNK_BYTES", 64)
    path = tmp_path / "v.txt"
    lines = [f"w{i} 1 2 3" for i in range(40)] + ["oops 1 2", "z 1 2 3"]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    good = tmp_path / "good.txt"
    good.write_text("old 1 2 3\n", encoding="utf8")
    init_vectors("en", good, tmp_path / "out")  # an earlier output: replaceable, but only by a complete one
    before = (tmp_path / "out" / "vocab" / "strings.json").read_bytes()
    with pytest.raises(DataError, match="v.txt:41") as info:
        init_vectors("en", path, tmp_path / "out")
    assert "the row has 2 values" in str(info.value)
    assert (tmp_path / "out" / "vocab" / "strings.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_duplicates_keep_the_first_row_and_are_reported(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\n", encoding="utf8")
    code, output = cli("init-vectors", "en", path, tmp_path / "out")
    assert code == 0, output
    assert "Skipped 2 duplicate word(s)" in output and "'a' (line 3)" in output and "'b' (line 5)" in output
    table = table_of(tmp_path / "out")
    assert table.shape == (3, 2) and table.get_batch(["a", "b", "c"]).tolist() == [[1, 1], [2, 2], [4, 4]]


def test_wrong_mode_and_missing_file(tmp_path):
    code, output = cli("init-vectors", "en", GLOVE, tmp_path / "out", "--mode", "fasttext")
    assert code == 1 and "--mode must be 'default' or 'floret', got 'fasttext'" in output
    code, output = cli("init-vectors", "en", tmp_path / "missing.txt", tmp_path / "out")
    assert code == 1 and "vectors file not found" in output
    assert_no_leftovers(tmp_path, "out")


# -- vectors of tokens, spans, docs, lexemes ------------------------------------------------------------
def test_token_span_doc_lexeme_vectors_and_similarity(glove_dir):
    nlp = transfer_cli.load(glove_dir)
    doc = nlp("the president said zzyzx")
    vectors = {w: GLOVE_DATA[GLOVE_WORDS.index(w)] for w in ("the", "president", "said")}
    assert numpy.array_equal(doc[1].vector, vectors["president"])
    assert [t.has_vector for t in doc] == [True, True, True, False]
    assert not doc[3].vector.any() and doc[3].vector_norm == 0.0 and doc[3].similarity(doc[1]) == 0.0
    expected_mean = (vectors["the"] + vectors["president"] + vectors["said"]) / 4
    assert numpy.allclose(doc.vector, expected_mean, atol=1e-6)
    assert numpy.allclose(doc[1:3].vector, (vectors["president"] + vectors["said"]) / 2, atol=1e-6)
    assert doc.has_vector and not doc[3:].has_vector
    assert doc[1].vector_norm == pytest.approx(float(numpy.linalg.norm(vectors["president"])), rel=1e-6)
    u, v = vectors["president"].astype(float), vectors["said"].astype(float)
    assert doc[1].similarity(doc[2]) == pytest.approx(u @ v / numpy.linalg.norm(u) / numpy.linalg.norm(v))
    assert doc.similarity(doc) == pytest.approx(1.0)
    lexeme = nlp.vocab["president"]
    assert lexeme.has_vector and numpy.array_equal(lexeme.vector, vectors["president"])
    assert lexeme.similarity(doc[1]) == pytest.approx(1.0)
    doc.tensor = numpy.ones((4, 5), dtype=numpy.float32)  # the tensor plays no part
    assert numpy.allclose(doc.vector, expected_mean, atol=1e-6)


def test_vocab_get_set_has_vector():
    nlp = transfer_cli.blank("en")
    assert nlp.vocab.vectors.shape == (0, 0) and not nlp.vocab.has_vector("cat")
    nlp.vocab.set_vector("cat", numpy.array([1.0, 0.0]))
    nlp.vocab.set_vector("dog", numpy.array([0.8, 0.6]))
    assert nlp.vocab.has_vector("cat") and nlp.vocab.get_vector("fish").tolist() == [0.0, 0.0]
    doc = Doc(nlp.vocab, words=["cat", "dog"])
    assert doc[0].similarity(doc[1]) == pytest.approx(0.8)
    keys, _, _ = nlp.vocab.vectors.most_similar(numpy.array([[0.7, 0.7]]), n=1)
    assert nlp.vocab.strings[int(keys[0, 0])] == "dog"


def test_lower_keyed_table_looks_tokens_up_by_lowercase(tmp_path):
    path = write_table(tmp_path / "v.txt", ["apple"], numpy.array([[1.0, 2.0]], dtype=numpy.float32))
    code, output = cli("init-vectors", "en", path, tmp_path / "out", "--attr", "LOWER")
    assert code == 0, output
    nlp = transfer_cli.load(tmp_path / "out")
    assert nlp("Apple")[0].vector.tolist() == [1.0, 2.0] and nlp.vocab["APPLE"].has_vector


# -- loading tables into pipelines ----------------------------------------------------------------------
def test_load_vectors_into_a_pipeline_and_save_it(glove_dir, tmp_path):
    nlp = transfer_cli.blank("en")
    table = load_vectors(nlp, glove_dir)
    assert nlp.vocab.vectors is table and "president" in nlp.vocab.strings
    assert nlp.meta["vectors"]["vectors"] == 700
    with pytest.raises(ConfigError, match="vectors directory not found"):
        load_vectors(nlp, tmp_path / "nope")
    with pytest.raises(UserError, match="not a vectors directory"):
        load_vectors(nlp, tmp_path)


def test_a_pipeline_whose_vectors_differ_from_its_meta_is_rejected(glove_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(glove_dir, copy)
    meta = srsly.read_json(copy / "meta.json")
    meta["vectors"]["name"] = "other_vectors"
    srsly.write_json(copy / "meta.json", meta)
    with pytest.raises(PipelineError, match="not the ones the pipeline was trained with"):
        transfer_cli.load(copy)


def test_a_table_spacy_wrote_can_be_loaded_as_initialize_vectors():
    nlp = transfer_cli.blank("en")
    table = load_vectors(nlp, FIXTURES / "spacy_vectors")  # spacy init vectors ... --prune 60
    assert table.name == "test_vectors" and table.shape == (60, 50) and table.n_keys == 100
    assert numpy.array_equal(table.data, GLOVE_DATA[:60])
    kept = GLOVE_DATA[:60] / numpy.linalg.norm(GLOVE_DATA[:60], axis=1, keepdims=True)
    assert table.find(keys=GLOVE_WORDS[60:100]).tolist() == [int(numpy.argmax(kept @ r)) for r in GLOVE_DATA[60:100]]
    keys, _, _ = table.most_similar([GLOVE_WORDS[70]], n=1)
    assert nlp.vocab.strings[int(keys[0, 0])] in GLOVE_WORDS[:60]


def test_saving_a_pipeline_records_the_table_it_holds(glove_dir, tmp_path):
    nlp = transfer_cli.load(glove_dir)
    nlp.vocab.vectors = Vectors(data=numpy.ones((3, 50), dtype=numpy.float32), keys=["a", "b", "c"], name="mine")
    nlp.to_disk(tmp_path / "p")
    again = transfer_cli.load(tmp_path / "p")
    assert again.vocab.vectors.name == "mine" and again.vocab.vectors.shape == (3, 50)
    assert again.meta["vectors"]["name"] == "mine" and again.vocab.get_vector("b").tolist() == [1.0] * 50


def test_many_small_chunks_give_the_same_table_and_truncate_stops_early(tmp_path, monkeypatch):
    from transfer_cli.tokens.vectors import loaders

    monkeypatch.setattr(loaders, "CHUNK_BYTES", 4096)  # ~10 lines a chunk, parsed by the thread pool
    init_vectors("en", GLOVE, tmp_path / "all")
    assert numpy.array_equal(table_of(tmp_path / "all").get_batch(GLOVE_WORDS), GLOVE_DATA)
    init_vectors("en", GLOVE, tmp_path / "some", truncate=333)
    assert numpy.array_equal(table_of(tmp_path / "some").data, GLOVE_DATA[:333])
