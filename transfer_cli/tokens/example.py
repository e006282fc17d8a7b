"""Example: a predicted Doc (what the pipeline sees) paired with a reference Doc (gold).

The two may be tokenized differently (the pipeline's tokenizer vs the corpus); the
Alignment maps between them, and the get_aligned_* methods project gold annotation
onto the predicted tokens. A value is projected only where a predicted token and a
reference token correspond one to one; elsewhere it is None ("-" for entities), which
components treat as missing annotation rather than as a wrong label."""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy

from ..errors import DataError
from . import attrs as A
from .alignment import Alignment
from .columns import COL
from .doc import Doc
from .iob_utils import MISSING, offsets_to_biluo_tags
from .morph import normalize_morph

# Keys from_dict accepts, with spaCy's upper-case token_annotation names as aliases.
_TOKEN_KEYS = {"words": "words", "ORTH": "words", "spaces": "spaces", "SPACY": "spaces",
               "tags": "tags", "TAG": "tags", "pos": "pos", "POS": "pos", "morphs": "morphs",
               "MORPH": "morphs", "lemmas": "lemmas", "LEMMA": "lemmas", "heads": "heads", "HEAD": "heads",
               "deps": "deps", "DEP": "deps", "sent_starts": "sent_starts", "SENT_START": "sent_starts"}
_DOC_KEYS = {"entities", "cats", "links", "spans"}


