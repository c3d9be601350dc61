"""Negative log-likelihood of log-probabilities at the target class (PyTorch's nll_loss),
with its gradient; the input of a log_softmax output layer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _xp
from ..functions._rows import finish, quiet, single_axis, widen
from ._blocked import large_numpy_call
from ._common import check_reduction, reduce, upstream
from ._targets import class_index_rows, class_index_vector, class_weights, integer_target

__all__ = ["nll_loss", "nll_loss_grad"]


def _prepare_nll(func, log_probs, target, axis, weight, ignore_index, reduction):
    xp, xa, was_scalar = _xp.as_float_array(log_probs, func, "log_probs")
    reduction = check_reduction(func, reduction)
    if xa.ndim == 0:
        raise ValueError(f"{func}: log_probs need a class axis, got a 0-d array")
    ax = single_axis(func, axis, xa.ndim)
    wide, lw = widen(xp, xa)
    ta = integer_target(func, target, xp, xa)
    onehot, _, invalid = class_index_rows(func, ta, xp, xa, ax, int(ignore_index))
    wc = class_weights(func, weight, xp, xa, ax, wide)
    zeros = xp.zeros_like(lw)
    w_t = xp.sum(xp.where(onehot, wc + zeros, zeros), axis=ax, keepdims=True)
    return xp, xa, was_scalar, ax, lw, onehot, invalid, w_t, reduction


def _poison(xp: Any, invalid: Any, values: Any) -> Any:
    """NaN in the rows whose target turned out invalid (lazy targets only: None otherwise)."""
    return values if invalid is None else xp.where(invalid, xp.full_like(values, math.nan), values)


@quiet
def nll_loss(
    log_probs: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Any:
    """−weight[t]·log_probs[t] per row (PyTorch's nll_loss), only the target entry is read."""
    func = "nll_loss"
    if _by_index(log_probs, target):
        return _nll_by_index(func, log_probs, target, axis, weight, ignore_index, reduction)
    xp, xa, was_scalar, ax, lw, onehot, invalid, w_t, reduction = _prepare_nll(
        func, log_probs, target, axis, weight, ignore_index, reduction
    )
    picked = xp.sum(xp.where(onehot, lw, xp.zeros_like(lw)), axis=ax, keepdims=True)
    # A zero weight removes the row's term even where log p is −∞: no 0·∞ (NaN, and an
    # invalid-operation warning), as the −∞ is replaced before the product.
    unweighted = w_t == 0.0
    picked = xp.where(unweighted, xp.zeros_like(picked), picked)
    losses = _poison(xp, invalid, xp.where(unweighted, xp.zeros_like(w_t), -(w_t * picked)))
    out = reduce(xp, losses, reduction, xp.sum(w_t))
    if reduction == "none":
        out = xp.squeeze(out, axis=ax)
    return finish(xp, out, xa.dtype, was_scalar)


@quiet
def nll_loss_grad(
    log_probs: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad_output: Any = None,
) -> Any:
    """∂(nll_loss)/∂log_probs: −weight[t] (times the upstream, over the mean's denominator)."""
    func = "nll_loss_grad"
    if _by_index(log_probs, target):
        return _nll_by_index(
            func, log_probs, target, axis, weight, ignore_index, reduction, grad_output, True
        )
    xp, xa, _, ax, lw, onehot, invalid, w_t, reduction = _prepare_nll(
        func, log_probs, target, axis, weight, ignore_index, reduction
    )
    zeros = xp.zeros_like(lw)
    batch = tuple(s for i, s in enumerate(w_t.shape) if i != ax)
    go = upstream(func, grad_output, xp, lw, reduction, batch, lw.dtype)
    if reduction == "none":
        go = xp.expand_dims(go, axis=ax)
    elif reduction == "mean":
        den = xp.sum(w_t)
        go = xp.where(den == 0.0, xp.zeros_like(den), go / xp.where(den == 0.0, 1.0 + den, den))
    g = _poison(xp, invalid, xp.where(onehot, -(w_t * go) + zeros, zeros))
    return finish(xp, g, xa.dtype, False)


def _by_index(log_probs: Any, target: Any) -> bool:
    """Large NumPy log-probabilities with NumPy class indices: read and write by index."""
    return large_numpy_call(log_probs, target, "iu")


def _nll_by_index(
    func: str, lp: np.ndarray, target: np.ndarray, axis: Any, weight: Any, ignore_index: int,
    reduction: str, grad_output: Any = None, grad: bool = False,
) -> Any:  # fmt: skip
    """``nll_loss`` (or, with ``grad``, its gradient) of NumPy arrays: the target entries
    gathered (the loss) or written into zeros (the gradient) by index, with the values of
    the one-hot formulas above (a sum of one entry and zeros is that entry), so without
    their temporaries the size of the input in the working dtype."""
    reduction = check_reduction(func, reduction)
    ax = single_axis(func, axis, lp.ndim)
    n = lp.shape[ax]
    batch = lp.shape[:ax] + lp.shape[ax + 1 :]
    ignore = int(ignore_index)
    t = class_index_vector(func, target, batch, ax, n, ignore)
    wide = np.dtype(_xp.working_dtype(np, lp.dtype))
    wc = class_weights(func, weight, np, lp, ax, wide).reshape(-1)
    ignored = t == ignore
    rows = np.flatnonzero(~ignored)
    w_t = np.zeros(t.shape, dtype=wide)
    w_t[rows] = wc[t[rows]]
    lp2 = np.moveaxis(lp, ax, -1).reshape(-1, n)  # a view where the layout allows
    if not grad:
        picked = np.zeros(t.shape, dtype=wide)
        weighted = rows[w_t[rows] != 0.0]  # a zero weight at a −∞ target: 0, not 0·∞
        picked[weighted] = lp2[weighted, t[weighted]]
        losses = np.where(w_t == 0.0, wide.type(0), -(w_t * picked))
        out = reduce(np, losses, reduction, np.sum(w_t))
        return finish(np, out.reshape(batch) if reduction == "none" else out, lp.dtype, False)
    go = upstream(func, grad_output, np, lp, reduction, batch, wide)
    if reduction == "mean":
        den = np.sum(w_t)
        go = np.where(den == 0.0, wide.type(0), go / np.where(den == 0.0, 1.0 + den, den))
    values = finish(np, -(w_t * np.broadcast_to(go, batch).reshape(-1)) + 0.0, lp.dtype, False)
    g2 = np.zeros((t.size, n), dtype=lp.dtype)
    g2[rows, t[rows]] = values[rows]
    return np.moveaxis(g2.reshape((*batch, n)), -1, ax)


# --------------------------------------------------------------------------------- records


def _naive_nll(log_probs: Any, target: Any) -> Any:
    import numpy as np

    lp = np.asarray(log_probs)
    return -np.take_along_axis(lp, np.asarray(target)[..., None], axis=-1)[..., 0]


def _register() -> None:
    from ..registry import Formulas, HardRow, Loss, register

    inf, nan = math.inf, math.nan
    register(
        Loss(
            name="nll_loss",
            kind="loss",
            family="losses",
            summary="Negative log-likelihood of log-probabilities at the target class.",
            formulas=Formulas(
                f=r"\ell(z, t) = -w_t\, z_t",
                grad=r"\frac{\partial \ell}{\partial z_j} = -w_t\,[j = t]",
                grad2="0",
            ),
            options=("axis", "weight", "ignore_index", "reduction"),
            fn=nll_loss,
            grad=nll_loss_grad,
            reference=lambda mp, row, target: -row[target],
            naive=_naive_nll,
            ulp={"float64": 0.0, "float32": 0.0, "float16": 0.0, "bfloat16": 0.0},
            targets="class indices (integers, the log-probabilities' shape without axis)",
            hard_rows=(
                HardRow("log-probability −∞ at the target", (0.0, -inf), inf, target=1),
                HardRow("NaN away from the target is not read", (nan, -1.0), 1.0, target=1),
            ),
        )
    )


_register()
