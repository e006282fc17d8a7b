"""Dense building blocks of the embedding and encoding architectures: Maxout,
LayerNorm, a Mish dense layer and a Linear one, written for speed on a batch of ~25k tokens.

They keep thinc's node names, parameter names and dims ("maxout": W, b; nO, nI, nP;
"layernorm": G, b; "mish": W, b; "linear": W, b), so `model.walk()`, `set_dropout_rate` and
serialization treat them like thinc's own layers. Differences that matter for speed:

- Matrix products use the array module's matmul (`ops.xp.matmul`: OpenBLAS on CPU,
  cuBLAS on GPU) rather than `ops.gemm`, which on CPU is single-threaded BLIS.
- Maxout lays its weights out as (nP, nO, nI): the pieces of one output are
  contiguous column blocks of the product, reduced with `xp.maximum`, instead of a
  strided reduction over a trailing axis of size nP. The initial weights are drawn
  with thinc's shape (nO, nP, nI) and transposed, so they follow thinc's distribution.
- LayerNorm computes the moments in two passes over the data, without temporaries
  for the variance.
"""
from typing import Callable, Optional, Tuple, cast

from thinc.api import Model, glorot_uniform_init, zero_init
from thinc.types import Floats1d, Floats2d
from thinc.util import get_width, partial


def _matmul(model: Model, a, b):
    return model.ops.xp.matmul(a, b)


# -- Maxout -------------------------------------------------------------------------------------
def Maxout(nO: Optional[int] = None, nI: Optional[int] = None, nP: int = 3, *,
           init_W: Optional[Callable] = None, init_b: Optional[Callable] = None) -> Model[Floats2d, Floats2d]:
    """Dense layer with a maxout activation over nP pieces. W: (nP, nO, nI), b: (nP, nO)."""
    return Model(
        "maxout",
        _maxout_forward,
        init=partial(_maxout_init, init_W or glorot_uniform_init, init_b or zero_init),
        dims={"nO": nO, "nI": nI, "nP": nP},
        params={"W": None, "b": None},
    )


def _maxout_init(init_W: Callable, init_b: Callable, model: Model, X: Optional[Floats2d] = None,
                 Y: Optional[Floats2d] = None) -> None:
    if X is not None:
        model.set_dim("nI", get_width(X))
    if Y is not None:
        model.set_dim("nO", get_width(Y))
    nO, nP, nI = model.get_dim("nO"), model.get_dim("nP"), model.get_dim("nI")
    W = init_W(model.ops, (nO, nP, nI))  # thinc's layout, so the draws match thinc's Maxout
    model.set_param("W", model.ops.xp.ascontiguousarray(W.transpose((1, 0, 2))))
    b = init_b(model.ops, (nO, nP))
    model.set_param("b", model.ops.xp.ascontiguousarray(b.T))


def _maxout_forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    xp = model.ops.xp
    nO, nP, nI = model.get_dim("nO"), model.get_dim("nP"), model.get_dim("nI")
    W = model.get_param("W").reshape((nP * nO, nI))
    b = model.get_param("b").reshape((nP * nO,))
    Y = _matmul(model, X, W.T)
    Y += b
    which = None
    if nP == 1:
        best = Y
    else:
        best = Y[:, :nO].copy()
        for p in range(1, nP):
            piece = Y[:, p * nO:(p + 1) * nO]
            if is_train:
                # pieces are visited in order, so the running winner is < p: max() sets it to p
                wins = (piece > best).astype("int8")
                if which is None:
                    which = wins
                else:
                    wins *= p
                    xp.maximum(which, wins, out=which)
            xp.maximum(best, piece, out=best)
        del Y  # only `which` is needed to route the gradient

    def backprop(d_best: Floats2d) -> Floats2d:
        if nP == 1:
            dY = d_best
        else:
            dY = xp.empty((d_best.shape[0], nP * nO), dtype=d_best.dtype)
            for p in range(nP):
                xp.multiply(d_best, which == p, out=dY[:, p * nO:(p + 1) * nO])
        model.inc_grad("b", dY.sum(axis=0).reshape((nP, nO)))
        model.inc_grad("W", _matmul(model, dY.T, X).reshape((nP, nO, nI)))
        return _matmul(model, dY, W)

    return best, backprop


