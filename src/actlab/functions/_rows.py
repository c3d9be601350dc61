"""Rows: the slices along ``axis`` that softmax, log_softmax, logsumexp and the losses normalise.

Everything the softmax family needs to know about a row is computed once, here, in the working
dtype (see ``actlab._xp.working_dtype``):

* the row's class in the hard-row contract: NaN, with +∞ entries, empty (every entry −∞ or
  masked), or ordinary;
* for an ordinary row, the shifted logits d_i = x_i − m (m = the row's max) as an unevaluated
  sum hi + lo that is *exact*: the rounding of x_i − m is what max-subtracting peers lose, and
  exp amplifies it by |x_i − m| (511 ULP on a tiny output in float64);
* e_i = exp(d_i) and τ = Σ_{j≠k} e_j, the row's sum *without* its dominant term. Keeping the
  dominant 1 out of τ is what makes log1p(τ), 1 − y_k = τ/(1+τ) and the CE at the dominant
  logit exact, where log(1 + τ) would round to 0 and a loss of 2.6e−73 would be returned as −0.

Nothing here sees ±∞ or NaN arithmetic: non-finite entries are substituted before any
arithmetic and the contract is applied with ``where`` afterwards, so no floating-point warning
can arise from valid input.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _xp

# --------------------------------------------------------------------------- argument checks


def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` with underflow quiet: a product of tiny probabilities that underflows is the
    correctly rounded result, not an error. Overflow, invalid and divide stay as the caller
    set them, and the functions never raise them on valid input."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _xp.quiet_underflow():
            return fn(*args, **kwargs)

    return wrapper


def axes_of(func: str, axis: Any, ndim: int, *, allow_none: bool = False) -> tuple[int, ...]:
    """``axis`` (an int or a tuple of ints) as sorted non-negative axes; errors name ``func``."""
    if axis is None:
        if allow_none:
            return tuple(range(ndim))
        raise TypeError(f"{func}: axis must be an int or a tuple of ints, got None")
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out: list[int] = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{func}: axis must be an int or a tuple of ints, got {axis!r}")
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{func}: axis {a} is out of range for an array of dimension {ndim}")
        a %= ndim
        if a in out:
            raise ValueError(f"{func}: axis {axis!r} repeats axis {a}")
        out.append(a)
    return tuple(sorted(out))


def single_axis(func: str, axis: Any, ndim: int) -> int:
    """An axis that must be one int (maxout, the losses' class axis, dense Jacobians)."""
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{func}: axis must be a single int here, got {axis!r}")
    return axes_of(func, axis, ndim)[0]


def as_array_like(func: str, arg: str, value: Any, xp: Any, like: Any) -> Any:
    """``value`` as an array of the namespace and device of ``like`` (not converted in dtype)."""
    try:
        return _xp.to_namespace(value, xp, like)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{func}: {arg} must be an array, got {type(value).__name__}") from exc


def broadcast_to_shape(func: str, arg: str, xp: Any, value: Any, shape: tuple[int, ...]) -> Any:
    try:
        return _xp.broadcast_to(xp, value, shape)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{func}: {arg} of shape {tuple(value.shape)} does not broadcast to shape {shape}"
        ) from exc


def mask_of(func: str, where: Any, xp: Any, x: Any) -> Any:
    """The ``where`` mask broadcast to ``x.shape`` (None when every entry takes part)."""
    if where is None:
        return None
    where = as_array_like(func, "where", where, xp, x)
    if where.dtype != xp.bool:
        raise TypeError(f"{func}: where must be a boolean array, got dtype {where.dtype}")
    return broadcast_to_shape(func, "where", xp, where, tuple(x.shape))


def check_temperature(func: str, temperature: Any) -> float:
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise TypeError(
            f"{func}: temperature must be a real number, got {type(temperature).__name__}"
        ) from None
    if isinstance(temperature, bool) or not (math.isfinite(t) and t > 0.0):
        raise ValueError(f"{func}: temperature must be finite and > 0, got {temperature!r}")
    return t


# ---------------------------------------------------------------------------- rounding once


