"""softmax, log_softmax and softmin along an axis, with their Jacobian products.

The numerics live in ``_rows``: an exact x − max, the row sum kept without its dominant 1, and
the hard-row contract (docs/softmax.md). Here each function picks what it needs from that
analysis and rounds once to the input dtype. The derivatives are products with the Jacobian
J = (diag(y) − y yᵀ)/T, written so that nothing cancels at the dominant entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import _xp
from ..kernels.outputs import deliver
from . import _rowcall
from ._rows import (
    Rows,
    analyse,
    as_array_like,
    axes_of,
    broadcast_to_shape,
    check_temperature,
    finish,
    mask_of,
    quiet,
    single_axis,
    widen,
)

__all__ = [
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "softmax",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "softmin",
    "softmin_jacobian",
    "softmin_jvp",
    "softmin_vjp",
]


@dataclass
class _Call:
    xp: Any
    dtype: Any
    was_scalar: bool
    axes: tuple[int, ...]
    temperature: float
    rows: Rows
    shape: tuple[int, ...]


def _prepare(func: str, x: Any, axis: Any, where: Any, temperature: Any, *, negate: bool) -> _Call:
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    axes = axes_of(func, axis, xa.ndim)
    t = check_temperature(func, temperature)
    valid = mask_of(func, where, xp, xa)
    _, xw = widen(xp, xa)
    if negate:  # softmin(x) = softmax(−x); negation is exact
        xw = -xw
    rows = analyse(xp, xw, axes, valid, t, xa.dtype)
    return _Call(xp, xa.dtype, was_scalar, axes, t, rows, tuple(xa.shape))


def _nan_like(xp: Any, a: Any) -> Any:
    return xp.full_like(a, math.nan)


def _probabilities(c: _Call) -> Any:
    """softmax in the working dtype, with the contract applied."""
    xp, r = c.xp, c.rows
    y = r.y  # already 0 on entries that are masked, −∞ or negligibly far below the max
    k = xp.where(r.inf_row, r.k, xp.ones_like(r.k))
    y = xp.where(r.inf_row, xp.where(r.pinf, 1.0 / k, xp.zeros_like(y)), y)
    return xp.where(r.nan_row, _nan_like(xp, y), y)


def _log_probabilities(c: _Call) -> Any:
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
    return xp.where(r.nan_row, _nan_like(xp, z), z)


@quiet
def _softmax(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``softmax`` (every backend and option)."""
    c = _prepare("softmax", x, axis, where, temperature, negate=False)
    return finish(c.xp, _probabilities(c), c.dtype, c.was_scalar)


