"""logsumexp along axes, with scale factors ``b`` and a sign, and its vector-Jacobian product.

log Σ_j e^{x_j} = m + log1p(τ), with m the max and τ = Σ_{j≠k} e^{x_j − m} summed without the
dominant 1 (see ``_rows``): log(1 + τ) would lose τ when it is below the working epsilon.
The derivative is softmax; it is computed from an exact x − m, never as exp(x − lse) with a
rounded lse (which costs torch 255 eps normwise).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _xp
from ..kernels import blocked, rowpath
from ..kernels.outputs import deliver
from . import _long_row, _rowcall
from ._lse_core import analysis, logsumexp_of, totals, vjp_of
from ._rows import (
    as_array_like,
    axes_of,
    broadcast_to_shape,
    expand,
    finish,
    mask_of,
    quiet,
    widen,
)

__all__ = ["logsumexp", "logsumexp_vjp"]


def logsumexp(
    x: Any,
    axis: Any = None,
    *,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
    out: Any = None,
) -> Any:
    """log Σ b_j e^{x_j} over ``axis`` (None: every axis; an int or a tuple), within 1 ULP.

    ``where`` leaves entries out; ``b`` scales the terms (a zero removes its entry). Empty rows
    (all −∞ or masked) give −∞, rows with +∞ give +∞, rows with NaN give NaN. With
    ``return_sign`` the result is (log |Σ|, sign Σ), sign 0 for an empty or zero sum; without
    it a negative sum gives NaN (its logarithm is not real).
    """
    _rowcall.check_out_backend("logsumexp", x, out)
    if out is not None and return_sign:
        raise TypeError("logsumexp: out= cannot hold the (value, sign) pair of return_sign=True")
    if b is None and where is None and not return_sign and _xp.is_chunked(x) and x.ndim > 0:
        return _rowcall.reduce_whole_rows("logsumexp", logsumexp, x, axis, keepdims)
    if _by_rows(x, where, b):
        if return_sign:
            pair = _numpy_signed_rows(x, axis, where, b, keepdims)
            if pair is not None:
                return pair
        else:
            done = _numpy_rows(x, axis, where, b, keepdims, out)
            if done is not None:
                return done
    simple = b is None and not return_sign and not keepdims
    if simple and isinstance(x, np.ndarray):
        every = axis if axis is not None else tuple(range(x.ndim))
        ax = _rowcall.fast_axis("logsumexp", x, every, where)
    else:
        ax = None
    if ax is None:
        result = _logsumexp(x, axis, where=where, b=b, keepdims=keepdims, return_sign=return_sign)
        return deliver("logsumexp", result, out)
    return rowpath.run(
        "logsumexp",
        x,
        ax,
        out,
        lambda block: _logsumexp(block, -1),
        kernel="logsumexp",
        reduces=True,
    )


def _by_rows(x: Any, where: Any, b: Any) -> bool:
    """Whether a call may take ``_numpy_rows``: NumPy floats, NumPy (or no) mask and b."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim > 0 and x.size > 0):
        return False
    numpy_like = (np.ndarray, np.generic, int, float, list)
    return all(a is None or isinstance(a, numpy_like) for a in (where, b))


def _numpy_options(func: str, x: np.ndarray, axis: Any, where: Any, b: Any) -> tuple:
    """(the axes, the mask and the weights b of x's shape, or None) of a NumPy call, checked
    as the whole-array call checks them; b as a float array, not yet widened."""
    axes = axes_of(func, axis, x.ndim, allow_none=True)
    mask = mask_of(func, where, np, x)
    if b is None:
        return axes, mask, None
    _, weights, _ = _xp.as_float_array(as_array_like(func, "b", b, np, x), func, "b")
    return axes, mask, broadcast_to_shape(func, "b", np, weights, x.shape)


def _numpy_signed_rows(
    x: np.ndarray, axis: Any, where: Any, b: Any, keepdims: bool
) -> tuple[Any, Any] | None:
    """``return_sign``'s (log |Σ|, sign) over rows, as ``_numpy_rows`` takes them; None where
    it takes none. Without weights the sign follows from the value (0 where it is −∞, NaN
    where it is NaN, else 1); with them each comes from a pass of its own over the rows,
    which costs the computing twice where the whole-array code held some twenty-five
    temporaries of x's size (one block: that code, once)."""
    if x.size <= blocked.ROW_BLOCK_ELEMENTS:
        return None
    if b is None:
        value = logsumexp(x, axis, where=where, keepdims=keepdims)
        one = np.where(value == -math.inf, 0.0, 1.0).astype(value.dtype)
        return value, np.where(np.isnan(value), value, one)
    value = _numpy_rows(x, axis, where, b, keepdims, None, part=0)
    if value is None:
        return None
    return value, _numpy_rows(x, axis, where, b, keepdims, None, part=1)


