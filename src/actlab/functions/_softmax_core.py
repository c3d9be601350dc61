"""What softmax, softmin and log_softmax and their derivatives share: the checked call and
the row analysis (``_rows``), and the probabilities and log-probabilities in the working
dtype with the hard-row contract applied."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import _xp
from ._rows import Rows, analyse, axes_of, check_temperature, mask_of, widen


@dataclass
class Call:
    """One checked call: the namespace, input dtype and shape, the axes, T, and the rows'
    analysis in the working dtype."""

    xp: Any
    dtype: Any
    was_scalar: bool
    axes: tuple[int, ...]
    temperature: float
    rows: Rows
    shape: tuple[int, ...]


def prepare(func: str, x: Any, axis: Any, where: Any, temperature: Any, *, negate: bool) -> Call:
    """Check the arguments (errors name ``func``), widen x and analyse its rows."""
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    axes = axes_of(func, axis, xa.ndim)
    t = check_temperature(func, temperature)
    valid = mask_of(func, where, xp, xa)
    _, xw = widen(xp, xa)
    if negate:  # softmin(x) = softmax(−x); negation is exact
        xw = -xw
    rows = analyse(xp, xw, axes, valid, t, xa.dtype)
    return Call(xp, xa.dtype, was_scalar, axes, t, rows, tuple(xa.shape))


def nan_like(xp: Any, a: Any) -> Any:
    return xp.full_like(a, math.nan)


def probabilities(c: Call) -> Any:
    """softmax in the working dtype, with the contract applied."""
    xp, r = c.xp, c.rows
    y = r.y  # already 0 on entries that are masked, −∞ or negligibly far below the max
    k = xp.where(r.inf_row, r.k, xp.ones_like(r.k))
    y = xp.where(r.inf_row, xp.where(r.pinf, 1.0 / k, xp.zeros_like(y)), y)
    return xp.where(r.nan_row, nan_like(xp, y), y)


def log_probabilities(c: Call) -> Any:
    xp, r = c.xp, c.rows
    neg_inf = xp.full_like(r.e, -math.inf)
    # (x_i − m) − log1p(τ): both parts ≤ 0, so nothing cancels; at the max this is
    # −log1p(τ), never log(1 + τ) = 0 (peers return 0 where the exact value is −3.4e−18).
    # The rounding error of hi − L is recovered (TwoSum) and added with lo in one step: two
    # roundings fewer, which matters where float64 is computed in float64.
    big, neg_l = r.hi, -r.log1p_tau
    s = big + neg_l
    bv = s - big
    err = (big - (s - bv)) + (neg_l - bv)
    z = xp.where(r.usable, s + (err + r.lo), neg_inf)
    k = xp.where(r.inf_row, r.k, xp.ones_like(r.k))
    # 0 − log k, not −log k: one +∞ entry has log-probability +0, not −0.
    z = xp.where(r.inf_row, xp.where(r.pinf, 0.0 - xp.log(k), neg_inf), z)
    return xp.where(r.nan_row, nan_like(xp, z), z)
