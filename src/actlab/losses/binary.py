"""Binary cross-entropy on logits: −[p·t·log σ(x) + (1 − t)·log σ(−x)], elementwise.

Written as p·t·softplus(−x) + (1 − t)·softplus(x): two non-negative terms, each computed
without overflow (softplus(z) = max(z, 0) + log1p(e^{−|z|})), so nothing cancels and the
loss is exact at both ends (PyTorch returns NaN at x = −∞ and 0 for the gradient at
x ≳ 37 with t = 1). A term whose coefficient is 0 is 0 even where its softplus is +∞.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _xp
from ..functions import _stable
from ..functions._rows import finish, quiet, widen
from ._common import (
    check_reduction,
    float_operand,
    invalid_entries,
    nan_like,
    reduce,
    upstream,
)

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad"]


def _prepare(func, logits, target, weight, pos_weight, reduction):
    xp, xa, was_scalar = _xp.as_float_array(logits, func, "logits")
    reduction = check_reduction(func, reduction)
    shape = tuple(xa.shape)
    wide, xw = widen(xp, xa)
    ta = float_operand(func, "target", target, xp, xa)
    if tuple(ta.shape) != shape:
        raise ValueError(
            f"{func}: target must have the logits' shape {shape}, got {tuple(ta.shape)}"
        )
    tw = xp.astype(ta, wide)
    # A lazy target is checked when computed: NaN there (whatever its weight) where it is
    # outside [0, 1]; a concrete one was read and raised.
    invalid = invalid_entries(
        func, xp, (tw >= 0.0) & (tw <= 1.0), "target must hold probabilities in [0, 1]"
    )
    if invalid is not None:
        tw = xp.where(invalid, xp.full_like(tw, math.nan), tw)

    def operand(name: str, value: Any) -> Any:
        if value is None:
            return xp.ones_like(xw)
        return xp.astype(float_operand(func, name, value, xp, xa, shape), wide)

    return (
        xp,
        xa,
        was_scalar,
        reduction,
        xw,
        tw,
        operand("weight", weight),
        operand("pos_weight", pos_weight),
    )


def _masks(xp: Any, xw: Any) -> tuple[Any, Any]:
    finite = xp.isfinite(xw)
    return finite, xp.where(finite, xw, xp.zeros_like(xw))


@quiet
def binary_cross_entropy_with_logits(
    logits: Any,
    target: Any,
    *,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Any:
    """Elementwise BCE of σ(logits) against probabilities ``target`` (PyTorch's conventions:
    ``weight`` scales each element, ``pos_weight`` the positive term; "mean" over all)."""
    func = "binary_cross_entropy_with_logits"
    xp, xa, was_scalar, reduction, xw, tw, w, pw = _prepare(
        func, logits, target, weight, pos_weight, reduction
    )
    finite, xs = _masks(xp, xw)
    zeros = xp.zeros_like(xw)
    inf = xp.full_like(xw, math.inf)
    with _xp.quiet_underflow():
        sp_neg = xp.where(finite, _stable.softplus(xp, -xs), xp.where(xw > 0, zeros, inf))
        sp_pos = xp.where(finite, _stable.softplus(xp, xs), xp.where(xw > 0, inf, zeros))
    c_pos, c_neg = pw * tw, 1.0 - tw
    term_pos = xp.where(c_pos == 0.0, zeros, c_pos * xp.where(c_pos == 0.0, zeros, sp_neg))
    term_neg = xp.where(c_neg == 0.0, zeros, c_neg * xp.where(c_neg == 0.0, zeros, sp_pos))
    loss = xp.where(w == 0.0, zeros, w * (term_pos + term_neg))
    loss = xp.where(xp.isnan(xw) | xp.isnan(tw), nan_like(xp, loss), loss)
    n = float(math.prod(xa.shape))
    return finish(
        xp, reduce(xp, loss, reduction, xp.asarray(n, dtype=xw.dtype)), xa.dtype, was_scalar
    )


@quiet
def binary_cross_entropy_with_logits_grad(
    logits: Any,
    target: Any,
    *,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> Any:
    """∂BCE/∂logits = w·[(1 − t)·σ(x) − p·t·σ(−x)]: for t = 1 this is −σ(−x), exact, where
    σ(x) − 1 rounds to 0."""
    func = "binary_cross_entropy_with_logits_grad"
    xp, xa, _, reduction, xw, tw, w, pw = _prepare(
        func, logits, target, weight, pos_weight, reduction
    )
    finite, xs = _masks(xp, xw)
    ones, zeros = xp.ones_like(xw), xp.zeros_like(xw)
    with _xp.quiet_underflow():
        s_pos = xp.where(finite, _stable.sigmoid(xp, xs), xp.where(xw > 0, ones, zeros))
        s_neg = xp.where(finite, _stable.sigmoid_complement(xp, xs), xp.where(xw > 0, zeros, ones))
    g = w * ((1.0 - tw) * s_pos - pw * tw * s_neg)
    g = xp.where(xp.isnan(xw) | xp.isnan(tw), nan_like(xp, g), g)
    go = upstream(func, grad_output, xp, xa, reduction, tuple(xa.shape), xw.dtype)
    if reduction == "mean":
        n = math.prod(xa.shape)
        go = go / n if n else go * 0.0
    return finish(xp, g * go, xa.dtype, False)


# ---------------------------------------------------------------------------------- record


def _naive_bce(logits: Any, target: Any) -> Any:
    """The textbook −[t log σ(x) + (1 − t) log(1 − σ(x))], with σ = 1/(1 + e^{−x})."""
    import numpy as np

    s = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
    return -(target * np.log(s) + (1.0 - target) * np.log(1.0 - s))


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, HardRow, Loss, register

    inf, nan = math.inf, math.nan
    register(
        Loss(
            name="binary_cross_entropy_with_logits",
            aliases=("bce_with_logits",),
            kind="loss",
            family="losses",
            summary="Binary cross-entropy of σ(x) against a probability, computed from the "
            "logit without overflow.",
            formulas=Formulas(
                f=r"\ell(x, t) = p\,t\,\log(1 + e^{-x}) + (1 - t)\log(1 + e^{x})",
                grad=r"\frac{\partial \ell}{\partial x} = (1 - t)\,\sigma(x) - p\,t\,\sigma(-x)",
                grad2=r"\frac{\partial^2 \ell}{\partial x^2} = \bigl((1 - t) + p\,t\bigr)"
                r"\,\sigma(x)\,\sigma(-x)",
            ),
            options=("weight", "pos_weight", "reduction"),
            fn=binary_cross_entropy_with_logits,
            grad=binary_cross_entropy_with_logits_grad,
            reference=ov.bce_ref,
            reference_grad=ov.bce_grad_ref,
            naive=_naive_bce,
            ulp={"float64": 2.0, "float32": 1.0, "float16": 1.0, "bfloat16": 1.0},
            targets="probabilities in [0, 1], the logits' shape",
            elementwise=True,
            hard_rows=(
                HardRow("x = −∞, t = 0", (-inf,), 0.0, target=0),
                HardRow("x = −∞, t = 1", (-inf,), inf, target=1),
                HardRow("x = +∞, t = 1", (inf,), 0.0, target=1),
                HardRow("x = +∞, t = 0", (inf,), inf, target=0),
                HardRow("x = NaN", (nan,), nan, target=1),
            ),
        )
    )


_register()
