"""The float64 short-row softmax of four rows at once, in registers (an LLVM IR intrinsic,
AVX2, unrolled for the row length n).

``rows_short.softmax_short_d`` calls ``softmax_rows_d`` for every group of four rows. With
the rows one vector lane each (row j in lane j), it

1. loads the rows' tiles and moves them into lanes by shuffles (``_lane_transpose``), the
   rows' maxima m found on the way;
2. takes the exponentials e = e^(x − m)·2^64 of the n lane vectors (``exp_neg_lanes``, the
   rows' own float64 exp, bit for bit);
3. sums them per lane, compensated: s starts at 2^64, above every term, so a Fast2Sum
   recovers each addition's error exactly (into c);
4. makes the sum a normalised pair sh + sl, takes 1/sh, and flags a row that the NumPy path
   must take (a NaN sum, or a max that is not finite);
5. divides each exponential by the pair (``_row_stores.quotient``: y0 = e/sh by a product
   with 1/sh, one correction with the exact residual) and moves the quotients back to rows
   (the tiles' inverse shuffles) into the caller's staging block.

n is a compile-time constant, passed as the length of a tuple (one compiled kernel per row
length in use, cached on disk; the same kernel with ``numba.literally`` on an integer
measured far slower): the tiles are known, every loop is unrolled, and the n
vectors stay in registers or in spill slots that LLVM schedules, with no pass over a
scratch block between the stages. A group also asks for its lines one block further on
(``llvm.prefetch``), so that memory is read while the exps compute.

The version before held a block of 64 rows transposed in scratch arrays and ran each stage
as a loop over all of them; float64 rows of 10 take 0.71–0.74× its time here (`python
benchmarks/ab.py 044a9a8 --cases softmax10`, 1 and 2 threads, two runs).
"""

from __future__ import annotations

import math

from numba import types
from numba.extending import intrinsic

from ._exp_rows64 import exp_neg_lanes
from ._lane_transpose import _const, _data, _load_columns, _store_columns, tiles
from ._row_stores import quotient
from ._vecmap import Lanes, where

LANES = 4  # float64 lanes per 32-byte register: four rows
_TOP = 2.0**64  # the sums' start, = the max's own term (e^0 scaled by 2^64)
_LINE = 64  # bytes per cache line


def _ir():
    from llvmlite import ir

    return ir


def _prefetch(builder, data, index):
    """Asks for the cache line of data[index] (read, kept in every cache level)."""
    ir = _ir()
    i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
    address = builder.bitcast(builder.gep(data, [index]), i8p)
    builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])


@intrinsic
def softmax_rows_d(typingctx, dst, dstart, x, xstart, n, ahead, bad, i0):
    """dst[dstart + j·n + k] = softmax of row j of x[xstart + j·n : …][k] for the four rows
    j < 4 (the quotient by the compensated sum, to about half an ULP), and bad[i0 + j] = 1
    for a row the NumPy path must take (its output is then meaningless), else 0. ``n``: a
    tuple whose length is the row length (2 ≤ n ≤ 32). ``ahead`` > 0: prefetch the lines
    that many elements further on."""
    if not isinstance(n, types.UniTuple) or not 2 <= n.count <= 32:
        return None
    width = n.count
    doubles = all(
        isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64 for a in (dst, x)
    )
    if not (doubles and isinstance(bad, types.Array) and bad.dtype == types.int8):
        return None
    plan = [(int(k0), int(w)) for k0, w in tiles.py_func(width, LANES)]

    def gen(context, builder, signature, args):
        ir = _ir()
        dst_v, dstart_v, x_v, xstart_v, _, ahead_v, bad_v, i0_v = args
        n_v = ir.Constant(ir.IntType(64), width)
        vector = ir.VectorType(ir.DoubleType(), LANES)

        def lanes(value):
            return Lanes(builder, ir.Constant(vector, [ir.Constant(ir.DoubleType(), value)] * 4))

        src = _data(context, builder, signature.args[2], x_v)
        with builder.if_then(builder.icmp_signed(">", ahead_v, _const(0, ahead_v))):
            further = builder.add(xstart_v, ahead_v)
            for offset in range(0, LANES * width, _LINE // 8):
                _prefetch(builder, src, builder.add(further, _const(offset, further)))
        # 1. The rows to lanes, and their maxima (from −∞, passing over NaN entries).
        cols: list[Lanes] = [lanes(0.0)] * width
        top = lanes(-math.inf)
        for k0, w in plan:
            start = builder.add(xstart_v, _const(k0, xstart_v))
            for c, col in enumerate(_load_columns(builder, src, start, n_v, LANES, w, 8)):
                cols[k0 + c] = Lanes(builder, col)
                top = Lanes(
                    builder, builder.select(builder.fcmp_ordered(">", col, top.v), col, top.v)
                )
        # 2. and 3. The exponentials and their compensated sums.
        neg_m = -top
        e = [exp_neg_lanes(col, neg_m) for col in cols]
        start_sum = lanes(_TOP)
        s, c = start_sum, lanes(0.0)
        for h in e:
            t = s + h
            c = c + (h - (t - s))
            s = t
        # 4. The pair, its reciprocal and the flags.
        t = s - start_sum  # exact
        hi = t + c
        lo = (t - hi) + c
        ok = (hi == hi) & (abs(top) < math.inf)
        sh = where(ok, hi, 1.0)
        sl = where(ok, lo, 0.0)
        inv = 1.0 / sh
        flags = ir.VectorType(ir.IntType(8), LANES)
        bad_data = _data(context, builder, signature.args[6], bad_v)
        flag_at = builder.bitcast(builder.gep(bad_data, [i0_v]), flags.as_pointer())
        builder.store(builder.zext(builder.not_(ok.v), flags), flag_at, align=1)
        # 5. The quotients back to rows.
        out = _data(context, builder, signature.args[0], dst_v)
        for k0, w in plan:
            ys = [quotient(e[k0 + j], sh, sl, inv).v for j in range(w)]
            _store_columns(builder, out, builder.add(dstart_v, _const(k0, dstart_v)), n_v, 4, ys, 8)
        return context.get_dummy_value()

    return types.none(dst, dstart, x, xstart, n, ahead, bad, i0), gen
