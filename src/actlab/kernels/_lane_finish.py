"""The last stages of the float64 short-row softmax for four rows at once, in registers (an
LLVM IR intrinsic, AVX2).

``rows_short`` holds a block of rows transposed, one vector lane per row, and computes the
exponentials e (scaled by 2^64) in that layout. ``finish_rows_d`` then takes the four lanes
i0..i0+3 (four rows) and, without writing anything back to the lanes:

1. sums each lane's n exponentials, compensated (s starts at 2^64, above every term, so a
   Fast2Sum recovers each addition's error exactly into c);
2. turns the sum into a normalised pair sh + sl and its reciprocal, and flags a row the
   NumPy path must take (a NaN sum, or a max that is not finite);
3. divides each exponential by the pair (y0 = e·inv, one correction with the exact residual:
   the formula of ``rows_short._quotient_d``, bit for bit) and moves the quotients back to
   rows with the tiles' shuffles (``_lane_transpose._store_columns``), stored straight into
   the output rows with ordinary stores.

The staged version (sums, reciprocals and quotients as loops over all 64 lanes, then a
transpose into a staging block streamed out) stays for a block of fewer than 64 rows.
Measured on 4,000,000 float64 rows of 10: 0.86–0.98 × the staged kernel's time in seven
interleaved runs at 1 and 2 threads (docs/performance.md); the same fusion with the staging
block and the streamed copy kept measured 0.95–0.97 ×.
"""

from __future__ import annotations

import math

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._lane_transpose import _address, _const, _data, _lane_at, _store_columns
from ._stream import splat, vector_fma

LANES = 4  # float64 lanes per 32-byte register: four rows
_TOP = 2.0**64  # the sums' start, = the max's own term (e^0 scaled by 2^64)


def _ir():
    from llvmlite import ir

    return ir


def _ok_rows(builder, hi, m):
    """The lanes whose sum is not NaN and whose max is finite (|m| < ∞ without fabs: llvmlite
    declares no vector intrinsic by name)."""
    ir = _ir()
    double = ir.DoubleType()
    top = splat(builder, ir.Constant(double, math.inf), hi.type)
    bottom = splat(builder, ir.Constant(double, -math.inf), hi.type)
    finite = builder.and_(builder.fcmp_ordered("<", m, top), builder.fcmp_ordered(">", m, bottom))
    return builder.and_(builder.fcmp_ordered("==", hi, hi), finite)


@intrinsic
def finish_rows_d(typingctx, dst, start, n, e, tl, i0, width, m, bad):
    """Rows i0..i0+3 of a block: dst[start + j·n + k] = e[k·width + i0 + j]/Σ_k e (within half
    an ULP of the quotient by the compensated sum), and bad[i0 + j] = 1 for a row the NumPy
    path must take (its output is then meaningless), else 0. ``tl``: the tiles of
    ``_lane_transpose.tiles(n, 4)`` (n ≥ 2); ``m``: the rows' maxima."""
    arrays_ok = all(
        isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64 for a in (dst, e, m)
    )
    plan_ok = isinstance(tl, types.Array) and tl.ndim == 2 and tl.dtype == types.int64
    if not (arrays_ok and plan_ok and isinstance(bad, types.Array) and bad.dtype == types.int8):
        return None

    def gen(context, builder, signature, args):
        ir = _ir()
        dst_v, start_v, n_v, e_v, tl_v, i0_v, width_v, m_v, bad_v = args
        double = ir.DoubleType()
        vector = ir.VectorType(double, LANES)
        zero = ir.Constant(vector, [ir.Constant(double, 0.0)] * LANES)
        top = splat(builder, ir.Constant(double, _TOP), vector)
        src = _data(context, builder, signature.args[3], e_v)
        out = _data(context, builder, signature.args[0], dst_v)

        def lane(k0, c=0):
            return builder.load(
                _address(builder, src, _lane_at(builder, k0, c, width_v, i0_v), LANES), align=8
            )

        # 1. The compensated sums, in registers (stack slots LLVM promotes).
        s = cgutils.alloca_once_value(builder, top)
        c = cgutils.alloca_once_value(builder, zero)
        with cgutils.for_range(builder, n_v) as loop:
            h = lane(loop.index)
            a = builder.load(s)
            t = builder.fadd(a, h)
            builder.store(builder.fadd(builder.load(c), builder.fsub(h, builder.fsub(t, a))), c)
            builder.store(t, s)
        # 2. The pair, its reciprocal and the flags.
        t = builder.fsub(builder.load(s), top)  # exact
        err = builder.load(c)
        hi = builder.fadd(t, err)
        lo = builder.fadd(builder.fsub(t, hi), err)
        m_data = _data(context, builder, signature.args[7], m_v)
        ok = _ok_rows(builder, hi, builder.load(_address(builder, m_data, i0_v, LANES), align=8))
        one = splat(builder, ir.Constant(double, 1.0), vector)
        sh = builder.select(ok, hi, one)
        sl = builder.select(ok, lo, zero)
        inv = builder.fdiv(one, sh)
        flag_type = ir.VectorType(ir.IntType(8), LANES)
        bad_data = _data(context, builder, signature.args[8], bad_v)
        flag_at = builder.bitcast(builder.gep(bad_data, [i0_v]), flag_type.as_pointer())
        builder.store(builder.zext(builder.not_(ok), flag_type), flag_at, align=1)
        # 3. The quotients, tile by tile, back to rows.
        neg_sh, neg_sl = builder.fneg(sh), builder.fneg(sl)
        plan = context.make_array(signature.args[4])(context, builder, tl_v)
        with cgutils.for_range(builder, builder.extract_value(plan.shape, 0)) as loop:
            at = builder.mul(loop.index, _const(2, loop.index))
            k0 = builder.load(builder.gep(plan.data, [at]))
            w_v = builder.load(builder.gep(plan.data, [builder.add(at, _const(1, at))]))
            for w in (LANES, LANES // 2):
                with builder.if_then(builder.icmp_signed("==", w_v, _const(w, w_v))):
                    cols = []
                    for col in range(w):
                        h = lane(k0, col)
                        y0 = builder.fmul(h, inv)
                        fix = vector_fma(builder, y0, neg_sl, vector_fma(builder, y0, neg_sh, h))
                        cols.append(vector_fma(builder, fix, inv, y0))
                    _store_columns(builder, out, builder.add(start_v, k0), n_v, LANES, cols, 8)
        return context.get_dummy_value()

    return types.none(dst, start, n, e, tl, i0, width, m, bad), gen
