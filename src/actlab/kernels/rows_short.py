"""Compiled softmax, log_softmax, and the Jacobian products of softmax and log_softmax over
short rows (n ≤ ``rowpath.SHORT_ROW``, e.g. 10 classes), float32 and float64 (numba).

A loop per row would run its max, exp and sum over n values at a time: with n = 10 the
exp's vectors are mostly empty and the per-row reductions are scalar chains. Here the rows
are computed one vector lane per row, a group at a time (8 rows in float32, 4 in float64),
in registers (``_lane_softmax``: the rows moved into lanes by register shuffles, the max,
the exp, the compensated sum, the quotients and the shuffles back, unrolled for the row
length), and stored straight into the output. A last block of fewer rows is computed from
a copy padded with zero rows, so that every group reads whole rows, into scratch.

The kernel is bound by its computing, not by memory (in the L3 cache its time over the exp
floor's is about what it is over 320 MB): the groups once wrote a staging block per 64 rows
that was then streamed out with non-temporal stores (no read of the output lines first),
and that extra pass cost more than the reads of the output lines that ordinary stores
bring: the rows of 10 take 0.78–0.94× (float64) and 0.82–0.98× (float32) the time of
abaf322 (`python benchmarks/ab.py abaf322 --cases softmax10,softmax10_l3 --rounds 21`,
1 and 2 threads, two runs).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._lane_products import product_rows_lsm, product_rows_t, product_rows_y
from ._lane_softmax import LOG_SOFTMAX, PRODUCT_ROWS_PER_CALL, ROWS_PER_CALL, SOFTMAX, softmax_rows
from ._numba_math import PARALLEL, SCALAR

# Rows per block: a unit of the prefetch and of the parallel chunks; the padded copy of a
# last block stays in L1.
BLOCK = 64


@njit(**SCALAR)
def _single_entries(x, out, flags, value):
    """Rows of one entry (no tiles): ``value`` (softmax's e^0/e^0 = 1, log_softmax's 0)
    where the entry is finite; the others are flagged for the NumPy path."""
    for r in range(x.shape[0]):
        out[r, 0] = value
        flags[r] = 0 if abs(x[r, 0]) < math.inf else 1


@njit(**PARALLEL)
def _softmax_short(x, out, flags, chunk, row, kind):
    """``softmax_short`` for rows of n = len(row) entries, 2 ≤ n ≤ 32 (``row``: a tuple that
    gives n to the compiler, ``_lane_softmax``; ``kind``: softmax or log_softmax, likewise)."""
    n_rows, n = x.shape
    xf = x.reshape(n_rows * n)
    of = out.reshape(n_rows * n)
    size = n * BLOCK
    n_blocks = (n_rows + BLOCK - 1) // BLOCK
    whole = n_rows // BLOCK
    per_chunk = max(1, chunk // BLOCK)
    for c in prange((n_blocks + per_chunk - 1) // per_chunk):
        bad = np.empty(BLOCK, dtype=np.int8)
        for b in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
            r0 = b * BLOCK
            rows = min(n_rows, r0 + BLOCK) - r0
            if b < whole:
                # The next whole block's lines are asked for while this one computes.
                ahead = size if b + 1 < whole else 0
                for i0 in range(0, BLOCK, ROWS_PER_CALL):
                    at = (r0 + i0) * n
                    softmax_rows(of, at, xf, at, row, kind, ahead, bad, i0)
            else:  # fewer rows: from a copy padded with zero rows, into a block of scratch
                tail = np.zeros(size, dtype=x.dtype)
                tail[: rows * n] = xf[r0 * n :]
                results = np.empty(size, dtype=x.dtype)
                for i0 in range(0, BLOCK, ROWS_PER_CALL):
                    softmax_rows(results, i0 * n, tail, i0 * n, row, kind, 0, bad, i0)
                of[r0 * n :] = results[: rows * n]
            for i in range(rows):
                flags[r0 + i] = bad[i]


def softmax_short(x: np.ndarray, out: np.ndarray, flags: np.ndarray, chunk: int) -> None:
    """softmax over the rows of the C-contiguous float32 or float64 ``x`` (rows × n, n ≤
    ``rowpath.SHORT_ROW``) into ``out``; rows that hold NaN or ±∞ (float32: also a −∞ entry)
    get flags = 1 (their output is meaningless: the caller's NumPy path overwrites it).
    ``chunk``: rows per parallel chunk (a multiple of the block). Compiled once per row
    length in use."""
    n = x.shape[1]
    if n < 2:
        _single_entries(x, out, flags, 1.0)
    else:
        _softmax_short(x, out, flags, chunk, (0,) * n, SOFTMAX)


def log_softmax_short(x: np.ndarray, out: np.ndarray, flags: np.ndarray, chunk: int) -> None:
    """log_softmax as ``softmax_short`` (``_lane_softmax._finish_log_w``, ``_finish_log_d``);
    rows that hold NaN or +∞, or only −∞, are flagged."""
    n = x.shape[1]
    if n < 2:
        _single_entries(x, out, flags, 0.0)
    else:
        _softmax_short(x, out, flags, chunk, (0,) * n, LOG_SOFTMAX)


# The products ``_product_short`` computes, by its ``kind``.
TIMES_Y, SHIFTED, LOG_SOFTMAX_VJP = 0, 1, 2


@njit(**SCALAR)
def _product_rows(kind, dst, dstart, x, g, xstart, row, ahead, bad, i0):
    if kind == TIMES_Y:
        product_rows_y(dst, dstart, x, g, xstart, row, ahead, bad, i0)
    elif kind == SHIFTED:
        product_rows_t(dst, dstart, x, g, xstart, row, ahead, bad, i0)
    else:
        product_rows_lsm(dst, dstart, x, g, xstart, row, ahead, bad, i0)


@njit(**PARALLEL)
def _product_short(x, g, out, flags, chunk, row, kind):
    """A product of ``_lane_products`` (``kind``) for rows of n = len(row) entries,
    2 ≤ n ≤ 32, g of x's dtype; the loop of ``_softmax_short`` with g beside x."""
    n_rows, n = x.shape
    xf = x.reshape(n_rows * n)
    gf = g.reshape(n_rows * n)
    of = out.reshape(n_rows * n)
    size = n * BLOCK
    n_blocks = (n_rows + BLOCK - 1) // BLOCK
    whole = n_rows // BLOCK
    per_chunk = max(1, chunk // BLOCK)
    for c in prange((n_blocks + per_chunk - 1) // per_chunk):
        bad = np.empty(BLOCK, dtype=np.int8)
        for b in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
            r0 = b * BLOCK
            rows = min(n_rows, r0 + BLOCK) - r0
            if b < whole:
                ahead = size if b + 1 < whole else 0
                for i0 in range(0, BLOCK, PRODUCT_ROWS_PER_CALL):
                    at = (r0 + i0) * n
                    _product_rows(kind, of, at, xf, gf, at, row, ahead, bad, i0)
            else:  # fewer rows: from copies padded with zero rows, into a block of scratch
                tail_x = np.zeros(size, dtype=x.dtype)
                tail_g = np.zeros(size, dtype=x.dtype)
                tail_x[: rows * n] = xf[r0 * n :]
                tail_g[: rows * n] = gf[r0 * n :]
                results = np.empty(size, dtype=x.dtype)
                for i0 in range(0, BLOCK, PRODUCT_ROWS_PER_CALL):
                    at = i0 * n
                    _product_rows(kind, results, at, tail_x, tail_g, at, row, 0, bad, i0)
                of[r0 * n :] = results[: rows * n]
            for i in range(rows):
                flags[r0 + i] = bad[i]


def _takes(x: np.ndarray, g: np.ndarray) -> bool:
    from . import rowpath

    return 2 <= x.shape[1] <= rowpath.SHORT_ROW and g.dtype == x.dtype


def softmax_product(
    x: np.ndarray, g: np.ndarray, out: np.ndarray, flags: np.ndarray, chunk: int, times_y: bool
) -> None:
    """softmax's Jacobian products over the rows of the C-contiguous x and g (rows × n) into
    ``out`` (``row_products.softmax_product_w``'s arguments): rows of 2 to SHORT_ROW entries
    with g of x's dtype on the short-row kernel, others on the long-row kernels. Flagged rows
    (flags = 1) are the caller's to compute."""
    from . import row_products

    if _takes(x, g):
        kind = TIMES_Y if times_y else SHIFTED
        _product_short(x, g, out, flags, chunk, (0,) * x.shape[1], kind)
    elif x.dtype == np.float64:
        row_products.softmax_product_d(x, g, out, flags, chunk, times_y)
    else:
        row_products.softmax_product_w(x, g, out, flags, chunk, times_y)


def log_softmax_vjp(
    x: np.ndarray, g: np.ndarray, out: np.ndarray, flags: np.ndarray, chunk: int
) -> None:
    """log_softmax's VJP, as ``softmax_product`` (``row_products.log_softmax_vjp_w``'s
    arguments)."""
    from . import row_products

    if _takes(x, g):
        _product_short(x, g, out, flags, chunk, (0,) * x.shape[1], LOG_SOFTMAX_VJP)
    elif x.dtype == np.float64:
        row_products.log_softmax_vjp_d(x, g, out, flags, chunk)
    else:
        row_products.log_softmax_vjp_w(x, g, out, flags, chunk)
