"""DocBin: reads spaCy-written `.spacy` files exactly, round-trips our own docs, and
reports corrupt files clearly."""
import json
import os
import zlib
from pathlib import Path

import numpy
import pytest
import srsly

from transfer_cli.errors import DataError, PathError
from transfer_cli.tokens import Doc, Span, Vocab
from transfer_cli.tokens import attrs as A
from transfer_cli.tokens.docbin import DOCBIN_ALL_ATTRS, DocBin
from transfer_cli.tokens.doc import COL
from transfer_cli.tokens.morph import normalize_morph

FIXTURES = Path(__file__).parent / "fixtures"
SPACY_FILE = FIXTURES / "spacy_docbin.spacy"
EXPECTED = FIXTURES / "spacy_docbin_expected.json"


def _fields(doc: Doc) -> dict:
    ent_kb = COL[A.ENT_KB_ID]
    ent_id = COL[A.ENT_ID]
    strings = doc.vocab.strings
    return {
        "text": doc.text,
        "words": doc.words,
        "spaces": doc.spaces,
        "tags": [t.tag_ for t in doc],
        "pos": [t.pos_ for t in doc],
        "morphs": [t.morph for t in doc],
        "lemmas": [t.lemma_ for t in doc],
        "heads": [t.head.i for t in doc],
        "deps": [t.dep_ for t in doc],
        "sent_starts": [t.is_sent_start for t in doc],
        "ents": [[e.start, e.end, e.label_] for e in doc.ents],
        "ent_kb_ids": [strings[int(doc.cols[e.start, ent_kb])] for e in doc.ents],
        "ent_ids": [strings[int(doc.cols[e.start, ent_id])] for e in doc.ents],
        "ent_iob": [t.ent_iob_ for t in doc],
        "ent_types": [t.ent_type_ for t in doc],
        "cats": doc.cats,
    }


def _rich_doc(vocab: Vocab) -> Doc:
    """A doc using every stored attribute, including strings that are spaCy symbols."""
    doc = Doc(vocab, words=["X", "met", "Ann", "in", "New", "York", "today", "."],
              spaces=[True, True, True, True, True, True, False, False],
              tags=["NNP", "VBD", "NNP", "IN", "NNP", "NNP", "NN", "."],
              pos=["PROPN", "VERB", "PROPN", "ADP", "PROPN", "PROPN", "NOUN", "PUNCT"],
              morphs=["Number=Sing", "Mood=Ind|Tense=Past", "", "", "Number=Sing", "Number=Sing", "Number=Sing", ""],
              lemmas=["X", "meet", "Ann", "in", "New", "York", "today", "."],
              heads=[1, 1, 1, 5, 5, 1, 1, 1], deps=["nsubj", "ROOT", "dobj", "case", "compound", "obl", "npadvmod",
                                                    "punct"],
              sent_starts=[True, False, False, False, False, False, False, False],
              ents=["U-PERSON", "O", "U-PERSON", "O", "B-GPE", "L-GPE", "-", "O"])
    doc.cats = {"travel": 1.0, "sport": 0.0}
    doc.spans["sc"] = [Span(doc, 0, 3, label="MEETING"), Span(doc, 4, 6, label="LOC", kb_id="Q60")]
    doc.spans["empty"] = []
    return doc


# -- spaCy's file ------------------------------------------------------------------------------
def test_reads_spacy_written_fixture_exactly():
    expected = json.loads(EXPECTED.read_text())
    doc_bin = DocBin().from_disk(SPACY_FILE)
    assert doc_bin.attrs == expected["docbin_attr_ids"]
    docs = list(doc_bin.get_docs(Vocab()))
    assert len(docs) == len(expected["docs"]) == 20
    compared = ["text", "words", "spaces", "tags", "pos", "morphs", "lemmas", "heads", "deps", "sent_starts",
                "ents", "ent_kb_ids", "ent_ids", "ent_iob", "ent_types", "cats"]
    for doc, want in zip(docs, expected["docs"]):
        got = _fields(doc)
        for key in compared:
            assert got[key] == want[key], (want["note"], key)
        if len(doc) and not want["sents"]:
            assert not doc.has_sentence_boundaries
        elif len(doc):
            assert [[s.start, s.end] for s in doc.sents] == want["sents"]


def test_fixture_exercises_the_interesting_cases():
    """Guards the fixture itself: it must hold the cases the test above relies on."""
    docs = json.loads(EXPECTED.read_text())["docs"]
    assert any(d["ent_kb_ids"] and d["ent_kb_ids"][0] for d in docs)
    assert any(d["has_unknown_spaces"] for d in docs)
    assert any(not d["words"] for d in docs)
    assert any("" in d["ent_iob"] and "O" in d["ent_iob"] for d in docs)  # partly missing entities
    assert sum(len(d["words"]) for d in docs) > 400


