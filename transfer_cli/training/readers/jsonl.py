"""JSONL corpora → Docs, one JSON object per line.

Accepted records:
  {"text": ...}                                   raw text (tokenized by `make_doc`)
  {"text": ..., "label": "pos"}                   one class (a list: several); every label seen
                                                  in the file becomes a cat, 1.0 for this one, 0.0 others
  {"text": ..., "cats": {"pos": 1.0, ...}}        cats as given
  {"text": ..., "entities": [[start, end, label]]} character offsets (Prodigy's "spans" list of
                                                  {"start", "end", "label"} objects also works)
  {"tokens": [...], "tags": [...]}                pre-tokenized words ("spaces" optional); tags
                                                  that all look like O/B-X/I-X/L-X/U-X are entity
                                                  tags (IOB or BILUO), otherwise token tags
Entities whose offsets do not fall on token boundaries are dropped (their tokens'
entity annotation becomes missing) and reported in `warnings`; overlapping or
out-of-range offsets are a DataError naming the line. The file is checked in a first
pass (valid JSON objects, the label set) before any Doc is made."""
import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from ...errors import DataError, UserError
from ...tokens.doc import Doc
from ...tokens.iob_utils import MISSING, iob_to_biluo, offsets_to_biluo_tags, tags_to_entities
from ...tokens.span import Span
from ...tokens.vocab import Vocab
from ._lines import iter_lines, parse_json_line

_ENT_TAG = re.compile(r"^(O|-|[BILU]-\S+)$")


def _records(path: Union[str, Path]) -> Iterator[Any]:
    where = str(path)
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        record = parse_json_line(line, path=where, line_no=lineno)  # stdlib json: exact floats
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object per line, found {type(record).__name__}", path=where,
                            line=lineno)
        yield lineno, record


def _labels_of(record: Dict[str, Any], where: str, lineno: int) -> List[str]:
    """The record's class labels: "label" is a string (or an integer class id) or a list of them."""
    label = record.get("label")
    if label is None:
        return []
    labels = label if isinstance(label, list) else [label]
    for value in labels:
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            raise DataError(f'"label" must be a label string (or a list of them), found {_describe(label)}',
                            path=where, line=lineno)
    return [str(value) for value in labels]


def _describe(value: Any) -> str:
    text = json.dumps(value)
    return (text[:40] + "...") if len(text) > 43 else text


def read_jsonl(path: Union[str, Path], vocab: Vocab, *, n_sents: int = 1,
               make_doc: Optional[Callable[[str], Doc]] = None,
               warnings: Optional[List[str]] = None) -> Iterator[Doc]:
    """Yield one Doc per line. `make_doc` tokenizes "text" records."""
    where = str(path)
    labels: Dict[str, None] = {}
    for lineno, record in _records(path):
        if "tokens" not in record and "text" not in record:
            raise DataError('expected a "text" or a "tokens" field', path=where, line=lineno)
        if "text" in record and "tokens" not in record and make_doc is None:
            raise UserError(f"{where}:{lineno}: this file has raw text, which needs a tokenizer "
                            "(pass make_doc, or --lang on the command line)")
        for label in _labels_of(record, where, lineno):
            labels.setdefault(label)
    for lineno, record in _records(path):
        yield _record_to_doc(record, vocab, make_doc, list(labels), where, lineno, warnings)


def _record_to_doc(record: Dict[str, Any], vocab: Vocab, make_doc: Optional[Callable[[str], Doc]],
                   labels: List[str], where: str, lineno: int, warnings: Optional[List[str]]) -> Doc:
    if "tokens" in record:
        doc = _pretokenized(record, vocab, where, lineno)
    else:
        text = record["text"]
        if not isinstance(text, str):
            raise DataError(f'"text" must be a string, found {type(text).__name__}', path=where, line=lineno)
        doc = make_doc(text)  # type: ignore[misc]
        entities = record.get("entities", record.get("spans"))
        if entities is not None:
            _set_offsets(doc, entities, where, lineno, warnings)
    record_labels = _labels_of(record, where, lineno)
    if record_labels:
        doc.cats = {label: float(label in record_labels) for label in labels}
    cats = record.get("cats")
    if cats is not None:
        if not isinstance(cats, dict) or not all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0
                                                 for v in cats.values()):
            raise DataError('"cats" must map labels to numbers from 0.0 to 1.0, e.g. {"pos": 1.0, "neg": 0.0}, '
                            f'found {_describe(cats)}', path=where, line=lineno)
        doc.cats.update({str(k): float(v) for k, v in cats.items()})
    return doc


