"""Cross-entropy on logits (the negative log-likelihood of log-probabilities is ``nll``).

Every row's cross-entropy is written as Σ_c a_c (lse − x_c), where a is the (weighted,
smoothed) target distribution and lse − x_c = (m − x_c) + log1p(τ) is a sum of two
non-negative terms with m − x_c exact (``functions._rows``). Nothing cancels, so a loss of
2.6e−73 comes out as 2.6e−73, where −log(softmax) and lse − x_t give −0.

The gradient is A·y − a (A = Σ a; softmax minus one-hot for a plain class target), except at
an entry with y > 1/2 (necessarily the unique max), where it is Σ_{j≠k} a_j − A·(1 − y_k)
with 1 − y_k = τ/(1+τ): y_t − 1 would round to 0 for x_t ≳ 37 above the rest.

Conventions follow PyTorch where PyTorch is well-defined (weights, ignore_index, label
smoothing over C classes, a weighted mean divided by Σ w_target), and the contract of
docs/softmax.md where it is not (empty rows contribute 0 and are left out of a mean; a mean
over nothing is 0; rows with +∞ logits have their limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _xp
from ..functions._rows import (
    Rows,
    analyse,
    as_array_like,
    finish,
    mask_of,
    quiet,
    single_axis,
    widen,
)
from ..kernels.outputs import deliver
from . import _blocked, _fused
from ._common import (
    check_fraction,
    check_reduction,
    invalid_entries,
    nan_like,
    reduce,
    upstream,
)
from ._targets import class_index_rows, class_weights

__all__ = [
    "cross_entropy",
    "cross_entropy_grad",
    "cross_entropy_with_grad",
]


@dataclass
class _Targets:
    """The target of each row as a weighted distribution ``a`` over the classes."""

    a: Any  # working dtype, logits' shape
    ignored: Any  # row mask (class axis kept, length 1)
    weight_of_row: Any  # what a row adds to the mean's denominator
    invalid: Any  # row mask of targets found invalid only when computed (lazy), else None


@dataclass
class _Prepared:
    xp: Any
    dtype: Any
    ax: int
    rows: Rows
    targets: _Targets
    reduction: str
    was_scalar: bool


def _prepare(
    func: str, logits, target, axis, weight, ignore_index, label_smoothing, reduction, where
) -> _Prepared:
    xp, xa, was_scalar = _xp.as_float_array(logits, func, "logits")
    reduction = check_reduction(func, reduction)
    eps = check_fraction(func, "label_smoothing", label_smoothing)
    if xa.ndim == 0:
        raise ValueError(f"{func}: logits need a class axis, got a 0-d array")
    ax = single_axis(func, axis, xa.ndim)
    valid = mask_of(func, where, xp, xa)
    wide, xw = widen(xp, xa)
    rows = analyse(xp, xw, (ax,), valid, 1.0, xa.dtype)
    wc = class_weights(func, weight, xp, xa, ax, wide)
    zeros = xp.zeros_like(xw)
    on = xp.ones_like(xw) if valid is None else xp.where(valid, xp.ones_like(xw), zeros)
    n_on = rows.row_sum(on)
    # Smoothing spreads ε over the classes that take part (all C unless masked by where).
    spread = on * (eps / xp.where(n_on > 0, n_on, xp.ones_like(n_on)))
    ta = as_array_like(func, "target", target, xp, xa)
    if ta.dtype != xp.bool and xp.isdtype(ta.dtype, "integral"):
        onehot, ignored, invalid = class_index_rows(func, ta, xp, xa, ax, int(ignore_index))
        w_t = rows.row_sum(xp.where(onehot, wc + zeros, zeros))
        a = (1.0 - eps) * xp.where(onehot, wc + zeros, zeros) + spread * wc
        a = xp.where(ignored, zeros, a)
        weight_of_row = w_t
    elif _is_floating(xp, ta.dtype):
        if tuple(ta.shape) != tuple(xa.shape):
            raise ValueError(
                f"{func}: probability target must have the logits' shape {tuple(xa.shape)}, "
                f"got {tuple(ta.shape)}"
            )
        tw = xp.astype(ta, wide)
        invalid = invalid_entries(
            func, xp, xp.isfinite(tw) & (tw >= 0.0), "probability targets must be finite and "
            "non-negative",
        )  # fmt: skip
        if invalid is not None:
            invalid = xp.any(invalid, axis=ax, keepdims=True)
        a = wc * ((1.0 - eps) * tw + spread)
        ignored = xp.zeros_like(rows.nan_row)
        weight_of_row = xp.ones_like(n_on)
    else:
        raise TypeError(
            f"{func}: target must hold class indices (integers) or probabilities (floats), "
            f"got dtype {ta.dtype}"
        )
    counted = ~ignored & ~rows.empty_row
    weight_of_row = xp.where(counted, weight_of_row, xp.zeros_like(weight_of_row))
    return _Prepared(
        xp, xa.dtype, ax, rows, _Targets(a, ignored, weight_of_row, invalid), reduction,
        was_scalar,
    )  # fmt: skip


def _is_floating(xp: Any, dtype: Any) -> bool:
    try:
        return bool(xp.isdtype(dtype, "real floating"))
    except (TypeError, ValueError):  # NumPy's longdouble is not a standard dtype
        return getattr(dtype, "kind", "") == "f"


def _row_losses(p: _Prepared) -> Any:
    xp, r, a = p.xp, p.rows, p.targets.a
    zeros = xp.zeros_like(a)
    inf = xp.full_like(r.m, math.inf)
    nll = (r.log1p_tau - r.hi) - r.lo  # lse − x_c: two non-negative parts, then lo
    finite = r.row_sum(xp.where(r.usable, a * nll, zeros))
    # Target mass on an impossible class (masked, −∞) makes the loss infinite; zero mass
    # there adds nothing (0·log 0 = 0), which is where peers compute 0·(−∞) = NaN.
    impossible = r.row_sum(xp.where(r.usable, zeros, a))
    loss = xp.where(impossible > 0, inf, xp.where(impossible < 0, -inf, finite))
    # +∞ logits: the k of them share probability 1/k, so lse − x_c → log k there, +∞ elsewhere.
    k = xp.where(r.inf_row, r.k, xp.ones_like(r.k))
    on_inf = r.row_sum(xp.where(r.pinf, a, zeros))
    rest = r.row_sum(xp.where(r.pinf, zeros, a))
    limit = xp.where(rest > 0, inf, xp.where(rest < 0, -inf, on_inf * xp.log(k)))
    loss = xp.where(r.inf_row, limit, loss)
    skip = r.empty_row | p.targets.ignored
    loss = xp.where(skip, xp.zeros_like(loss), loss)
    return _poison(p, xp.where(r.nan_row & ~skip, nan_like(xp, loss), loss))


def _poison(p: _Prepared, values: Any) -> Any:
    """NaN in the rows whose target turned out invalid (lazy targets only)."""
    if p.targets.invalid is None:
        return values
    return p.xp.where(p.targets.invalid, nan_like(p.xp, values), values)


@quiet
def _cross_entropy(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    where: Any = None,
) -> Any:
    """Cross-entropy of softmax(logits) along ``axis`` against ``target``.

    ``target`` holds class indices (integers, the logits' shape without ``axis``) or
    probabilities (floats, the logits' shape). ``weight`` (C,) weights the classes;
    ``ignore_index`` rows contribute 0 and are left out of a mean; ``label_smoothing`` mixes
    in ε/C; ``where`` masks classes out. reduction "mean" divides by Σ weight[target] (class
    targets) or by the number of rows (probability targets); a mean over nothing is 0.
    """
    p = _prepare(
        "cross_entropy", logits, target, axis, weight, ignore_index, label_smoothing,
        reduction, where,
    )  # fmt: skip
    return _loss_of(p)


def _loss_of(p: _Prepared) -> Any:
    xp = p.xp
    losses = _row_losses(p)
    denominator = xp.sum(p.targets.weight_of_row)
    out = reduce(xp, losses, p.reduction, denominator)
    if p.reduction == "none":
        out = xp.squeeze(out, axis=p.ax)
    return finish(xp, out, p.dtype, p.was_scalar)


@quiet
def _cross_entropy_grad(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    where: Any = None,
    grad_output: Any = None,
) -> Any:
    """∂(cross_entropy)/∂logits, the logits' shape; ``grad_output`` is the upstream gradient
    (a scalar, or one value per row when reduction="none")."""
    func = "cross_entropy_grad"
    p = _prepare(
        func, logits, target, axis, weight, ignore_index, label_smoothing, reduction, where
    )
    return _grad_of(func, p, grad_output)


@quiet
def _cross_entropy_with_grad(
    logits: Any, target: Any, *, grad_output: Any, want_loss: bool, **options: Any
) -> tuple[Any, Any]:
    """(loss or None, gradient) from one row analysis: the two functions above each analyse
    the rows, the most costly step (twice the time when both are wanted)."""
    func = "cross_entropy_grad"
    keys = ("axis", "weight", "ignore_index", "label_smoothing", "reduction", "where")
    p = _prepare(func, logits, target, *(options[k] for k in keys))
    return (_loss_of(p) if want_loss else None), _grad_of(func, p, grad_output)


def _grad_of(func: str, p: _Prepared, grad_output: Any) -> Any:
    xp, r, a = p.xp, p.rows, p.targets.a
    zeros = xp.zeros_like(a)
    total = r.row_sum(a)
    y = r.y
    g = xp.where(y > 0.5, r.sum_except_top(a) - total * r.one_minus_y, total * y - a)
    keep = r.usable & r.ordinary & ~p.targets.ignored
    g = xp.where(keep, g, zeros)
    g = _poison(p, xp.where(r.nan_row & ~p.targets.ignored, nan_like(xp, g), g))
    g = g * _scale(func, p, grad_output)
    return finish(xp, g, p.dtype, False)


_OPTIONS_DOC = """

    On NumPy with integer targets (no weight or mask; any label smoothing) the loss and the
    gradient come from one fused pass over the logits (numba tier); other large NumPy calls
    run the Array API code on blocks of rows. ``out`` (NumPy) receives the result."""


def cross_entropy(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    where: Any = None,
    out: Any = None,
) -> Any:
    options = {
        "axis": axis, "weight": weight, "ignore_index": ignore_index,
        "label_smoothing": label_smoothing, "reduction": reduction, "where": where,
    }  # fmt: skip
    if _fused.applicable(logits, target, weight, where):
        loss, _ = _fused.run(
            "cross_entropy", logits, target, axis=axis, ignore_index=ignore_index,
            label_smoothing=label_smoothing, reduction=reduction, grad_output=None,
            want_grad=False, out=None, slow_loss=_cross_entropy, slow_grad=_cross_entropy_grad,
        )  # fmt: skip
    elif _blocked.applicable(logits, target, where):
        _check_out_backend("cross_entropy", logits, out)
        loss, _ = _blocked.run(
            "cross_entropy", logits, target, options=options, grad_output=None,
            want_loss=True, want_grad=False, out=None,
        )  # fmt: skip
    else:
        _check_out_backend("cross_entropy", logits, out)
        loss = _cross_entropy(logits, target, **options)
    return deliver("cross_entropy", loss, out)


def cross_entropy_grad(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    where: Any = None,
    grad_output: Any = None,
    out: Any = None,
) -> Any:
    return cross_entropy_with_grad(
        logits, target, axis=axis, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, where=where,
        grad_output=grad_output, out=out, _loss=False,
    )[1]  # fmt: skip


def cross_entropy_with_grad(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    where: Any = None,
    grad_output: Any = None,
    out: Any = None,
    _loss: bool = True,
) -> tuple[Any, Any]:
    """(cross_entropy, cross_entropy_grad) of the same call, computed together: one pass
    over the logits on the fused path. ``out`` receives the gradient."""
    if _fused.applicable(logits, target, weight, where):
        return _fused.run(
            "cross_entropy_grad", logits, target, axis=axis, ignore_index=ignore_index,
            label_smoothing=label_smoothing, reduction=reduction, grad_output=grad_output,
            want_grad=True, out=out, slow_loss=_cross_entropy, slow_grad=_cross_entropy_grad,
        )  # fmt: skip
    _check_out_backend("cross_entropy_grad", logits, out)
    options = {
        "axis": axis, "weight": weight, "ignore_index": ignore_index,
        "label_smoothing": label_smoothing, "reduction": reduction, "where": where,
    }  # fmt: skip
    if _blocked.applicable(logits, target, where):
        return _blocked.run(
            "cross_entropy_grad", logits, target, options=options, grad_output=grad_output,
            want_loss=_loss, want_grad=True, out=out,
        )  # fmt: skip
    loss, grad = _cross_entropy_with_grad(
        logits, target, grad_output=grad_output, want_loss=_loss, **options
    )
    return loss, deliver("cross_entropy_grad", grad, out)


def _check_out_backend(func: str, logits: Any, out: Any) -> None:
    if out is not None and not isinstance(logits, (np.ndarray, np.generic, list, int, float)):
        raise TypeError(f"{func}: out= is supported for NumPy input only")


cross_entropy.__doc__ = (_cross_entropy.__doc__ or "") + _OPTIONS_DOC
cross_entropy_grad.__doc__ = (_cross_entropy_grad.__doc__ or "") + _OPTIONS_DOC


def _scale(func: str, p: _Prepared, grad_output: Any) -> Any:
    """The factor each row's gradient is multiplied by: upstream / (mean's denominator)."""
    xp = p.xp
    row_shape = tuple(p.targets.weight_of_row.shape)
    batch = tuple(s for i, s in enumerate(row_shape) if i != p.ax)
    go = upstream(func, grad_output, xp, p.rows.e, p.reduction, batch, p.rows.wide)
    if p.reduction == "none":
        return xp.expand_dims(go, axis=p.ax)
    if p.reduction == "sum":
        return go
    den = xp.sum(p.targets.weight_of_row)
    return xp.where(den == 0.0, xp.zeros_like(den), go / xp.where(den == 0.0, 1.0 + den, den))


# --------------------------------------------------------------------------------- records


def _naive_cross_entropy(logits: Any, target: Any) -> Any:
    """The textbook −log(softmax(x)[t]) (peers return −0 where the exact loss is 2.6e−73)."""
    import numpy as np

    x = np.asarray(logits)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    p = e / np.sum(e, axis=-1, keepdims=True)
    return -np.log(np.take_along_axis(p, np.asarray(target)[..., None], axis=-1)[..., 0])


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, HardRow, Loss, register

    inf, nan = math.inf, math.nan
    register(
        Loss(
            name="cross_entropy",
            aliases=("softmax_cross_entropy",),
            kind="loss",
            family="losses",
            summary="Cross-entropy of softmax(logits) against a class or a distribution; "
            "its gradient is softmax minus the target.",
            formulas=Formulas(
                f=r"\ell(x, t) = \operatorname{lse}(x) - x_t = (m - x_t) + "
                r"\log\!\Bigl(1 + \sum_{j\ne k} e^{x_j - m}\Bigr)",
                grad=r"\frac{\partial \ell}{\partial x_j} = y_j - [j = t],\quad "
                r"\frac{\partial \ell}{\partial x_t} = -\sum_{j\ne t} y_j",
                grad2=r"\frac{\partial^2 \ell}{\partial x_i \partial x_j} = y_i(\delta_{ij} - y_j)",
            ),
            options=("axis", "weight", "ignore_index", "label_smoothing", "reduction", "where"),
            fn=cross_entropy,
            grad=cross_entropy_grad,
            reference=ov.cross_entropy_ref,
            reference_grad=ov.cross_entropy_grad_ref,
            naive=_naive_cross_entropy,
            ulp={"float64": 2.0, "float32": 2.0, "float16": 1.0, "bfloat16": 1.0},
            targets="class indices (integers, the logits' shape without axis) or "
            "probabilities (floats, the logits' shape)",
            hard_rows=(
                HardRow("every entry −∞: 0, left out of a mean", (-inf, -inf), 0.0, target=0),
                HardRow("masked row", (1.0, 2.0), 0.0, where=(False, False), target=1),
                HardRow("the target is the one +∞", (0.0, inf, 1.0), 0.0, target=1),
                HardRow("another entry is +∞", (0.0, inf, 1.0), inf, target=0),
                HardRow("the target shares +∞ with one other", (inf, inf, 1.0), _LN2, target=0),
                HardRow("the target is −∞", (0.0, -inf), inf, target=1),
                HardRow("a −∞ that is not the target", (0.0, -inf), 0.0, target=0),
                HardRow("the target is masked", (0.0, 1.0), inf, where=(True, False), target=1),
                HardRow("a NaN", (0.0, nan, 1.0), nan, target=0),
            ),
        )
    )


_LN2 = math.log(2.0)
_register()
