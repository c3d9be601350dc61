"""Moving a row axis last and back, for the row functions over a non-last axis (numba).

``np.ascontiguousarray(np.moveaxis(x, 0, -1))`` of a large square array walks one side of
the transpose with a power-of-two stride (32 KiB for 8192 float32), so the lines it touches
keep evicting each other. Here the copy goes in 8×8 tiles, each tile written along
contiguous destination rows, and the tiles are shared among the threads (W7 of
``BENCHMARKS.md`` measures softmax over axis 0 with it; docs/performance.md).
"""

from __future__ import annotations

from numba import njit, prange

from ._numba_math import PARALLEL

TILE = 8


@njit(**PARALLEL)
def swap_last_two(src, dst):
    """dst[o, j, i] = src[o, i, j] for C-contiguous 3-D arrays of shapes (m, a, b) and
    (m, b, a)."""
    outer, a, b = src.shape
    tiles_a = (a + TILE - 1) // TILE
    tiles_b = (b + TILE - 1) // TILE
    per_outer = tiles_a * tiles_b
    for t in prange(outer * per_outer):
        o = t // per_outer
        r = t - o * per_outer
        i0 = (r // tiles_b) * TILE
        j0 = (r - (r // tiles_b) * tiles_b) * TILE
        for j in range(j0, min(b, j0 + TILE)):
            for i in range(i0, min(a, i0 + TILE)):
                dst[o, j, i] = src[o, i, j]
