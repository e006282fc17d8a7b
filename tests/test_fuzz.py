"""Fuzzing with hypothesis: the tokenizer keeps every character, and the readers (CoNLL-U,
IOB, JSONL, plain text), the DocBin reader and the config loader turn any input into
results or the documented error types (transfer_cli.errors), never anything else.

The budget is fixed and the examples derandomized, so a run is deterministic and takes
a bounded time inside `make test` (FUZZ_EXAMPLES examples per test)."""
import json
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")  # a dev dependency (pyproject's [dev] extra)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from transfer_cli.annotate import read_inputs  # noqa: E402
from transfer_cli.config.loading import load_config_from_str  # noqa: E402
from transfer_cli.errors import ConfigError, UserError  # noqa: E402
from transfer_cli.lang import create_tokenizer  # noqa: E402
from transfer_cli.tokens.doc import Doc  # noqa: E402
from transfer_cli.tokens.docbin import DocBin  # noqa: E402
from transfer_cli.tokens.span import Span  # noqa: E402
from transfer_cli.tokens.vocab import Vocab  # noqa: E402
from transfer_cli.training.readers import read_docs  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
FUZZ_EXAMPLES = 150
FUZZ = settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
TOKENIZER = create_tokenizer("en", Vocab())

# Characters that stress tokenizers: odd whitespace, combining marks, zero-width and
# bidi marks, punctuation the rules split on, letters of several scripts, emoji.
ODD_CHARS = list(" \t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
                 "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u0301\u0308\u0327\u20dd\u0651"
                 ".,;:!?'\"`-\u2013\u2014()[]{}<>/\\@#$%&*+=_~^|\u2026\u00ab\u00bb\u201c\u201d"
                 "aZ\u00e9\u00df\u0130\u0131\u03a3\u0416\u05d0\u0627\u0915\u4e2d\u3042\ud55c0917"
                 "\U0001f600\U0001f44d\U0001f3fd\U0001f1fa\U0001f1f8")
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | \
    st.text(alphabet=st.sampled_from(ODD_CHARS), max_size=80) | \
    st.lists(st.sampled_from(["don't", "U.S.", "http://a.b/c?d=e", "e-mail", "3.14", "(hi)", "...", "'s",
                              ":)", "a@b.co", "$5", "10km", "\u00a0", " ", "\n", "\u0301", "can't", "#tag"]),
             max_size=12).map("".join)


def mutated(seed: bytes) -> st.SearchStrategy:
    """`seed` with a few random bytes overwritten, deleted or inserted, or cut short."""
    edit = st.tuples(st.integers(0, max(len(seed) - 1, 0)), st.sampled_from(["set", "del", "ins", "cut"]),
                     st.integers(0, 255))

    def apply(edits) -> bytes:
        data = bytearray(seed)
        for pos, op, byte in edits:
            pos = min(pos, len(data))
            if op == "set" and pos < len(data):
                data[pos] = byte
            elif op == "del":
                del data[pos:pos + 1 + byte % 8]
            elif op == "ins":
                data[pos:pos] = bytes([byte]) * (1 + byte % 3)
            elif op == "cut":
                del data[pos:]
        return bytes(data)

    return st.lists(edit, min_size=1, max_size=6).map(apply)


def sample_head(path: Path, n_lines: int) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:n_lines])


# -- tokenizer ------------------------------------------------------------------------------------
@FUZZ
@given(TEXT)
def test_tokenizer_keeps_every_character(text):
    doc = TOKENIZER(text)
    assert "".join(token.text + token.whitespace_ for token in doc) == text
    assert doc.text == text
    assert all(token.text for token in doc)
    offsets = [token.idx for token in doc]
    assert offsets == sorted(offsets) and all(text[t.idx:t.idx + len(t.text)] == t.text for t in doc)


