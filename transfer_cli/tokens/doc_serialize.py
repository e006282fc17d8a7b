"""One Doc as bytes (Doc.to_bytes/from_bytes, pickling) and as spaCy's JSON layout
(Doc.to_json/from_json).

The bytes are msgpack of plain values, no pickle: the words and spaces, every column of
the token matrix as it is (so nothing is recomputed and the round trip is exact), the
strings those columns and the spans refer to, the tensor, cats, span groups and
user_data (msgpack-serializable values only). Columns are stored with their attribute
IDs, so bytes written with another column layout still load. The Vocab is not
included: strings are added to the Vocab of the Doc they load into."""
from typing import Any, Dict, Iterable, List, Optional

import numpy

from ..errors import DataError
from . import attrs as A
from .columns import COL, COLUMNS
from .msgpack_codec import msgpack_dumps, msgpack_loads
from .span import Span

FORMAT = "transfer-cli.doc"
VERSION = 1
# Columns of Doc.cols that hold string hashes (the rest are flags, offsets, codes).
STRING_COLUMNS = [COL[a] for a in (A.ORTH, A.LOWER, A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE, A.TAG, A.POS, A.MORPH,
                                   A.LEMMA, A.DEP, A.ENT_TYPE, A.ENT_KB_ID, A.ENT_ID)]
EXCLUDABLE = ("tensor", "cats", "spans", "user_data")

# "Doc" in annotations is the class of doc.py, named, not imported: doc.py builds on this module.


def doc_to_bytes(doc: "Doc", exclude: Iterable[str] = ()) -> bytes:
    exclude = _checked_exclude(exclude)
    strings = doc.vocab.strings
    hashes = set(numpy.unique(doc.cols[:, STRING_COLUMNS]).tolist()) if len(doc) else set()
    spans: Dict[str, List[list]] = {}
    if "spans" not in exclude:
        for key, group in doc.spans.items():
            spans[key] = [[s.start, s.end, s.label, s.kb_id] for s in group]
            hashes.update(value for span in group for value in (span.label, span.kb_id))
    msg: Dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "words": doc.words,
        "spaces": numpy.asarray(doc.spaces, dtype=bool).tobytes(),
        "columns": list(COLUMNS),
        "cols": numpy.ascontiguousarray(doc.cols, dtype="uint64").tobytes(),
        "strings": sorted(strings[h] for h in hashes if h and h in strings),
        "spans": spans,
    }
    if "tensor" not in exclude and doc.tensor.size:
        tensor = numpy.ascontiguousarray(doc.tensor)
        msg["tensor"] = {"shape": list(tensor.shape), "dtype": tensor.dtype.str, "data": tensor.tobytes()}
    if "cats" not in exclude:
        msg["cats"] = dict(doc.cats)
    if "user_data" not in exclude and doc.user_data:
        msg["user_data"] = _user_data_bytes(doc.user_data)
    return msgpack_dumps(msg)


def doc_from_bytes(doc: "Doc", data: bytes, exclude: Iterable[str] = ()) -> "Doc":
    """Fill `doc` (a Doc on the Vocab to use, e.g. `Doc(nlp.vocab)`) from to_bytes's bytes."""
    exclude = _checked_exclude(exclude)
    try:
        msg = msgpack_loads(data)
    except Exception as e:  # msgpack raises several types for garbage
        raise DataError(f"not Doc bytes (msgpack: {e})") from None
    if not isinstance(msg, dict) or msg.get("format") != FORMAT:
        raise DataError("not Doc bytes (written by Doc.to_bytes)")
    if msg.get("version") != VERSION:
        raise DataError(f"Doc bytes of version {msg.get('version')}: this transfer-cli reads version {VERSION}")
    try:
        _fill(doc, msg, exclude)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise DataError(f"corrupt Doc bytes: {e}") from None
    return doc