def round_once(xp: Any, y: Any, dtype: Any) -> Any:
    """Round the working-dtype ``y`` to ``dtype`` once, overflowing to ±∞ without a warning.

    A result beyond ``dtype``'s range is correctly rounded to ±∞, but NumPy's cast reports
    that as an overflow; the values that round to ±∞ are set explicitly instead.
    """
    if y.dtype == dtype:
        return y
    fmax = float(xp.finfo(dtype).max)
    mant = round(-math.log2(float(xp.finfo(dtype).eps))) + 1
    # Everything at or beyond fmax + ulp(fmax)/2 rounds to infinity (ties go to the even
    # 2^(emax+1)); that threshold is exact in any wider working dtype.
    half_ulp = math.ldexp(1.0, math.frexp(fmax)[1] - mant - 1)
    threshold = xp.asarray(fmax, dtype=y.dtype, device=_xp.device(y)) + half_ulp
    big = xp.abs(y) >= threshold
    with _xp.quiet_underflow():
        out = xp.astype(xp.where(big, xp.zeros_like(y), y), dtype)
    if not _any(xp, big):
        return out
    inf = xp.full_like(out, math.inf)
    return xp.where(big, xp.where(y > 0, inf, -inf), out)


def _any(xp: Any, mask: Any) -> bool:
    if not _xp.is_concrete(mask):
        return True
    return bool(xp.any(mask))


def widen(xp: Any, x: Any) -> tuple[Any, Any]:
    """(working dtype, x in it)."""
    wide = _xp.working_dtype(xp, x.dtype, _xp.device(x))
    return wide, xp.astype(x, wide)


def expand(xp: Any, a: Any, axes: tuple[int, ...]) -> Any:
    """Insert length-1 dimensions at ``axes`` (the inverse of a reduction without keepdims)."""
    for ax in axes:
        a = xp.expand_dims(a, axis=ax)
    return a


# ----------------------------------------------------------------------------- row analysis


@dataclass
class Rows:
    """Per-row quantities in the working dtype; element arrays have x's shape, row arrays
    keep the reduced axes as length 1."""

    xp: Any
    wide: Any
    axes: tuple[int, ...]
    usable: Any  # finite, unmasked, and not too far below the max to matter
    top: Any  # the entries equal to the row's max (d == 0)
    hi: Any  # d = hi + lo exactly, 0 where not usable
    lo: Any
    e: Any  # exp(d), 0 where not usable
    tau: Any  # Σ e − 1, computed without the dominant 1 (0 for empty rows)
    below: Any  # Σ e over the entries below the max (τ's sum, before the other maxima)
    m: Any  # the row's max over usable entries (0 for empty rows)
    n_top: Any  # how many entries equal the max
    pinf: Any  # unmasked +∞ entries
    k: Any  # how many of them per row
    nan_row: Any
    inf_row: Any
    empty_row: Any

    @property
    def ordinary(self) -> Any:
        return ~(self.nan_row | self.inf_row | self.empty_row)

    @property
    def log1p_tau(self) -> Any:
        return self.xp.log1p(self.tau)

    @property
    def y(self) -> Any:
        """softmax, in the working dtype (0 outside ordinary rows' usable entries)."""
        return self.e / (1.0 + self.tau)

    @property
    def one_minus_y(self) -> Any:
        """1 − y_i without cancellation: τ/(1+τ) at the max, (1 + τ − e_i)/(1+τ) elsewhere."""
        xp = self.xp
        num = xp.where(self.top, self.tau, (1.0 + self.tau) - self.e)
        return xp.where(self.usable, num / (1.0 + self.tau), xp.ones_like(self.e))

    def row_sum(self, a: Any) -> Any:
        return self.xp.sum(a, axis=self.axes, keepdims=True)

    def sum_except_top(self, a: Any) -> Any:
        """Σ_{j≠k} a_j where k is the dominant entry (exact where the top is unique)."""
        return self.row_sum(self.xp.where(self.top, self.xp.zeros_like(a), a))

    def top_mean(self, a: Any) -> Any:
        """The mean of ``a`` over the entries equal to the max (a itself where unique)."""
        xp = self.xp
        return self.row_sum(xp.where(self.top, a, xp.zeros_like(a))) / xp.where(
            self.n_top > 0, self.n_top, xp.ones_like(self.n_top)
        )


