"""The entry point of the row functions on NumPy: fused kernels, blocks and ``out=``.

The row functions (softmax, log_softmax, softmin, logsumexp) keep their Array API
implementation for every backend and option; this module routes the common NumPy case (a
single axis, no ``where`` mask) through ``kernels.rowpath`` and puts results into ``out``,
with the calls no kernel takes directly transformed onto one (``_transform``), and computes
a Dask array without a mask chunk by chunk on that NumPy path (``_over_whole_rows``).
``product`` does the same for the Jacobian products with a cotangent (softmax_vjp, …).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _xp
from ..kernels import blocked, rowpath
from ..kernels.outputs import deliver
from . import _long_row
from ._rows import as_array_like, axes_of, broadcast_to_shape, check_temperature, mask_of


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def fast_axis(func: str, x: Any, axis: Any, where: Any) -> int | None:
    """The single axis of a NumPy float call that the row path can take, else None."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.ndim == 0 or x.size == 0:
        return None
    if where is not None:
        return None
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            return None
        axis = axis[0]
    (ax,) = axes_of(func, axis, x.ndim)
    return ax


def check_out_backend(func: str, x: Any, out: Any) -> None:
    if out is not None and not isinstance(x, (np.ndarray, np.generic, int, float, list)):
        raise TypeError(f"{func}: out= is supported for NumPy input only")


def vector(
    func: str,
    impl: Callable[..., Any],
    x: Any,
    axis: Any,
    where: Any,
    temperature: Any,
    out: Any,
    kernel: str | None,
) -> Any:
    """softmax-like ``func`` (x's shape) with ``impl(x, axis, where=, temperature=)``."""
    check_out_backend(func, x, out)
    if _xp.is_chunked(x) and where is None and x.ndim > 0 and _is_number(temperature):
        return _whole_rows(func, impl, x, axis, temperature, kernel)
    axes = _several_axes(func, x, axis)
    if axes is not None:
        mask = mask_of(func, where, np, x)

        def merged(xm: np.ndarray, *vm: np.ndarray) -> Any:
            return vector(func, impl, xm, -1, vm[0] if vm else None, temperature, None, kernel)

        per_element = () if mask is None else (mask,)
        return over_merged_axes(func, merged, x, axes, out, per_element)
    ax = fast_axis(func, x, axis, where)
    if ax is None and where is not None:
        ax = fast_axis(func, x, axis, None)
        if ax is not None and x.size > blocked.ROW_BLOCK_ELEMENTS:
            t = check_temperature(func, temperature)

            def masked(xr: np.ndarray, vr: np.ndarray) -> Any:
                return impl(xr, -1, where=vr, temperature=t)

            mask = mask_of(func, where, np, x)
            if x.size == x.shape[ax] and t == 1.0:  # one row: passes over blocks of it
                row = _long_row.vector(func, x.reshape(-1), mask.reshape(-1))
                return deliver(func, row.reshape(x.shape), out)
            return rowpath.run(func, x, ax, out, masked, kernel=None, others=(mask,))
        ax = None
    if ax is None:
        return deliver(func, impl(x, axis, where=where, temperature=temperature), out)
    t = check_temperature(func, temperature)
    return rowpath.run(
        func,
        x,
        ax,
        out,
        lambda block: impl(block, -1, temperature=t),
        kernel=kernel if t == 1.0 else None,
        transform=_transform(func, x.dtype, t),
    )


