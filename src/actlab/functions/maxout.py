"""maxout: the max over contiguous groups of ``pieces`` entries along an axis.

maxout(x)_j = max(x[j·p], …, x[j·p + p − 1]) for p = ``pieces``; the axis of length n becomes
n/p. The value is exact (a max rounds nothing), so no working dtype is involved. Its
derivative routes the upstream gradient to the arg-max of each group; on ties to the first
(lowest-index) maximal entry, as ``argmax`` and PyTorch's ``max(dim)`` do. A group holding a
NaN has value NaN and gradient NaN in every entry.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import _xp
from ._rows import as_array_like, broadcast_to_shape, finish, single_axis

__all__ = ["maxout", "maxout_vjp"]


def _groups(func: str, x: Any, pieces: Any, axis: Any) -> tuple[Any, Any, bool, int, Any]:
    """(xp, x with ``axis`` last and split into (n/p, p), was_scalar, axis, input)."""
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    if isinstance(pieces, bool) or not isinstance(pieces, numbers.Integral):
        raise TypeError(f"{func}: pieces must be a positive int, got {pieces!r}")
    p = int(pieces)
    if p < 1:
        raise ValueError(f"{func}: pieces must be a positive int, got {p}")
    ax = single_axis(func, axis, xa.ndim)
    n = xa.shape[ax]
    if n % p:
        raise ValueError(f"{func}: pieces={p} does not divide the length {n} of axis {ax}")
    moved = xp.moveaxis(xa, ax, -1)
    grouped = xp.reshape(moved, (*moved.shape[:-1], n // p, p))
    return xp, grouped, was_scalar, ax, xa


def maxout(x: Any, pieces: int, axis: int = -1) -> Any:
    """The max over each group of ``pieces`` consecutive entries along ``axis`` (exact)."""
    xp, grouped, was_scalar, ax, _ = _groups("maxout", x, pieces, axis)
    nan = xp.any(xp.isnan(grouped), axis=-1)
    # The standard leaves max() of a NaN unspecified; the contract says NaN, explicitly.
    safe = xp.where(xp.isnan(grouped), xp.zeros_like(grouped), grouped)
    y = xp.where(nan, xp.full_like(nan, math.nan, dtype=grouped.dtype), xp.max(safe, axis=-1))
    return finish(xp, xp.moveaxis(y, -1, ax), grouped.dtype, was_scalar)


def maxout_vjp(x: Any, g: Any, pieces: int, axis: int = -1) -> Any:
    """gᵀJ of maxout: g_j goes to the first arg-max of group j, 0 to the others (x's shape)."""
    func = "maxout_vjp"
    xp, grouped, _, ax, xa = _groups(func, x, pieces, axis)
    _, ga, _ = _xp.as_float_array(as_array_like(func, "g", g, xp, xa), func, "g")
    out_shape = list(xa.shape)
    out_shape[ax] //= int(pieces)
    ga = broadcast_to_shape(func, "g", xp, ga, tuple(out_shape))
    gm = xp.expand_dims(xp.astype(xp.moveaxis(ga, ax, -1), grouped.dtype), axis=-1)
    is_nan = xp.isnan(grouped)
    safe = xp.where(is_nan, xp.zeros_like(grouped), grouped)
    first = xp.argmax(safe, axis=-1, keepdims=True)  # the standard: first occurrence on ties
    idx = xp.arange(grouped.shape[-1], device=_xp.device(grouped))
    routed = xp.where(idx == first, gm, xp.zeros_like(grouped))
    nan_group = xp.any(is_nan, axis=-1, keepdims=True)
    routed = xp.where(nan_group, xp.full_like(routed, math.nan), routed)
    flat = xp.reshape(routed, (*grouped.shape[:-2], grouped.shape[-2] * grouped.shape[-1]))
    return xp.moveaxis(flat, -1, ax)


# ---------------------------------------------------------------------------------- record


def _naive_maxout(x: Any, pieces: int) -> Any:
    """The usual reshape-and-max (NumPy propagates NaN, other backends need not)."""
    import numpy as np

    x = np.asarray(x)
    return np.max(x.reshape(*x.shape[:-1], x.shape[-1] // pieces, pieces), axis=-1)


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, Grouped, HardRow, register

    inf, nan = math.inf, math.nan
    two = (("pieces", 2),)
    register(
        Grouped(
            name="maxout",
            kind="grouped",
            family="maxout",
            summary="The max over groups of p consecutive units: a learnable piecewise-linear "
            "convex activation when fed by p affine maps.",
            formulas=Formulas(
                f=r"\operatorname{maxout}(x)_j = \max_{0 \le i < p} x_{jp + i}",
                grad=r"\frac{\partial\,\operatorname{maxout}(x)_j}{\partial x_{jp+i}} = "
                r"[\,i = \text{first }\arg\max_{i'} x_{jp+i'}\,]",
                grad2=r"0 \text{ (piecewise linear)}",
            ),
            options=("pieces", "axis"),
            fn=maxout,
            vjp=maxout_vjp,
            reference=ov.maxout_ref,
            naive=_naive_maxout,
            ulp={"float64": 0.0, "float32": 0.0, "float16": 0.0, "bfloat16": 0.0},
            product_eps=0.0,
            tie_rule="the gradient of a group goes to its first (lowest-index) maximal entry",
            hard_rows=(
                HardRow("a NaN in a group", (1.0, nan, 3.0, 4.0), (nan, 4.0), options=two),
                HardRow("±∞", (-inf, -inf, inf, 0.0), (-inf, inf), options=two),
                HardRow("a tie", (2.0, 2.0, -0.0, 0.0), (2.0, 0.0), options=two),
            ),
        )
    )


_register()
