"""How the row functions run on NumPy: the compiled row kernels, or the NumPy path in blocks.

``run`` takes a row function's NumPy-path implementation for a block of rows (last axis),
and decides:

* axis: a non-last axis is moved last, by a tiled copy on the numba tier (``transpose``)
  and back the same way into the result, else by NumPy; input that is not C-contiguous is
  copied once (the costs are measured in docs/performance.md);
* numba tier, float32/float64: the fused kernel of ``rows`` (one DRAM pass per row); rows
  that hold NaN or ±∞ are flagged by the kernel and recomputed by the NumPy path, whose
  hard-row contract they need;
* a call no kernel takes as it is, but another function's kernel takes over transformed
  rows (``Transform``: softmin over −x, float32 with a temperature over (x − max)/T in
  float64): that kernel, a block of rows at a time;
* otherwise: the NumPy path on blocks of rows, written into the output in place (peak
  memory: the output plus a few blocks' temporaries).

The result goes into ``out`` when given (NumPy only, exact shape and dtype).

``run_product`` does the same for the Jacobian products (softmax_vjp, …), whose rows pair
x with a cotangent g: the compiled kernels of ``row_products``, the flagged rows from the
NumPy path; without a kernel (the NumPy tier), the NumPy path on blocks of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import blocked, config, dispatch
from .outputs import check_out

__all__ = ["Transform", "product_kernel", "run", "run_product"]

# Rows per parallel chunk of the compiled kernels: enough elements that the per-chunk scratch
# allocation and scheduling are amortised, and that the float32 kernels' pipelining (the
# exp of one row overlaps the loading of the next) rarely restarts at a chunk's first row.
_CHUNK_ELEMENTS = 1 << 18
# softmax and log_softmax rows (and their products) up to this length take the short-row
# kernels (``rows_short``: blocks of rows transposed, one vector lane per row).
SHORT_ROW = 32
# Elements per parallel chunk of the short-row kernels: many of their blocks (the scratch is
# allocated once per chunk), and enough chunks that two threads share the work evenly.
_SHORT_CHUNK_ELEMENTS = 1 << 16


# Compiled kernels that meet the float64 bars (full row audit: softmax 0.56 of 4 ULP,
# log_softmax 0.56 of 2, cross-entropy 0.96 of 2). logsumexp's float64 bar is 1 ULP and m + log1p(τ)
# rounds twice (1.01 ULP measured), so float64 logsumexp stays on the extended-precision
# NumPy path.
_FLOAT64_EXACT = {"softmax", "log_softmax", "cross_entropy"}


def _numba_kernel(name: str, dtype: np.dtype, n: int) -> Callable[..., Any] | None:
    """The compiled kernel ``name`` for rows of n entries of ``dtype``, if one takes them."""
    if config.get_backend_tier() != "numba" or dtype not in (np.float32, np.float64):
        return None
    if dtype == np.float64 and name not in _FLOAT64_EXACT:
        return None
    # numba is imported on the first use of a kernel module; its threads are set at each
    # kernel call (``parallel_chunk``)
    if name in ("softmax", "log_softmax") and n <= SHORT_ROW:
        return getattr(dispatch._kernel_module("rows_short"), f"{name}_short")
    if dtype == np.float64:
        return getattr(dispatch._kernel_module("rows64"), f"{name}_d")
    return getattr(dispatch._kernel_module("rows32"), f"{name}_w")


def _swaps(x: np.ndarray, axis: int) -> tuple[int, int, int] | None:
    """(outer, n, inner) when the row axis should be moved by the tiled copy, else None."""
    if axis == x.ndim - 1 or not x.flags.c_contiguous or x.size < config.get_row_kernel_min_size():
        return None
    if config.get_backend_tier() != "numba" or x.dtype not in (np.float32, np.float64):
        return None
    outer, inner = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1 :])
    return outer, x.shape[axis], inner


def _swap(src: np.ndarray, dst: np.ndarray) -> None:
    dispatch._numba_threads(src.size > dispatch.SERIAL_MAX)
    dispatch._kernel_module("transpose").swap_last_two(src, dst)


@dataclass(frozen=True)
class Transform:
    """Rows made into the input of another function's kernel: ``kernel`` over
    ``rows(block)`` (a new array, of ``dtype``) gives the call's result for the block, then
    rounded to the call's dtype if that is another. softmin(x) is softmax(−x), exactly; a
    float32 softmax with a temperature T is the float64 softmax of (x − m)/T, whose x − m is
    exact in float64 and whose division adds 2^−53 relative to an argument of at most ~100."""

    kernel: str
    dtype: np.dtype
    rows: Callable[[np.ndarray], np.ndarray]


# Elements per block of transformed rows: the transform's temporaries stay this size, and a
# block still has 8 chunks of the long-row kernels for the threads.
_TRANSFORM_BLOCK_ELEMENTS = 1 << 21


def run(
    func: str,
    x: np.ndarray,
    axis: int,
    out: Any,
    impl: Callable[[np.ndarray], np.ndarray],
    *,
    kernel: str | None,
    reduces: bool = False,
    transform: Transform | None = None,
    others: tuple[np.ndarray, ...] = (),
) -> np.ndarray:
    """``func`` over ``axis`` of the float NumPy array ``x``.

    ``impl(block)`` is the NumPy path on a 2-D block (rows × n, last axis). ``kernel`` names
    the compiled kernel (None: none applies to this call); ``transform`` another kernel's
    over transformed rows instead (block by block). ``reduces``: one value per row.
    ``others``: arrays of x's shape (a mask, logsumexp's weights b) cut into the same rows
    and passed on, ``impl(block, *other_blocks)``; no kernel takes them.
    """
    if others and (kernel is not None or transform is not None):
        raise ValueError(f"{func}: no kernel takes the rows of a mask or weights")
    shape = x.shape[:axis] + x.shape[axis + 1 :] if reduces else x.shape
    if out is not None:
        check_out(func, out, shape, x.dtype)
    last = axis == x.ndim - 1  # np.moveaxis has a cost even when it moves nothing
    xm = x if last else np.moveaxis(x, axis, -1)
    n = xm.shape[-1]
    result = out if out is not None else np.empty(shape, dtype=x.dtype)
    # The result with the row axis last (a view of ``result``).
    target = result if reduces or last else np.moveaxis(result, axis, -1)
    swaps = _swaps(x, axis)
    if swaps is None:
        x2 = np.ascontiguousarray(xm).reshape(-1, n)
    else:
        outer, _, inner = swaps
        x2 = np.empty((outer * inner, n), dtype=x.dtype)
        _swap(x.reshape(swaps), x2.reshape(outer, inner, n))
    direct = target.flags.c_contiguous
    res2 = target.reshape(-1) if reduces and direct else target.reshape(-1, n) if direct else None
    if res2 is None and swaps is not None and not reduces and n > SHORT_ROW:
        # x2 is our own copy: the long-row kernels may write their rows over it (each row is
        # read before it is written, and a flagged row is left as it was for the NumPy path
        # below), which saves a second full-size temporary and its page faults. The
        # short-row kernels write whole blocks, flagged rows included, so they do not.
        res2 = x2
    if res2 is None:
        res2 = np.empty((x2.shape[0],) if reduces else x2.shape, dtype=x.dtype)
    big = x.size >= config.get_row_kernel_min_size()
    compiled = _numba_kernel(kernel, x.dtype, n) if kernel is not None and big else None
    through = None
    if transform is not None and big:
        through = _numba_kernel(transform.kernel, transform.dtype, n)
    if through is not None and n > 0 and x2.shape[0] > 0:
        assert transform is not None
        _run_transformed(through, transform.rows, x2, res2, impl)
    elif compiled is not None and n > 0 and x2.shape[0] > 0:
        flags = np.zeros(x2.shape[0], dtype=np.int8)
        compiled(x2, res2, flags, _chunk_rows(n, x2.shape[0]))
        if flags.any():
            bad = np.flatnonzero(flags)
            res2[bad] = impl(x2[bad])
    else:
        rows_per_block = max(1, blocked.ROW_BLOCK_ELEMENTS // max(n, 1))
        others2 = [np.ascontiguousarray(np.moveaxis(a, axis, -1)).reshape(-1, n) for a in others]

        def work(s: slice) -> None:
            res2[s] = impl(x2[s], *(a[s] for a in others2))

        blocked.run_blocks(work, blocked.blocks(x2.shape[0], rows_per_block))
    if res2.base is None or not np.shares_memory(res2, target):
        if swaps is not None and not reduces and result.flags.c_contiguous:
            outer, _, inner = swaps
            _swap(res2.reshape(outer, inner, n), result.reshape(swaps))
        else:
            np.copyto(target, res2.reshape(target.shape))
    return result


def parallel_chunk(rows: int, n: int, elements: int) -> int:
    """Rows per parallel chunk of a compiled kernel over ``rows`` rows of n entries, whose
    chunks hold ``elements`` entries; numba's threads are set for the call (one chunk: the
    calling thread alone, ``dispatch.SERIAL_MAX``). Where full chunks would leave a thread
    without work, the rows are cut into one chunk per thread instead, of at least
    SERIAL_MAX entries: 64 rows of 1000 were one chunk of 262, computed on one thread. The
    results do not depend on the chunks (each row is computed on its own)."""
    full = max(1, elements // max(n, 1))
    threads = config.get_num_threads()
    chunk = full
    if rows < full * threads:
        chunk = min(full, max(-(-rows // threads), dispatch.SERIAL_MAX // max(n, 1), 1))
    dispatch._numba_threads(rows > chunk)
    return chunk


def _chunk_rows(n: int, rows: int) -> int:
    """``parallel_chunk`` for the row and product kernels of this module."""
    return parallel_chunk(rows, n, _CHUNK_ELEMENTS if n > SHORT_ROW else _SHORT_CHUNK_ELEMENTS)


def _run_transformed(
    kernel: Callable[..., Any],
    rows: Callable[[np.ndarray], np.ndarray],
    x2: np.ndarray,
    res2: np.ndarray,
    impl: Callable[[np.ndarray], np.ndarray],
) -> None:
    """``kernel`` over ``rows`` of each block of x2's rows into res2 (rounded to its dtype);
    the rows the kernel flags (NaN, ±∞) from ``impl`` on x2's own rows."""
    n = x2.shape[1]
    per = max(1, _TRANSFORM_BLOCK_ELEMENTS // n)
    for start in range(0, x2.shape[0], per):
        block = slice(start, start + per)
        w = rows(x2[block])
        same = w.dtype == res2.dtype  # then straight into the result (its rows are contiguous)
        r = res2[block] if same else np.empty_like(w)
        flags = np.zeros(w.shape[0], dtype=np.int8)
        kernel(w, r, flags, _chunk_rows(n, w.shape[0]))
        # The flagged rows' input first: res2 may be x2 itself (a moved axis, computed in
        # place), and the kernel leaves only the flagged rows of its output as they were.
        bad = np.flatnonzero(flags)
        redone = impl(x2[block][bad]) if bad.size else None
        if not same:
            # The flagged rows of r are uninitialised memory: a signalling-NaN pattern
            # there would raise "invalid" in the rounding below.
            r[bad] = 0
            # float64 beyond float32's range rounds to ±∞, below it to subnormals or 0
            with np.errstate(over="ignore", under="ignore"):
                res2[block] = r
        if redone is not None:
            res2[block][bad] = redone


# The Jacobian-product kernels (``row_products``) by the function whose Jacobian they take;
# softmax's take ``times_y`` (False: log_softmax's JVP, (g − a) + s without the factor y);
# "softmax_given_y" reads the caller's forward output y instead of computing it.
_PRODUCT_KERNELS = {
    "softmax": ("softmax_product_w", "softmax_product_d"),
    "softmax_given_y": ("softmax_product_given_y_w", "softmax_product_given_y_d"),
    "log_softmax_vjp": ("log_softmax_vjp_w", "log_softmax_vjp_d"),
}


def product_kernel(name: str, dtype: np.dtype, size: int) -> Callable[..., Any] | None:
    """The compiled product kernel ``name`` for rows of ``dtype``, if this call takes one."""
    if config.get_backend_tier() != "numba" or dtype not in (np.float32, np.float64):
        return None
    if size < config.get_row_kernel_min_size():
        return None
    # numba is imported on the first use of a kernel module; its threads are set at each
    # kernel call (``parallel_chunk``)
    if name in ("softmax", "log_softmax_vjp"):
        # the short-row kernel, or the long-row ones
        rows_short = dispatch._kernel_module("rows_short")
        return rows_short.softmax_product if name == "softmax" else rows_short.log_softmax_vjp
    single, double = _PRODUCT_KERNELS[name]
    row_products = dispatch._kernel_module("row_products")
    return getattr(row_products, double if dtype == np.float64 else single)


def run_transformed_product(
    func: str,
    kernel: Callable[..., Any],
    x: np.ndarray,
    g: np.ndarray,
    axis: int,
    out: Any,
    rows: Callable[[np.ndarray], np.ndarray],
    temperature: float,
    negate: bool,
    redo: Callable[..., np.ndarray],
    *extra: Any,
) -> np.ndarray:
    """A float32 Jacobian product with a temperature T on the float64 product ``kernel``:
    per block of rows, the kernel over z = ``rows(block)`` ((x − m)/T, or (min − x)/T for
    softmin) and g in float64 (−g for softmin, as ``run_product``'s ``negate``), its result
    divided by T and rounded to float32 once more. The product of softmax(x/T) is the
    product of softmax(z), divided by T: z's division adds 2^−53 relative, amplified by the
    exp to at most ~2^−46 where the result shows in float32. The rows the kernel flags (NaN,
    ±∞ in x or g, far entries that could show) come from ``redo(x_rows, g_rows)``, the NumPy
    path with T."""
    if out is not None:
        check_out(func, out, x.shape, x.dtype)
    n = x.shape[axis]

    def moved(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(a, axis, -1)).reshape(-1, n)

    x2, g2 = moved(x), moved(g)
    result = out if out is not None else np.empty(x.shape, dtype=x.dtype)
    target = np.moveaxis(result, axis, -1)
    direct = target.flags.c_contiguous and not (
        out is not None and any(np.may_share_memory(out, a) for a in (x, g))
    )
    res2 = target.reshape(-1, n) if direct else np.empty(x2.shape, dtype=x.dtype)
    per = max(1, _TRANSFORM_BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, x2.shape[0] if n > 0 else 0, per):
        block = slice(start, start + per)
        z = rows(x2[block])
        gz = g2[block].astype(np.float64)
        if negate:
            np.negative(gz, out=gz)
        r = np.empty_like(z)
        flags = np.zeros(z.shape[0], dtype=np.int8)
        kernel(z, gz, r, flags, _chunk_rows(n, z.shape[0]), *extra)
        # The kernel leaves the flagged rows of r unwritten (uninitialised memory, which
        # may hold a signalling-NaN pattern: "invalid" in the division); they are redone.
        bad = np.flatnonzero(flags)
        r[bad] = 0
        # float64 beyond float32's range rounds to ±∞, below it to subnormals or 0
        with np.errstate(over="ignore", under="ignore"):
            res2[block] = np.divide(r, temperature, out=r)
        if bad.size:
            res2[block][bad] = redo(x2[block][bad], g2[block][bad])
    if not direct:
        np.copyto(target, res2.reshape(target.shape))
    return result


def run_product(
    func: str,
    kernel: Callable[..., Any] | None,
    x: np.ndarray,
    others: tuple[np.ndarray, ...],
    axis: int,
    out: Any,
    impl: Callable[..., np.ndarray],
    *extra: Any,
) -> np.ndarray:
    """A Jacobian product ``func`` over ``axis`` of the float NumPy array x with ``others``
    (arrays of x's shape: the cotangent g, after the caller's forward output y if given;
    float32 for float32 x, else float64) by the compiled ``kernel`` (``product_kernel``;
    ``extra`` its trailing arguments), the rows it flags (NaN, ±∞, far entries that would
    show) by ``impl(x_rows, *other_rows)``, the NumPy path on 2-D rows; with no kernel,
    every row by ``impl``, a block of rows at a time. Without a kernel, ``others`` may also
    hold one value per row (x's shape with length 1 along ``axis``), given to ``impl`` as
    a column (logsumexp_vjp's cotangent)."""
    if out is not None:
        check_out(func, out, x.shape, x.dtype)
    n = x.shape[axis]
    last = axis == x.ndim - 1

    def rows(a: np.ndarray) -> np.ndarray:
        moved = a if last else np.moveaxis(a, axis, -1)
        return np.ascontiguousarray(moved).reshape(-1, a.shape[axis])

    x2, others2 = rows(x), [rows(a) for a in others]
    result = out if out is not None else np.empty(x.shape, dtype=x.dtype)
    target = result if last else np.moveaxis(result, axis, -1)
    # Straight into the result when its rows are contiguous and it is not an input (out=g:
    # the rows of the flagged rows' inputs must survive the kernel).
    direct = target.flags.c_contiguous and not (
        out is not None and any(np.may_share_memory(out, a) for a in (x, *others))
    )
    res2 = target.reshape(-1, n) if direct else np.empty(x2.shape, dtype=x.dtype)
    if x2.shape[0] > 0 and n > 0 and kernel is None:

        def work(s: slice) -> None:
            with np.errstate(under="ignore"):  # a worker thread has its own error state
                res2[s] = impl(x2[s], *(a[s] for a in others2))

        rows_per_block = max(1, blocked.ROW_BLOCK_ELEMENTS // n)
        blocked.run_blocks(work, blocked.blocks(x2.shape[0], rows_per_block))
    elif x2.shape[0] > 0 and n > 0:
        flags = np.zeros(x2.shape[0], dtype=np.int8)
        kernel(x2, *others2, res2, flags, _chunk_rows(n, x2.shape[0]), *extra)
        if flags.any():
            bad = np.flatnonzero(flags)
            res2[bad] = impl(x2[bad], *(a[bad] for a in others2))
    if not direct:
        np.copyto(target, res2.reshape(target.shape))
    return result
