"""The token model: strings, vocab, Doc columns, Token/Span views, extensions."""
import numpy
import pytest

from transfer_cli.tokens import Doc, Span, StringStore, Vocab, hash_string
from transfer_cli.tokens import attrs as A


@pytest.fixture
def vocab():
    return Vocab()


def make_doc(vocab):
    words = ["Hello", "world", "!", "New", "York", "is", "big", "."]
    spaces = [True, False, True, True, True, True, False, False]
    return Doc(vocab, words, spaces, tags=["UH", "NN", ".", "NNP", "NNP", "VBZ", "JJ", "."],
               ents=["O", "O", "O", "B-GPE", "I-GPE", "O", "O", "O"],
               sent_starts=[True, False, False, True, False, False, False, False])


def test_hashes_are_spacy_compatible_murmurhash64():
    # values published by spaCy's hash_string for these strings
    assert hash_string("hello") == 5983625672228268878
    assert hash_string("NOUN") == 1979547925953114071
    assert hash_string("héllo wörld 😀") == 13388931154175059412
    assert hash_string("") == 0


def test_string_store_round_trip():
    store = StringStore(["apple", "pear"])
    key = store.add("plum")
    assert store[key] == "plum" and store["plum"] == key
    assert "apple" in store and len(store) == 3
    with pytest.raises(KeyError):
        store[12345]


def test_doc_text_and_offsets(vocab):
    doc = make_doc(vocab)
    assert doc.text == "Hello world! New York is big."
    assert [t.idx for t in doc] == [0, 6, 11, 13, 17, 22, 25, 28]
    assert doc[3].text_with_ws == "New "
    assert doc[1:3].text == "world!"


def test_lexical_attributes(vocab):
    doc = Doc(vocab, ["Apple", "3.5", "https://x.org/a", "!!", "$", "a@b.com"])
    assert doc[0].shape_ == "Xxxxx" and doc[0].lower_ == "apple" and doc[0].prefix_ == "A"
    assert doc[0].suffix_ == "ple" and doc[0].is_title and doc[0].is_alpha
    assert doc[1].like_num and doc[1].shape_ == "d.d"
    assert doc[2].like_url and doc[3].is_punct and doc[4].is_currency and doc[5].like_email


def test_to_array_is_column_slicing(vocab):
    doc = make_doc(vocab)
    array = doc.to_array(["NORM", "SHAPE"])
    assert array.shape == (8, 2) and array.dtype == numpy.uint64
    assert array[0, 0] == hash_string("hello") and array[0, 1] == hash_string("Xxxxx")
    flags = doc.to_array(["IS_PUNCT"])
    assert list(flags[:, 0]) == [0, 0, 1, 0, 0, 0, 0, 1]


def test_entities_and_sentences(vocab):
    doc = make_doc(vocab)
    assert [(e.text, e.label_) for e in doc.ents] == [("New York", "GPE")]
    assert [s.text for s in doc.sents] == ["Hello world!", "New York is big."]
    assert [t.ent_iob_ for t in doc[2:5]] == ["O", "B", "I"]
    doc.ents = [Span(doc, 0, 1, label="PERSON")]
    assert [(e.text, e.label_) for e in doc.ents] == [("Hello", "PERSON")]
    with pytest.raises(ValueError, match="overlaps"):
        doc.ents = [Span(doc, 0, 2, label="X"), Span(doc, 1, 3, label="Y")]


def test_missing_entity_annotation_is_not_outside(vocab):
    doc = Doc(vocab, ["a", "b", "c"], ents=["-", "U-X", None])
    assert [t.ent_iob for t in doc] == [0, 3, 0]
    assert [e.text for e in doc.ents] == ["b"]


def test_biluo_and_iob_both_accepted(vocab):
    biluo = Doc(vocab, ["a", "b", "c", "d"], ents=["B-X", "L-X", "U-X", "O"])
    iob1 = Doc(vocab, ["a", "b", "c", "d"], ents=["I-X", "I-X", "B-X", "O"])
    assert [(e.start, e.end) for e in biluo.ents] == [(0, 2), (2, 3)]
    assert [(e.start, e.end) for e in iob1.ents] == [(0, 2), (2, 3)]
    with pytest.raises(ValueError, match="invalid entity tag"):
        Doc(vocab, ["a"], ents=["Z-X"])


def test_char_span_modes(vocab):
    doc = make_doc(vocab)
    assert doc.char_span(13, 21, "GPE").text == "New York"
    assert doc.char_span(13, 20) is None
    assert doc.char_span(13, 20, alignment_mode="expand").text == "New York"
    assert doc.char_span(12, 20, alignment_mode="contract").text == "New"


