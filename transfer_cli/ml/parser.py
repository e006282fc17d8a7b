"""spacy.TransitionBasedParser.v1/v2 for state_type "ner": the network of the entity
recognizer.

Three parts, as in spaCy's design:
  tok2vec  docs → one vector per token, projected to hidden_width (once per batch);
  lower    a "precomputable affine" layer: its input is the concatenation of nF token
           vectors picked by the state (current token, open entity's first token, ...).
           Because the layer is linear in each slot, every token's contribution to
           every slot is computed once per batch (nF matrix products); a state's hidden
           pre-activation is then a gather of nF rows and a sum. A learned padding row
           per slot stands for "no token";
  upper    (use_upper) maxout hidden layer → Linear → one score per action.

The model's forward returns a ParserFeatures (the precomputed table) and a backprop that
takes the table's gradient; ParserFeatures.score (no gradient, the decoding loop) and
ParserFeatures.begin_score (one batched pass over many states, with gradient) turn
feature ids into action scores."""
from typing import Any, Callable, List, Literal, Optional, Tuple

import numpy
from thinc.api import Linear, Model, chain, list2array, zero_init
from thinc.types import Floats2d

from ..config.registry import registry
from ..errors import ConfigError
from ..tokens import Doc


class ParserFeatures:
    """Per-batch precomputed lower-layer contributions: P[f, i] is token i's contribution
    to the hidden pre-activation through feature slot f; row N (the last) is slot f's
    padding. Laid out as (nF, N + 1, nP * nH) so each slot's rows are contiguous and
    maxout pieces are contiguous column blocks."""

    def __init__(self, model: Model, P: numpy.ndarray, lengths: List[int]) -> None:
        self.model = model
        self.P = P
        self.lengths = numpy.asarray(lengths, dtype="int64")
        self.n_tokens = int(self.lengths.sum())
        self.pad = self.n_tokens
        lower = model.get_ref("lower")
        self.nF = lower.get_dim("nF")
        self.nH = lower.get_dim("nO")
        self.nP = lower.get_dim("nP")
        self.has_upper = model.attrs["has_upper"]
        to_numpy = model.ops.to_numpy
        self.b = to_numpy(lower.get_param("b"))
        if self.has_upper:
            upper = model.get_ref("upper")
            self.upper_W_T = numpy.ascontiguousarray(to_numpy(upper.get_param("W")).T)
            self.upper_b = to_numpy(upper.get_param("b"))

    # -- shared pieces ----------------------------------------------------------------------
    def _preactivation(self, ids: List[numpy.ndarray]) -> numpy.ndarray:
        P = self.P
        h = P[0][ids[0]]
        for f in range(1, self.nF):
            h += P[f][ids[f]]
        h += self.b
        return h

    def _maxout(self, h: numpy.ndarray, track: bool = True) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
        """Max over the nP contiguous column blocks; which piece won (for backprop, with track)."""
        nH, nP = self.nH, self.nP
        if nP == 1:
            if self.has_upper:  # relu, as spaCy does for one piece with an upper layer
                return numpy.maximum(h, 0.0), None
            return h, None
        if not track:
            best = numpy.maximum(h[:, :nH], h[:, nH:2 * nH])
            for p in range(2, nP):
                numpy.maximum(best, h[:, p * nH:(p + 1) * nH], out=best)
            return best, None
        best = h[:, :nH].copy()
        which = numpy.zeros(best.shape, dtype="int8")
        for p in range(1, nP):
            piece = h[:, p * nH:(p + 1) * nH]
            better = piece > best
            numpy.copyto(best, piece, where=better)
            which[better] = p
        return best, which

    # -- decoding: no gradient -------------------------------------------------------------
    def score(self, ids: List[numpy.ndarray]) -> numpy.ndarray:
        hidden, _ = self._maxout(self._preactivation(ids), track=False)
        if not self.has_upper:
            return hidden
        scores = hidden @ self.upper_W_T
        scores += self.upper_b
        return scores

    # -- training: one pass over all states -------------------------------------------------
    def begin_score(self, ids: List[numpy.ndarray]) -> Tuple[numpy.ndarray, Callable[[numpy.ndarray], numpy.ndarray]]:
        """Scores for many states at once and a backprop from d_scores to d_P (the
        gradients of the lower bias and the upper layer are accumulated on the way)."""
        model = self.model
        h = self._preactivation(ids)
        hidden, which = self._maxout(h)
        bp_upper = None
        if self.has_upper:
            scores, bp_upper = model.get_ref("upper")(model.ops.asarray(hidden), is_train=True)
            scores = model.ops.to_numpy(scores)
        else:
            scores = hidden
        nF, nH, nP, pad = self.nF, self.nH, self.nP, self.pad

        def backprop(d_scores: numpy.ndarray) -> numpy.ndarray:
            d_hidden = model.ops.to_numpy(bp_upper(model.ops.asarray(d_scores))) if bp_upper else d_scores
            if nP == 1:
                d_h = d_hidden * (h > 0) if self.has_upper else d_hidden
            else:
                d_h = numpy.zeros((len(d_hidden), nP * nH), dtype="float32")
                for p in range(nP):
                    d_h[:, p * nH:(p + 1) * nH] = numpy.where(which == p, d_hidden, 0.0)
            model.get_ref("lower").inc_grad("b", model.ops.asarray(d_h.sum(axis=0)))
            d_P = numpy.zeros(self.P.shape, dtype="float32")
            for f in range(nF):
                ids_f = ids[f]
                if f == 0 and len(ids_f) == pad and bool((ids_f == numpy.arange(pad)).all()):
                    d_P[0, :pad] += d_h  # every token is the current token once
                else:
                    numpy.add.at(d_P[f], ids_f, d_h)
            return d_P

        return scores, backprop


