"""Compiled softmax over short rows (n ≤ ``rowpath.SHORT_ROW``, e.g. 10 classes), float32 and
float64 (numba).

A loop per row would run its max, exp and sum over n values at a time: with n = 10 the
exp's vectors are mostly empty and the per-row reductions are scalar chains. Here the rows
are computed one vector lane per row, a group at a time (8 rows in float32, 4 in float64),
in registers (``_lane_softmax``: the rows moved into lanes by register shuffles, the max,
the exp, the compensated sum, the quotients and the shuffles back, unrolled for the row
length). The groups of a block of 64 rows write a row-major staging block, which is
streamed to the output (whole cache lines with non-temporal stores: no read of the output
lines first). A last block of fewer rows is computed from a copy padded with zero rows, so
that every group reads whole rows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._lane_softmax import ROWS_PER_CALL, softmax_rows
from ._lane_transpose import stream_out
from ._numba_math import PARALLEL, SCALAR
from ._stream import fence

# Rows per block: the staging block (and the padded copy of a last block) of 64 rows stays
# in L1 at n = 10.
BLOCK = 64


@njit(**SCALAR)
def _single_entries(x, out, flags):
    """Rows of one entry (no tiles): e^0/e^0 = 1 where the entry is finite; the others are
    flagged for the NumPy path."""
    for r in range(x.shape[0]):
        out[r, 0] = 1.0
        flags[r] = 0 if abs(x[r, 0]) < math.inf else 1


@njit(**PARALLEL)
def _softmax_short(x, out, flags, chunk, row):
    """``softmax_short`` for rows of n = len(row) entries, 2 ≤ n ≤ 32 (``row``: a tuple that
    gives n to the compiler, ``_lane_softmax``)."""
    n_rows, n = x.shape
    xf = x.reshape(n_rows * n)
    of = out.reshape(n_rows * n)
    size = n * BLOCK
    n_blocks = (n_rows + BLOCK - 1) // BLOCK
    whole = n_rows // BLOCK
    per_chunk = max(1, chunk // BLOCK)
    line = 64 // x.itemsize  # elements per cache line
    # Every block of the output starts at the same place in a cache line (a block is 64·n
    # elements); the staging block is placed at that place too, so that streaming it out
    # loads aligned vectors, none split across two lines (where malloc put the staging
    # block decided that before, and the kernel was ~5% slower on average).
    at = (of.ctypes.data % 64) // x.itemsize
    for c in prange((n_blocks + per_chunk - 1) // per_chunk):
        room = np.empty(size + line, dtype=x.dtype)
        shift = (at - (room.ctypes.data % 64) // x.itemsize) % line
        staging = room[shift : shift + size]
        bad = np.empty(BLOCK, dtype=np.int8)
        for b in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
            r0 = b * BLOCK
            rows = min(n_rows, r0 + BLOCK) - r0
            if b < whole:
                # The next whole block's lines are asked for while this one computes.
                ahead = size if b + 1 < whole else 0
                for i0 in range(0, BLOCK, ROWS_PER_CALL):
                    softmax_rows(staging, i0 * n, xf, (r0 + i0) * n, row, ahead, bad, i0)
            else:
                tail = np.zeros(size, dtype=x.dtype)
                tail[: rows * n] = xf[r0 * n :]
                for i0 in range(0, BLOCK, ROWS_PER_CALL):
                    softmax_rows(staging, i0 * n, tail, i0 * n, row, 0, bad, i0)
            for i in range(rows):
                flags[r0 + i] = bad[i]
            stream_out(staging[: rows * n], of[r0 * n : (r0 + rows) * n])
        fence()


def softmax_short(x: np.ndarray, out: np.ndarray, flags: np.ndarray, chunk: int) -> None:
    """softmax over the rows of the C-contiguous float32 or float64 ``x`` (rows × n, n ≤
    ``rowpath.SHORT_ROW``) into ``out``; rows that hold NaN or ±∞ (float32: also a −∞ entry)
    get flags = 1 (their output is meaningless: the caller's NumPy path overwrites it).
    ``chunk``: rows per parallel chunk (a multiple of the block). Compiled once per row
    length in use."""
    n = x.shape[1]
    if n < 2:
        _single_entries(x, out, flags)
    else:
        _softmax_short(x, out, flags, chunk, (0,) * n)