def test_sentences_from_parse(vocab):
    doc = Doc(vocab, ["a", "b", "c", "d"], heads=[1, 1, 3, 3], deps=["x", "ROOT", "y", "ROOT"])
    assert [s.text for s in doc.sents] == ["a b", "c d"]
    assert doc[0].head.text == "b"
    with pytest.raises(ValueError, match="no sentence boundaries"):
        list(Doc(vocab, ["a", "b"]).sents)


def test_token_setters(vocab):
    doc = Doc(vocab, ["a", "b"])
    doc[0].tag_ = "DT"
    doc[1].pos_ = "NOUN"
    doc[1].is_sent_start = True
    doc[0].morph = "Definite=Def"
    assert doc[0].tag_ == "DT" and doc[1].pos_ == "NOUN" and doc[1].is_sent_start
    assert doc[0].morph == "Definite=Def" and doc.has_annotation("TAG") and not doc.has_annotation("DEP")


def test_from_array_round_trip(vocab):
    doc = make_doc(vocab)
    attrs = ["TAG", "HEAD", "SENT_START", "ENT_IOB", "ENT_TYPE"]
    other = Doc(vocab, doc.words, doc.spaces).from_array(attrs, doc.to_array(attrs))
    assert [t.tag_ for t in other] == [t.tag_ for t in doc]
    assert [s.text for s in other.sents] == [s.text for s in doc.sents]
    assert [(e.text, e.label_) for e in other.ents] == [("New York", "GPE")]


def test_set_column_overwrites_or_fills_only_unset_values(vocab):
    doc = Doc(vocab, ["a", "b", "c"], tags=["X", None, None])
    doc.set_column("TAG", numpy.array([vocab.strings.add("Y")] * 3, dtype="uint64"), overwrite=False)
    assert [t.tag_ for t in doc] == ["X", "Y", "Y"]
    doc.set_column(A.TAG, numpy.array([vocab.strings.add("Z")] * 3, dtype="uint64"))
    assert [t.tag_ for t in doc] == ["Z", "Z", "Z"]
    doc.set_column("SENT_START", numpy.array([1, -1, 1], dtype="int64"))  # signed codes
    assert [t.is_sent_start for t in doc] == [True, False, True]
    with pytest.raises(ValueError):
        doc.set_column("TAG", numpy.zeros(2, dtype="uint64"))
    with pytest.raises(KeyError):
        doc.set_column("ORTH", numpy.zeros(3, dtype="uint64"))  # lexical: follows from the words


def test_extensions(vocab):
    Doc.set_extension("test_value", default=3, force=True)
    Span.set_extension("test_upper", getter=lambda span: span.text.upper(), force=True)
    doc = make_doc(vocab)
    assert doc._.test_value == 3
    doc._.test_value = 7
    assert doc._.test_value == 7
    assert doc[0:2]._.test_upper == "HELLO WORLD"
    with pytest.raises(AttributeError, match="No extension"):
        doc._.not_registered
    with pytest.raises(ValueError, match="already exists"):
        Doc.set_extension("test_value", default=1)


def test_empty_doc_and_bad_input(vocab):
    doc = Doc(vocab, [])
    assert len(doc) == 0 and doc.text == "" and doc.ents == () and doc.to_array(["ORTH"]).shape == (0, 1)
    with pytest.raises(ValueError, match="non-empty"):
        Doc(vocab, ["a", ""])
    with pytest.raises(ValueError, match="spaces"):
        Doc(vocab, ["a", "b"], [True])
    with pytest.raises(ValueError, match="head index"):
        Doc(vocab, ["a"], heads=[3], deps=["x"])


def test_large_doc_builds_quickly(vocab):
    words = [f"w{i % 997}" for i in range(50_000)]
    doc = Doc(vocab, words)
    assert len(doc) == 50_000 and doc[49_999].idx == len(doc.text) - len(words[-1]) - 1


def test_blank_copy_keeps_words_drops_annotation(vocab):
    doc = make_doc(vocab)
    doc.cats = {"A": 1.0}
    blank = doc.blank_copy()
    assert blank.words == doc.words and blank.text == doc.text
    assert not blank.has_annotation("TAG") and blank.ents == () and blank.cats == {}
    assert doc.has_annotation("TAG")


def test_language_lexical_attributes_reach_the_vocab():
    import transfer_cli

    doc = transfer_cli.blank("en")("the 21st and third of 3,000 fifty")
    assert [t.like_num for t in doc] == [False, True, False, True, False, True, True]
    generic = Doc(Vocab(), ["21st", "third", "fifty"])
    assert [t.like_num for t in generic] == [False, False, True]  # ordinals are English knowledge
