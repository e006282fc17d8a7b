"""Pretraining objectives: `spacy.PretrainCharacters.v1` and `spacy.PretrainVectors.v1`.

Each registered function returns a builder `(vocab, tok2vec) -> Model`: the objective
model wraps the subnetwork being pretrained (a Model[List[Doc], List[Floats2d]], one
vector per token) and a small output layer (Maxout, LayerNorm, Linear).

Its forward pass hides a share of the tokens (MASK_RATE) before the subnetwork sees
them: most become a mask word, some a random word of the batch, some stay as they are.
The output layer then predicts, for the hidden tokens only, what the original token
was: the first and last `n_characters` UTF-8 bytes of its text (one 256-way choice per
byte position), or its static vector. So the subnetwork learns to describe a word
from its context, and the outputs stay approximate: no softmax over a vocabulary.

The objective model maps docs to `(guesses, truths)` for the hidden tokens; its
backprop takes the gradient of the guesses. `model.attrs["loss"]` is the thinc Loss
that compares the two (mean per hidden token)."""
from typing import Annotated, Any, Callable, List, Literal, Optional, Sequence, Tuple

import numpy
from thinc.api import Model, chain, get_array_module
from thinc.loss import Loss
from thinc.types import Floats2d

from ..config.registry import registry
from ..config.schemas import at_least
from ..errors import ConfigError
from ..tokens import Doc
from ..tokens import attrs as A
from .featurize import utf8_array
from .layers import LayerNorm, Linear, Maxout

PositiveInt = Annotated[int, at_least(1)]

MASK_RATE = 0.15  # share of the tokens hidden in each batch
MASK_WORD = "[MASK]"  # what most hidden tokens become; the rest are random words of the batch or unchanged
_REPLACE_WITH_MASK, _REPLACE_WITH_RANDOM = 0.8, 0.1
N_BYTE_VALUES = 256  # a byte position's classes; 255 (never a UTF-8 byte) marks "no character"
NO_VECTORS_MESSAGE = ("the vectors objective (spacy.PretrainVectors.v1) predicts each word's static vector, but "
                      "no vectors are loaded: set [initialize] vectors to a directory written by `transfer-cli "
                      "init-vectors` (e.g. --paths.vectors vectors/)")

ObjectiveBuilder = Callable[[Any, Model], Model]


@registry.architectures("spacy.PretrainCharacters.v1")
def create_pretrain_characters(maxout_pieces: PositiveInt, hidden_size: PositiveInt,
                               n_characters: PositiveInt) -> ObjectiveBuilder:
    """spacy.PretrainCharacters.v1: predict the first and last n_characters UTF-8 bytes
    of each hidden token."""

    def build(vocab: Any, tok2vec: Model) -> Model:
        return PretrainCharacters(tok2vec, maxout_pieces=maxout_pieces, hidden_size=hidden_size,
                                  n_characters=n_characters)

    return build


@registry.architectures("spacy.PretrainVectors.v1")
def create_pretrain_vectors(maxout_pieces: PositiveInt, hidden_size: PositiveInt,
                            loss: Literal["cosine", "L2"]) -> ObjectiveBuilder:
    """spacy.PretrainVectors.v1: predict the static vector of each hidden token
    (loss "cosine" or "L2"); needs [initialize] vectors."""

    def build(vocab: Any, tok2vec: Model) -> Model:
        return PretrainVectors(tok2vec, maxout_pieces=maxout_pieces, hidden_size=hidden_size, loss=loss)

    return build


# -- the two objectives ----------------------------------------------------------------------------
def PretrainCharacters(tok2vec: Model, *, maxout_pieces: int, hidden_size: int, n_characters: int) -> Model:
    n_positions = 2 * n_characters  # utf8_array's order: first, last, second, second-to-last, ...
    head = _output_layer(maxout_pieces, hidden_size, n_positions * N_BYTE_VALUES)

    def targets(docs: List[Doc]) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
        return utf8_array(docs, n_positions), None

    return _objective("pretrain_characters", tok2vec, head, targets, CharacterLoss(n_positions),
                      {"n_characters": n_characters})


def PretrainVectors(tok2vec: Model, *, maxout_pieces: int, hidden_size: int, loss: str) -> Model:
    if loss not in ("cosine", "L2"):
        raise ConfigError(f'loss must be "cosine" or "L2", not {loss!r}', key="pretraining.objective.loss")
    head = _output_layer(maxout_pieces, hidden_size, None)  # nO: the vectors' width, set at initialization
    return _objective("pretrain_vectors", tok2vec, head, vector_targets, VectorLoss(loss), {"distance": loss})


def _output_layer(maxout_pieces: int, hidden_size: int, nO: Optional[int]) -> Model[Floats2d, Floats2d]:
    return chain(Maxout(nO=hidden_size, nP=maxout_pieces), LayerNorm(hidden_size), Linear(nO=nO))