def test_spacy_file_layout_facts():
    """Our bytes follow the same layout as spaCy's: same msgpack keys, POS as symbol IDs."""
    spacy_msg = srsly.msgpack_loads(zlib.decompress(SPACY_FILE.read_bytes()))
    vocab = Vocab()
    ours = srsly.msgpack_loads(zlib.decompress(DocBin(docs=[_rich_doc(vocab)]).to_bytes()))
    assert set(ours) == set(spacy_msg) == {"version", "attrs", "tokens", "spaces", "lengths", "strings", "cats",
                                           "flags", "span_groups"}
    assert ours["version"] == spacy_msg["version"] == "0.1"
    assert ours["attrs"] == spacy_msg["attrs"]
    tokens = numpy.frombuffer(ours["tokens"], dtype="uint64").reshape((-1, len(ours["attrs"])))
    pos = tokens[:, ours["attrs"].index(A.POS)]
    assert pos.tolist() == [96, 100, 96, 85, 96, 96, 92, 97]  # PROPN VERB PROPN ADP PROPN PROPN NOUN PUNCT
    dep = tokens[:, ours["attrs"].index(A.DEP)]
    assert dep[0] == 429 and dep[-1] == 445  # 'nsubj' and 'punct' are spaCy symbols
    ent_type = tokens[:, ours["attrs"].index(A.ENT_TYPE)]
    assert ent_type[0] == 380  # PERSON
    assert tokens[0, 0] == 101  # the word "X" is a symbol too
    assert numpy.frombuffer(ours["lengths"], dtype="int32").tolist() == [8]


# -- our own docs ------------------------------------------------------------------------------------
def test_round_trip_of_our_docs_is_exact(tmp_path):
    vocab = Vocab()
    docs = [_rich_doc(vocab), Doc(vocab, words=["Just", "words"], spaces=[True, False]), Doc(vocab, words=[])]
    docs[1].cats = {"a": 0.5}
    docs[0].user_data["source"] = "test"
    docs[0].user_data[("._.", "flag", None, None)] = True
    doc_bin = DocBin(store_user_data=True, docs=docs)
    assert len(doc_bin) == 3
    path = tmp_path / "rich.spacy"
    doc_bin.to_disk(path)
    loaded = list(DocBin().from_disk(path).get_docs(Vocab()))
    assert len(loaded) == 3
    for before, after in zip(docs, loaded):
        assert after.words == before.words
        assert after.spaces == before.spaces
        assert numpy.array_equal(after.cols, before.cols)
        assert after.cats == before.cats
        assert after.user_data == before.user_data
        assert {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in after.spans.items()} == \
               {k: [(s.start, s.end, s.label_, s.kb_id_) for s in g] for k, g in before.spans.items()}
    assert [t.ent_iob_ for t in loaded[0]] == ["B", "O", "B", "O", "B", "I", "", "O"]
    # a second write of what we read gives identical bytes
    assert DocBin(store_user_data=True, docs=loaded).to_bytes() == doc_bin.to_bytes()


def test_fixture_rewritten_by_us_reads_back_identically():
    docs = list(DocBin().from_disk(SPACY_FILE).get_docs(Vocab()))
    again = list(DocBin().from_bytes(DocBin(docs=docs).to_bytes()).get_docs(Vocab()))
    for a, b in zip(docs, again):
        assert _fields(a) == _fields(b)


def test_morph_is_stored_normalised():
    vocab = Vocab()
    doc = Doc(vocab, words=["went"], morphs=["VerbForm=Fin|Tense=Past|Mood=Ind"])
    [loaded] = DocBin(docs=[doc]).get_docs(Vocab())
    assert loaded[0].morph == "Mood=Ind|Tense=Past|VerbForm=Fin"
    assert normalize_morph("PronType=Rel,Int|Case=Nom") == "Case=Nom|PronType=Int,Rel"
    assert normalize_morph("_") == ""


def test_attrs_subset_and_orth_first():
    vocab = Vocab()
    doc_bin = DocBin(attrs=["TAG", "orth", "SPACY"], docs=[_rich_doc(vocab)])
    assert doc_bin.attrs == [A.ORTH, A.TAG]
    [doc] = DocBin().from_bytes(doc_bin.to_bytes()).get_docs(Vocab())
    assert [t.tag_ for t in doc][:2] == ["NNP", "VBD"]
    assert not doc.has_annotation("DEP") and not doc.has_annotation("POS") and not doc.ents
    assert list(DOCBIN_ALL_ATTRS)[0] == "ORTH"