def _numpy_rows(
    x: np.ndarray, axis: Any, where: Any, b: Any, keepdims: bool, out: Any,
    part: int | None = None,
) -> Any:  # fmt: skip
    """logsumexp of a NumPy float array over rows that the kernels or blocks take: several
    axes merged into one (``_rowcall.over_merged_axes``), keepdims from the call without it,
    and one axis with a mask or weights b a block of rows at a time, or, for a 1-D array
    (one row longer than a block), in passes over blocks of that row (``_long_row``). None
    for the calls that go on to the single-axis code below (one axis, no mask and no b) or
    that are one block. ``part``: 0 or 1, that part of ``return_sign``'s (value, sign)."""
    func = "logsumexp"
    axes, mask, weights = _numpy_options(func, x, axis, where, b)
    given = [a for a in (weights, mask) if a is not None]

    def split(rest: tuple[np.ndarray, ...]) -> tuple[Any, Any]:
        """(b, mask) of a block from ``given``'s blocks."""
        return (rest[0] if weights is not None else None, rest[-1] if mask is not None else None)

    def one_axis(xr: np.ndarray, *rest: np.ndarray, ax: int = -1) -> Any:
        br, vr = split(rest)
        if part is None:
            return logsumexp(xr, ax, where=vr, b=br)
        done = _numpy_rows(xr, ax, vr, br, False, None, part)
        if done is None:  # one block: the whole-array code
            done = _logsumexp(xr, ax, where=vr, b=br, return_sign=True)[part]
        return done

    if len(axes) > 1:
        return _rowcall.over_merged_axes(
            func, one_axis, x, axes, out, tuple(given), reduces=True, keepdims=keepdims
        )
    if not axes:
        return None
    if keepdims:
        return deliver(func, np.expand_dims(one_axis(x, *given, ax=axes[0]), axes[0]), out)
    if not given or x.size <= blocked.ROW_BLOCK_ELEMENTS:
        return None

    if x.ndim == 1:  # one row: no rows to block over, passes over blocks of it instead
        br, vr = split(tuple(given))
        return deliver(func, _long_row.logsumexp(x, vr, br, part), out)

    def block(xr: np.ndarray, *rest: np.ndarray) -> Any:
        br, vr = split(rest)
        if part is None:
            return _logsumexp(xr, -1, where=vr, b=br)
        return _logsumexp(xr, -1, where=vr, b=br, return_sign=True)[part]

    return rowpath.run(func, x, axes[0], out, block, kernel=None, reduces=True, others=tuple(given))