# -- corpus readers -------------------------------------------------------------------------------
def read_all(data: bytes, suffix: str, converter: str) -> None:
    """Read `data` as a file; anything but docs or a documented error fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            docs = list(read_docs(path, converter, Vocab(), make_doc=TOKENIZER))
        except UserError:
            return
        for doc in docs:
            assert isinstance(doc, Doc)
            doc.to_array(["ORTH", "TAG", "HEAD", "ENT_IOB"])  # the annotation is consistent enough to export


CONLLU_FIELD = st.sampled_from(["1", "2", "3", "0", "-1", "99", "1-2", "2-3", "1.1", "_", "", "x", "The", "NOUN",
                                "PROPN", "NN", "root", "nsubj", "SpaceAfter=No", "Case=Nom", "Number=Sing|Case=Nom",
                                "Foo", "=", "|", "2:nsubj", "# text = x"])
CONLLU_LINES = st.lists(st.one_of(st.lists(CONLLU_FIELD, min_size=8, max_size=11).map("\t".join),
                                  st.sampled_from(["", "# sent_id = 1", "# text = The x", "#", " "])),
                        max_size=20).map(lambda lines: "\n".join(lines).encode("utf8"))


@FUZZ
@given(CONLLU_LINES | mutated(sample_head(SAMPLES / "en_ewt" / "dev.conllu", 40)) | st.binary(max_size=200))
def test_conllu_reader_gives_docs_or_documented_errors(data):
    read_all(data, ".conllu", "conllu")


IOB_TOKEN = st.sampled_from(["-DOCSTART-", "EU", "rejects", "German", ".", "O", "B-ORG", "I-ORG", "B-MISC", "I-PER",
                             "L-LOC", "U-LOC", "B-", "I-", "X", "NNP", "B-NP", "I-NP", "|", "-X-", "\t"])
IOB_LINES = st.lists(st.one_of(st.lists(IOB_TOKEN, min_size=1, max_size=4).map(" ".join),
                               st.lists(st.lists(IOB_TOKEN, min_size=1, max_size=3).map("|".join),
                                        min_size=1, max_size=5).map(" ".join),
                               st.just("")), max_size=20).map(lambda lines: "\n".join(lines).encode("utf8"))
IOB_SEED = (b"-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n"
            b"call NN I-NP O\n. . O O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")


@FUZZ
@given(IOB_LINES | mutated(IOB_SEED) | st.binary(max_size=200))
def test_iob_reader_gives_docs_or_documented_errors(data):
    read_all(data, ".iob", "iob")


JSON_SCALAR = st.none() | st.booleans() | st.integers(-3, 40) | st.integers() | st.floats(allow_nan=True) | \
    st.sampled_from(["", "a", "B-ORG", "O", "I-PER", "U-LOC", "pos", "The cat sat.", " "]) | st.text(max_size=8)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=5)
                          | st.dictionaries(st.sampled_from(["text", "start", "end", "label", "ws", "a"]), inner,
                                            max_size=3), max_leaves=12)
JSONL_KEYS = st.sampled_from(["text", "tokens", "tags", "spaces", "entities", "spans", "label", "cats", "meta"])
JSONL_RECORD = st.dictionaries(JSONL_KEYS, JSON_VALUE, max_size=5)
JSONL_LINES = st.lists(JSONL_RECORD.map(lambda r: json.dumps(r, ensure_ascii=False)) | JSON_VALUE.map(json.dumps)
                       | st.sampled_from(["", "{", "[]", "\ufeff{}"]), max_size=6) \
    .map(lambda lines: "\n".join(lines).encode("utf8", errors="surrogatepass"))
JSONL_SEED = sample_head(SAMPLES / "ner" / "train.jsonl", 3)


@FUZZ
@given(JSONL_LINES | mutated(JSONL_SEED) | st.binary(max_size=200))
def test_jsonl_reader_gives_docs_or_documented_errors(data):
    read_all(data, ".jsonl", "jsonl")


@FUZZ
@given(st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf8")) | JSONL_LINES,
       st.sampled_from([".txt", ".jsonl"]))
def test_apply_text_inputs_give_texts_or_documented_errors(data, suffix):
    """The plain text and JSONL inputs of `apply` (read_inputs)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            texts = list(read_inputs(None, path, "text"))
        except UserError:
            return
        assert all(isinstance(text, str) for text in texts)


# -- DocBin reader --------------------------------------------------------------------------------
def small_docbin() -> bytes:
    vocab = Vocab()
    docs = [Doc(vocab, words=["Peter", "lives", "in", "Berlin", "."], tags=["NNP", "VBZ", "IN", "NNP", "."],
                pos=["PROPN", "VERB", "ADP", "PROPN", "PUNCT"], heads=[1, 1, 3, 1, 1],
                deps=["nsubj", "ROOT", "case", "obl", "punct"], morphs=["Number=Sing", "", "", "Number=Sing", ""],
                lemmas=["Peter", "live", "in", "Berlin", "."], ents=["U-PER", "O", "O", "U-LOC", "O"]),
            Doc(vocab, words=["Hi", "!"], spaces=[False, False])]
    docs[0].cats = {"greeting": 0.0, "news": 1.0}
    docs[1].spans["sc"] = [Span(docs[1], 0, 1, label="GREET")]
    return DocBin(docs=docs, store_user_data=True).to_bytes()


DOCBIN_SEED = small_docbin()


@FUZZ
@given(mutated(DOCBIN_SEED) | st.binary(max_size=300))
def test_docbin_reader_gives_docs_or_documented_errors(data):
    try:
        docs = list(DocBin().from_bytes(data).get_docs(Vocab()))
    except UserError:
        return
    for doc in docs:
        assert isinstance(doc, Doc)


# -- config loader --------------------------------------------------------------------------------
CONFIG_SEED = b"""[paths]
train = "corpus/train.spacy"
dev = null

[system]
seed = 0

[nlp]
lang = "en"
pipeline = ["tok2vec","tagger"]
batch_size = 1000

[components]

[components.tagger]
factory = "tagger"

[components.tagger.model]
@architectures = "spacy.Tagger.v2"
nO = null

[training]
dev_corpus = "corpora.dev"
max_steps = ${system.seed}
train = ${paths.train}
"""
CONFIG_PIECES = st.sampled_from(["[", "]", "[a]", "[a.b]", "[a.b.c]", "x = 1", "x = ${a.x}", "${", "}", "=", "\n",
                                 "y = [1, 2", "z = {\"k\": 1}", "@architectures = \"x\"", "w = \"str", "v = null",
                                 "u = 1e400", "t = ${a.b.c.x}", "  indented = 1", ";", "#", "%", "\\", "\t"])


@FUZZ
@given(mutated(CONFIG_SEED) | st.lists(CONFIG_PIECES, max_size=25).map(lambda p: "".join(p).encode("utf8"))
       | st.binary(max_size=200))
def test_config_loader_gives_config_or_config_error(data):
    text = data.decode("utf8", errors="replace")
    try:
        load_config_from_str(text, interpolate=True)
    except ConfigError:
        pass