def vector_targets(docs: List[Doc]) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
    """Each token's row of the vocab's vectors (keyed by the table's attribute, as
    StaticVectors finds them) and which tokens have one."""
    vectors = docs[0].vocab.vectors if docs else None
    if vectors is None or vectors.is_empty:
        raise ConfigError(NO_VECTORS_MESSAGE, key="initialize.vectors")
    column = A.intify_attr(getattr(vectors, "attr", None) or "ORTH")
    keys = numpy.concatenate([doc.to_array(column).ravel() for doc in docs]) if docs else numpy.zeros(0, "uint64")
    if vectors.mode == "floret":  # every word has a vector, built from its character n-grams
        return vectors.get_batch(keys, strings=docs[0].vocab.strings), None
    rows = numpy.asarray(vectors.find(keys=keys))
    found = rows >= 0
    return vectors.data.take(numpy.maximum(rows, 0), axis=0), found


# -- the objective model -----------------------------------------------------------------------------
Targets = Callable[[List[Doc]], Tuple[numpy.ndarray, Optional[numpy.ndarray]]]


def _objective(name: str, tok2vec: Model, head: Model, targets: Targets, loss: Loss, attrs: dict) -> Model:
    model = Model(name, _objective_forward, init=_objective_init, layers=[tok2vec, head],
                  attrs={"targets": targets, "loss": loss, "mask_rate": MASK_RATE, **attrs})
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", head)
    return model


def _objective_init(model: Model, X: Optional[List[Doc]] = None, Y: Any = None) -> None:
    tok2vec, head = model.layers
    if not X:
        raise ConfigError("the pretraining objective needs sample docs to initialize (is the raw text empty?)")
    docs = [doc for doc in X if len(doc)][:16] or list(X)[:1]
    truths, _ = model.attrs["targets"](docs)  # the vectors objective fails here without vectors
    tok2vec.initialize(X=docs)
    vectors = tok2vec.predict(docs)
    check_token_vectors(docs, vectors)
    sample = model.ops.xp.concatenate([model.ops.asarray2f(v) for v in vectors]) if vectors else None
    last = head.layers[-1]
    if not last.has_dim("nO") or last.get_dim("nO") is None:
        last.set_dim("nO", truths.shape[1])
    head.initialize(X=sample)


def check_token_vectors(docs: List[Doc], output: Any) -> None:
    """A TypeError unless `output` is one (n_tokens, width) array per doc: what the
    pretrained network must give (Model[List[Doc], List[Floats2d]])."""
    if not isinstance(output, list) or len(output) != len(docs):
        raise TypeError(f"it returned {type(output).__name__}, not a list with an array per doc")
    for doc, array in zip(docs, output):
        shape = getattr(array, "shape", None)
        if shape is None or len(shape) != 2 or shape[0] != len(doc):
            raise TypeError(f"a doc of {len(doc)} tokens gave {type(array).__name__} of shape {shape}, not "
                            f"({len(doc)}, width)")


def _objective_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[Tuple[Floats2d, Any], Callable]:
    tok2vec, head = model.layers
    ops = model.ops
    truths, usable = model.attrs["targets"](docs)
    lengths = [len(doc) for doc in docs]
    hidden = choose_hidden(sum(lengths), model.attrs["mask_rate"], usable)
    vectors, backprop_tok2vec = tok2vec(mask_docs(docs, hidden), is_train)
    flat = ops.xp.concatenate([ops.asarray2f(v) for v in vectors]) if vectors else ops.alloc2f(0, 0)
    index = ops.asarray(numpy.flatnonzero(hidden), dtype="int64")
    guesses, backprop_head = head(flat[index], is_train)

    def backprop(d_guesses: Floats2d) -> List:
        d_hidden = backprop_head(d_guesses)
        d_flat = ops.alloc2f(*flat.shape)
        d_flat[index] = d_hidden
        starts = numpy.cumsum([0] + lengths)
        backprop_tok2vec([d_flat[start:end] for start, end in zip(starts[:-1], starts[1:])])
        return []

    return (guesses, ops.asarray(truths[numpy.flatnonzero(hidden)])), backprop


def choose_hidden(n_tokens: int, rate: float, usable: Optional[numpy.ndarray]) -> numpy.ndarray:
    """bool (n_tokens,): which tokens to hide and predict; at least one when any is usable
    (numpy's global random state: fix_random_seed makes it repeatable)."""
    hidden = numpy.random.random(n_tokens) < rate
    if usable is not None:
        hidden &= usable
    if not hidden.any() and n_tokens:
        candidates = numpy.flatnonzero(usable) if usable is not None else numpy.arange(n_tokens)
        if len(candidates):
            hidden[candidates[numpy.random.randint(len(candidates))]] = True
    return hidden