class Example:
    def __init__(self, predicted: Doc, reference: Doc, *, alignment: Optional[Alignment] = None) -> None:
        if predicted is None or reference is None:
            raise TypeError("Example needs a predicted and a reference Doc")
        self.predicted = predicted
        self.reference = reference
        self._alignment = alignment
        self._one_to_one_map: Optional[numpy.ndarray] = None

    @property
    def x(self) -> Doc:
        return self.predicted

    @property
    def y(self) -> Doc:
        return self.reference

    @property
    def text(self) -> str:
        return self.predicted.text

    def __len__(self) -> int:
        return len(self.predicted)

    def __repr__(self) -> str:
        return f"Example({self.predicted.text[:40]!r}, {len(self.predicted)} predicted / {len(self.reference)} gold tokens)"

    @property
    def alignment(self) -> Alignment:
        if self._alignment is None:
            self._alignment = Alignment.from_docs(self.predicted, self.reference)
        return self._alignment

    def copy(self) -> "Example":
        return Example(self.predicted.copy(), self.reference.copy(), alignment=self._alignment)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, predicted: Doc, example_dict: Dict[str, Any]) -> "Example":
        """Build the reference Doc from gold annotation for `predicted`'s text.

        Keys: words, spaces (default: the predicted tokens), tags, pos, morphs, lemmas,
        heads (absolute indices), deps, sent_starts, entities (character offsets
        [(start, end, label)] or one BILUO/IOB tag per word), cats. spaCy's nested
        {"token_annotation": {...}, "doc_annotation": {...}} form is accepted too."""
        if predicted is None:
            raise TypeError("Example.from_dict needs the predicted Doc")
        if not isinstance(example_dict, dict):
            raise DataError(f"Example.from_dict expects a dict, got {type(example_dict).__name__}")
        token_ann, doc_ann = _flatten(example_dict)
        words = token_ann.pop("words", None)
        spaces = token_ann.pop("spaces", None)
        if words is None:
            words = list(predicted.words)
            spaces = list(predicted.spaces) if spaces is None else spaces
        n = len(words)
        for key, values in token_ann.items():
            if values is not None and len(values) != n:
                raise DataError(f"'{key}' has {len(values)} values for {n} words")
        if "morphs" in token_ann and token_ann["morphs"] is not None:
            try:
                token_ann["morphs"] = [normalize_morph(m) if m else m for m in token_ann["morphs"]]
            except ValueError as e:
                raise DataError(str(e)) from None
        try:
            reference = Doc(predicted.vocab, words=words, spaces=spaces, **token_ann)
        except ValueError as e:
            raise DataError(f"invalid example annotation: {e}") from None
        entities = doc_ann.get("entities")
        if entities is not None:
            _set_entities(reference, entities)
        if doc_ann.get("cats"):
            reference.cats = dict(doc_ann["cats"])
        for key, spans in (doc_ann.get("spans") or {}).items():
            reference.spans[key] = [s for s in (reference.char_span(int(a), int(b), label=str(label))
                                                for a, b, label in spans) if s is not None]
        return cls(predicted, reference)

    # -- gold annotation projected onto the predicted tokens -------------------------------------
    def _one_to_one(self) -> numpy.ndarray:
        """For each predicted token, the reference token it corresponds to one-to-one, else -1."""
        if self._one_to_one_map is not None and len(self._one_to_one_map) == len(self.predicted):
            return self._one_to_one_map
        x2y, y2x = self.alignment.x2y, self.alignment.y2x
        out = numpy.full(len(x2y), -1, dtype="int64")
        single = numpy.flatnonzero(x2y.lengths == 1)
        if len(single):
            ys = x2y.data[x2y.starts[single]]
            back_single = y2x.lengths[ys] == 1
            single, ys = single[back_single], ys[back_single]
            out[single] = ys
        self._one_to_one_map = out
        return out

    def get_aligned(self, attr: Union[str, int], as_string: bool = False) -> List[Optional[Any]]:
        """The reference's values of `attr` per predicted token (None where the tokens do
        not correspond one-to-one). HEAD gives the head's predicted index; SENT_START is
        1/-1/0; string attributes are hashes, or strings with as_string=True."""
        attr_id = A.intify_attr(attr)
        mapping = self._one_to_one()
        if attr_id == A.HEAD:
            y2one = numpy.full(len(self.reference), -1, dtype="int64")
            y2one[mapping[mapping >= 0]] = numpy.flatnonzero(mapping >= 0)
            heads = (numpy.arange(len(self.reference))
                     + self.reference.cols[:, COL[A.HEAD]].view("int64"))
            out: List[Optional[Any]] = []
            for j in mapping.tolist():
                head = -1 if j < 0 else int(y2one[heads[j]])
                out.append(None if head < 0 else head)
            return out
        column = self.reference.to_array([attr_id])[:, 0]
        if attr_id in (A.SENT_START,):
            column = column.view("int64")
        values = column.tolist()
        strings = self.reference.vocab.strings
        is_string = as_string and attr_id in (A.ORTH, A.LOWER, A.NORM, A.SHAPE, A.PREFIX, A.SUFFIX, A.LEMMA,
                                              A.POS, A.TAG, A.DEP, A.ENT_TYPE, A.ENT_KB_ID, A.ENT_ID, A.MORPH)
        out = []
        for j in mapping.tolist():
            if j < 0:
                out.append(None)
            else:
                out.append(strings[values[j]] if is_string else values[j])
        return out

    def get_aligned_ner(self) -> List[str]:
        """BILUO tags per predicted token. "-" where unknown: the reference has no entity
        annotation there, or an entity's boundaries fall inside a predicted token."""
        x2y, y2x = self.alignment.x2y, self.alignment.y2x
        n_x = len(self.predicted)
        ref = self.reference
        if self.alignment.is_one_to_one():
            return _biluo_of(ref)
        iob = ref.cols[:, COL[A.ENT_IOB]]
        tags = [MISSING] * n_x
        # outside: every gold token the predicted token covers is O
        for i in range(n_x):
            ys = x2y[i]
            if len(ys) and bool((iob[ys] == 2).all()):
                tags[i] = "O"
        for ent in ref.ents:
            xs = numpy.concatenate([y2x[j] for j in range(ent.start, ent.end)]) if len(ent) else numpy.zeros(0, int)
            if not len(xs):
                continue
            first, last = int(xs.min()), int(xs.max())
            covered = numpy.concatenate([x2y[i] for i in range(first, last + 1)])
            exact = (covered.min() >= ent.start and covered.max() < ent.end
                     and all(len(y2x[j]) for j in range(ent.start, ent.end)))
            if not exact:
                for i in range(first, last + 1):
                    tags[i] = MISSING
            elif first == last:
                tags[first] = "U-" + ent.label_
            else:
                tags[first] = "B-" + ent.label_
                for i in range(first + 1, last):
                    tags[i] = "I-" + ent.label_
                tags[last] = "L-" + ent.label_
        return tags

    def get_aligned_sent_starts(self) -> List[Optional[bool]]:
        """Per predicted token: True/False where the reference marks sentence starts (the
        first predicted token of each reference token gets its value), None without any."""
        ref = self.reference
        n_x = len(self.predicted)
        if not len(ref) or not ref.has_sentence_boundaries:
            return [None] * n_x
        if ref.has_annotation(A.SENT_START):
            values = [t.is_sent_start for t in ref]
        else:
            values = ref.sentence_starts().tolist()
        out: List[Optional[bool]] = [False] * n_x
        x2y, y2x = self.alignment.x2y, self.alignment.y2x
        for j in range(len(ref)):
            xs = y2x[j]
            if len(xs):
                i = int(xs[0])
                if int(x2y[i][0]) == j:  # the predicted token begins with this gold token
                    out[i] = values[j]
        return out

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        """The reference annotation in spaCy's Example dict form."""
        ref = self.reference
        heads = (numpy.arange(len(ref)) + ref.cols[:, COL[A.HEAD]].view("int64")).tolist()
        return {
            "doc_annotation": {
                "cats": dict(ref.cats),
                "entities": _biluo_of(ref),
                "links": {},
                "spans": {key: [(s.start_char, s.end_char, s.label_) for s in group]
                          for key, group in ref.spans.items()},
            },
            "token_annotation": {
                "ORTH": list(ref.words),
                "SPACY": list(ref.spaces),
                "TAG": [t.tag_ for t in ref],
                "LEMMA": [t.lemma_ for t in ref],
                "POS": [t.pos_ for t in ref],
                "MORPH": [t.morph for t in ref],
                "HEAD": heads,
                "DEP": [t.dep_ for t in ref],
                "SENT_START": ref.cols[:, COL[A.SENT_START]].view("int64").tolist(),
            },
        }


