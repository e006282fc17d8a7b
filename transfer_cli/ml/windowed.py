"""Prediction over long docs in overlapping windows, with the whole-doc output.

A network's forward pass over one doc holds several activation arrays of the doc's
length at once (the embedding tables' outputs, their concatenation, each encoder
block's windows...): ~2.4 KB a token at width 32, ~11 KB at width 96, so one
200,000-token doc cost 0.5-2 GB. When every output row depends only on the tokens
within `context` positions of it (per-token embeddings followed by window
convolutions: `token_context`), the doc can be run in pieces of WINDOW_TOKENS tokens,
each with `context` extra tokens on both sides, keeping only the pieces' middles:
every kept row is computed from exactly the tokens and weights it is computed from in
the whole doc, so the output is the whole-doc output (to float rounding: BLAS rounds a
row's products differently by where the row falls in the matrix, as a doc's output
already differs by ~1e-6 with the other docs of its batch), while the activations held
are those of one piece. Models whose context is unbounded or unknown (an LSTM, a
transformer, a user's layer) are run over whole docs as before."""
from typing import Any, List, Optional, Sequence

import numpy
from thinc.api import Model

from ..tokens import attrs as A
from ..tokens.doc import Doc, attribute_array, word_lengths

# Tokens a piece of a long doc keeps (plus the context on both sides): large enough that
# the overlap is a small share of the work, small enough that activations stay small.
WINDOW_TOKENS = 4096

# Model attrs: "per_token" (bool): each output row depends on its token alone (an
# embedding); "exact_context" (int): each output row depends on the input rows within
# that many positions of it and on no others (window convolutions with zero padding at
# the doc's edges); "context_ref" (str): the model is the named ref followed by per-token
# layers only, so its context is the ref's.
PER_TOKEN, EXACT_CONTEXT, CONTEXT_REF = "per_token", "exact_context", "context_ref"


def token_context(model: Model) -> Optional[int]:
    """How many tokens on each side an output row of `model` (List[Doc] → one array
    per doc) depends on, when that is known and bounded; None otherwise."""
    ref = model.attrs.get(CONTEXT_REF)
    if ref is not None:
        return token_context(model.get_ref(ref)) if model.has_ref(ref) else None
    if model.attrs.get(PER_TOKEN):
        return 0
    if model.has_ref("embed") and model.has_ref("encode"):  # a Tok2Vec: chain(embed, encode)
        embed, encode = model.get_ref("embed"), model.get_ref("encode")
        if len(model.layers) == 2 and model.layers[0] is embed and model.layers[1] is encode \
                and embed.attrs.get(PER_TOKEN) and isinstance(encode.attrs.get(EXACT_CONTEXT), int):
            return encode.attrs[EXACT_CONTEXT]
    return None


class DocWindow:
    """Tokens [start, end) of a doc, as the embedding layers read them: what featurize
    and StaticVectors use of a Doc (len, .doc/.start/.end, vocab, to_array)."""

    def __init__(self, doc: Doc, start: int, end: int) -> None:
        self.doc, self.start, self.end = doc, start, end

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def vocab(self):
        return self.doc.vocab

    def to_array(self, attrs: Any) -> numpy.ndarray:
        single = isinstance(attrs, (str, int))
        attr_ids = A.intify_attrs([attrs] if single else attrs)
        array = attribute_array(self.doc.cols[self.start:self.end], attr_ids,
                                lambda: word_lengths(self.doc.words[self.start:self.end]))
        return array[:, 0] if single else array


def predict_in_windows(model: Model, docs: Sequence[Doc], context: Optional[int],
                       window: Optional[int] = None) -> List[Any]:
    """model.predict(docs) (one array per doc), running each doc longer than `window`
    (default WINDOW_TOKENS) tokens in overlapping pieces when `context`
    (token_context(model)) is known."""
    window = WINDOW_TOKENS if window is None else window
    if context is None or window < 1 or all(len(doc) <= window for doc in docs):
        return model.predict(list(docs))
    outputs: List[Any] = [None] * len(docs)
    short = [i for i, doc in enumerate(docs) if len(doc) <= window]
    if short:
        for i, output in zip(short, model.predict([docs[i] for i in short])):
            outputs[i] = output
    for i, doc in enumerate(docs):
        if outputs[i] is None:
            outputs[i] = _predict_long(model, doc, context, window)
    return outputs


def _predict_long(model: Model, doc: Doc, context: int, window: int) -> Any:
    n = len(doc)
    whole = None
    for start in range(0, n, window):
        end = min(n, start + window)
        lo, hi = max(0, start - context), min(n, end + context)
        (piece,) = model.predict([DocWindow(doc, lo, hi)])
        if whole is None:
            whole = model.ops.xp.empty((n,) + tuple(piece.shape[1:]), dtype=piece.dtype)
        whole[start:end] = piece[start - lo:end - lo]
    return whole