def _pretokenized(record: Dict[str, Any], vocab: Vocab, where: str, lineno: int) -> Doc:
    tokens = record["tokens"]
    if not isinstance(tokens, list):
        raise DataError('"tokens" must be a list of strings', path=where, line=lineno)
    words: List[str] = []
    spaces: List[bool] = []
    for token in tokens:
        if isinstance(token, dict):  # Prodigy-style {"text": ..., "ws": true}
            text, ws = token.get("text", ""), token.get("ws", True)
            if not isinstance(text, str) or not isinstance(ws, bool):
                raise DataError(f'a token object needs "text" (a string) and optionally "ws" (true/false), found '
                                f'{_describe(token)}', path=where, line=lineno)
            words.append(text)
            spaces.append(ws)
        elif isinstance(token, str):
            words.append(token)
            spaces.append(True)
        else:
            raise DataError(f'"tokens" must hold strings, found {type(token).__name__}', path=where, line=lineno)
    if "spaces" in record:
        spaces = record["spaces"]
        if (not isinstance(spaces, list) or len(spaces) != len(words)
                or not all(isinstance(space, bool) for space in spaces)):
            raise DataError(f'"spaces" must be a list of {len(words)} booleans (true/false), found '
                            f'{_describe(spaces)}', path=where, line=lineno)
    if any(not w for w in words):
        raise DataError("empty token in \"tokens\"", path=where, line=lineno)
    tags = record.get("tags")
    if tags is None:
        return Doc(vocab, words=words, spaces=spaces)
    if not isinstance(tags, list) or len(tags) != len(words):
        raise DataError(f'"tags" must be a list with one tag per token ({len(words)}), found '
                        f'{len(tags) if isinstance(tags, list) else type(tags).__name__}', path=where, line=lineno)
    for i, tag in enumerate(tags):
        if tag is not None and (not isinstance(tag, str) or not tag):
            raise DataError(f'"tags" must hold tag strings (null for a missing tag), found {_describe(tag)} for '
                            f'token {i} ({words[i]!r})', path=where, line=lineno)
    if tags and all(isinstance(t, str) and _ENT_TAG.match(t) for t in tags):
        try:
            if any(t[0] in "LU" for t in tags):
                tags_to_entities(tags)  # BILUO: check it is well formed
                biluo = tags
            else:
                biluo = iob_to_biluo(tags)
        except ValueError as e:
            raise DataError(str(e), path=where, line=lineno) from None
        return Doc(vocab, words=words, spaces=spaces, ents=biluo)
    return Doc(vocab, words=words, spaces=spaces, tags=tags)


def _set_offsets(doc: Doc, entities: Any, where: str, lineno: int, warnings: Optional[List[str]]) -> None:
    if not isinstance(entities, list):
        raise DataError('"entities" must be a list of [start, end, label]', path=where, line=lineno)
    offsets = []
    for ent in entities:
        if isinstance(ent, dict):
            ent = (ent.get("start"), ent.get("end"), ent.get("label"))
        if (not isinstance(ent, (list, tuple)) or len(ent) != 3 or not isinstance(ent[0], int)
                or not isinstance(ent[1], int) or not isinstance(ent[2], str)):
            raise DataError(f"entity {ent!r} is not [start, end, label] (two integers and a string)", path=where,
                            line=lineno)
        offsets.append((ent[0], ent[1], ent[2]))
    misaligned: List = []
    try:
        tags = offsets_to_biluo_tags(doc, offsets, misaligned=misaligned)
    except ValueError as e:
        raise DataError(str(e), path=where, line=lineno) from None
    if warnings is not None:
        text = doc.text
        for start, end, label in misaligned:
            warnings.append(f"{where}:{lineno}: entity [{start}, {end}, '{label}'] {text[start:end]!r} does not "
                            "match token boundaries; dropped")
    spans = [Span(doc, start, end + 1, label=label) for label, start, end in tags_to_entities(tags)]
    missing = [Span(doc, i, i + 1) for i, tag in enumerate(tags) if tag == MISSING]
    doc.set_ents(spans, missing=missing, default="outside")