def mask_docs(docs: Sequence[Doc], hidden: numpy.ndarray) -> List[Doc]:
    """Copies of the docs where the hidden tokens became MASK_WORD (80%), a random word
    of the batch (10%) or stayed (10%); docs without hidden tokens are passed as they are."""
    positions = numpy.flatnonzero(hidden)
    if not len(positions):
        return list(docs)
    words: List[str] = [word for doc in docs for word in doc.words]
    rolls = numpy.random.random(len(positions))
    random_words = numpy.random.randint(len(words), size=len(positions))
    changed = list(words)
    for position, roll, other in zip(positions.tolist(), rolls.tolist(), random_words.tolist()):
        if roll < _REPLACE_WITH_MASK:
            changed[position] = MASK_WORD
        elif roll < _REPLACE_WITH_MASK + _REPLACE_WITH_RANDOM:
            changed[position] = words[other]
    masked: List[Doc] = []
    start = 0
    for doc in docs:
        end = start + len(doc)
        if hidden[start:end].any():
            masked.append(Doc(doc.vocab, changed[start:end], doc.spaces))
        else:
            masked.append(doc)
        start = end
    return masked


# -- losses --------------------------------------------------------------------------------------------
class CharacterLoss(Loss):
    """Softmax cross-entropy per byte position, averaged over the hidden tokens.
    guesses: (n, n_positions * 256) scores; truths: uint8 (n, n_positions) bytes."""

    def __init__(self, n_positions: int) -> None:
        self.n_positions = n_positions

    def __call__(self, guesses: Floats2d, truths: Any) -> Tuple[Floats2d, float]:
        return self._grad_and_loss(guesses, truths)

    def get_grad(self, guesses: Floats2d, truths: Any) -> Floats2d:
        return self._grad_and_loss(guesses, truths)[0]

    def get_loss(self, guesses: Floats2d, truths: Any) -> float:
        return self._grad_and_loss(guesses, truths)[1]

    def _grad_and_loss(self, guesses: Floats2d, truths: Any) -> Tuple[Floats2d, float]:
        n = guesses.shape[0]
        if not n:
            return guesses * 0, 0.0
        xp = get_array_module(guesses)
        scores = guesses.reshape((n, self.n_positions, N_BYTE_VALUES))
        shifted = scores - scores.max(axis=2, keepdims=True)
        probs = xp.exp(shifted)
        totals = probs.sum(axis=2, keepdims=True)
        probs /= totals
        rows = xp.arange(n)[:, None]
        columns = xp.arange(self.n_positions)[None, :]
        targets = xp.asarray(truths).astype("int64")
        picked = shifted[rows, columns, targets] - xp.log(totals[:, :, 0])
        loss = float(-picked.sum()) / n
        d_scores = probs
        d_scores[rows, columns, targets] -= 1.0
        d_scores /= n
        return d_scores.reshape((n, -1)), loss


class VectorLoss(Loss):
    """Distance between predicted and static vectors, averaged over the hidden tokens:
    1 - cosine similarity ("cosine") or the squared distance ("L2")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, guesses: Floats2d, truths: Floats2d) -> Tuple[Floats2d, float]:
        return self._grad_and_loss(guesses, truths)

    def get_grad(self, guesses: Floats2d, truths: Floats2d) -> Floats2d:
        return self._grad_and_loss(guesses, truths)[0]

    def get_loss(self, guesses: Floats2d, truths: Floats2d) -> float:
        return self._grad_and_loss(guesses, truths)[1]

    def _grad_and_loss(self, guesses: Floats2d, truths: Floats2d) -> Tuple[Floats2d, float]:
        n = guesses.shape[0]
        if not n:
            return guesses * 0, 0.0
        xp = get_array_module(guesses)
        truths = xp.asarray(truths, dtype=guesses.dtype)
        if self.kind == "L2":
            diff = guesses - truths
            return diff * (2.0 / n), float((diff ** 2).sum()) / n
        eps = 1e-8
        norm_g = xp.sqrt((guesses ** 2).sum(axis=1, keepdims=True)) + eps
        norm_t = xp.sqrt((truths ** 2).sum(axis=1, keepdims=True)) + eps
        unit_g, unit_t = guesses / norm_g, truths / norm_t
        cosine = (unit_g * unit_t).sum(axis=1, keepdims=True)
        d_guesses = -(unit_t - cosine * unit_g) / norm_g / n
        return d_guesses, float((1.0 - cosine).sum()) / n


__all__ = ["PretrainCharacters", "PretrainVectors", "CharacterLoss", "VectorLoss", "mask_docs", "choose_hidden",
           "check_token_vectors",
           "MASK_RATE", "MASK_WORD", "NO_VECTORS_MESSAGE"]