# -- the lower layer -------------------------------------------------------------------------------
def PrecomputableAffine(nO: Optional[int], nF: int, nI: Optional[int], nP: int) -> Model:
    """Input (N, nI) → (nF, N + 1, nP * nO): each token's contribution to each slot,
    plus each slot's padding row. Params W (nF, nP * nO, nI), b (nP * nO,), pad (nF, nP * nO)."""
    return Model("precomputable_affine", _lower_forward, init=_lower_init,
                 dims={"nO": nO, "nI": nI, "nF": nF, "nP": nP}, params={"W": None, "b": None, "pad": None})


def _lower_init(model: Model, X: Optional[Any] = None, Y: Optional[Any] = None) -> Model:
    if X is not None and not model.has_dim("nI"):
        model.set_dim("nI", X.shape[1])
    nF, nO, nP, nI = (model.get_dim(d) for d in ("nF", "nO", "nP", "nI"))
    # unit variance of the summed pre-activation for unit-variance inputs
    W = numpy.random.normal(0.0, numpy.sqrt(1.0 / (nF * nI)), (nF, nP * nO, nI)).astype("float32")
    model.set_param("W", model.ops.asarray(W))
    model.set_param("b", model.ops.alloc1f(nP * nO))
    model.set_param("pad", model.ops.alloc2f(nF, nP * nO))
    return model


def _lower_forward(model: Model, X: Floats2d, is_train: bool):
    W = model.ops.to_numpy(model.get_param("W"))
    pad = model.ops.to_numpy(model.get_param("pad"))
    X_np = model.ops.to_numpy(X)
    nF, K, nI = W.shape
    n = X_np.shape[0]
    P = numpy.empty((nF, n + 1, K), dtype="float32")
    for f in range(nF):
        numpy.matmul(X_np, W[f].T, out=P[f, :n])
        P[f, n] = pad[f]

    def backprop(d_P: numpy.ndarray) -> Floats2d:
        d_W = numpy.empty_like(W)
        d_X = numpy.zeros((n, nI), dtype="float32")
        for f in range(nF):
            numpy.matmul(d_P[f, :n].T, X_np, out=d_W[f])
            d_X += d_P[f, :n] @ W[f]
        model.inc_grad("W", model.ops.asarray(d_W))
        model.inc_grad("pad", model.ops.asarray(numpy.ascontiguousarray(d_P[:, n])))
        return model.ops.asarray(d_X)

    return P, backprop


# -- the whole model ------------------------------------------------------------------------------
@registry.architectures("spacy.TransitionBasedParser.v2")
def build_tb_parser_model(tok2vec: Model[List[Doc], List[Floats2d]], state_type: Literal["parser", "ner"],
                          extra_state_tokens: bool, hidden_width: int, maxout_pieces: int, use_upper: bool,
                          nO: Optional[int] = None) -> Model:
    """spacy.TransitionBasedParser.v2. state_type "ner": 3 feature tokens (6 with
    extra_state_tokens). nO (the number of actions) is set from the labels at
    initialization."""
    if state_type != "ner":
        if state_type == "parser":
            raise ConfigError("state_type 'parser' (dependency parsing) is not available in transfer-cli: "
                              "spacy.TransitionBasedParser here drives the entity recognizer (state_type = \"ner\")")
        raise ConfigError(f"state_type must be \"ner\" (or \"parser\"), not {state_type!r}")
    if hidden_width < 1 or maxout_pieces < 1:
        raise ConfigError("hidden_width and maxout_pieces must be at least 1")
    nF = 6 if extra_state_tokens else 3
    t2v_width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    projected = chain(tok2vec, list2array(), Linear(hidden_width, t2v_width))
    projected.set_dim("nO", hidden_width)
    lower = PrecomputableAffine(nO=hidden_width if use_upper else nO, nF=nF, nI=hidden_width, nP=maxout_pieces)
    layers = [projected, lower]
    refs = {"tok2vec": projected, "lower": lower}
    if use_upper:
        upper = Linear(nO=nO, nI=hidden_width, init_W=zero_init)
        layers.append(upper)
        refs["upper"] = upper
    return Model("tb_parser", _parser_forward, init=_parser_init, layers=layers, refs=refs, dims={"nO": nO},
                 attrs={"has_upper": use_upper, "state_type": state_type, "nF": nF})