@quiet
def _logsumexp(
    x: Any,
    axis: Any = None,
    *,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Any:
    """The NumPy-path body of ``logsumexp`` (every backend and option)."""
    func = "logsumexp"
    given, rows = analysis(func, x, axis, where, b)
    xp, axes = given.xp, given.axes
    lse, sign = logsumexp_of(xp, totals(given, rows), return_sign)
    if not keepdims:
        lse = xp.squeeze(lse, axis=axes) if axes else lse
        sign = xp.squeeze(sign, axis=axes) if axes else sign
    out = finish(xp, lse, given.xa.dtype, given.was_scalar)
    if return_sign:
        return out, finish(xp, sign, given.xa.dtype, given.was_scalar)
    return out


@quiet
def logsumexp_vjp(
    x: Any,
    g: Any,
    axis: Any = None,
    *,
    where: Any = None,
    b: Any = None,
    keepdims: bool = False,
    y: Any = None,
    out: Any = None,
) -> Any:
    """g · ∂logsumexp/∂x = g · b_j e^{x_j}/Σ_i b_i e^{x_i} (g · softmax when b is None).

    ``g`` has the shape of the result (with or without the kept axes, as ``keepdims``). If the
    caller has the forward output ``y`` (and b is None), it replaces the max as the shift: the
    sum of exp(x − y) corrects y's rounding, so the result stays exact. Rows whose
    logsumexp is ±∞ (empty, +∞ entries) or whose weighted sum is 0 have derivative 0.
    """
    func = "logsumexp_vjp"
    _rowcall.check_out_backend(func, x, out)
    if b is None and where is None and _xp.is_chunked(x) and x.ndim > 0:
        return _vjp_by_chunks(x, g, axis, keepdims, y)
    if _by_blocks(x, g, y, where, b):
        return _vjp_by_blocks(x, g, axis, where, b, keepdims, y, out)
    return deliver(func, _logsumexp_vjp(x, g, axis, where, b, keepdims, y), out)


def _per_row(func: str, arg: str, value: Any, xp: Any, xa: Any, axes: tuple, keepdims: bool):
    """``g`` or ``y``, given in the result's shape (with the reduced axes or, unless
    ``keepdims``, without), as a float array broadcast to x's shape with those axes kept at
    length 1: one value per row."""
    _, va, _ = _xp.as_float_array(as_array_like(func, arg, value, xp, xa), func, arg)
    given = tuple(va.shape)
    if not keepdims and va.ndim == xa.ndim - len(axes) and va.ndim > 0:
        va = expand(xp, va, axes)
    kept = tuple(1 if i in axes else n for i, n in enumerate(xa.shape))
    try:
        return xp.broadcast_to(va, kept)
    except (ValueError, RuntimeError, TypeError) as exc:
        result = kept if keepdims else tuple(n for i, n in enumerate(xa.shape) if i not in axes)
        raise ValueError(
            f"{func}: {arg} of shape {given} does not broadcast to the result's shape {result}"
        ) from exc


def _logsumexp_vjp(
    x: Any, g: Any, axis: Any, where: Any, b: Any, keepdims: bool, y: Any
) -> Any:  # fmt: skip
    """logsumexp_vjp on the whole array at once, by the Array API code."""
    func = "logsumexp_vjp"
    shift = None
    if y is not None and b is None:
        xp0, xa0, _ = _xp.as_float_array(x, func)
        axes0 = axes_of(func, axis, xa0.ndim, allow_none=True)
        oa = _per_row(func, "y", y, xp0, xa0, axes0, keepdims)
        shift = xp0.astype(oa, widen(xp0, xa0)[0])
    given, rows = analysis(func, x, axis, where, b, shift=shift)
    xp, xa = given.xp, given.xa
    gw = xp.astype(_per_row(func, "g", g, xp, xa, given.axes, keepdims), rows.wide)
    grad = vjp_of(xp, totals(given, rows), rows.e, given.bw, gw)
    return finish(xp, grad, xa.dtype, False)


def _by_blocks(x: Any, *args: Any) -> bool:
    """Whether logsumexp_vjp runs on blocks (of rows, or of its one row): NumPy floats of
    more than one block, and NumPy (or no) cotangent, forward output, mask and weights. The
    whole-array code makes about twenty temporaries of x's size in the working dtype."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim > 0):
        return False
    numpy_like = (np.ndarray, np.generic, float, int)
    numpy_or_none = all(a is None or isinstance(a, numpy_like) for a in args)
    return numpy_or_none and x.size > blocked.ROW_BLOCK_ELEMENTS


def _vjp_by_chunks(x: Any, g: Any, axis: Any, keepdims: bool, y: Any) -> Any:
    """A Dask array chunk by chunk, its reduced axes made whole in each chunk and each chunk
    through the NumPy call (kernels' error state, extended float64): g and y, one value per
    row, broadcast along those axes and cut like x, each chunk taking their first entry
    along them. The arguments are checked here, not when the graph runs."""
    func = "logsumexp_vjp"
    xp, xa, _ = _xp.as_float_array(x, func)
    axes = axes_of(func, axis, xa.ndim, allow_none=True)
    spread = [
        None
        if v is None
        else xp.broadcast_to(_per_row(func, arg, v, xp, xa, axes, keepdims), xa.shape)
        for arg, v in (("g", g), ("y", y))
    ]
    first = tuple(slice(0, 1) if a in axes else slice(None) for a in range(xa.ndim))

    def per_chunk(xc: Any, gc: Any, yc: Any) -> Any:
        yc = None if yc is None else yc[first]
        return logsumexp_vjp(xc, gc[first], axes, keepdims=True, y=yc)

    whole = xa.rechunk({a: -1 for a in axes})
    return _xp.map_chunks(per_chunk, xa.dtype, whole, *spread)


def _vjp_by_blocks(
    x: np.ndarray, g: Any, axis: Any, where: Any, b: Any, keepdims: bool, y: Any, out: Any
) -> np.ndarray:  # fmt: skip
    """logsumexp_vjp with temporaries of a block's size: over one axis a block of rows at a
    time (the whole-array call's bits where the rows lie along the last axis), over several
    axes as over one merged axis (``_rowcall.over_merged_axes``), and over one row (every
    axis) in passes over blocks of it (``_long_row``). The arguments are checked as the
    whole-array call checks them."""
    func = "logsumexp_vjp"
    axes, mask, weights = _numpy_options(func, x, axis, where, b)
    given_y = y if b is None else None  # with weights the shift is the max: y is not read
    ya = None if given_y is None else _per_row(func, "y", given_y, np, x, axes, keepdims)
    ga = _per_row(func, "g", g, np, x, axes, keepdims)
    if len(axes) == 1 and x.ndim > 1:
        return _vjp_on_rows(x, axes[0], ga, ya, mask, weights, out)
    elements = {k: v for k, v in (("where", mask), ("b", weights)) if v is not None}
    rows = {k: v for k, v in (("g", ga), ("y", ya)) if v is not None}

    def merged(xm: np.ndarray, *parts: np.ndarray) -> np.ndarray:
        named = dict(zip([*elements, *rows], parts, strict=True))
        gm, ym, vm, bm = named["g"], named.get("y"), named.get("where"), named.get("b")
        if xm.ndim == 1:
            return _long_row.logsumexp_vjp(xm, gm, ym, vm, bm)
        return _vjp_on_rows(xm, -1, gm, ym, vm, bm, None)

    return _rowcall.over_merged_axes(
        func, merged, x, axes, out, tuple(elements.values()), per_row=tuple(rows.values())
    )


def _vjp_on_rows(
    x: np.ndarray, ax: int, g: np.ndarray, y: Any, mask: Any, b: Any, out: Any
) -> np.ndarray:  # fmt: skip
    """The whole-array code on blocks of rows along ``ax`` (``rowpath.run_product`` without
    a kernel); g and y one value per row, the mask and the weights b of x's shape."""
    others = {k: v for k, v in (("y", y), ("where", mask), ("b", b)) if v is not None}

    def rows(xr: np.ndarray, gr: np.ndarray, *parts: np.ndarray) -> Any:
        named = dict(zip(others, parts, strict=True))
        return _logsumexp_vjp(xr, gr, -1, named.get("where"), named.get("b"), True, named.get("y"))

    return rowpath.run_product("logsumexp_vjp", None, x, (g, *others.values()), ax, out, rows)


# ---------------------------------------------------------------------------------- record


def _naive_logsumexp(x: Any, axis: Any = None) -> Any:
    """The textbook log(Σ exp(x)): overflows beyond x ≈ 709.8, −∞ below −745."""
    import numpy as np

    return np.log(np.sum(np.exp(x), axis=axis))


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, HardRow, Reduction, register

    inf, nan = math.inf, math.nan
    register(
        Reduction(
            name="logsumexp",
            aliases=("lse",),
            kind="reduction",
            family="softmax",
            summary="log Σ e^{x_j}: the smooth maximum, softmax's normaliser in log space.",
            formulas=Formulas(
                f=r"\operatorname{lse}(x) = m + \log\!\Bigl(1 + \sum_{j\ne k} e^{x_j - m}\Bigr),"
                r"\ m = x_k = \max x",
                grad=r"\frac{\partial\,\operatorname{lse}}{\partial x_j} = "
                r"\operatorname{softmax}(x)_j",
                grad2=r"\frac{\partial^2 \operatorname{lse}}{\partial x_i \partial x_j} = "
                r"y_i(\delta_{ij} - y_j)",
            ),
            options=("axis", "where", "b", "keepdims", "return_sign"),
            fn=logsumexp,
            vjp=logsumexp_vjp,
            reference=ov.logsumexp_ref,
            reference_vjp=ov.logsumexp_vjp_ref,
            naive=_naive_logsumexp,
            ulp={"float64": 1.0, "float32": 1.0, "float16": 1.0, "bfloat16": 1.0},
            hard_rows=(
                HardRow("every entry −∞", (-inf, -inf, -inf), -inf),
                HardRow("every entry masked", (1.0, 2.0), -inf, where=(False, False)),
                HardRow("one +∞", (0.5, inf, -1.0), inf),
                HardRow("+∞ and −∞", (inf, -inf), inf),
                HardRow("a NaN", (0.5, nan, 2.0), nan),
                HardRow("−∞ entries", (-inf, 0.0, -inf), 0.0),
                HardRow("near the top of the range", (1e308, 1e308), 1e308),
                HardRow("an empty row", (), -inf),
            ),
        )
    )


_register()
