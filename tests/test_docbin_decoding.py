"""DocBin.get_docs builds Docs a chunk at a time from prepared columns: the Docs must be
exactly those the straightforward route (Doc(words, spaces) + from_array per doc) builds,
and bad values must still be refused naming the doc."""
import zlib
from pathlib import Path
from typing import List

import numpy
import pytest
import srsly

from transfer_cli.errors import DataError
from transfer_cli.tokens import Doc, Span, Vocab
from transfer_cli.tokens import attrs as A
from transfer_cli.tokens import docbin as docbin_module
from transfer_cli.tokens import lex_attrs
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.readers import read_conllu

ROOT = Path(__file__).parent.parent
SPACY_FILE = ROOT / "tests" / "fixtures" / "spacy_docbin.spacy"
SETTABLE = [A.TAG, A.POS, A.MORPH, A.LEMMA, A.DEP, A.HEAD, A.SENT_START, A.ENT_IOB, A.ENT_TYPE, A.ENT_KB_ID,
            A.ENT_ID]


def reference_docs(doc_bin: DocBin, vocab: Vocab) -> List[Doc]:
    """The Docs built one by one through the public constructor and from_array."""
    lookup = {vocab.strings.add(s): s for s in list(doc_bin.strings) + list(doc_bin._symbol_strings)}
    set_cols = [j for j, attr in enumerate(doc_bin.attrs) if attr in SETTABLE]
    docs = []
    for i, tokens in enumerate(doc_bin.tokens):
        words = [lookup[v] for v in tokens[:, 0].tolist()]
        unknown = doc_bin.flags[i].get("has_unknown_spaces")
        doc = Doc(vocab, words=words, spaces=None if unknown else doc_bin.spaces[i].reshape(-1).tolist())
        doc.from_array([doc_bin.attrs[j] for j in set_cols], tokens[:, set_cols])
        doc.cats = dict(doc_bin.cats[i])
        DocBin._span_groups_from_bytes(doc, doc_bin.span_groups[i])
        if doc_bin.user_data[i] is not None:
            doc.user_data.update(srsly.msgpack_loads(doc_bin.user_data[i], use_list=False))
        docs.append(doc)
    return docs


def assert_same_docs(got: List[Doc], expected: List[Doc]) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.words == b.words and a.spaces == b.spaces
        assert all(type(s) is bool for s in a.spaces)
        assert a.cols.dtype == b.cols.dtype and numpy.array_equal(a.cols, b.cols)
        assert a.cols.flags.writeable and a.cols.flags.c_contiguous and a.cols.base is None
        assert a.cats == b.cats and a.user_data == b.user_data
        assert a.tensor.shape == b.tensor.shape
        assert {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in a.spans.items()} == \
               {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in b.spans.items()}
        assert sorted(vars(a)) == sorted(vars(b))
        assert a.text == b.text and [e.label_ for e in a.ents] == [e.label_ for e in b.ents]


def rich_doc(vocab: Vocab, words: List[str]) -> Doc:
    n = len(words)
    doc = Doc(vocab, words=words, spaces=[i % 3 != 2 for i in range(n)],
              tags=["NN" if i % 2 else "VB" for i in range(n)], pos=["NOUN" if i % 2 else "VERB" for i in range(n)],
              morphs=["Number=Sing" if i % 2 else "" for i in range(n)], lemmas=[w.lower() for w in words],
              heads=[0] * n, deps=["ROOT"] + ["dep"] * (n - 1), sent_starts=[True] + [False] * (n - 1),
              ents=["U-PERSON"] + ["O"] * (n - 1))
    doc.cats = {"a": 1.0, "b": 0.25}
    doc.spans["sc"] = [Span(doc, 0, 1, label="ONE", kb_id="Q1")]
    doc.user_data["note"] = "kept"
    doc.user_data[("a", 1)] = [1, 2]
    return doc