def _flatten(example_dict: Dict[str, Any]):
    token_ann: Dict[str, Any] = {}
    doc_ann: Dict[str, Any] = {}
    items = dict(example_dict)
    nested_tokens = items.pop("token_annotation", None) or {}
    nested_doc = items.pop("doc_annotation", None) or {}
    for source in (nested_tokens, nested_doc, items):
        for key, value in source.items():
            if key in _TOKEN_KEYS:
                token_ann[_TOKEN_KEYS[key]] = value
            elif key in _DOC_KEYS:
                doc_ann[key] = value
            else:
                allowed = sorted(set(_TOKEN_KEYS.values()) | _DOC_KEYS)
                raise DataError(f"unknown annotation key '{key}' (expected one of {', '.join(allowed)})")
    # empty lists (spaCy writes them for 'no annotation') mean missing
    return {k: v for k, v in token_ann.items() if v is None or len(v) or k in ("words", "spaces")}, doc_ann


def _set_entities(doc: Doc, entities: Sequence) -> None:
    if not len(entities):
        doc.set_ents([], default="outside")
        return
    if all(isinstance(e, str) or e is None for e in entities):
        if len(entities) != len(doc):
            raise DataError(f"{len(entities)} entity tags for {len(doc)} words")
        tags = list(entities)
    else:
        try:
            tags = offsets_to_biluo_tags(doc, [tuple(e) for e in entities])
        except ValueError as e:
            raise DataError(str(e)) from None
    try:
        doc._set_iob_tags(tags)
    except ValueError as e:
        raise DataError(str(e)) from None


def _biluo_of(doc: Doc) -> List[str]:
    iob = doc.cols[:, COL[A.ENT_IOB]]
    tags = [MISSING if code == 0 else "O" for code in iob.tolist()]
    for ent in doc.ents:
        if len(ent) == 1:
            tags[ent.start] = "U-" + ent.label_
        else:
            tags[ent.start] = "B-" + ent.label_
            for i in range(ent.start + 1, ent.end - 1):
                tags[i] = "I-" + ent.label_
            tags[ent.end - 1] = "L-" + ent.label_
    return tags