def softmax(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """softmax(x/T) along ``axis`` (an int or a tuple): e^{x_i/T} / Σ_j e^{x_j/T}.

    ``where`` (a boolean mask broadcasting to x) leaves entries out: they get 0. Rows that are
    empty (all −∞ or masked) give zeros, rows with +∞ entries the limit (k of them share
    1/k), rows with a NaN are all NaN. Every element is within a few ULP, tiny ones included.
    """
    return _rowcall.vector("softmax", _softmax, x, axis, where, temperature, out, "softmax")


@quiet
def _softmin(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``softmin`` (every backend and option)."""
    c = _prepare("softmin", x, axis, where, temperature, negate=True)
    return finish(c.xp, _probabilities(c), c.dtype, c.was_scalar)


def softmin(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """softmin(x) = softmax(−x), with the same options and contract."""
    return _rowcall.vector("softmin", _softmin, x, axis, where, temperature, out, None)


@quiet
def _log_softmax(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``log_softmax`` (every backend and option)."""
    c = _prepare("log_softmax", x, axis, where, temperature, negate=False)
    return finish(c.xp, _log_probabilities(c), c.dtype, c.was_scalar)


def log_softmax(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """log softmax(x/T) = x_i/T − logsumexp(x/T), exact at the dominant entry too.

    Masked and −∞ entries give −∞; empty rows all −∞; k entries of +∞ give −log k there.
    """
    return _rowcall.vector(
        "log_softmax", _log_softmax, x, axis, where, temperature, out, "log_softmax"
    )


# ----------------------------------------------------------------------------- derivatives


def _cotangent(func: str, arg: str, c: _Call, g: Any) -> tuple[Any, Any]:
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


def _given_output(func: str, c: _Call, given: Any, *, log: bool) -> tuple[Any, Any]:
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


def _shifted_product(c: _Call, y: Any, v: Any) -> Any:
    """v_i − ⟨y, v⟩ as (v_i − a) + Σ_j y_j (a − v_j), a = v at the max entry.

    Σ y = 1 makes the two equal; the second form has no cancellation where one entry
    dominates (peers get the sign of the dominant softmax VJP wrong there).
    """
    a = c.rows.top_mean(v)
    return (v - a) + c.rows.row_sum(y * (a - v))


def _finish_derivative(c: _Call, d: Any, bad_row: Any, keep: Any) -> Any:
    xp, r = c.xp, c.rows
    zeros = xp.zeros_like(d)
    d = xp.where(keep & r.ordinary, d, zeros)
    d = xp.where(r.nan_row | bad_row, _nan_like(xp, d), d)
    return finish(xp, d, c.dtype, c.was_scalar)


def _softmax_product(func: str, x, g, axis, where, temperature, y, *, negate: bool) -> Any:
    c = _prepare(func, x, axis, where, temperature, negate=negate)
    gw, bad = _cotangent(func, "g" if "vjp" in func else "v", c, g)
    y, _ = _given_output(func, c, y, log=False)
    d = y * _shifted_product(c, y, gw) / c.temperature
    return _finish_derivative(c, -d if negate else d, bad, c.rows.usable)


@quiet
def softmax_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of softmax: y ⊙ (g − ⟨g, y⟩)/T, with ``y`` = softmax(x) if the caller has it."""
    _rowcall.check_out_backend("softmax_vjp", x, out)
    return deliver(
        "softmax_vjp",
        _softmax_product("softmax_vjp", x, g, axis, where, temperature, y, negate=False),
        out,
    )


@quiet
def softmax_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of softmax (J is symmetric, so this equals the VJP with g = v)."""
    _rowcall.check_out_backend("softmax_jvp", x, out)
    return deliver(
        "softmax_jvp",
        _softmax_product("softmax_jvp", x, v, axis, where, temperature, y, negate=False),
        out,
    )


@quiet
def softmin_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of softmin (= −softmax_vjp at −x)."""
    _rowcall.check_out_backend("softmin_vjp", x, out)
    return deliver(
        "softmin_vjp",
        _softmax_product("softmin_vjp", x, g, axis, where, temperature, y, negate=True),
        out,
    )


@quiet
def softmin_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of softmin."""
    _rowcall.check_out_backend("softmin_jvp", x, out)
    return deliver(
        "softmin_jvp",
        _softmax_product("softmin_jvp", x, v, axis, where, temperature, y, negate=True),
        out,
    )


@quiet
def log_softmax_vjp(x, g, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """gᵀJ of log_softmax: (g_j − y_j Σ_i g_i)/T; at a unique max g_k(1 − y_k) − y_k Σ_{i≠k} g_i.

    ``y`` is log_softmax(x) if the caller has it. Entries whose output is −∞ (masked, −∞)
    take no part; rows with +∞ entries or empty rows have derivative 0 (the limit is locally
    constant); NaN rows are NaN.
    """
    func = "log_softmax_vjp"
    c = _prepare(func, x, axis, where, temperature, negate=False)
    xp, r = c.xp, c.rows
    gw, bad = _cotangent(func, "g", c, g)
    y, om = _given_output(func, c, y, log=True)
    total = r.row_sum(gw)
    others = r.sum_except_top(gw)
    dominant = r.top & (r.n_top == 1.0)
    d = xp.where(dominant, gw * om - y * others, gw - y * total) / c.temperature
    _rowcall.check_out_backend("log_softmax_vjp", x, out)
    return deliver("log_softmax_vjp", _finish_derivative(c, d, bad, r.usable), out)


@quiet
def log_softmax_jvp(x, v, axis=-1, *, where=None, temperature=1.0, y=None, out=None) -> Any:
    """J v of log_softmax: (v_i − ⟨y, v⟩)/T, written without cancellation at the max."""
    func = "log_softmax_jvp"
    c = _prepare(func, x, axis, where, temperature, negate=False)
    vw, bad = _cotangent(func, "v", c, v)
    y, _ = _given_output(func, c, y, log=True)
    d = _shifted_product(c, y, vw) / c.temperature
    _rowcall.check_out_backend("log_softmax_jvp", x, out)
    return deliver("log_softmax_jvp", _finish_derivative(c, d, bad, c.rows.usable), out)


# --------------------------------------------------------------------------- dense Jacobians


def _jacobian(func: str, x, axis, where, temperature, y, *, log: bool, negate: bool) -> Any:
    c = _prepare(func, x, axis, where, temperature, negate=negate)
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


# ---------------------------------------------------------------------------------- records

_INF, _NAN = math.inf, math.nan
_LN2 = math.log(2.0)


def _naive_softmax(x: Any, axis: int = -1) -> Any:
    """The textbook formula without max subtraction (overflows beyond x ≈ 709.8)."""
    import numpy as np

    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _naive_softmin(x: Any, axis: int = -1) -> Any:
    return _naive_softmax(-x, axis)


def _naive_log_softmax(x: Any, axis: int = -1) -> Any:
    """The seed's max-subtracted formula: (x − max) − log Σ exp(x − max)."""
    import numpy as np

    x_max = np.max(x, axis=axis, keepdims=True)
    return (x - x_max) - np.log(np.sum(np.exp(x - x_max), axis=axis, keepdims=True))


def _hard_rows(log: bool) -> tuple:
    from ..registry import HardRow

    def row(label: str, x: tuple, p: tuple, where: tuple | None = None) -> HardRow:
        if log:
            p = tuple(
                -_INF if v == 0 else (_NAN if v != v else (0.0 if v == 1 else math.log(v)))
                for v in p
            )
        return HardRow(label, x, p, where=where)

    return (
        row("every entry −∞", (-_INF, -_INF, -_INF), (0.0, 0.0, 0.0)),
        row("every entry masked", (1.0, 2.0, 3.0), (0.0, 0.0, 0.0), (False, False, False)),
        row("partly masked", (0.0, 5.0, 0.0), (0.5, 0.0, 0.5), (True, False, True)),
        row("−∞ entries", (-_INF, 0.0, -_INF, 0.0), (0.0, 0.5, 0.0, 0.5)),
        row("one +∞", (0.5, _INF, -1.0, 2.0), (0.0, 1.0, 0.0, 0.0)),
        row("two +∞ share", (_INF, _INF, 0.0, 1.0), (0.5, 0.5, 0.0, 0.0)),
        row("+∞ and −∞", (_INF, -_INF, 0.0, 1.0), (1.0, 0.0, 0.0, 0.0)),
        row("a NaN", (0.5, _NAN, -1.0, 2.0), (_NAN,) * 4),
        row("±1e308 (x − max overflows float64)", (1e308, -1e308), (1.0, 0.0)),
        row("a tie", (2.0, 2.0), (0.5, 0.5)),
        row("one entry", (7.0,), (1.0,)),
    )


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, VectorFunction, register

    options = ("axis", "where", "temperature")
    register(
        VectorFunction(
            name="softmax",
            aliases=("softargmax",),
            kind="vector",
            family="softmax",
            summary="Turns a row of scores into probabilities; the output layer of "
            "multi-class networks.",
            formulas=Formulas(
                f=r"\operatorname{softmax}(x)_i = \frac{e^{x_i/T}}{\sum_j e^{x_j/T}}",
                grad=r"J_{ij} = \frac{\partial y_i}{\partial x_j} = \tfrac{1}{T}\,y_i"
                r"(\delta_{ij} - y_j)",
                grad2=r"(J^\top w)_i = \tfrac{y_i}{T}\Bigl((w_i - w_k) + \sum_{j\ne k} y_j"
                r"(w_k - w_j)\Bigr),\ k = \arg\max x",
            ),
            options=options,
            fn=softmax,
            vjp=softmax_vjp,
            jvp=softmax_jvp,
            jacobian=softmax_jacobian,
            reference=ov.softmax_ref,
            reference_vjp=ov.softmax_vjp_ref,
            reference_jvp=ov.softmax_vjp_ref,
            naive=_naive_softmax,
            hard_rows=_hard_rows(log=False),
        )
    )
    register(
        VectorFunction(
            name="softmin",
            kind="vector",
            family="softmax",
            summary="softmax(−x): probabilities that favour the smallest scores.",
            formulas=Formulas(
                f=r"\operatorname{softmin}(x)_i = \frac{e^{-x_i/T}}{\sum_j e^{-x_j/T}}",
                grad=r"J_{ij} = -\tfrac{1}{T}\,y_i(\delta_{ij} - y_j)",
                grad2=r"(J^\top w)_i = -\tfrac{y_i}{T}\Bigl((w_i - w_k) + \sum_{j\ne k} y_j"
                r"(w_k - w_j)\Bigr),\ k = \arg\min x",
            ),
            options=options,
            fn=softmin,
            vjp=softmin_vjp,
            jvp=softmin_jvp,
            jacobian=softmin_jacobian,
            reference=ov.softmin_ref,
            reference_vjp=ov.softmin_vjp_ref,
            reference_jvp=ov.softmin_vjp_ref,
            naive=_naive_softmin,
        )
    )
    register(
        VectorFunction(
            name="log_softmax",
            kind="vector",
            family="softmax",
            summary="The logarithm of softmax, computed directly: the input of the "
            "negative log-likelihood.",
            formulas=Formulas(
                f=r"\operatorname{log\_softmax}(x)_i = \frac{x_i - m}{T} - "
                r"\log\!\Bigl(1 + \sum_{j\ne k} e^{(x_j - m)/T}\Bigr),\ m = x_k = \max x",
                grad=r"J_{ij} = \tfrac{1}{T}(\delta_{ij} - y_j)",
                grad2=r"(J^\top g)_j = \tfrac{1}{T}\Bigl(g_j - y_j \sum_i g_i\Bigr)",
            ),
            options=options,
            fn=log_softmax,
            vjp=log_softmax_vjp,
            jvp=log_softmax_jvp,
            jacobian=log_softmax_jacobian,
            reference=ov.log_softmax_ref,
            reference_vjp=ov.log_softmax_vjp_ref,
            reference_jvp=ov.log_softmax_jvp_ref,
            naive=_naive_log_softmax,
            ulp={"float64": 2.0, "float32": 2.0, "float16": 1.0, "bfloat16": 1.0},
            hard_rows=_hard_rows(log=True),
        )
    )


_register()