def _fill(doc: "Doc", msg: Dict[str, Any], exclude: set) -> None:
    words = list(msg["words"])
    spaces = numpy.frombuffer(msg["spaces"], dtype=bool).tolist()
    columns = [int(c) for c in msg["columns"]]
    stored = numpy.frombuffer(msg["cols"], dtype="uint64")
    if len(spaces) != len(words) or stored.size != len(words) * len(columns):
        raise ValueError(f"{len(words)} words, {len(spaces)} spaces and {stored.size} column values "
                         f"for {len(columns)} columns")
    stored = stored.reshape((len(words), len(columns)))
    cols = numpy.zeros((len(words), len(COLUMNS)), dtype="uint64")
    for j, attr in enumerate(columns):
        if attr in COL:  # a column this layout has no place for is dropped
            cols[:, COL[attr]] = stored[:, j]
    doc.vocab.strings.update(msg["strings"])
    doc._words = words
    doc._spaces = spaces
    doc.cols = cols
    tensor = msg.get("tensor")
    if tensor is not None and "tensor" not in exclude:
        doc.tensor = numpy.frombuffer(tensor["data"], dtype=tensor["dtype"]).reshape(tensor["shape"]).copy()
    else:
        doc.tensor = numpy.zeros((0, 0), dtype="float32")
    doc.cats = dict(msg.get("cats") or {}) if "cats" not in exclude else {}
    doc.spans = {}
    if "spans" not in exclude:
        for key, group in msg["spans"].items():
            doc.spans[key] = [Span(doc, start, end, label=label, kb_id=kb_id) for start, end, label, kb_id in group]
    doc.user_data = {}
    if msg.get("user_data") is not None and "user_data" not in exclude:
        doc.user_data.update(msgpack_loads(msg["user_data"], use_list=False))


def _user_data_bytes(user_data: Dict[Any, Any]) -> bytes:
    try:
        return msgpack_dumps(user_data)
    except Exception:  # find the entry to name
        for key, value in user_data.items():
            try:
                msgpack_dumps({key: value})
            except Exception as e:
                name = f"._.{key[1]}" if isinstance(key, tuple) and len(key) == 4 and key[0] == "._." else repr(key)
                raise DataError(f"Doc.to_bytes: user_data entry {name} cannot be serialized ({type(value).__name__}:"
                                f" {e}); pass exclude=['user_data'] to leave user_data out") from None
        raise


def _checked_exclude(exclude: Iterable[str]) -> set:
    exclude = {exclude} if isinstance(exclude, str) else set(exclude)
    unknown = sorted(exclude - set(EXCLUDABLE))
    if unknown:
        raise ValueError(f"exclude: unknown field(s) {unknown}; these can be left out: {', '.join(EXCLUDABLE)}")
    return exclude


# -- spaCy's JSON layout ------------------------------------------------------------------------------
def doc_to_json(doc: "Doc", underscore: Optional[Iterable[str]] = None) -> Dict[str, Any]:
    """{"text", "ents", "sents", "cats", "tokens", "spans"} as spaCy writes them: character
    offsets for ents, sents and spans; per token id, start, end and the annotation the
    Doc has (tag, pos, morph, lemma, dep with head). `underscore`: Doc extensions to add under "_"."""
    data: Dict[str, Any] = {"text": doc.text}
    if doc.has_annotation("ENT_IOB"):
        data["ents"] = [_span_json(ent, kb_id=False) for ent in doc.ents]
    if len(doc) and doc.has_sentence_boundaries:
        data["sents"] = [{"start": s.start_char, "end": s.end_char} for s in doc.sents]
    if doc.cats:
        data["cats"] = dict(doc.cats)
    present = {attr: doc.has_annotation(attr) for attr in ("TAG", "POS", "MORPH", "LEMMA", "DEP")}
    tokens = []
    for token in doc:
        entry: Dict[str, Any] = {"id": token.i, "start": token.idx, "end": token.idx + len(token.text)}
        if present["TAG"]:
            entry["tag"] = token.tag_
        if present["POS"]:
            entry["pos"] = token.pos_
        if present["MORPH"]:
            entry["morph"] = token.morph
        if present["LEMMA"]:
            entry["lemma"] = token.lemma_
        if present["DEP"]:
            entry["dep"] = token.dep_
            entry["head"] = token.head.i
        tokens.append(entry)
    data["tokens"] = tokens
    if doc.spans:
        data["spans"] = {key: [_span_json(span, kb_id=True) for span in group] for key, group in doc.spans.items()}
    if underscore:
        values = {}
        for name in underscore:
            if not doc.has_extension(name):
                raise ValueError(f"Doc.to_json: no Doc extension '{name}' is registered")
            values[name] = doc._.get(name)
        data["_"] = values
    return data


