"""What logsumexp and its VJP compute from the rows' analysis (``_rows.analyse``): shared by
the whole-array code (``logsumexp``) and the passes over one row longer than a block
(``_long_row``), which adds its sums up block by block and then finishes a row the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import _xp
from ._rows import Rows, analyse, as_array_like, axes_of, broadcast_to_shape, mask_of, widen


@dataclass
class Inputs:
    """A call's arrays as the analysis reads them."""

    xp: Any
    xa: Any  # x as a float array
    was_scalar: bool
    axes: tuple[int, ...]
    xw: Any  # x in the working dtype
    valid: Any  # the entries taking part (the mask and the nonzero weights); None: all
    bw: Any  # the weights in the working dtype, 0 where not finite; None without b
    bad_b: Any  # the rows with a weight ±∞ or NaN on an entry taking part; None without b


def inputs(func: str, x: Any, axis: Any, where: Any, b: Any) -> Inputs:
    """``x``, the mask and the weights ``b`` checked and put in the working dtype."""
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    axes = axes_of(func, axis, xa.ndim, allow_none=True)
    valid = mask_of(func, where, xp, xa)
    wide, xw = widen(xp, xa)
    bw = bad_b = None
    if b is not None:
        _, ba, _ = _xp.as_float_array(as_array_like(func, "b", b, xp, xa), func, "b")
        bw = xp.astype(broadcast_to_shape(func, "b", xp, ba, tuple(xa.shape)), wide)
        # A zero scale factor removes its entry, whatever x is there (scipy's convention).
        nonzero = bw != 0.0
        bad_b = ~xp.isfinite(bw) & nonzero & (valid if valid is not None else nonzero)
        bad_b = xp.any(bad_b, axis=axes, keepdims=True)
        valid = nonzero if valid is None else valid & nonzero
        bw = xp.where(xp.isfinite(bw), bw, xp.zeros_like(bw))
    return Inputs(xp, xa, was_scalar, axes, xw, valid, bw, bad_b)


def analysis(
    func: str, x: Any, axis: Any, where: Any, b: Any, shift: Any = None
) -> tuple[Inputs, Rows]:  # fmt: skip
    """The inputs and the rows' analysis; ``shift`` replaces the max (``_rows.analyse``)."""
    given = inputs(func, x, axis, where, b)
    rows = analyse(given.xp, given.xw, given.axes, given.valid, 1.0, given.xa.dtype, shift=shift)
    return given, rows


@dataclass
class Totals:
    """A row's sums and class: row-shaped arrays in the working dtype."""

    m: Any  # the shift of the exponentials: the max
    tau: Any  # Σ_{j≠k} e^{x_j − m}, without the dominant 1 (no weights)
    s: Any  # Σ b_j e^{x_j − m} over the finite entries (weights; None without)
    s_inf: Any  # Σ b_j over the +∞ entries (weights; None without)
    nan_row: Any  # a NaN entry taking part
    inf_row: Any  # a +∞ entry taking part, and no NaN
    empty_row: Any  # no entry taking part
    bad_b: Any  # a weight ±∞ or NaN on an entry taking part (None without weights)

    @property
    def ordinary(self) -> Any:
        return ~(self.nan_row | self.inf_row | self.empty_row)

    @property
    def undefined(self) -> Any:
        """The rows whose logsumexp and derivative are NaN whatever the rest."""
        return self.nan_row if self.bad_b is None else self.nan_row | self.bad_b


def totals(given: Inputs, rows: Rows) -> Totals:
    """The Totals of rows analysed whole."""
    s = s_inf = None
    if given.bw is not None:
        zeros = given.xp.zeros_like(given.bw)
        s = rows.row_sum(given.bw * rows.e)
        s_inf = rows.row_sum(given.xp.where(rows.pinf, given.bw, zeros))
    return Totals(
        rows.m, rows.tau, s, s_inf, rows.nan_row, rows.inf_row, rows.empty_row, given.bad_b
    )


def logsumexp_of(xp: Any, t: Totals, return_sign: bool) -> tuple[Any, Any]:
    """(log |Σ b e^x|, its sign) per row, the reduced axes kept, in the working dtype."""
    inf = xp.full_like(t.m, math.inf)
    zero = xp.zeros_like(t.m)
    one = xp.ones_like(t.m)
    nan_row = t.undefined
    if t.s is None:
        lse = t.m + xp.log1p(t.tau)
        lse = xp.where(t.empty_row, -inf, lse)
        lse = xp.where(t.inf_row, inf, lse)
        sign = xp.where(t.empty_row, zero, one)
    else:
        safe = xp.where(t.s == 0.0, one, xp.abs(t.s))
        lse = xp.where(t.s == 0.0, -inf, t.m + xp.log(safe))
        sign = xp.where(t.s > 0.0, one, xp.where(t.s < 0.0, -one, zero))
        lse = xp.where(t.inf_row, inf, lse)
        sign = xp.where(t.inf_row, xp.where(t.s_inf > 0, one, -one), sign)
        # +∞ entries whose scale factors cancel have no limit (∞ − ∞).
        nan_row = nan_row | (t.inf_row & (t.s_inf == 0.0))
        if not return_sign:
            nan_row = nan_row | (sign < 0.0)
    nan = xp.full_like(lse, math.nan)
    return xp.where(nan_row, nan, lse), xp.where(nan_row, nan, sign)


def vjp_of(xp: Any, t: Totals, e: Any, bw: Any, g: Any) -> Any:
    """g · b_j e_j/Σ b e (g · e_j/(1 + τ) without weights) in the working dtype, from the
    exponentials ``e`` of the rows of ``t`` (or of a block of one row) and their weights
    ``bw``; ``g`` one cotangent per row. Rows whose logsumexp is ±∞ or whose weighted sum is
    0 have derivative 0; NaN rows, and a cotangent ±∞ or NaN where it is not 0, give NaN."""
    bad_g = ~xp.isfinite(g)
    g = xp.where(bad_g, xp.zeros_like(g), g)
    keep = t.ordinary
    if bw is None:
        grad = g * (e / (1.0 + t.tau))
    else:
        safe = xp.where(t.s == 0.0, xp.ones_like(t.s), t.s)
        grad = g * (bw * e) / safe
        keep = keep & (t.s != 0.0)
    grad = xp.where(keep, grad, xp.zeros_like(e))
    return xp.where(t.undefined | (bad_g & keep), xp.full_like(grad, math.nan), grad)
