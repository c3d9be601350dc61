"""Mean squared error and its gradient, in the working dtype and rounded once.

Non-finite input follows the arithmetic of the limit, without ∞ − ∞ reaching the hardware:
one infinite operand gives +∞ (gradient ±∞), equal infinities or a NaN give NaN.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _xp
from ..functions._rows import finish, quiet, widen
from ._common import check_reduction, float_operand, nan_like, reduce, upstream

__all__ = ["mse_loss", "mse_loss_grad"]


def _difference(func: str, x: Any, target: Any) -> tuple:
    xp, xa, was_scalar = _xp.as_float_array(x, func, "input")
    shape = tuple(xa.shape)
    ta = float_operand(func, "target", target, xp, xa, shape)
    wide, xw = widen(xp, xa)
    tw = xp.astype(ta, wide)
    fx, ft = xp.isfinite(xw), xp.isfinite(tw)
    zeros = xp.zeros_like(xw)
    d = xp.where(fx & ft, xw - xp.where(ft, tw, zeros), zeros)
    # x − t when one side is infinite: that side's infinity, signed as in x − t.
    inf = xp.full_like(xw, math.inf)
    d = xp.where(fx & ~ft, xp.where(tw > 0, -inf, inf), d)
    d = xp.where(~fx & ft, xp.where(xw > 0, inf, -inf), d)
    both = ~fx & ~ft
    d = xp.where(both & ((xw > 0) != (tw > 0)), xp.where(xw > 0, inf, -inf), d)
    undefined = xp.isnan(xw) | xp.isnan(tw) | (both & ((xw > 0) == (tw > 0)))
    return xp, xa, was_scalar, d, undefined


@quiet
def mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Any:
    """(input − target)², reduced by "mean" (over all elements; 0 for none), "sum" or "none".

    ``target`` broadcasts to the input's shape.
    """
    func = "mse_loss"
    reduction = check_reduction(func, reduction)
    xp, xa, was_scalar, d, undefined = _difference(func, input, target)
    loss = xp.where(undefined, nan_like(xp, d), d * d)
    n = xp.asarray(float(math.prod(xa.shape)), dtype=d.dtype, device=_xp.device(d))
    return finish(xp, reduce(xp, loss, reduction, n), xa.dtype, was_scalar)


@quiet
def mse_loss_grad(
    input: Any, target: Any, *, reduction: str = "mean", grad_output: Any = None
) -> Any:
    """∂(mse_loss)/∂input = 2(input − target) (over N for "mean"), times ``grad_output``."""
    func = "mse_loss_grad"
    reduction = check_reduction(func, reduction)
    xp, xa, _, d, undefined = _difference(func, input, target)
    go = upstream(func, grad_output, xp, xa, reduction, tuple(xa.shape), d.dtype)
    if reduction == "mean":
        n = math.prod(xa.shape)
        go = go / n if n else go * 0.0
    g = xp.where(undefined, nan_like(xp, d), 2.0 * d * go)
    return finish(xp, g, xa.dtype, False)


# ---------------------------------------------------------------------------------- record


def _naive_mse(x: Any, target: Any) -> Any:
    import numpy as np

    return (np.asarray(x) - target) ** 2


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, HardRow, Loss, register

    inf, nan = math.inf, math.nan
    register(
        Loss(
            name="mse_loss",
            aliases=("mse",),
            kind="loss",
            family="losses",
            summary="Squared error; with a sigmoid output its gradient vanishes where "
            "cross-entropy's does not.",
            formulas=Formulas(
                f=r"\ell(x, t) = (x - t)^2",
                grad=r"\frac{\partial \ell}{\partial x} = 2(x - t)",
                grad2=r"\frac{\partial^2 \ell}{\partial x^2} = 2",
            ),
            options=("reduction",),
            fn=mse_loss,
            grad=mse_loss_grad,
            reference=ov.mse_ref,
            reference_grad=ov.mse_grad_ref,
            naive=_naive_mse,
            ulp={"float64": 1.0, "float32": 1.0, "float16": 1.0, "bfloat16": 1.0},
            targets="real values broadcasting to the input's shape",
            elementwise=True,
            hard_rows=(
                HardRow("x = +∞, t finite", (inf,), inf, target=0),
                HardRow("x = t = +∞", (inf,), nan, target=inf),
                HardRow("x = NaN", (nan,), nan, target=0),
            ),
        )
    )


_register()