# -- LayerNorm ----------------------------------------------------------------------------------
def LayerNorm(nI: Optional[int] = None) -> Model[Floats2d, Floats2d]:
    """Normalize each row to zero mean and unit variance (eps 1e-8 as in thinc), then
    scale by G and shift by b."""
    return Model("layernorm", _layernorm_forward, init=_layernorm_init, dims={"nI": nI, "nO": nI},
                 params={"G": None, "b": None})


def _layernorm_init(model: Model, X: Optional[Floats2d] = None, Y: Optional[Floats2d] = None) -> None:
    if X is not None:
        model.set_dim("nI", get_width(X))
    elif Y is not None:
        model.set_dim("nI", get_width(Y))
    nI = model.get_dim("nI")
    model.set_dim("nO", nI)
    model.set_param("G", model.ops.alloc1f(nI) + 1)
    model.set_param("b", model.ops.alloc1f(nI))


def _layernorm_forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    xp = model.ops.xp
    G = model.get_param("G")
    b = model.get_param("b")
    n = X.shape[1]
    Xhat = X - X.mean(axis=1, keepdims=True)
    var = xp.einsum("ij,ij->i", Xhat, Xhat) / n
    inv_std = (1.0 / xp.sqrt(var + 1e-8)).astype(X.dtype, copy=False).reshape((-1, 1))
    Xhat *= inv_std
    Y = Xhat * G
    Y += b

    def backprop(dY: Floats2d) -> Floats2d:
        model.inc_grad("b", dY.sum(axis=0))
        model.inc_grad("G", xp.einsum("ij,ij->j", dY, Xhat))
        d_xhat = dY * G
        mean_d = d_xhat.mean(axis=1, keepdims=True)
        mean_dx = (xp.einsum("ij,ij->i", d_xhat, Xhat) / n).reshape((-1, 1))
        d_xhat -= mean_d
        d_xhat -= Xhat * mean_dx
        d_xhat *= inv_std
        return d_xhat

    return Y, backprop


# -- Mish dense ----------------------------------------------------------------------------------
def MishDense(nO: Optional[int] = None, nI: Optional[int] = None, *, init_W: Optional[Callable] = None,
              init_b: Optional[Callable] = None) -> Model[Floats2d, Floats2d]:
    """Dense layer with a mish activation. W: (nO, nI), b: (nO,), as thinc's Mish."""
    return Model("mish", _mish_forward, init=partial(_dense_init, init_W or glorot_uniform_init, init_b or zero_init),
                 dims={"nO": nO, "nI": nI}, params={"W": None, "b": None})


def _dense_init(init_W: Callable, init_b: Callable, model: Model, X: Optional[Floats2d] = None,
                Y: Optional[Floats2d] = None) -> None:
    if X is not None:
        model.set_dim("nI", get_width(X))
    if Y is not None:
        model.set_dim("nO", get_width(Y))
    model.set_param("W", init_W(model.ops, (model.get_dim("nO"), model.get_dim("nI"))))
    model.set_param("b", init_b(model.ops, (model.get_dim("nO"),)))


def _mish_forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    W = cast(Floats2d, model.get_param("W"))
    b = cast(Floats1d, model.get_param("b"))
    Y_pre = _matmul(model, X, W.T)
    Y_pre += b
    Y = model.ops.mish(Y_pre)

    def backprop(dY: Floats2d) -> Floats2d:
        dY_pre = model.ops.backprop_mish(dY, Y_pre)
        model.inc_grad("W", _matmul(model, dY_pre.T, X))
        model.inc_grad("b", dY_pre.sum(axis=0))
        return _matmul(model, dY_pre, W)

    return Y, backprop


# -- Linear ---------------------------------------------------------------------------------------
def Linear(nO: Optional[int] = None, nI: Optional[int] = None, *, init_W: Optional[Callable] = None,
           init_b: Optional[Callable] = None) -> Model[Floats2d, Floats2d]:
    """Dense layer without activation, Y = X W.T + b. W: (nO, nI), b: (nO,), as thinc's Linear."""
    return Model("linear", _linear_forward, init=partial(_dense_init, init_W or glorot_uniform_init,
                                                         init_b or zero_init),
                 dims={"nO": nO, "nI": nI}, params={"W": None, "b": None})


def _linear_forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    W = cast(Floats2d, model.get_param("W"))
    Y = _matmul(model, X, W.T)
    Y += model.get_param("b")

    def backprop(dY: Floats2d) -> Floats2d:
        model.inc_grad("W", _matmul(model, dY.T, X))
        model.inc_grad("b", dY.sum(axis=0))
        return _matmul(model, dY, W)

    return Y, backprop
