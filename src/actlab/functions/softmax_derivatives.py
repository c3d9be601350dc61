"""The derivatives of softmax, softmin and log_softmax: products with the Jacobian
J = (diag(y) − y yᵀ)/T (vector-Jacobian and Jacobian-vector) and dense Jacobians, written so
that nothing cancels at the dominant entry."""

from __future__ import annotations

import functools
import math
from typing import Any

from .. import _xp
from ..kernels.outputs import deliver
from . import _rowcall
from ._rows import as_array_like, broadcast_to_shape, finish, quiet, single_axis
from ._softmax_core import Call, nan_like, prepare

__all__ = [
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "softmin_jacobian",
    "softmin_jvp",
    "softmin_vjp",
]


def _cotangent(func: str, arg: str, c: Call, g: Any) -> tuple[Any, Any]:
    """``g`` in the working dtype, zero outside the usable entries, and the rows where a
    non-finite value of g meets a usable entry (their product is NaN)."""
    xp, r = c.xp, c.rows
    if g is None:
        raise TypeError(f"{func}: {arg} is required")
    _, ga, _ = _xp.as_float_array(as_array_like(func, arg, g, xp, r.e), func, arg)
    ga = broadcast_to_shape(func, arg, xp, ga, c.shape)
    gw = xp.astype(ga, r.wide)
    ok = xp.isfinite(gw)
    bad_row = xp.any(r.usable & ~ok, axis=c.axes, keepdims=True)
    return xp.where(r.usable & ok, gw, xp.zeros_like(gw)), bad_row


def _given_output(func: str, c: Call, given: Any, *, log: bool) -> tuple[Any, Any]:
    """(y, 1 − y) in the working dtype, from x's analysis or from the caller's forward output.

    The forward output only saves the exponentials: the row analysis of x still decides which
    entry dominates and which rows are special. 1 − y at the dominant entry is taken from the
    other entries (softmax) or as −expm1(log y) (log_softmax), never as 1 − y.
    """
    xp, r = c.xp, c.rows
    if given is None:
        return r.y, r.one_minus_y
    oa = as_array_like(func, "y", given, xp, r.e)
    if tuple(oa.shape) != c.shape:
        raise ValueError(f"{func}: y has shape {tuple(oa.shape)}, expected {c.shape}")
    ow = xp.astype(oa, r.wide)
    zeros = xp.zeros_like(ow)
    if log:
        safe = xp.where(r.usable, ow, zeros)
        with _xp.quiet_underflow():
            y = xp.where(r.usable, xp.exp(safe), zeros)
        return y, xp.where(r.usable, -xp.expm1(safe), xp.ones_like(ow))
    y = xp.where(r.usable, ow, zeros)
    others = r.sum_except_top(y)
    om = xp.where(r.top & (r.n_top == 1.0), others + zeros, 1.0 - y)
    return y, om


def _shifted_product(c: Call, y: Any, v: Any) -> Any:
    """v_i − ⟨y, v⟩ as (v_i − a) + Σ_j y_j (a − v_j), a = v at the max entry.

    Σ y = 1 makes the two equal; the second form has no cancellation where one entry
    dominates (peers get the sign of the dominant softmax VJP wrong there).
    """
    a = c.rows.top_mean(v)
    return (v - a) + c.rows.row_sum(y * (a - v))


def _finish_derivative(c: Call, d: Any, bad_row: Any, keep: Any) -> Any:
    xp, r = c.xp, c.rows
    zeros = xp.zeros_like(d)
    d = xp.where(keep & r.ordinary, d, zeros)
    d = xp.where(r.nan_row | bad_row, nan_like(xp, d), d)
    return finish(xp, d, c.dtype, c.was_scalar)


def _softmax_product(func: str, x, g, axis, where, temperature, y, *, negate: bool) -> Any:
    """The NumPy path of softmax's and softmin's products (every backend and option)."""
    c = prepare(func, x, axis, where, temperature, negate=negate)
    gw, bad = _cotangent(func, "g" if "vjp" in func else "v", c, g)
    y, _ = _given_output(func, c, y, log=False)
    # softmin's product is softmax's at (−x, −g): g is negated rather than the product, so
    # that an exactly cancelling t gives +0, as the compiled kernels (which take −g) give.
    d = y * _shifted_product(c, y, -gw if negate else gw) / c.temperature
    return _finish_derivative(c, d, bad, c.rows.usable)