def _span_json(span: Span, *, kb_id: bool) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"start": span.start_char, "end": span.end_char, "label": span.label_}
    if kb_id or span.kb_id:
        entry["kb_id"] = span.kb_id_
    return entry


def doc_from_json(doc: "Doc", data: Dict[str, Any]) -> "Doc":
    """Fill `doc` (e.g. `Doc(nlp.vocab)`, empty) from to_json's layout; DataError naming the
    field when the JSON does not fit its text."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise DataError("Doc JSON needs a \"text\" string")
    if len(doc):
        raise ValueError("Doc.from_json fills an empty Doc: use Doc(vocab).from_json(data)")
    text = data["text"]
    tokens = data.get("tokens")
    if not isinstance(tokens, list) or (text and not tokens):
        raise DataError("Doc JSON needs a \"tokens\" list of {id, start, end, ...}")
    words, spaces = _words_and_spaces(text, tokens)
    # a Doc built from the words, its columns then moved into `doc` (filled in place, as from_bytes does)
    values = {field: [t.get(field) for t in tokens] if any(field in t for t in tokens) else None
              for field in ("tag", "pos", "morph", "lemma", "dep", "head")}
    if values["head"] is not None and (values["dep"] is None or None in values["head"]):
        raise DataError("Doc JSON: \"head\" must be given with \"dep\" on every token")
    built = type(doc)(doc.vocab, words=words, spaces=spaces, tags=values["tag"], pos=values["pos"],
                      morphs=values["morph"], lemmas=values["lemma"], deps=values["dep"], heads=values["head"])
    doc._words, doc._spaces, doc.cols = built._words, built._spaces, built.cols
    if "sents" in data:
        starts = {sent["start"] for sent in data["sents"]}
        for token in doc:
            token.is_sent_start = token.idx in starts
    if "ents" in data:
        doc.ents = [_char_span(doc, ent, "ents") for ent in data["ents"]]
    doc.cats = dict(data.get("cats") or {})
    doc.spans = {key: [_char_span(doc, span, f"spans.{key}") for span in group]
                 for key, group in (data.get("spans") or {}).items()}
    for name, value in (data.get("_") or {}).items():
        if not doc.has_extension(name):
            raise DataError(f"Doc JSON: \"_\" names '{name}', which is not a registered Doc extension")
        doc._.set(name, value)
    return doc


def _words_and_spaces(text: str, tokens: List[Dict[str, Any]]):
    """The words and spaces of tokens given by character offsets, which must cover the
    text with at most one space between two tokens (as spaCy's tokenizer leaves them)."""
    words: List[str] = []
    spaces: List[bool] = []
    position = 0
    for i, token in enumerate(tokens):
        start, end = (token.get("start"), token.get("end")) if isinstance(token, dict) else (None, None)
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise DataError(f"Doc JSON: tokens[{i}] needs character offsets 0 <= start < end <= {len(text)}")
        if start != position:
            raise DataError(f"Doc JSON: tokens[{i}] starts at {start}, not at {position} where the text before "
                            f"it is covered; tokens must cover the text, with at most one space between them")
        space = text[end:end + 1] == " " and (i + 1 == len(tokens) or tokens[i + 1].get("start") == end + 1)
        words.append(text[start:end])
        spaces.append(space)
        position = end + space
    if position != len(text):
        raise DataError(f"Doc JSON: the tokens end at character {position}, the text at {len(text)}")
    return words, spaces


def _char_span(doc: "Doc", entry: Dict[str, Any], where: str) -> Span:
    span = doc.char_span(entry["start"], entry["end"], label=entry.get("label", ""), kb_id=entry.get("kb_id", ""))
    if span is None:
        raise DataError(f"Doc JSON: {where} [{entry['start']}, {entry['end']}) does not align with token boundaries")
    return span


__all__ = ["doc_to_bytes", "doc_from_bytes", "doc_to_json", "doc_from_json"]
