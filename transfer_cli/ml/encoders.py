"""Context encoders: stacks of residual window convolutions (MaxoutWindowEncoder,
MishWindowEncoder).

Each block is `X + Dropout(LayerNorm(act(window(X))))`, where window(X) concatenates
every token's vector with those of its `window_size` neighbours on each side. The
windows stop at document boundaries (zero vectors beyond them) in every layer, so
no information crosses from one doc to the next; the batch is flattened once for
the whole stack rather than once per layer.

The encoders accept a list of arrays (one per doc: the `.v2` interface), a Ragged,
or a single array (one sequence: the `.v1` interface), and return the same kind.
"""
from typing import Any, Callable, List, Optional, Tuple

from thinc.api import Dropout, Model
from thinc.types import Floats2d, Ragged

from ..config.registry import registry
from ..errors import ConfigError
from .featurize import split_by_lengths
from .layers import LayerNorm, Maxout, MishDense
from .windowed import EXACT_CONTEXT


def window_block(dense: Model, width: int, window_size: int) -> Model[Ragged, Ragged]:
    """Residual block: X + Dropout(LayerNorm(dense(window(X)))) over a Ragged batch."""
    norm = LayerNorm(nI=width)
    return Model(f"residual(expand_window>>{dense.name}>>layernorm>>dropout)", _block_forward,
                 init=_block_init, layers=[dense, norm, Dropout(0.0)],
                 dims={"nO": width, "nI": width}, attrs={"window_size": window_size})


def _block_init(model: Model, X: Any = None, Y: Any = None) -> None:
    for layer in model.layers:
        layer.initialize()


def _block_forward(model: Model, Xr: Ragged, is_train: bool) -> Tuple[Ragged, Callable]:
    ops = model.ops
    dense, norm, dropout = model.layers
    nW = model.attrs["window_size"]
    X, lengths = Xr.data, Xr.lengths
    windows = ops.seq2col(X, nW, lengths=lengths) if nW else X
    H, bp_dense = dense(windows, is_train)
    H, bp_norm = norm(H, is_train)
    H, bp_drop = dropout(H, is_train)
    H += X  # H is a fresh array: no backprop closure holds it


    def backprop(dYr: Ragged) -> Ragged:
        dY = dYr.data
        d_windows = bp_dense(bp_norm(bp_drop(dY)))
        dX = ops.backprop_seq2col(d_windows, nW, lengths=lengths) if nW else d_windows
        dX += dY
        return Ragged(dX, lengths)

    return Ragged(H, lengths), backprop


def window_encoder(name: str, blocks: List[Model], width: int, receptive_field: int) -> Model:
    """Model[List[Floats2d], List[Floats2d]] (or Ragged/array → same) running the
    blocks over the flattened batch."""
    return Model(name, _encoder_forward, init=_encoder_init, layers=blocks,
                 dims={"nO": width, "nI": width},
                 attrs={"receptive_field": receptive_field, "accepts_lists": True,
                        # zero vectors beyond each doc's edges in every block: an output row depends on
                        # exactly the rows within receptive_field of it (ml/windowed.py relies on it)
                        EXACT_CONTEXT: receptive_field})


def _encoder_init(model: Model, X: Any = None, Y: Any = None) -> None:
    for layer in model.layers:
        layer.initialize()


def _encoder_forward(model: Model, X: Any, is_train: bool) -> Tuple[Any, Callable]:
    ops = model.ops
    if isinstance(X, list):
        if not X:
            return [], lambda dY: []
        lengths = [len(x) for x in X]
        data = X[0] if len(X) == 1 else ops.xp.concatenate(X, axis=0)
    elif isinstance(X, Ragged):
        data, lengths = X.dataXd, X.lengths
    else:
        data, lengths = X, [len(X)]
    lengths_d = ops.asarray1i(lengths)
    backprops = []
    Y = data
    if len(data):  # (Ragged would reshape an empty array to (0, 0))
        Hr = Ragged(ops.as_contig(data), lengths_d)
        for block in model.layers:
            Hr, bp_block = block(Hr, is_train)
            backprops.append(bp_block)
        Y = Hr.data

    def backprop_data(dY: Floats2d) -> Floats2d:
        if not backprops:
            return dY
        dr = Ragged(dY, lengths_d)
        for bp_block in reversed(backprops):
            dr = bp_block(dr)
        return dr.data

    if isinstance(X, list):
        def backprop_list(dYs: List[Floats2d]) -> List[Floats2d]:
            dY = dYs[0] if len(dYs) == 1 else ops.xp.concatenate(dYs, axis=0)
            return split_by_lengths(backprop_data(dY), lengths)

        return split_by_lengths(Y, lengths), backprop_list
    if isinstance(X, Ragged):
        return Ragged(Y, X.lengths), lambda dYr: Ragged(backprop_data(dYr.data), dYr.lengths)
    return Y, backprop_data


def _check(name: str, width: int, window_size: int, depth: int, maxout_pieces: Optional[int] = None) -> None:
    problems = []
    if width < 1:
        problems.append(f"width must be positive, got {width}")
    if window_size < 0:
        problems.append(f"window_size must be 0 or more, got {window_size}")
    if depth < 0:
        problems.append(f"depth must be 0 or more, got {depth}")
    if maxout_pieces is not None and maxout_pieces < 1:
        problems.append(f"maxout_pieces must be 1 or more, got {maxout_pieces}")
    if problems:
        raise ConfigError(f"{name}: {'; '.join(problems)}")


@registry.architectures("spacy.MaxoutWindowEncoder.v1")
@registry.architectures("spacy.MaxoutWindowEncoder.v2")
def MaxoutWindowEncoder(width: int, window_size: int, maxout_pieces: int, depth: int
                        ) -> Model[List[Floats2d], List[Floats2d]]:
    """spacy.MaxoutWindowEncoder.v1/v2: `depth` residual blocks of window → Maxout
    (maxout_pieces pieces) → LayerNorm."""
    _check("MaxoutWindowEncoder", width, window_size, depth, maxout_pieces)
    n_inputs = width * (window_size * 2 + 1)
    blocks = [window_block(Maxout(nO=width, nI=n_inputs, nP=maxout_pieces), width, window_size)
              for _ in range(depth)]
    return window_encoder("maxout_window_encoder", blocks, width, window_size * depth)


@registry.architectures("spacy.MishWindowEncoder.v1")
@registry.architectures("spacy.MishWindowEncoder.v2")
def MishWindowEncoder(width: int, window_size: int, depth: int) -> Model[List[Floats2d], List[Floats2d]]:
    """spacy.MishWindowEncoder.v1/v2: `depth` residual blocks of window → Mish dense
    → LayerNorm."""
    _check("MishWindowEncoder", width, window_size, depth)
    n_inputs = width * (window_size * 2 + 1)
    blocks = [window_block(MishDense(nO=width, nI=n_inputs), width, window_size) for _ in range(depth)]
    return window_encoder("mish_window_encoder", blocks, width, window_size * depth)
