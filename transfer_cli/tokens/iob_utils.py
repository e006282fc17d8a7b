"""Entity tag schemes: IOB (IOB1 and IOB2), BILUO and character offsets.

BILUO: B(egin), I(nside), L(ast), U(nit) of an entity, O outside, "-" missing (the
token's annotation is unknown, e.g. an entity whose offsets fall inside a token).
IOB1 and IOB2 are read by one rule: an I-X continues an entity only when the token
before is B-X or I-X; otherwise it starts one. So an IOB2 sequence with an I- that
has no B- before it is repaired as IOB1 would read it (the I- begins the entity)."""
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy

from . import attrs as A
from .columns import COL
from .doc import Doc
from .span import Span

Offset = Tuple[int, int, str]
MISSING = "-"


def _split(tag: Optional[str], i: int, scheme: str) -> Tuple[str, str]:
    """(prefix, label) of a tag; ("O", "") and ("-", "") for outside and missing."""
    if tag is None or tag == MISSING or tag == "":
        return MISSING, ""
    if tag == "O":
        return "O", ""
    prefix, sep, label = tag.partition("-")
    if not sep or not label or len(prefix) != 1 or prefix not in scheme:
        expected = ", ".join(f"{p}-LABEL" for p in scheme)
        raise ValueError(f"invalid entity tag '{tag}' at token {i} (expected {expected}, O or -)")
    return prefix, label


def iob_to_biluo(tags: Sequence[Optional[str]]) -> List[str]:
    """IOB1 or IOB2 tags → BILUO tags. None/"-" stay missing ("-")."""
    parsed = [_split(tag, i, "BI") for i, tag in enumerate(tags)]
    out: List[str] = []
    n = len(parsed)
    for i, (prefix, label) in enumerate(parsed):
        if prefix in ("O", MISSING):
            out.append(prefix)
            continue
        prev_prefix, prev_label = parsed[i - 1] if i else (MISSING, "")
        begins = prefix == "B" or not (prev_prefix in "BI" and prev_label == label)
        next_prefix, next_label = parsed[i + 1] if i + 1 < n else (MISSING, "")
        continues = next_prefix == "I" and next_label == label
        if begins:
            out.append(("B-" if continues else "U-") + label)
        else:
            out.append(("I-" if continues else "L-") + label)
    return out


def biluo_to_iob(tags: Sequence[Optional[str]]) -> List[str]:
    """BILUO tags → IOB2 tags (B- starts every entity)."""
    out = []
    for i, tag in enumerate(tags):
        prefix, label = _split(tag, i, "BILU")
        if prefix in ("O", MISSING):
            out.append(prefix)
        else:
            out.append(("B-" if prefix in "BU" else "I-") + label)
    return out


def tags_to_entities(tags: Sequence[Optional[str]]) -> List[Tuple[str, int, int]]:
    """BILUO tags → [(label, first_token, last_token)] (the end is inclusive, as in spaCy).
    Missing tags are skipped; an I-/L- without its B- is a ValueError."""
    entities: List[Tuple[str, int, int]] = []
    start: Optional[int] = None
    current = ""
    for i, tag in enumerate(tags):
        prefix, label = _split(tag, i, "BILU")
        if prefix in "IL" and (start is None or label != current):
            raise ValueError(f"invalid BILUO sequence: '{tag}' at token {i} does not continue an entity "
                             f"begun by B-{label}")
        if prefix in "BUO-" and start is not None:
            raise ValueError(f"invalid BILUO sequence: '{tag}' at token {i} interrupts the entity "
                             f"begun at token {start} (expected I-{current} or L-{current})")
        if prefix == "U":
            entities.append((label, i, i))
        elif prefix == "B":
            start, current = i, label
        elif prefix == "L":
            entities.append((label, start, i))  # type: ignore[arg-type]
            start, current = None, ""
    if start is not None:
        raise ValueError(f"invalid BILUO sequence: the entity begun at token {start} has no L- tag")
    return entities


def biluo_tags_to_spans(doc: Doc, tags: Sequence[Optional[str]]) -> List[Span]:
    """BILUO tags → labelled Spans of `doc`."""
    if len(tags) != len(doc):
        raise ValueError(f"{len(tags)} tags for a Doc of {len(doc)} tokens")
    return [Span(doc, start, end + 1, label=label) for label, start, end in tags_to_entities(tags)]


def biluo_tags_to_offsets(doc: Doc, tags: Sequence[Optional[str]]) -> List[Offset]:
    """BILUO tags → [(start_char, end_char, label)]."""
    return [(span.start_char, span.end_char, span.label_) for span in biluo_tags_to_spans(doc, tags)]


def offsets_to_biluo_tags(doc: Doc, entities: Iterable[Sequence], missing: str = "O", *,
                          misaligned: Optional[List[Offset]] = None) -> List[str]:
    """[(start_char, end_char, label)] → one BILUO tag per token of `doc`.

    Tokens outside every entity get `missing` ("O", or "-" when unannotated text is
    unknown). An entity whose offsets do not fall on token boundaries cannot be
    expressed: its tokens get "-", and the entity is appended to `misaligned` when a
    list is passed. Overlapping or out-of-range entities are a ValueError."""
    n = len(doc)
    tags = [missing] * n
    starts = doc.cols[:, COL[A.IDX]].astype("int64")
    ends = doc.token_ends
    text_len = len(doc.text)
    taken = numpy.zeros(n, dtype=bool)
    spans = sorted((int(e[0]), int(e[1]), str(e[2])) for e in entities)
    prev: Optional[Offset] = None
    for start, end, label in spans:
        if not 0 <= start < end <= text_len:
            raise ValueError(f"entity ({start}, {end}, '{label}') is outside the text (0..{text_len}) "
                             f"or empty")
        if prev is not None and start < prev[1]:
            raise ValueError(f"entities ({prev[0]}, {prev[1]}, '{prev[2]}') and ({start}, {end}, '{label}') "
                             f"overlap")
        prev = (start, end, label)
        first = int(numpy.searchsorted(starts, start))
        last = int(numpy.searchsorted(ends, end))
        if first < n and last < n and starts[first] == start and ends[last] == end:
            if first == last:
                tags[first] = "U-" + label
            else:
                tags[first] = "B-" + label
                for i in range(first + 1, last):
                    tags[i] = "I-" + label
                tags[last] = "L-" + label
            taken[first:last + 1] = True
        else:
            # every token the entity touches is unknown
            lo = int(numpy.searchsorted(ends, start, side="right"))
            hi = int(numpy.searchsorted(starts, end, side="left"))
            for i in range(lo, hi):
                tags[i] = MISSING
            if misaligned is not None:
                misaligned.append((start, end, label))
    return tags

