"""A Doc as plain data without its Vocab, to send docs between processes
(`nlp.pipe(n_process=K)`): every column of the token matrix as it is (so nothing is
recomputed or lost), the tensor, cats, span groups and user_data (custom `._`
attributes, `doc._.trf_data` included). A DocBatch (pack_docs / unpack_docs) carries
many docs with their arrays stacked and the strings their hashes refer to.

user_data travels pickled: these bytes go only between processes of one run, never
to or from a file. Entries that cannot be pickled (a lambda, an open file) are left
out and named in `DocState.dropped`."""
import pickle
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy

from . import attrs as A
from .columns import COL, COLUMNS
from .doc import Doc
from .span import Span
from .vocab import Vocab

# The columns of Doc.cols that hold string hashes.
STRING_COLUMNS = [COL[a] for a in (A.ORTH, A.LOWER, A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE, A.TAG, A.POS, A.MORPH,
                                   A.LEMMA, A.DEP, A.ENT_TYPE, A.ENT_KB_ID, A.ENT_ID)]
SpanTuple = Tuple[int, int, int, int]  # start, end, label hash, kb_id hash


@dataclass
class DocState:
    words: List[str]
    spaces: List[bool]
    cols: Optional[numpy.ndarray]  # None: in the DocBatch's stacked array
    tensor: Optional[numpy.ndarray]  # None: in the DocBatch's stacked tensors
    cats: Dict[str, float]
    spans: Dict[str, List[SpanTuple]]
    user_data: bytes  # pickled dict
    dropped: List[str] = field(default_factory=list)  # user_data entries that could not be pickled


@dataclass
class DocBatch:
    """Many docs in one message, their token matrices stacked into one array (and their
    tensors into another where they stack), so the receiver unpickles two arrays rather
    than two per doc; with the strings the docs refer to."""
    states: List[DocState]
    cols: numpy.ndarray
    tensors: Optional[numpy.ndarray]
    strings: List[Tuple[int, str]]


def doc_to_state(doc: Doc) -> DocState:
    # Doc.copy lists what a Doc holds: keep the two in step
    user_data, dropped = _pickled_user_data(doc.user_data)
    spans = {key: [(s.start, s.end, s.label, s.kb_id) for s in group] for key, group in doc.spans.items()}
    return DocState(words=list(doc.words), spaces=list(doc.spaces), cols=doc.cols, tensor=doc.tensor,
                    cats=dict(doc.cats), spans=spans, user_data=user_data, dropped=dropped)


def doc_from_state(vocab: Vocab, state: DocState, cols: Optional[numpy.ndarray] = None,
                   tensor: Optional[numpy.ndarray] = None) -> Doc:
    """The Doc, on `vocab`; its strings must be in vocab.strings (add_strings) first.
    `cols` and `tensor` stand in for the state's own when it has none."""
    doc = Doc.__new__(Doc)
    doc.vocab = vocab
    doc._words = list(state.words)
    doc._spaces = list(state.spaces)
    doc.cols = state.cols if state.cols is not None else cols
    doc.tensor = state.tensor if state.tensor is not None else tensor
    doc.cats = dict(state.cats)
    # pickled by this process's own nlp.pipe worker (or parent) for the queue between them,
    # as multiprocessing pickles anything it queues; never bytes read from a file
    doc.user_data = pickle.loads(state.user_data)
    doc.spans = {key: [Span(doc, start, end, label=label, kb_id=kb_id) for start, end, label, kb_id in group]
                 for key, group in state.spans.items()}
    return doc


def pack_docs(docs: Sequence[Doc]) -> DocBatch:
    states = [doc_to_state(doc) for doc in docs]
    cols = numpy.concatenate([doc.cols for doc in docs]) if docs else numpy.zeros((0, len(COLUMNS)), dtype="uint64")
    for state in states:
        state.cols = None
    # tensors of one row per token, of the width and type most have, stack; others travel alone
    shapes = [(doc.tensor.shape[1], doc.tensor.dtype) for doc in docs
              if len(doc) and doc.tensor.ndim == 2 and doc.tensor.shape[0] == len(doc)]
    tensors = None
    if shapes:
        width, dtype = max(set(shapes), key=shapes.count)
        stacked = [len(doc) > 0 and doc.tensor.shape == (len(doc), width) and doc.tensor.dtype == dtype
                   for doc in docs]
        tensors = numpy.concatenate([doc.tensor for doc, fits in zip(docs, stacked) if fits])
        for state, fits in zip(states, stacked):
            if fits:
                state.tensor = None
    return DocBatch(states=states, cols=cols, tensors=tensors, strings=batch_strings(docs))


def unpack_docs(vocab: Vocab, batch: DocBatch) -> Iterator[Doc]:
    """The docs of a DocBatch on `vocab` (its strings added first), each with arrays of its own."""
    add_strings(vocab, batch.strings)
    token = tensor_row = 0
    for state in batch.states:
        n = len(state.words)
        tensor = None
        if state.tensor is None and batch.tensors is not None:
            tensor = batch.tensors[tensor_row:tensor_row + n].copy()
            tensor_row += n
        yield doc_from_state(vocab, state, cols=batch.cols[token:token + n].copy(), tensor=tensor)
        token += n


def batch_strings(docs: Sequence[Doc]) -> List[Tuple[int, str]]:
    """(hash, string) for every string the docs' columns and spans refer to."""
    if not docs:
        return []
    hashes = set(numpy.unique(numpy.concatenate([doc.cols[:, STRING_COLUMNS].ravel() for doc in docs])).tolist())
    for doc in docs:
        for group in doc.spans.values():
            hashes.update(value for span in group for value in (span.label, span.kb_id))
    strings = docs[0].vocab.strings
    return [(h, strings[h]) for h in hashes if h and h in strings]


def add_strings(vocab: Vocab, pairs: Iterable[Tuple[int, str]]) -> None:
    """Add the strings of `batch_strings` that `vocab` does not know yet."""
    strings = vocab.strings
    for key, text in pairs:
        if key not in strings:
            strings.add(text)


def _pickled_user_data(user_data: Dict[Any, Any]) -> Tuple[bytes, List[str]]:
    try:
        return pickle.dumps(user_data, protocol=pickle.HIGHEST_PROTOCOL), []
    except Exception:  # pickling raises many types (TypeError, AttributeError, PicklingError ...)
        kept, dropped = {}, []
        for key, value in user_data.items():
            try:
                pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
                kept[key] = value
            except Exception:
                dropped.append(_entry_name(key))
        return pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL), dropped


def _entry_name(key: Any) -> str:
    """An extension's name for a `._` key ("._.", name, start, end); the key itself otherwise."""
    if isinstance(key, tuple) and len(key) == 4 and key[0] == "._.":
        return f"._.{key[1]}"
    return repr(key)
