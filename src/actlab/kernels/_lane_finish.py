"""The last stages of the float64 short-row softmax, four rows at a time in registers (an
LLVM IR intrinsic, AVX2).

``rows_short`` holds a block of rows transposed, one vector lane per row, and computes the
exponentials e (scaled by 2^64) in that layout. ``finish_rows_d`` takes the four lanes
i0..i0+3 (four rows) and, without writing anything back to the lanes:

1. sums each lane's n exponentials, compensated: s starts at 2^64, above every term, so a
   Fast2Sum recovers each addition's error exactly (into c);
2. makes the sum a normalised pair sh + sl, takes 1/sh, and flags a row that the NumPy path
   must take (a NaN sum, or a max that is not finite);
3. divides each exponential by the pair (``_row_stores.quotient``: y0 = e/sh by a product
   with 1/sh, one correction with the exact residual) and moves the quotients back to rows
   with the tiles' shuffles (``_lane_transpose``), into the kernel's staging block.

These stages were loops over all 64 lanes of the block, each storing its results for the
next: the sums and their errors per lane and entry, the pairs and reciprocals per row, the
quotients per entry. Here they stay in registers (`python benchmarks/ab.py 044a9a8 --cases
softmax10`, docs/performance.md).
"""

from __future__ import annotations

import math

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._lane_transpose import _address, _const, _data, _lane_at, _store_columns
from ._row_stores import quotient
from ._vecmap import Lanes, where

LANES = 4  # float64 lanes per 32-byte register: four rows
_TOP = 2.0**64  # the sums' start, = the max's own term (e^0 scaled by 2^64)


def _vector():
    from llvmlite import ir

    return ir.VectorType(ir.DoubleType(), LANES)


@intrinsic
def finish_rows_d(typingctx, dst, start, n, e, tl, i0, width, m, bad):
    """Rows i0..i0+3 of a block: dst[start + j·n + k] = e[k·width + i0 + j]/Σ_k e (the
    quotient by the compensated sum, to about half an ULP), and bad[i0 + j] = 1 for a row the
    NumPy path must take (its output is then meaningless), else 0. ``tl``: the tiles of
    ``_lane_transpose.tiles(n, 4)`` (n ≥ 2); ``m``: the rows' maxima."""
    doubles = all(
        isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64 for a in (dst, e, m)
    )
    plan_ok = isinstance(tl, types.Array) and tl.ndim == 2 and tl.dtype == types.int64
    if not (doubles and plan_ok and isinstance(bad, types.Array) and bad.dtype == types.int8):
        return None

    def gen(context, builder, signature, args):
        from llvmlite import ir

        dst_v, start_v, n_v, e_v, tl_v, i0_v, width_v, m_v, bad_v = args
        vector = _vector()
        src = _data(context, builder, signature.args[3], e_v)

        def lane(k0, c=0):
            at = _lane_at(builder, k0, c, width_v, i0_v)
            return Lanes(builder, builder.load(_address(builder, src, at, LANES), align=8))

        # 1. The compensated sums, in stack slots that LLVM promotes to registers.
        def splat(value):
            return ir.Constant(vector, [ir.Constant(ir.DoubleType(), value)] * LANES)

        top = Lanes(builder, splat(_TOP))
        s = cgutils.alloca_once_value(builder, top.v)
        c = cgutils.alloca_once_value(builder, splat(0.0))
        with cgutils.for_range(builder, n_v) as loop:
            h = lane(loop.index)
            a = Lanes(builder, builder.load(s))
            t = a + h
            builder.store((Lanes(builder, builder.load(c)) + (h - (t - a))).v, c)
            builder.store(t.v, s)
        # 2. The pair, its reciprocal and the flags.
        t = Lanes(builder, builder.load(s)) - top  # exact
        err = Lanes(builder, builder.load(c))
        hi = t + err
        lo = (t - hi) + err
        m_data = _data(context, builder, signature.args[7], m_v)
        row_max = Lanes(builder, builder.load(_address(builder, m_data, i0_v, LANES), align=8))
        ok = (hi == hi) & (abs(row_max) < math.inf)
        sh = where(ok, hi, 1.0)
        sl = where(ok, lo, 0.0)
        inv = 1.0 / sh
        flags = ir.VectorType(ir.IntType(8), LANES)
        bad_data = _data(context, builder, signature.args[8], bad_v)
        flag_at = builder.bitcast(builder.gep(bad_data, [i0_v]), flags.as_pointer())
        builder.store(builder.zext(builder.not_(ok.v), flags), flag_at, align=1)
        # 3. The quotients, tile by tile, back to rows.
        out = _data(context, builder, signature.args[0], dst_v)
        plan = context.make_array(signature.args[4])(context, builder, tl_v)
        with cgutils.for_range(builder, builder.extract_value(plan.shape, 0)) as loop:
            at = builder.mul(loop.index, _const(2, loop.index))
            k0 = builder.load(builder.gep(plan.data, [at]))
            w_v = builder.load(builder.gep(plan.data, [builder.add(at, _const(1, at))]))
            for w in (LANES, LANES // 2):
                with builder.if_then(builder.icmp_signed("==", w_v, _const(w, w_v))):
                    cols = [quotient(lane(k0, col), sh, sl, inv).v for col in range(w)]
                    _store_columns(builder, out, builder.add(start_v, k0), n_v, LANES, cols, 8)
        return context.get_dummy_value()

    return types.none(dst, start, n, e, tl, i0, width, m, bad), gen