@pytest.mark.parametrize("chunk_tokens", [1, 5, 16384])
def test_spacy_written_file_matches_reference(monkeypatch, chunk_tokens):
    monkeypatch.setattr(docbin_module, "_CHUNK_TOKENS", chunk_tokens)
    doc_bin = DocBin().from_disk(SPACY_FILE)
    assert_same_docs(list(doc_bin.get_docs(Vocab())), reference_docs(doc_bin, Vocab()))


@pytest.mark.parametrize("chunk_tokens", [1, 7, 16384])
def test_sample_corpus_and_every_annotation_match_reference(monkeypatch, chunk_tokens):
    monkeypatch.setattr(docbin_module, "_CHUNK_TOKENS", chunk_tokens)
    vocab = Vocab()
    docs = list(read_conllu(ROOT / "sample_data" / "en_ewt" / "dev.conllu", vocab))[:60]
    docs += [rich_doc(vocab, ["Anna", "saw", "the", "ＣＡＴ", "naïvely", "…", "2nd"]), Doc(vocab),
             rich_doc(vocab, ["one"])]
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    msg = srsly.msgpack_loads(zlib.decompress(data))
    msg["flags"][1] = {"has_unknown_spaces": True}  # spaces not recorded for one doc
    doc_bin = DocBin().from_bytes(zlib.compress(srsly.msgpack_dumps(msg)))
    got = list(doc_bin.get_docs(Vocab()))
    assert_same_docs(got, reference_docs(doc_bin, Vocab()))
    assert got[1].spaces == [True] * len(got[1]) and len(got[-2]) == 0
    assert got[-3].user_data == {"note": "kept", ("a", 1): (1, 2)} and got[-3].spans["sc"][0].kb_id_ == "Q1"
    # the words of the corpus, in order, with their lexical attributes
    assert [d.words for d in got[:60]] == [d.words for d in docs[:60]]
    assert [t.shape_ for t in got[-3]] == [t.shape_ for t in docs[-3]]


def _bytes_with(doc_bins_docs: List[Doc], column: int, doc: int, token: int, value: int) -> bytes:
    msg = srsly.msgpack_loads(zlib.decompress(DocBin(docs=doc_bins_docs).to_bytes()))
    tokens = numpy.frombuffer(msg["tokens"], dtype="uint64").reshape((-1, len(msg["attrs"]))).copy()
    lengths = numpy.frombuffer(msg["lengths"], dtype="int32")
    tokens[int(lengths[:doc].sum()) + token, msg["attrs"].index(column)] = value
    msg["tokens"] = tokens.tobytes()
    return zlib.compress(srsly.msgpack_dumps(msg))


@pytest.mark.parametrize("column, value, message", [
    (A.HEAD, 5, "doc 2: a HEAD points outside the doc (3 tokens)"),
    (A.HEAD, numpy.array(-2, dtype="int64").view("uint64"), "doc 2: a HEAD points outside the doc"),
    (A.ENT_IOB, 4, "doc 2: ENT_IOB values must be 0..3"),
    (A.SENT_START, 2, "doc 2: SENT_START values must be -1, 0 or 1"),
])
def test_bad_values_name_their_doc_in_any_chunk(monkeypatch, column, value, message):
    vocab = Vocab()
    docs = [Doc(vocab, words=["a", "b", "c"], heads=[0, 0, 0], ents=["O"] * 3) for _ in range(4)]
    for chunk_tokens in (1, 16384):
        monkeypatch.setattr(docbin_module, "_CHUNK_TOKENS", chunk_tokens)
        doc_bin = DocBin().from_bytes(_bytes_with(docs, column, 2, 1, int(value)))
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            list(doc_bin.get_docs(Vocab()))