def analyse(
    xp: Any,
    xw: Any,
    axes: tuple[int, ...],
    valid: Any = None,
    temperature: float = 1.0,
    out_dtype: Any = None,
    shift: Any = None,
) -> Rows:
    """The row analysis of ``xw`` (already in the working dtype) for softmax(x/T).

    ``shift`` (row-shaped, optional) replaces the max: a caller's logsumexp, within an ULP of
    the max-shifted sum's logarithm, keeps every e^{x − shift} ≤ 1 + ε and saves a pass.
    """
    wide = xw.dtype
    zeros = xp.zeros_like(xw)
    ones = xp.ones_like(xw)
    nan = xp.isnan(xw)
    pinf = xw == math.inf
    live = xp.isfinite(xw)
    if valid is not None:
        nan, pinf, live = nan & valid, pinf & valid, live & valid
    nan_row = xp.any(nan, axis=axes, keepdims=True)
    k = xp.sum(xp.where(pinf, ones, zeros), axis=axes, keepdims=True)
    inf_row = (k > 0) & ~nan_row
    live_any = xp.any(live, axis=axes, keepdims=True)
    empty_row = ~live_any & ~inf_row & ~nan_row

    if shift is not None:
        shift = xp.broadcast_to(shift, tuple(live_any.shape))
        m = xp.where(live_any & xp.isfinite(shift), shift, xp.zeros_like(shift))
    elif all(xw.shape[a] > 0 for a in axes):
        lowest = -float(xp.finfo(wide).max)
        m = xp.max(xp.where(live, xw, lowest), axis=axes, keepdims=True)
        m = xp.where(live_any, m, xp.zeros_like(m))
    else:  # an empty axis: every row is empty; max() of nothing would raise
        m = xp.sum(zeros, axis=axes, keepdims=True)
    xs = xp.where(live, xw, m)

    far = xp.zeros_like(live)
    if out_dtype is not None and float(xp.finfo(wide).max) < 4.0 * float(xp.finfo(out_dtype).max):
        # No wider range to compute in (float64 on a backend without an extended type):
        # x − m could overflow. Such entries lie ~1e308 below the max; their exp is 0.
        far = (xs * 0.5 - m * 0.5) < -0.5 * float(xp.finfo(wide).max)
        xs = xp.where(far, m, xs)

    # TwoSum: hi + lo = xs − m exactly (six operations, no FMA, valid in any rounding-to-
    # nearest binary format). lo is what exp would otherwise amplify by |x − m|.
    neg_m = -m
    hi = xs + neg_m
    bv = hi - xs
    av = hi - bv
    lo = (xs - av) + (neg_m - bv)

    if temperature != 1.0:
        bound = temperature * float(xp.finfo(wide).max)  # inf when T·max overflows: no bound
        too_far = hi < -bound
        far = far | too_far
        hi = xp.where(too_far, zeros, hi) / temperature
        lo = xp.where(too_far, zeros, lo) / temperature

    # A row whose given shift is not finite (a +∞ entry makes the caller's logsumexp +∞)
    # takes its result from the contract, not from its exponentials: none is taken (with m
    # = 0 there, e^(x − m) of a finite entry could overflow: x = 2000 in a float32 row).
    counted = live_any if shift is None else live_any & xp.isfinite(shift)
    far = far | (live_any & ~counted)
    usable = live & ~far
    hi = xp.where(usable, hi, zeros)
    lo = xp.where(usable, lo, zeros)
    top = usable & (hi == 0.0)
    with _xp.quiet_underflow():
        # exp(hi + lo) = exp(hi)·(1 + lo) to within lo², far below the working precision.
        # |lo| ≤ half an ULP of hi: |lo| ≥ 1/2 only where |hi| ≥ 2^52 and exp(hi) is 0, and
        # the floor keeps that 0 positive (1 + lo < 0 there gave −0.0).
        e = xp.where(usable, xp.exp(hi) * xp.maximum(1.0 + lo, 0.5), zeros)
        n_top = xp.sum(xp.where(top, ones, zeros), axis=axes, keepdims=True)
        below = xp.sum(xp.where(top, zeros, e), axis=axes, keepdims=True)
    tau = below + (n_top - 1.0)
    tau = xp.where(counted, tau, xp.zeros_like(tau))
    return Rows(
        xp=xp,
        wide=wide,
        axes=axes,
        usable=usable,
        top=top,
        hi=hi,
        lo=lo,
        e=e,
        tau=tau,
        below=below,
        m=m,
        n_top=n_top,
        pinf=pinf,
        k=k,
        nan_row=nan_row,
        inf_row=inf_row,
        empty_row=empty_row,
    )


def finish(xp: Any, y: Any, dtype: Any, was_scalar: bool) -> Any:
    """Round once to ``dtype``; a NumPy 0-d result from a Python scalar becomes a scalar."""
    out = round_once(xp, y, dtype)
    if was_scalar and isinstance(out, np.ndarray):
        return out[()]
    return out
