"""IOB/BILUO/offset conversions."""
import pytest

from transfer_cli.tokens import Doc, Vocab
from transfer_cli.tokens.iob_utils import (biluo_tags_to_offsets, biluo_tags_to_spans, biluo_to_iob, iob_to_biluo,
                                           offsets_to_biluo_tags, tags_to_entities)


@pytest.fixture
def doc():
    # "I like New York City and Boston."
    return Doc(Vocab(), words=["I", "like", "New", "York", "City", "and", "Boston", "."],
               spaces=[True, True, True, True, True, True, False, False])


def test_iob2_to_biluo():
    tags = ["O", "B-LOC", "I-LOC", "I-LOC", "O", "B-PER", "B-PER", "I-PER"]
    assert iob_to_biluo(tags) == ["O", "B-LOC", "I-LOC", "L-LOC", "O", "U-PER", "B-PER", "L-PER"]


def test_iob1_to_biluo():
    # IOB1: I- starts an entity after O; B- only separates two adjacent same-type entities
    tags = ["I-ORG", "O", "I-PER", "I-PER", "B-PER", "I-LOC"]
    assert iob_to_biluo(tags) == ["U-ORG", "O", "B-PER", "L-PER", "U-PER", "U-LOC"]


def test_iob2_i_without_b_is_repaired_as_iob1():
    assert iob_to_biluo(["O", "I-PER", "I-PER", "O"]) == ["O", "B-PER", "L-PER", "O"]
    assert iob_to_biluo(["B-PER", "I-LOC"]) == ["U-PER", "U-LOC"]  # type change starts a new entity


def test_missing_tags_pass_through():
    assert iob_to_biluo(["-", None, "B-X"]) == ["-", "-", "U-X"]
    assert biluo_to_iob(["-", "U-X", "B-Y", "I-Y", "L-Y", "O"]) == ["-", "B-X", "B-Y", "I-Y", "I-Y", "O"]


def test_round_trip_iob_biluo():
    biluo = ["U-A", "B-B", "I-B", "L-B", "O", "B-A", "L-A", "U-A"]
    assert iob_to_biluo(biluo_to_iob(biluo)) == biluo


@pytest.mark.parametrize("tags", [["X-PER"], ["B-"], ["BPER"], ["L-PER"], ["BI-PER"]])
def test_invalid_iob_tags(tags):
    with pytest.raises(ValueError, match="invalid entity tag"):
        iob_to_biluo(tags)


def test_tags_to_entities_and_invalid_sequences():
    assert tags_to_entities(["U-A", "O", "B-B", "I-B", "L-B", "-"]) == [("A", 0, 0), ("B", 2, 4)]
    with pytest.raises(ValueError, match="does not continue"):
        tags_to_entities(["O", "I-A", "L-A"])
    with pytest.raises(ValueError, match="interrupts"):
        tags_to_entities(["B-A", "O"])
    with pytest.raises(ValueError, match="no L- tag"):
        tags_to_entities(["B-A", "I-A"])
    with pytest.raises(ValueError, match="does not continue"):
        tags_to_entities(["B-A", "L-B"])


def test_offsets_to_biluo(doc):
    tags = offsets_to_biluo_tags(doc, [(7, 20, "GPE"), (25, 31, "GPE")])
    assert tags == ["O", "O", "B-GPE", "I-GPE", "L-GPE", "O", "U-GPE", "O"]
    assert biluo_tags_to_offsets(doc, tags) == [(7, 20, "GPE"), (25, 31, "GPE")]
    spans = biluo_tags_to_spans(doc, tags)
    assert [(s.text, s.label_) for s in spans] == [("New York City", "GPE"), ("Boston", "GPE")]
    assert offsets_to_biluo_tags(doc, [], missing="-") == ["-"] * 8


def test_misaligned_offsets_become_missing_and_are_reported(doc):
    misaligned = []
    # "ew York" starts inside "New"; "Bost" ends inside "Boston"
    tags = offsets_to_biluo_tags(doc, [(8, 15, "GPE"), (25, 29, "GPE"), (0, 1, "PER")], misaligned=misaligned)
    assert tags == ["U-PER", "O", "-", "-", "O", "O", "-", "O"]
    assert misaligned == [(8, 15, "GPE"), (25, 29, "GPE")]


def test_overlapping_and_out_of_range_offsets(doc):
    with pytest.raises(ValueError, match="overlap"):
        offsets_to_biluo_tags(doc, [(7, 15, "A"), (11, 20, "B")])
    with pytest.raises(ValueError, match="outside the text"):
        offsets_to_biluo_tags(doc, [(25, 99, "A")])
    with pytest.raises(ValueError, match="outside the text"):
        offsets_to_biluo_tags(doc, [(5, 5, "A")])
