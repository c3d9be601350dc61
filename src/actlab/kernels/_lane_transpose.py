"""Register transposes between short rows and lanes (LLVM IR builders, AVX2 shuffles).

The short-row softmax (``_lane_softmax``) computes with one vector lane per row: L rows
(L = 8 float32 or 4 float64: one 32-byte register), entry k of every row side by side. A
scalar copy into that layout costs a load and a store per element (as much as the whole
exp on 1 thread); here L rows and w of their entries (a tile) move with vector loads, a
few shuffles and vector stores (``load_columns``, and back with ``store_columns``).

A tile of width w = L loads each row's two 16-byte halves, pairs row j with row j + L/2 in
one register (the second half loaded straight into the upper 128 bits), and transposes
within the 128-bit lanes: 8 shuffles per L/2 columns for float32, 2 for float64, where a
full L×L transpose takes 24 and 8. Widths L/2 and (float32) 2 cover the remainder of a
row (``tiles``); every tile stays inside its rows, so the copies never touch a neighbour.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._numba_math import KERNEL


def _ir():
    from llvmlite import ir

    return ir


def _shuffle(builder, a, b, mask):
    ir = _ir()
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(ir.IntType(32), len(mask)), mask))


def concat(builder, a, b):
    n = a.type.count
    return _shuffle(builder, a, b, list(range(2 * n)))


def vector_half(builder, v, which):
    return vector_part(builder, v, which, 2)


def vector_part(builder, v, which, parts):
    """Lanes ``which``·n to (``which`` + 1)·n − 1 of v, n = v's lanes ÷ ``parts``."""
    n = v.type.count // parts
    return _shuffle(builder, v, v, list(range(which * n, (which + 1) * n)))


def _in_lane_transpose(builder, v):
    """Transposes within each 128-bit lane: 4 vectors of 8 float32 (4×4 per lane) or 2 of 4
    float64 (2×2 per lane). Its own inverse."""
    if len(v) == 4:
        t0 = _shuffle(builder, v[0], v[1], [0, 8, 1, 9, 4, 12, 5, 13])
        t1 = _shuffle(builder, v[0], v[1], [2, 10, 3, 11, 6, 14, 7, 15])
        t2 = _shuffle(builder, v[2], v[3], [0, 8, 1, 9, 4, 12, 5, 13])
        t3 = _shuffle(builder, v[2], v[3], [2, 10, 3, 11, 6, 14, 7, 15])
        lo, hi = [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]
        return [
            _shuffle(builder, t0, t2, lo),
            _shuffle(builder, t0, t2, hi),
            _shuffle(builder, t1, t3, lo),
            _shuffle(builder, t1, t3, hi),
        ]
    return [
        _shuffle(builder, v[0], v[1], [0, 4, 2, 6]),
        _shuffle(builder, v[0], v[1], [1, 5, 3, 7]),
    ]


def array_data(context, builder, array_type, array):
    """The pointer to a numba array's first element."""
    return context.make_array(array_type)(context, builder, array).data


def vector_at(builder, data, index, count):
    """A pointer to the ``count`` elements at data[index], as a vector."""
    ir = _ir()
    vector = ir.VectorType(data.type.pointee, count).as_pointer()
    return builder.bitcast(builder.gep(data, [index]), vector)


def int_like(value, like):
    """``value`` as a constant of the integer IR value ``like``'s type."""
    return _ir().Constant(like.type, value)


def _row_at(builder, start, n, j):
    return builder.add(start, builder.mul(n, int_like(j, n)))


def load_columns(builder, src, start, n, lanes, w, align):
    """The w column vectors (L lanes each: rows 0..L−1) of the tile whose row j starts at
    src[start + j·n]."""
    half = lanes // 2

    def load(j, offset, count):
        at = builder.add(_row_at(builder, start, n, j), int_like(offset, start))
        return builder.load(vector_at(builder, src, at, count), align=align)

    if w >= half:  # one or two halves per row, row j paired with row j + L/2
        cols = []
        for offset in range(0, w, half):
            v = [
                concat(builder, load(j, offset, half), load(j + half, offset, half))
                for j in range(half)
            ]
            cols += _in_lane_transpose(builder, v)
        return cols
    # float32, w = 2: per 128-bit lane, rows (0, 1 | 4, 5) in a, (2, 3 | 6, 7) in b
    p = [load(j, 0, 2) for j in range(lanes)]
    a = concat(builder, concat(builder, p[0], p[1]), concat(builder, p[4], p[5]))
    b = concat(builder, concat(builder, p[2], p[3]), concat(builder, p[6], p[7]))
    return [
        _shuffle(builder, a, b, [0, 2, 8, 10, 4, 6, 12, 14]),
        _shuffle(builder, a, b, [1, 3, 9, 11, 5, 7, 13, 15]),
    ]


def store_columns(builder, dst, start, n, lanes, cols, align):
    """The inverse of ``load_columns``: row j of the tile to dst[start + j·n]."""
    half = lanes // 2
    w = len(cols)

    def store(value, j, offset):
        at = builder.add(_row_at(builder, start, n, j), int_like(offset, start))
        builder.store(value, vector_at(builder, dst, at, value.type.count), align=align)

    if w >= half:
        for offset in range(0, w, half):
            v = _in_lane_transpose(builder, cols[offset : offset + half])
            for j in range(half):
                store(vector_half(builder, v[j], 0), j, offset)
                store(vector_half(builder, v[j], 1), j + half, offset)
        return
    a = _shuffle(builder, cols[0], cols[1], [0, 8, 1, 9, 4, 12, 5, 13])
    b = _shuffle(builder, cols[0], cols[1], [2, 10, 3, 11, 6, 14, 7, 15])
    for v, rows in ((a, (0, 1, 4, 5)), (b, (2, 3, 6, 7))):
        for q, j in enumerate(rows):
            store(_shuffle(builder, v, v, [2 * q, 2 * q + 1]), j, 0)


@njit(**KERNEL)
def tiles(n, lanes):
    """(k0, w) of the tiles that cover entries 0..n−1 of a row, one per row of the result:
    full tiles of ``lanes``, then the narrowest width that covers the rest (placed to end at
    n, overlapping the one before), or the widest that fits where none does (n < lanes);
    none for n < 2 (the caller's scalar loops)."""
    out = np.zeros((n // 2 + 2, 2), dtype=np.int64)
    count = 0
    k0 = 0
    if n < 2:
        return out[:0]
    while n - k0 >= lanes:
        out[count, 0] = k0
        out[count, 1] = lanes
        count += 1
        k0 += lanes
    while k0 < n:
        rest = n - k0
        w = 2
        while w < rest and w < lanes:
            w *= 2
        if rest <= w <= n:  # the narrowest that covers the rest fits in the row
            out[count, 0] = n - w
            out[count, 1] = w
            count += 1
            break
        w = 2
        while 2 * w <= rest and 2 * w <= lanes:
            w *= 2
        out[count, 0] = k0
        out[count, 1] = w
        count += 1
        k0 += w
    return out[:count]