def _several_axes(func: str, x: Any, axis: Any) -> tuple[int, ...] | None:
    """The axes (checked) of a NumPy float call over more than one axis, else None."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.size == 0:
        return None
    if not isinstance(axis, (tuple, list)):
        return None  # an int, or None (an error the call reports)
    axes = axes_of(func, axis, x.ndim)
    return axes if len(axes) > 1 else None


def over_merged_axes(
    func: str, call: Callable[..., Any], x: np.ndarray, axes: tuple[int, ...], out: Any,
    per_element: tuple[np.ndarray, ...] = (), *, reduces: bool = False, keepdims: bool = False,
    per_row: tuple[np.ndarray, ...] = (),
) -> Any:  # fmt: skip
    """A call over several axes as a call over one: ``axes`` moved last (in their order) and
    merged into one row axis, ``call(x_merged, *per_element_merged, *per_row_merged)`` over
    its last axis (the kernels and blocks of a single axis, where the whole-array code would
    make some twenty temporaries of x's size), and its result put back in x's layout
    (``reduces``: one value per row, the axes removed or, with ``keepdims``, of length 1).
    The rows are the flattened rows of the whole-array call, in the same order. ``per_row``:
    arrays of x's shape with length 1 along ``axes`` (one value per row), merged to length 1."""
    rest = [a for a in range(x.ndim) if a not in axes]
    order = (*rest, *axes)
    lead = tuple(x.shape[a] for a in rest)

    def merge(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, x.shape).transpose(order).reshape((*lead, -1))

    rows = tuple(a.transpose(order).reshape((*lead, 1)) for a in per_row)
    result = call(merge(x), *(merge(a) for a in per_element), *rows)
    if reduces:
        if keepdims:
            result = result.reshape(tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
    else:
        moved = result.reshape(tuple(x.shape[a] for a in order))
        result = np.ascontiguousarray(moved.transpose(np.argsort(order)))
    return deliver(func, result, out)


def _transform(func: str, dtype: np.dtype, t: float) -> rowpath.Transform | None:
    """How a call that no kernel takes as it is still runs on one: softmin on softmax's
    kernel (negated rows), and a float32 call with a temperature on the float64 kernel of its
    function (rows shifted by their max and divided by T in float64). float64 with a
    temperature has no exact transform (x/T rounds, and exp amplifies that): NumPy path."""
    negate = func == "softmin"
    if t == 1.0:
        return rowpath.Transform("softmax", dtype, np.negative) if negate else None
    if dtype != np.float32:
        return None
    base = "log_softmax" if func == "log_softmax" else "softmax"
    return rowpath.Transform(
        base, np.dtype(np.float64), functools.partial(_shifted_scaled, negate=negate, t=t)
    )


def _shifted_scaled(block: np.ndarray, negate: bool, t: float) -> np.ndarray:
    """(x − max)/T, or (min − x)/T, per row in float64 (x − m exact there for float32 x).
    A row with NaN or +∞ (or all −∞) becomes NaN rows (∞ − ∞), which the kernel flags for
    the NumPy path."""
    b = block.astype(np.float64)
    with np.errstate(invalid="ignore", under="ignore"):
        if negate:
            d = np.subtract(b.min(axis=1, keepdims=True), b, out=b)
        else:
            d = np.subtract(b, b.max(axis=1, keepdims=True), out=b)
        return np.divide(d, t, out=d)


def reduce_whole_rows(
    func: str, reduce: Callable[..., Any], x: Any, axis: Any, keepdims: bool
) -> Any:
    """A Dask array reduced over ``axis`` (None: every axis) chunk by chunk, its axes made
    whole in each chunk: ``reduce(chunk, axis=axes, keepdims=keepdims)`` on the chunk's
    backend."""
    axes = axes_of(func, axis, x.ndim, allow_none=True)
    fn = functools.partial(reduce, axis=axes, keepdims=keepdims)
    return _over_whole_rows(func, x, axes, fn, reduces=True, keepdims=keepdims)


def _whole_rows(
    func: str,
    impl: Callable[..., Any],
    x: Any,
    axis: Any,
    temperature: float,
    kernel: str | None,
) -> Any:
    """A softmax-like ``func`` of a Dask array chunk by chunk, its rows made whole in each
    chunk. The arguments are checked here, not when the graph runs."""
    axes = axes_of(func, axis, x.ndim)
    t = check_temperature(func, temperature)
    return _over_whole_rows(
        func, x, axes, lambda chunk: vector(func, impl, chunk, axes, None, t, None, kernel)
    )


def _over_whole_rows(
    func: str,
    x: Any,
    axes: tuple[int, ...],
    fn: Callable[[Any], Any],
    *,
    reduces: bool = False,
    keepdims: bool = False,
) -> Any:
    """``fn`` over the chunks of the Dask array ``x`` rechunked so that ``axes`` are whole in
    each (``_xp.map_chunks``: the NumPy path on NumPy chunks). ``fn`` keeps a chunk's shape,
    or with ``reduces`` removes ``axes`` (leaves them of length 1 with ``keepdims``)."""
    _, xa, _ = _xp.as_float_array(x, func)
    whole = xa.rechunk({a: -1 for a in axes})
    if not reduces:
        return _xp.map_chunks(fn, xa.dtype, whole)
    if not keepdims:
        return _xp.map_chunks(fn, xa.dtype, whole, drop_axis=axes)
    ones = tuple((1,) if a in axes else c for a, c in enumerate(whole.chunks))
    return _xp.map_chunks(fn, xa.dtype, whole, chunks=ones)


def chunked_product(
    func: str, public: Callable[..., Any], x: Any, g: Any, axis: Any, where: Any,
    temperature: Any, y: Any, arg: str,
) -> Any:  # fmt: skip
    """A Jacobian product of a Dask array without a mask, chunk by chunk with its rows made
    whole in each chunk: ``public`` (the product itself) on each chunk's backend, so NumPy
    chunks take the kernels or the NumPy path, in their error state; g and y (numbers, or
    arrays broadcast to x's shape) cut like x. None for any other call. The arguments are
    checked here, not when the graph runs."""
    if not (_xp.is_chunked(x) and where is None and x.ndim > 0 and _is_number(temperature)):
        return None
    axes = axes_of(func, axis, x.ndim)
    t = check_temperature(func, temperature)
    xp, xa, _ = _xp.as_float_array(x, func)
    others = []
    for name, value in ((arg, g), ("y", y)):
        if value is None or (name == arg and _is_number(value)):
            others.append(value)  # a number goes whole to every chunk
            continue
        _, va, _ = _xp.as_float_array(as_array_like(func, name, value, xp, xa), func, name)
        if name == "y":
            _check_y_shape(func, va, xa)  # the forward output itself, not broadcast
        others.append(broadcast_to_shape(func, name, xp, va, tuple(xa.shape)))

    def per_chunk(xc: Any, gc: Any, yc: Any) -> Any:
        return public(xc, gc, axis=axes, temperature=t, y=yc)

    return _xp.map_chunks(per_chunk, xa.dtype, xa.rechunk({a: -1 for a in axes}), *others)


def product(
    func: str,
    kernel: str,
    impl: Callable[..., Any],
    numpy_path: Callable[..., Any],
    x: Any,
    g: Any,
    axis: Any,
    where: Any,
    temperature: Any,
    y: Any,
    out: Any,
    *extra: Any,
    arg: str = "g",
    negate: bool = False,
    given_y: str | None = None,
) -> Any:
    """The Jacobian product ``func`` of x with the cotangent g (argument ``arg``) of a large
    NumPy float array: on the compiled ``kernel`` (``rowpath.product_kernel``; ``extra``
    its trailing arguments) where one takes the call, else by ``numpy_path(x, g, axis,
    where, temperature, y)`` (the Array API code) a block of rows at a time; None where the
    call takes neither (not NumPy, not a single axis, a small array without a kernel).

    A kernel takes float32/float64 rows without a mask or a temperature, and float32 rows
    with a temperature over transformed rows (``rowpath.run_transformed_product``); with the
    caller's ``y``, the kernel is ``given_y`` (None: no kernel takes y) and takes no
    ``extra``. ``impl(x_rows, y_rows, g_rows)``, else ``impl(x_rows, g_rows)``, is the NumPy
    path for the rows the kernel flags. ``negate`` runs the kernel at (−x, −g), where
    softmax's products are softmin's. Over several axes, the axes are merged into one
    (``over_merged_axes``) and the call is that over one."""
    axes = _several_axes(func, x, axis)
    if axes is not None:
        t = check_temperature(func, temperature)

        def one_axis(xm: np.ndarray, gm: Any, vm: Any, ym: Any) -> Any:
            args = (func, kernel, impl, numpy_path, xm, gm, -1, vm, t, ym, None, *extra)
            done = product(*args, arg=arg, negate=negate, given_y=given_y)
            return numpy_path(xm, gm, -1, vm, t, ym) if done is None else done

        return _merged_product(func, one_axis, x, g, axes, where, y, out, arg)
    ax = fast_axis(func, x, axis, None)
    if ax is None:
        return None
    t = check_temperature(func, temperature)
    plain = where is None and x.dtype in (np.float32, np.float64)
    compiled = through = None
    if plain and t == 1.0:
        if y is not None:
            kernel, extra = given_y, ()
        if kernel is not None:
            compiled = rowpath.product_kernel(kernel, x.dtype, x.size)
    elif plain and x.dtype == np.float32 and y is None:
        # float32 with a temperature: the float64 kernel over (x − m)/T, as the forward calls
        # (``_transform``); float64 has no such transform (x/T rounds, exp amplifies that)
        through = rowpath.product_kernel(kernel, np.dtype(np.float64), x.size)
    ga = _floats(func, arg, g, x)
    ya = None if y is None else _floats(func, "y", y, x)
    if (compiled is None and through is None) or ga is None or (y is not None and ya is None):
        # no kernel, or a g or y in a dtype no kernel reads (longdouble)
        if x.size <= blocked.ROW_BLOCK_ELEMENTS:
            return None  # one block: the whole-array call
        return _product_in_blocks(func, numpy_path, x, g, ax, where, t, y, out, arg)
    ga = broadcast_to_shape(func, arg, np, ga, x.shape)
    if through is not None:

        def redo(xr: np.ndarray, gr: np.ndarray) -> Any:
            return numpy_path(xr, gr, -1, None, t, None)

        rows = functools.partial(_shifted_scaled, negate=negate, t=t)
        return rowpath.run_transformed_product(
            func, through, x, ga, ax, out, rows, t, negate, redo, *extra
        )
    others: tuple[np.ndarray, ...] = (ga,)
    if ya is not None:
        _check_y_shape(func, ya, x)
        others = (ya, ga)
    if negate:  # softmin's product is softmax's at (−x, −g), signed zeros included
        x, others = np.negative(x), (*others[:-1], np.negative(others[-1]))
    return rowpath.run_product(func, compiled, x, others, ax, out, impl, *extra)


def _merged_product(
    func: str, one_axis: Callable[..., Any], x: np.ndarray, g: Any, axes: tuple[int, ...],
    where: Any, y: Any, out: Any, arg: str,
) -> Any:  # fmt: skip
    """A product over several axes by ``one_axis(x, g, mask, y)`` over the merged axes: g
    (a number stays one), the mask and y checked as the whole-array call checks them."""
    given: dict[str, Any] = {}
    ga, ya = _cotangent_and_y(func, arg, g, y, x)
    if not _is_number(g):
        given["g"] = ga
    mask = mask_of(func, where, np, x)
    if mask is not None:
        given["where"] = mask
    if ya is not None:
        given["y"] = ya
    names = list(given)

    def call(xm: np.ndarray, *rest: np.ndarray) -> Any:
        merged = dict(zip(names, rest, strict=True))
        gm = merged.get("g", g)
        return one_axis(xm, gm, merged.get("where"), merged.get("y"))

    return over_merged_axes(func, call, x, axes, out, tuple(given.values()))


def _product_in_blocks(
    func: str, numpy_path: Callable[..., Any], x: np.ndarray, g: Any, ax: int, where: Any,
    temperature: float, y: Any, out: Any, arg: str,
) -> np.ndarray:  # fmt: skip
    """``numpy_path`` on blocks of rows: g, y and the mask of x's shape (broadcast, checked as
    the whole-array call checks them)."""
    ga, ya = _cotangent_and_y(func, arg, g, y, x)

    def rows(xr: Any, gr: Any, yr: Any, vr: Any) -> Any:
        return numpy_path(xr, gr, -1, vr, temperature, yr)

    return in_blocks(func, rows, x, ax, ga, ya, mask_of(func, where, np, x), out)


def in_blocks(
    func: str, rows: Callable[..., Any], x: np.ndarray, ax: int, g: np.ndarray, y: Any,
    mask: Any, out: Any,
) -> np.ndarray:  # fmt: skip
    """``rows(x_rows, g_rows, y_rows, mask_rows)`` (the Array API code over the last axis of
    a block of rows; y and the mask None where not given) on blocks of rows along ``ax``
    (``rowpath.run_product`` without a kernel): per row the operations of the whole-array
    call, so its bits, with temporaries of a block's size. g and y have x's shape or one
    value per row (length 1 along ``ax``); the mask has x's shape."""
    given = [a for a in (y, mask) if a is not None]
    has_y, has_mask = y is not None, mask is not None

    def block(xr: np.ndarray, gr: np.ndarray, *rest: np.ndarray) -> np.ndarray:
        return rows(xr, gr, rest[0] if has_y else None, rest[-1] if has_mask else None)

    return rowpath.run_product(func, None, x, (g, *given), ax, out, block)


def _cotangent_and_y(
    func: str, arg: str, g: Any, y: Any, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """g (argument ``arg``) as a float array broadcast to x's shape, and the caller's y
    (None if not given) as a float array of x's shape, checked as the whole-array call
    checks them."""
    _, ga, _ = _xp.as_float_array(as_array_like(func, arg, g, np, x), func, arg)
    ga = broadcast_to_shape(func, arg, np, ga, x.shape)
    if y is None:
        return ga, None
    _, ya, _ = _xp.as_float_array(as_array_like(func, "y", y, np, x), func, "y")
    _check_y_shape(func, ya, x)
    return ga, ya


def _check_y_shape(func: str, y: np.ndarray, x: np.ndarray) -> None:
    if y.shape != x.shape:
        raise ValueError(f"{func}: y has shape {y.shape}, expected {x.shape}")


def _floats(func: str, arg: str, value: Any, x: np.ndarray) -> np.ndarray | None:
    """``value`` (checked as the NumPy path checks it) as the kernels read it: float32 for
    float32 rows when it is float32 or narrower, else float64, never rounded to x's dtype
    before the product; None for a dtype the kernels do not take (longdouble)."""
    _, va, _ = _xp.as_float_array(as_array_like(func, arg, value, np, x), func, arg)
    if not isinstance(va, np.ndarray) or va.dtype not in (np.float16, np.float32, np.float64):
        return None
    narrow = x.dtype == np.float32 and va.dtype.itemsize <= 4
    return va.astype(np.float32 if narrow else np.float64, copy=False)