def test_get_docs_is_a_generator():
    vocab = Vocab()
    doc_bin = DocBin(docs=[_rich_doc(vocab)] * 3)
    stream = doc_bin.get_docs(Vocab())
    assert next(stream).words[0] == "X"
    assert len(list(stream)) == 2


def test_merge():
    vocab = Vocab()
    a = DocBin(docs=[_rich_doc(vocab)])
    b = DocBin(docs=[Doc(vocab, words=["other"], tags=["NN"])])
    a.merge(b)
    assert len(a) == 2
    docs = list(DocBin().from_bytes(a.to_bytes()).get_docs(Vocab()))
    assert docs[1].words == ["other"] and docs[1][0].tag_ == "NN"
    with pytest.raises(ValueError, match="attrs"):
        a.merge(DocBin(attrs=["TAG"]))
    with pytest.raises(ValueError, match="store_user_data"):
        a.merge(DocBin(store_user_data=True))


def test_pos_outside_upos_cannot_be_stored():
    vocab = Vocab()
    with pytest.raises(DataError, match="'NN' is not a universal POS tag"):
        DocBin(docs=[Doc(vocab, words=["dog"], pos=["NN"])])


# -- files ------------------------------------------------------------------------------------------
def test_to_disk_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    vocab = Vocab()
    path = tmp_path / "out.spacy"
    DocBin(docs=[_rich_doc(vocab)]).to_disk(path)
    assert os.listdir(tmp_path) == ["out.spacy"]
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PathError, match="No space left on device"):
        DocBin(docs=[Doc(vocab, words=["new"])]).to_disk(path)
    assert os.listdir(tmp_path) == ["out.spacy"] and path.read_bytes() == old


def test_to_disk_into_missing_directory(tmp_path):
    with pytest.raises(PathError, match="does not exist"):
        DocBin().to_disk(tmp_path / "nope" / "x.spacy")


@pytest.mark.parametrize("data, message", [
    (b"this is plain text\n", "not a .spacy file"),
    (zlib.compress(b"\xc1\xc1\xc1 not msgpack"), "not a .spacy file"),
    (zlib.compress(srsly.msgpack_dumps([1, 2, 3])), "corrupt .spacy file"),
    (zlib.compress(srsly.msgpack_dumps({"attrs": [65], "tokens": b""})), "missing field"),
    (zlib.compress(srsly.msgpack_dumps({"attrs": [65], "tokens": b"\x00" * 8, "spaces": b"",
                                        "lengths": b"\x05\x00\x00\x00", "strings": []})), "sizes disagree"),
])
def test_corrupt_files_give_data_error_naming_the_path(tmp_path, data, message):
    path = tmp_path / "bad.spacy"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as exc_info:
        DocBin().from_disk(path)
    assert str(path) in str(exc_info.value)


def test_truncated_file(tmp_path):
    data = SPACY_FILE.read_bytes()
    path = tmp_path / "cut.spacy"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.spacy"):
        DocBin().from_disk(path)


def test_hash_without_string_is_reported():
    vocab = Vocab()
    msg = srsly.msgpack_loads(zlib.decompress(DocBin(docs=[Doc(vocab, words=["a"], tags=["DT"])]).to_bytes()))
    msg["strings"] = [s for s in msg["strings"] if s != "DT"]
    with pytest.raises(DataError, match="no string in the string table"):
        DocBin().from_bytes(zlib.compress(srsly.msgpack_dumps(msg)))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(PathError, match="not found"):
        DocBin().from_disk(tmp_path / "missing.spacy")
    with pytest.raises(PathError, match="directory"):
        DocBin().from_disk(tmp_path)


def test_lexical_columns_need_no_strings():
    """spaCy stores no strings for LOWER/SHAPE/PREFIX/SUFFIX columns; such files must still load."""
    vocab = Vocab()
    doc = Doc(vocab, words=["Hello", "World"], tags=["UH", "NN"])
    msg = srsly.msgpack_loads(zlib.decompress(DocBin(attrs=["LOWER", "SHAPE", "TAG"], docs=[doc]).to_bytes()))
    msg["strings"] = ["Hello", "World", "UH", "NN"]
    [loaded] = DocBin().from_bytes(zlib.compress(srsly.msgpack_dumps(msg))).get_docs(Vocab())
    assert loaded.words == ["Hello", "World"] and [t.tag_ for t in loaded] == ["UH", "NN"]
    assert loaded[0].lower_ == "hello"