def _log_softmax_vjp(func: str, x, g, axis, where, temperature, y) -> Any:
    """The NumPy path of ``log_softmax_vjp``."""
    c = prepare(func, x, axis, where, temperature, negate=False)
    xp, r = c.xp, c.rows
    gw, bad = _cotangent(func, "g", c, g)
    y, om = _given_output(func, c, y, log=True)
    total = r.row_sum(gw)
    others = r.sum_except_top(gw)
    dominant = r.top & (r.n_top == 1.0)
    d = xp.where(dominant, gw * om - y * others, gw - y * total) / c.temperature
    return _finish_derivative(c, d, bad, r.usable)


def _log_softmax_jvp(func: str, x, v, axis, where, temperature, y) -> Any:
    """The NumPy path of ``log_softmax_jvp``."""
    c = prepare(func, x, axis, where, temperature, negate=False)
    vw, bad = _cotangent(func, "v", c, v)
    y, _ = _given_output(func, c, y, log=True)
    d = _shifted_product(c, y, vw) / c.temperature
    return _finish_derivative(c, d, bad, c.rows.usable)


def _softmax_family(
    func: str, public, x, g, axis, where, temperature, y, out, *, negate: bool
) -> Any:  # fmt: skip
    """A product of softmax's (``negate``: softmin's) Jacobian: the compiled kernel where the
    call takes it (softmin's at (−x, −g); from the caller's y if given), else the NumPy
    path; a Dask array chunk by chunk by ``public`` (the product itself)."""
    _rowcall.check_out_backend(func, x, out)
    arg = "g" if "vjp" in func else "v"
    lazy = _rowcall.chunked_product(func, public, x, g, axis, where, temperature, y, arg)
    if lazy is not None:
        return lazy

    def rows(xr: Any, *rest: Any) -> Any:  # the kernel's flagged rows (of −x for softmin)
        yr, gr = rest if len(rest) == 2 else (None, rest[0])
        return _softmax_product(func, xr, gr, -1, None, 1.0, yr, negate=False)

    def numpy_path(*args: Any) -> Any:  # (x, g, axis, where, temperature, y)
        return _softmax_product(func, *args, negate=negate)

    fast = _rowcall.product(
        func, "softmax", rows, numpy_path, x, g, axis, where, temperature, y, out, True,
        arg=arg, negate=negate, given_y="softmax_given_y",
    )  # fmt: skip
    if fast is not None:
        return fast
    result = _softmax_product(func, x, g, axis, where, temperature, y, negate=negate)
    return deliver(func, result, out)


@quiet
def softmax_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of softmax: y ⊙ (g − ⟨g, y⟩)/T, with ``y`` = softmax(x) if the caller has it."""
    return _softmax_family(
        "softmax_vjp", softmax_vjp, x, g, axis, where, temperature, y, out, negate=False
    )


@quiet
def softmax_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of softmax (J is symmetric, so this equals the VJP with g = v)."""
    return _softmax_family(
        "softmax_jvp", softmax_jvp, x, v, axis, where, temperature, y, out, negate=False
    )


@quiet
def softmin_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of softmin (= −softmax_vjp at −x)."""
    return _softmax_family(
        "softmin_vjp", softmin_vjp, x, g, axis, where, temperature, y, out, negate=True
    )


@quiet
def softmin_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of softmin."""
    return _softmax_family(
        "softmin_jvp", softmin_jvp, x, v, axis, where, temperature, y, out, negate=True
    )


