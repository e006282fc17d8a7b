"""Example (predicted + reference docs) and the Alignment between tokenizations."""
import time

import numpy
import pytest

from transfer_cli.errors import DataError
from transfer_cli.tokens import Doc, Vocab
from transfer_cli.tokens.alignment import Alignment
from transfer_cli.tokens.example import Example


@pytest.fixture
def vocab():
    return Vocab()


# -- alignment ---------------------------------------------------------------------------------
def test_alignment_identical_tokenization():
    align = Alignment.from_strings(["a", "bc", "d"], ["a", "bc", "d"], [True, False, False], [True, False, False])
    assert align.x2y.to_lists() == [[0], [1], [2]]
    assert align.y2x.to_lists() == [[0], [1], [2]]
    assert align.is_one_to_one()


def test_alignment_many_to_one_and_one_to_many():
    # x: "New York" as one token and "isn't" as "is" "n't"; y the other way round
    x = ["New York", "is", "n't", "big"]
    y = ["New", "York", "isn't", "big"]
    align = Alignment.from_strings(x, y, [True, False, True, False], [True, True, True, False])
    assert align.x2y.to_lists() == [[0, 1], [2], [2], [3]]
    assert align.y2x.to_lists() == [[0], [0], [1, 2], [3]]
    assert not align.is_one_to_one()
    assert align.x2y.lengths.tolist() == [2, 1, 1, 1]


def test_alignment_ignores_whitespace_differences():
    x = ["Hello", "world", "!"]  # "Hello world !"
    y = ["Hello", "\n", "world", "!"]  # "Hello \nworld!" : a newline token and no space before "!"
    align = Alignment.from_strings(x, y, [True, True, False], [True, False, False, False])
    assert align.x2y.to_lists() == [[0], [2], [3]]
    assert align.y2x.to_lists() == [[0], [], [1], [2]]


def test_alignment_of_different_texts_names_the_mismatch():
    with pytest.raises(DataError) as exc_info:
        Alignment.from_strings(["The", "cat", "sat"], ["The", "cot", "sat"], [True, True, False], [True, True, False])
    message = str(exc_info.value)
    assert "different texts" in message
    assert "'at sat'" in message and "'ot sat'" in message and "character 5" in message


def test_alignment_is_fast_on_long_docs():
    n = 200_000
    x = ["w%d" % i for i in range(n)]
    y = []
    for word in x:  # y splits every word after its first character
        y.extend([word[0], word[1:]])
    x_spaces = [True] * n
    y_spaces = [False, True] * n
    start = time.perf_counter()
    align = Alignment.from_strings(x, y, x_spaces, y_spaces)
    elapsed = time.perf_counter() - start
    assert align.x2y.lengths.tolist() == [2] * n
    assert numpy.array_equal(align.y2x.data, numpy.repeat(numpy.arange(n), 2))
    assert elapsed < 5.0  # O(n log n) numpy: well under a second on any machine that runs the suite


# -- Example ---------------------------------------------------------------------------------------
def test_from_dict_same_tokens(vocab):
    predicted = Doc(vocab, words=["She", "lives", "in", "Paris", "."], spaces=[True, True, True, False, False])
    example = Example.from_dict(predicted, {
        "tags": ["PRP", "VBZ", "IN", "NNP", "."], "pos": ["PRON", "VERB", "ADP", "PROPN", "PUNCT"],
        "morphs": ["Case=Nom", "Tense=Pres|Number=Sing", "", "Number=Sing", ""],
        "lemmas": ["she", "live", "in", "Paris", "."], "heads": [1, 1, 1, 2, 1],
        "deps": ["nsubj", "ROOT", "prep", "pobj", "punct"], "entities": [(13, 18, "GPE")],
        "cats": {"GEO": 1.0}})
    assert example.x is predicted and example.y is example.reference
    assert example.text == "She lives in Paris."
    assert example.get_aligned("TAG", as_string=True) == ["PRP", "VBZ", "IN", "NNP", "."]
    assert example.get_aligned("POS", as_string=True) == ["PRON", "VERB", "ADP", "PROPN", "PUNCT"]
    assert example.get_aligned("MORPH", as_string=True)[1] == "Number=Sing|Tense=Pres"
    assert example.get_aligned("HEAD") == [1, 1, 1, 2, 1]
    assert example.get_aligned("TAG")[0] == vocab.strings["PRP"]
    assert example.get_aligned_ner() == ["O", "O", "O", "U-GPE", "O"]
    assert example.reference.cats == {"GEO": 1.0}
    assert not predicted.has_annotation("TAG")  # the predicted doc is untouched


