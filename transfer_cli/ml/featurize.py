"""Docs → feature arrays, one array operation per batch.

A Doc keeps its token attributes as columns of a uint64 matrix (`doc.cols`), so the
features of a whole batch are one concatenation of those matrices followed by one
column selection; the per-doc lengths are kept so outputs can be split again. Spans
(anything with `.doc`, `.start`, `.end`) are accepted wherever a Doc is.
"""
from typing import Annotated, List, Optional, Sequence, Tuple, Union

import numpy
from thinc.api import Model
from thinc.types import Ragged
from thinc.util import to_numpy

from ..config.registry import registry
from ..config.schemas import ValueCheck
from ..errors import ConfigError
from ..tokens import attrs as A
from ..tokens.doc import attribute_array

AttrName = Union[str, int]


def _attr_list_problem(value: object) -> Optional[str]:
    if not isinstance(value, (list, tuple)):
        return None  # the type check reports it
    for item in value:
        problem = A.attr_problem(item)
        if problem:
            return problem
    return None


# Argument types of registered architectures that name token attributes: config
# validation reports an unknown name under the argument's key, with the closest name.
AttrNameArg = Annotated[AttrName, ValueCheck(A.attr_problem)]
AttrNamesArg = Annotated[List[AttrName], ValueCheck(_attr_list_problem)]
OptionalAttrNamesArg = Annotated[Optional[List[AttrName]], ValueCheck(_attr_list_problem)]


def attr_ids(attrs: Sequence[AttrName], *, owner: str = "") -> List[int]:
    """Attribute names or IDs → IDs, with a ConfigError naming the bad one."""
    if isinstance(attrs, (str, int)) or not isinstance(attrs, (list, tuple)):
        raise ConfigError(f"{owner + ': ' if owner else ''}attrs must be a list of attribute names, "
                          f"e.g. [\"NORM\", \"PREFIX\"], not {attrs!r}")
    try:
        return A.intify_attrs(attrs)
    except ConfigError as err:
        raise ConfigError(f"{owner + ': ' if owner else ''}{err.bare_message}") from None


def doc_lengths(docs: Sequence) -> numpy.ndarray:
    return numpy.fromiter((len(doc) for doc in docs), dtype="int32", count=len(docs))


def split_by_lengths(array, lengths) -> List:
    """Rows of `array` cut into consecutive views of the given lengths (one per doc)."""
    ends = numpy.cumsum(to_numpy(lengths), dtype="int64")
    starts = ends - to_numpy(lengths)
    return [array[start:end] for start, end in zip(starts.tolist(), ends.tolist())]


def _matrix(doc) -> numpy.ndarray:
    """The token-attribute matrix of a Doc, or the rows of a Span's doc."""
    cols = getattr(doc, "cols", None)
    if cols is not None:
        return cols
    return doc.doc.cols[doc.start:doc.end]


def _words(doc) -> List[str]:
    return doc.words if hasattr(doc, "cols") else doc.doc.words[doc.start:doc.end]


def extract_keys(docs: Sequence, attrs: Sequence[int]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(keys, lengths): uint64 (n_tokens, len(attrs)) for the whole batch, int32 (n_docs,).

    One concatenation of the docs' attribute matrices, then one column take (or, for
    derived attributes such as the IS_*/LIKE_* flags, ID and LENGTH, one array
    operation per attribute over the whole batch) — the values Doc.to_array gives."""
    lengths = doc_lengths(docs)
    n_attrs = len(attrs)
    if not len(docs) or not lengths.sum():
        return numpy.zeros((0, n_attrs), dtype="uint64"), lengths
    matrices = [_matrix(doc) for doc in docs]
    batch = matrices[0] if len(matrices) == 1 else numpy.concatenate(matrices, axis=0)

    def word_lengths() -> numpy.ndarray:
        return numpy.fromiter((len(w) for doc in docs for w in _words(doc)), dtype="uint64", count=batch.shape[0])

    return attribute_array(batch, attrs, word_lengths), lengths


def _word_bytes(docs: Sequence) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """All words of the batch as one uint8 buffer of UTF-8 bytes, and the byte length
    of each word, from one encode of the joined text (no per-word encoding)."""
    words: List[str] = []
    for doc in docs:
        words.extend(_words(doc))
    joined = "".join(words)
    data = numpy.frombuffer(joined.encode("utf8", "surrogatepass"), dtype="uint8")
    char_lengths = numpy.fromiter(map(len, words), dtype="int64", count=len(words))
    if len(data) == len(joined):  # all ASCII
        return data, char_lengths
    # bytes per character from its code point, summed per word
    codes = numpy.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    char_bytes = 1 + (codes >= 0x80).astype("int64") + (codes >= 0x800) + (codes >= 0x10000)
    cumulative = numpy.zeros(len(codes) + 1, dtype="int64")
    numpy.cumsum(char_bytes, out=cumulative[1:])
    word_ends = numpy.cumsum(char_lengths)
    return data, cumulative[word_ends] - cumulative[word_ends - char_lengths]


def utf8_array(docs: Sequence, nr_char: int) -> numpy.ndarray:
    """uint8 (n_tokens, nr_char): each word's UTF-8 bytes in the order first, last,
    second, second-to-last, ...; 255 pads words shorter than nr_char. Slicing the
    first 2k columns therefore gives the first k and last k bytes of every word."""
    data, lengths = _word_bytes(docs)
    n = len(lengths)
    output = numpy.full((n, nr_char), 255, dtype="uint8")
    if not n or nr_char <= 0:
        return output
    starts = numpy.zeros(n, dtype="int64")
    numpy.cumsum(lengths[:-1], out=starts[1:])
    j = numpy.arange(nr_char)
    # position j takes byte j//2 from the front (even j) or from the back (odd j)
    offset = numpy.where(j % 2 == 0, j // 2, -1 - j // 2)
    index = numpy.where(offset[None, :] >= 0, offset[None, :], lengths[:, None] + offset[None, :])
    valid = j[None, :] < lengths[:, None]
    flat = starts[:, None] + numpy.where(valid, index, 0)
    if len(data):
        output[valid] = data[flat[valid]]
    return output


@registry.layers("spacy.FeatureExtractor.v1")
def FeatureExtractor(columns: AttrNamesArg) -> Model[List, Ragged]:
    """spacy.FeatureExtractor.v1, Model[List[Doc], Ragged]: the batch's values of the
    attributes `columns` (names or IDs), uint64 (n_tokens, k), with the doc lengths.
    Both stay host (numpy) arrays whatever the ops: they come from the Docs, and the
    embedding layers dedupe keys on the host before moving the few distinct ones to
    the device. No parameters, no gradient."""
    ids = attr_ids(columns, owner="spacy.FeatureExtractor.v1")
    return Model("extract_features", _extract_forward, attrs={"columns": ids})


def _extract_forward(model: Model, docs: List, is_train: bool):
    keys, lengths = extract_keys(docs, model.attrs["columns"])
    return Ragged(keys, lengths), lambda d_keys: []