def test_word_without_string_and_empty_word_are_refused():
    vocab = Vocab()
    docs = [Doc(vocab, words=["a", "b"]), Doc(vocab, words=["c", "d"])]
    msg = srsly.msgpack_loads(zlib.decompress(DocBin(docs=docs).to_bytes()))
    doc_bin = DocBin().from_bytes(zlib.compress(srsly.msgpack_dumps(msg)))
    doc_bin.strings.discard("d")  # (from_bytes checks the other columns; ORTH is checked reading)
    with pytest.raises(DataError, match=r"doc 1: a word's hash \(\d+\) is not in the file's string table"):
        list(doc_bin.get_docs(Vocab()))
    doc_bin = DocBin().from_bytes(zlib.compress(srsly.msgpack_dumps(msg)))
    doc_bin.tokens[1][0, 0] = 0
    doc_bin.strings.add("")
    with pytest.raises(DataError, match="doc 1: a word is the empty string"):
        list(doc_bin.get_docs(Vocab()))


def _reference_shape(text: str) -> str:
    if len(text) >= 100:
        return "LONG"
    shape, last, run = [], "", 0
    for char in text:
        shape_char = ("X" if char.isupper() else "x") if char.isalpha() else "d" if char.isdigit() else char
        run = run + 1 if shape_char == last else 0
        last = shape_char
        if run < 4:
            shape.append(shape_char)
    return "".join(shape)


def _reference_flags(text: str, stop_words, overrides) -> int:
    import unicodedata

    checks = {
        A.IS_ALPHA: str.isalpha, A.IS_ASCII: lambda t: all(ord(c) < 128 for c in t), A.IS_DIGIT: str.isdigit,
        A.IS_LOWER: str.islower, A.IS_SPACE: str.isspace, A.IS_TITLE: str.istitle, A.IS_UPPER: str.isupper,
        A.IS_PUNCT: lambda t: bool(t) and all(unicodedata.category(c).startswith("P") for c in t),
        A.IS_CURRENCY: lambda t: bool(t) and all(unicodedata.category(c) == "Sc" for c in t),
        A.LIKE_URL: lambda t: bool(lex_attrs._URL.match(t)), A.LIKE_NUM: lex_attrs.like_num,
        A.LIKE_EMAIL: lambda t: bool(lex_attrs._EMAIL.match(t)), A.IS_STOP: lambda t: t.lower() in stop_words,
        A.IS_BRACKET: lambda t: t in lex_attrs._BRACKETS,
        A.IS_QUOTE: lambda t: bool(t) and all(c in lex_attrs._QUOTES for c in t),
        A.IS_LEFT_PUNCT: lambda t: t in lex_attrs._LEFT_PUNCT, A.IS_RIGHT_PUNCT: lambda t: t in lex_attrs._RIGHT_PUNCT,
    }
    checks.update(overrides or {})
    return sum(1 << attr for attr, check in checks.items() if check(text))


def test_lexical_attributes_match_their_definitions():
    """The shape and flag word written check by check (fast) equal the plain definitions."""
    from transfer_cli.lang.en.lex_attrs import like_num as english_like_num

    words = set(w for doc in read_conllu(ROOT / "sample_data" / "en_ewt" / "train.conllu", Vocab())
                for w in doc.words)
    words.update(["", " ", "\n\n\n\n\n\n", "Xxxxxxxx", "aaaaaBBBBB11111", "http://x", "www.a", "a.com/x", "a@b.cd",
                  "“", "''", "«»", "$", "€5", "1/2", "-3,000.5", "21st", "twentieth", "ⅷ", "²³", "٣", "五", "Ǆa",
                  "ß", "İ", "ＡＢＣ", "(", "]", "x" * 100, "…", "a-b", "don't", "U.S."])
    words.update(chr(c) for c in range(0, 0x3000))
    stop = frozenset(["the", "a"])
    for word in words:
        assert lex_attrs.word_shape(word) == _reference_shape(word), repr(word)
        for overrides in (None, {A.LIKE_NUM: english_like_num}):
            assert lex_attrs.compute_flags(word, stop, overrides) == _reference_flags(word, stop, overrides), \
                repr(word)