def test_from_dict_different_tokenization(vocab):
    predicted = Doc(vocab, words=["I", "visited", "New York", "yesterday", "."],
                    spaces=[True, True, True, False, False])
    example = Example.from_dict(predicted, {
        "words": ["I", "visited", "New", "York", "yester", "day", "."],
        "spaces": [True, True, True, True, False, False, False],
        "tags": ["PRP", "VBD", "NNP", "NNP", "NN", "NN", "."],
        "sent_starts": [True, False, False, False, False, False, False],
        "entities": ["O", "O", "B-GPE", "I-GPE", "O", "O", "O"]})
    # no 1:1 counterpart for "New York" (2 gold tokens) nor "yesterday" (split in gold)
    assert example.get_aligned("TAG", as_string=True) == ["PRP", "VBD", None, None, "."]
    # but the entity covers exactly the predicted token "New York"
    assert example.get_aligned_ner() == ["O", "O", "U-GPE", "O", "O"]
    assert example.get_aligned_sent_starts() == [True, False, False, False, False]


def test_aligned_ner_misaligned_entity_is_missing(vocab):
    predicted = Doc(vocab, words=["Visit", "NewYork", "now"], spaces=[True, True, False])
    example = Example.from_dict(predicted, {"words": ["Visit", "New", "York", "now"],
                                            "spaces": [True, False, True, False],
                                            "entities": [(6, 9, "GPE")]})  # only "New"
    assert example.reference.ents[0].text == "New"
    assert example.get_aligned_ner() == ["O", "-", "O"]


def test_aligned_ner_without_annotation_is_all_missing(vocab):
    predicted = Doc(vocab, words=["a", "b"])
    example = Example(predicted, predicted.blank_copy())
    assert example.get_aligned_ner() == ["-", "-"]
    assert example.get_aligned_sent_starts() == [None, None]


def test_from_dict_biluo_and_nested_spacy_format(vocab):
    predicted = Doc(vocab, words=["Ann", "Lee", "smiled"])
    example = Example.from_dict(predicted, {"token_annotation": {"ORTH": ["Ann", "Lee", "smiled"],
                                                                 "TAG": ["NNP", "NNP", "VBD"]},
                                            "doc_annotation": {"entities": ["B-PER", "L-PER", "O"],
                                                               "cats": {"x": 1.0}}})
    assert [(e.text, e.label_) for e in example.reference.ents] == [("Ann Lee", "PER")]
    assert example.reference.cats == {"x": 1.0}


def test_to_dict_round_trips_through_from_dict(vocab):
    predicted = Doc(vocab, words=["Ann", "smiled", "at", "Bo", "."], spaces=[True, True, True, False, False])
    gold = {"tags": ["NNP", "VBD", "IN", "NNP", "."], "lemmas": ["Ann", "smile", "at", "Bo", "."],
            "pos": ["PROPN", "VERB", "ADP", "PROPN", "PUNCT"], "morphs": ["Number=Sing", "", "", "", ""],
            "heads": [1, 1, 1, 2, 1], "deps": ["nsubj", "ROOT", "prep", "pobj", "punct"],
            "sent_starts": [True, False, False, False, False], "entities": [(0, 3, "PER"), (14, 16, "PER")],
            "cats": {"happy": 1.0}}
    first = Example.from_dict(predicted, gold)
    as_dict = first.to_dict()
    assert as_dict["doc_annotation"]["entities"] == ["U-PER", "O", "O", "U-PER", "O"]
    assert as_dict["token_annotation"]["HEAD"] == [1, 1, 1, 2, 1]
    second = Example.from_dict(predicted, as_dict)
    assert numpy.array_equal(second.reference.cols, first.reference.cols)
    assert second.to_dict() == as_dict


def test_from_dict_errors(vocab):
    predicted = Doc(vocab, words=["a", "b"])
    with pytest.raises(DataError, match="unknown annotation key 'tagz'"):
        Example.from_dict(predicted, {"tagz": ["X", "Y"]})
    with pytest.raises(DataError, match="'tags' has 1 values for 2 words"):
        Example.from_dict(predicted, {"tags": ["X"]})
    with pytest.raises(DataError, match="overlap"):
        Example.from_dict(predicted, {"entities": [(0, 3, "A"), (2, 3, "B")]})
    with pytest.raises(DataError, match="different texts"):
        Example.from_dict(predicted, {"words": ["a", "c"]}).get_aligned("TAG")