@quiet
def log_softmax_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of log_softmax: (g_j − y_j Σ_i g_i)/T; at a unique max g_k(1 − y_k) − y_k Σ_{i≠k} g_i.

    ``y`` is log_softmax(x) if the caller has it. Entries whose output is −∞ (masked, −∞)
    take no part; rows with +∞ entries or empty rows have derivative 0 (the limit is locally
    constant); NaN rows are NaN.
    """
    func = "log_softmax_vjp"
    _rowcall.check_out_backend(func, x, out)
    lazy = _rowcall.chunked_product(func, log_softmax_vjp, x, g, axis, where, temperature, y, "g")
    if lazy is not None:
        return lazy

    def rows(xr: Any, gr: Any) -> Any:
        return _log_softmax_vjp(func, xr, gr, -1, None, 1.0, None)

    fast = _rowcall.product(
        func, func, rows, functools.partial(_log_softmax_vjp, func),
        x, g, axis, where, temperature, y, out,
    )  # fmt: skip
    if fast is not None:
        return fast
    return deliver(func, _log_softmax_vjp(func, x, g, axis, where, temperature, y), out)


@quiet
def log_softmax_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of log_softmax: (v_i − ⟨y, v⟩)/T, written without cancellation at the max."""
    func = "log_softmax_jvp"
    _rowcall.check_out_backend(func, x, out)
    lazy = _rowcall.chunked_product(func, log_softmax_jvp, x, v, axis, where, temperature, y, "v")
    if lazy is not None:
        return lazy

    def rows(xr: Any, vr: Any) -> Any:
        return _log_softmax_jvp(func, xr, vr, -1, None, 1.0, None)

    fast = _rowcall.product(
        func, "softmax", rows, functools.partial(_log_softmax_jvp, func),
        x, v, axis, where, temperature, y, out, False, arg="v",
    )  # fmt: skip
    if fast is not None:
        return fast
    return deliver(func, _log_softmax_jvp(func, x, v, axis, where, temperature, y), out)


# --------------------------------------------------------------------------- dense Jacobians


def _jacobian(func: str, x, axis, where, temperature, y, *, log: bool, negate: bool) -> Any:
    c = prepare(func, x, axis, where, temperature, negate=negate)
    ax = single_axis(func, axis, len(c.shape))
    xp, r = c.xp, c.rows
    y, om = _given_output(func, c, y, log=log)

    def last(a: Any) -> Any:
        return xp.moveaxis(a, ax, -1)

    yl, oml, ul = last(y), last(om), last(r.usable)
    n = c.shape[ax]
    eye = xp.eye(n, dtype=r.wide, device=_xp.device(y)) == 1.0
    col = xp.expand_dims
    if log:  # ∂ log y_i/∂x_j = δ_ij − y_j, with 1 − y_i on the diagonal
        jac = xp.where(eye, col(oml, axis=-1), -col(yl, axis=-2))
    else:  # ∂y_i/∂x_j = y_i δ_ij − y_i y_j, with y_i (1 − y_i) on the diagonal
        jac = xp.where(eye, col(yl * oml, axis=-1), -col(yl, axis=-1) * col(yl, axis=-2))
    jac = jac / c.temperature
    if negate:
        jac = -jac
    keep = col(ul, axis=-1) & col(ul, axis=-2) & col(last(r.ordinary), axis=-1)
    jac = xp.where(keep, jac, xp.zeros_like(jac))
    nan_row = col(last(r.nan_row), axis=-1)
    jac = xp.where(nan_row, xp.full_like(jac, math.nan), jac)
    return finish(xp, jac, c.dtype, False)


@quiet
def softmax_jacobian(x, axis=-1, *, where=None, temperature=1.0, y=None) -> Any:
    """The dense Jacobian, shape batch + (n, n) with ``axis`` moved last: J[..., i, j] = ∂y_i/∂x_j."""
    return _jacobian("softmax_jacobian", x, axis, where, temperature, y, log=False, negate=False)


@quiet
def softmin_jacobian(x, axis=-1, *, where=None, temperature=1.0, y=None) -> Any:
    """The dense Jacobian of softmin (batch + (n, n), ``axis`` moved last)."""
    return _jacobian("softmin_jacobian", x, axis, where, temperature, y, log=False, negate=True)


@quiet
def log_softmax_jacobian(x, axis=-1, *, where=None, temperature=1.0, y=None) -> Any:
    """The dense Jacobian of log_softmax: J[..., i, j] = (δ_ij − y_j)/T."""
    return _jacobian("log_softmax_jacobian", x, axis, where, temperature, y, log=True, negate=False)