@registry.architectures("spacy.TransitionBasedParser.v1")
def build_tb_parser_model_v1(tok2vec: Model[List[Doc], List[Floats2d]], state_type: Literal["parser", "ner"],
                             extra_state_tokens: bool, hidden_width: int, maxout_pieces: int,
                             use_upper: bool = True, nO: Optional[int] = None) -> Model:
    """spacy.TransitionBasedParser.v1: the same network (v2 changed nothing for NER but
    the defaults spaCy writes)."""
    return build_tb_parser_model(tok2vec, state_type, extra_state_tokens, hidden_width, maxout_pieces, use_upper, nO)


def _parser_init(model: Model, X: Optional[List[Doc]] = None, Y: Optional[Any] = None) -> Model:
    projected, lower = model.layers[0], model.layers[1]
    projected.initialize(X=X)
    lower.initialize()
    if model.attrs["has_upper"]:
        model.layers[2].initialize()
    return model


def _parser_forward(model: Model, docs: List[Doc], is_train: bool):
    projected, lower = model.layers[0], model.layers[1]
    T, bp_projected = projected(docs, is_train)
    P, bp_lower = lower(T, is_train)
    features = ParserFeatures(model, P, [len(doc) for doc in docs])

    def backprop(d_P: numpy.ndarray) -> List[Doc]:
        return bp_projected(bp_lower(d_P))

    return features, backprop


def set_n_actions(model: Model, n_actions: int) -> None:
    """Size the output (upper nO, or lower nO without an upper layer) for n_actions,
    keeping trained rows when the model already has weights (labels added later)."""
    model.set_dim("nO", n_actions, force=True)
    layer = model.get_ref("upper") if model.attrs["has_upper"] else model.get_ref("lower")
    old = layer.get_dim("nO") if layer.has_dim("nO") else None
    if old == n_actions:
        return
    if old is None or not layer.has_param("W") or layer.get_param("W") is None:
        layer.set_dim("nO", n_actions, force=True)
        return
    if n_actions < old:
        raise ConfigError(f"cannot shrink the entity recognizer's output from {old} to {n_actions} actions")
    ops = layer.ops
    if model.attrs["has_upper"]:
        W, b = ops.to_numpy(layer.get_param("W")), ops.to_numpy(layer.get_param("b"))
        new_W = numpy.zeros((n_actions, W.shape[1]), dtype="float32")
        new_b = numpy.zeros((n_actions,), dtype="float32")
        new_W[:old], new_b[:old] = W, b
        layer.set_dim("nO", n_actions, force=True)
        layer.set_param("W", ops.asarray(new_W))
        layer.set_param("b", ops.asarray(new_b))
    else:
        nF, nP = layer.get_dim("nF"), layer.get_dim("nP")
        W = ops.to_numpy(layer.get_param("W")).reshape(nF, nP, old, -1)
        b = ops.to_numpy(layer.get_param("b")).reshape(nP, old)
        pad = ops.to_numpy(layer.get_param("pad")).reshape(nF, nP, old)
        new_W = numpy.zeros((nF, nP, n_actions, W.shape[-1]), dtype="float32")
        new_b = numpy.zeros((nP, n_actions), dtype="float32")
        new_pad = numpy.zeros((nF, nP, n_actions), dtype="float32")
        new_W[:, :, :old], new_b[:, :old], new_pad[:, :, :old] = W, b, pad
        layer.set_dim("nO", n_actions, force=True)
        layer.set_param("W", ops.asarray(new_W.reshape(nF, nP * n_actions, -1)))
        layer.set_param("b", ops.asarray(new_b.reshape(-1)))
        layer.set_param("pad", ops.asarray(new_pad.reshape(nF, -1)))
