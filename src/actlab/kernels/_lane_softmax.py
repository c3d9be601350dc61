"""The short-row softmax of a group of rows at once, in registers (LLVM IR intrinsics, AVX2,
unrolled for the row length n): 8 rows per group in float32, 4 in float64, one row per
vector lane; groups side by side in one vector (``ROWS_PER_CALL`` below).

``rows_short`` calls ``softmax_rows`` for every ``ROWS_PER_CALL`` rows (log_softmax too:
stages 2–3 as below, then z = (x − m) − log1p(τ) with log1p in lanes, ``_finish_log_w``,
``_finish_log_d``). For each group it

1. loads the rows' tiles and moves them into lanes by shuffles (``_lane_transpose``), the
   rows' maxima m found on the way;
2. takes the exponentials e^(x − m) of the n lane vectors with the row kernels' own exps,
   bit for bit (``exp_neg_pair_lanes``: a float32 pair scaled by 2^32;
   ``exp_neg_lanes``: one float64 scaled by 2^64);
3. sums them per lane, compensated: s starts at the scale, above every term, so a Fast2Sum
   recovers each addition's error exactly (into c);
4. makes the sum a normalised pair, takes its reciprocal, and flags a row that the NumPy
   path must take (a NaN sum, or a max that is not finite; in float32 also a −∞ entry of
   an ordinary row, whose exact x − m the lean exp makes NaN);
5. divides each exponential by the sum, rounded once, and moves the quotients back to rows
   (the tiles' inverse shuffles), stored into the caller's output.

These are the formulas of the block-wide loops that came before (``rows_short`` until
044a9a8), in the same order: the results are the same bits. n is a compile-time constant,
passed as the length of a tuple (one compiled kernel per row length in use, cached on disk;
the same kernel with ``numba.literally`` on an integer measured far slower): the tiles are
known, every loop is unrolled, and the n vectors stay in registers or in spill slots that
LLVM schedules, with no pass over a scratch block between the stages. A group also asks for
its lines one block further on (``llvm.prefetch``), so that memory is read while the exps
compute. The block-wide loops held 64 rows transposed in scratch arrays and ran each stage
over all of them; rows of 10 take 0.68–0.77× (float32) and 0.71–0.77× (float64) their
time here (`python benchmarks/ab.py 044a9a8 --cases softmax10`, 1 and 2 threads, two
runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from numba import types
from numba.extending import intrinsic

from ._exp_rows32 import FLOOR_LIMIT as FLOOR_W
from ._exp_rows32 import exp_neg_pair_lanes
from ._exp_rows64 import FLOOR_LIMIT as FLOOR_D
from ._exp_rows64 import exp_neg_lanes
from ._lane_log1p import log1p_lanes, log1p_pair_lanes, sum_pair, two_sum
from ._lane_transpose import (
    array_data,
    concat,
    int_like,
    load_columns,
    store_columns,
    tiles,
    vector_part,
)
from ._numba_math import wide_vectors
from ._row_stores import quotient, shifted_pair
from ._vecmap import Lanes, Mask, where

_LINE = 64  # bytes per cache line
# ``softmax_rows``' kind: a tuple whose length names the function at compile time.
SOFTMAX, LOG_SOFTMAX = (0,), (0, 0)
# Finishes a group: (the lane vectors of x, their maxima) → (the quotients, the mask of
# the rows that need no NumPy path).
Finish = Callable[[list[Lanes], Lanes], tuple[list[Lanes], Mask]]


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


def settle(s: Lanes, c: Lanes, start: float, top: Lanes) -> tuple[Lanes, Lanes, Mask]:
    """The compensated sum s + c, begun at ``start``, less ``start`` as a normalised pair
    (hi, lo), and the mask of the rows that need no NumPy path (a sum that is not NaN, a
    finite max); the other rows get the pair (1, 0), their output being discarded."""
    t = s - start  # exact
    hi = t + c
    lo = (t - hi) + c
    ok = (hi == hi) & (abs(top) < math.inf)
    return where(ok, hi, 1.0), where(ok, lo, 0.0), ok


def _finish_d(cols: list[Lanes], top: Lanes) -> tuple[list[Lanes], Mask]:
    """float64 stages 2–5 (the module's list) up to the quotients, rounded once."""
    e = [exp_neg_lanes(col, -top) for col in cols]  # e^(x − m)·2^64
    start = 2.0**64
    s, c = sum_from(e, start)
    sh, sl, ok = settle(s, c, start, top)
    inv = 1.0 / sh
    return [quotient(h, sh, sl, inv) for h in e], ok


def _finish_w(cols: list[Lanes], top: Lanes) -> tuple[list[Lanes], Mask]:
    """float32 stages 2–5: the exps as pairs, the quotients computed ×2^64 (no step is
    subnormal) and rounded once."""
    pairs = [exp_neg_pair_lanes(col, -top) for col in cols]  # eh + el = e^(x − m)·2^32
    start = 2.0**32
    s, c = top.splat(start), top.splat(0.0)
    normalised = []
    for h, low in pairs:
        # The pair normalised (Fast2Sum: its low part then below half an ULP), its high part
        # added to s ≥ it with the error recovered, the small rest in c.
        hh = h + low
        ll = (h - hh) + low
        normalised.append((hh, ll))
        t = s + hh
        c = c + ((hh - (t - s)) + ll)
        s = t
    t_hi, t_lo, ok = settle(s, c, start, top)
    # rh + rl = 2^64/Σ to ~2^−46: a division and one correction with the exact residual.
    r0 = 1.0 / t_hi
    residual = (-t_lo).fma(r0, (-t_hi).fma(r0, 1.0))
    rh = r0 * 2.0**64
    rl = (r0 * residual) * 2.0**64
    # y = (eh + el)·(rh + rl)·2^−64: the small products in one FMA, the large one in the last.
    return [h.fma(rh, low.fma(rh, h * rl)) * 2.0**-64 for h, low in normalised], ok


def _z_wide(cols: list[Lanes], top: Lanes, big: Lanes) -> list[Lanes]:
    """float32 log_softmax's z = (x − m) − log1p(τ) in float64 (x − m exact there), rounded
    once (``big``: log1p(τ), float64 lanes)."""
    m = top.wide()
    return [((col.wide() - m) - big).to(top.element) for col in cols]


# log_softmax over short rows takes its exps with a floor at ``FLOOR_LIMIT`` (−109.5,
# −752.5) instead of the clamp at the exps' LOW (−104, −746), 0 below it (−∞ too): the
# entries just below LOW count in τ (31 at −104.5 give the top entry −1.28e−44 in float32,
# which they once left at 0), and 31 entries below the floor stay under a tenth of the
# smallest subnormal (31·e^−109.5 < 0.07·2^−149, 31·e^−752.5 < 0.01·2^−1074).
def _finish_log_w(cols: list[Lanes], top: Lanes, subtract=_z_wide) -> tuple[list[Lanes], Mask]:
    """float32 log_softmax: z = (x − m) − log1p(τ) by ``subtract`` (``_z_wide``: in float64,
    rounded once, as the long-row kernel's; ``benchmarks/exactness_cost.py`` times others).
    τ = Σ_{x_j < m} e^(x_j − m) + (the maxima but one): the pair exps below the max (with
    the floor said above), their high parts added in plain float64 (each exact in it; n ≤ 32
    additions err by at most n·2^−53 of τ, however small τ is: no start value above the
    terms to absorb it), their low parts (about 2^−24 of the high ones) in float32;
    log1p(τ) in lanes to about 2^−34 (``_lane_log1p.log1p_lanes``; float32's z needs
    2^−30)."""
    neg_m = -top
    high = top.splat(0.0).wide()
    small = top.splat(0.0)
    others = top.splat(-1.0)  # the maxima but one
    for col in cols:
        h, h_low = exp_neg_pair_lanes(col, neg_m, FLOOR_W)  # h + h_low = e^(x − m)·2^32
        is_top = col == top
        high = high + where(is_top, 0.0, h).wide()
        small = small + h_low  # 0 at the max
        others = others + where(is_top, top.splat(1.0), 0.0)
    total = others.wide().fma(2.0**32, high + small.wide())
    ok = (total == total) & (abs(top) < math.inf)
    big = log1p_lanes(where(ok, total * 2.0**-32, 0.0))
    return subtract(cols, top, big), ok


def _finish_log_d(cols: list[Lanes], top: Lanes, shift=shifted_pair) -> tuple[list[Lanes], Mask]:
    """float64 log_softmax, as the long-row kernel's: z = x − M, M = m + log1p(τ) as a pair
    (``log1p_pair_lanes``), x − M by TwoSum, one rounding. τ as a pair: the exponentials
    below the max (with the floor said above ``_finish_log_w``) added by TwoSum, each
    error kept, and the other maxima's 1 each. (Added from 2^64 as softmax's sum, the
    errors' own sum would carry n·2^−53 of a tiny τ, which −log1p(τ) ≈ −τ shows: 2.2 ULP
    measured where one entry stands 40 above 31 others.) ``shift``: x, −Mh, −Ml → z
    (``benchmarks/exactness_cost.py`` times a cheaper one)."""
    neg_m = -top
    e = [exp_neg_lanes(col, neg_m, FLOOR_D) for col in cols]
    tops = [col == top for col in cols]
    below = [where(t, 0.0, h) for h, t in zip(e, tops, strict=True)]
    one = top.splat(1.0)
    others = top.splat(-1.0)  # the maxima but one
    for t in tops:
        others = others + where(t, one, 0.0)
    sh, sl = sum_pair(below)
    th, tl = two_sum(others * 2.0**64, sh)
    tl = tl + sl
    ok = (th == th) & (tl == tl) & (abs(top) < math.inf)
    th, tl = where(ok, th * 2.0**-64, 0.0), where(ok, tl * 2.0**-64, 0.0)
    big, small = log1p_pair_lanes(th, tl)
    mh, ml = two_sum(top, big)
    neg_mh, neg_ml = -mh, -(ml + small)
    return [shift(col, neg_mh, neg_ml) for col in cols], ok


# Rows per call of ``softmax_rows``: groups of 8 float32 or 4 float64 lanes (one 32-byte
# register), computed side by side as one vector of 8 (float64: LLVM splits it into two
# registers, so that the two groups' chains of dependent operations, the sum's and the
# reciprocal's above all, interleave. Measured together with a change since undone (the
# staging block of rows_short aligned like the output): the float64 rows of 10 took
# 0.93–0.97× their time before, `python benchmarks/ab.py 56392b8 --cases softmax10,
# softmax10_l3 --rounds 21`; float32's pair exp on 16 lanes spilled registers and was
# slower). With AVX-512 (32 registers of 64 bytes) a call takes 16 rows, and all but the
# float64 softmax compute them as one vector of 16: the rows of 10 took 0.81–0.90× the
# time (float32), 0.82–0.87× (float64 log_softmax); the float64 softmax took 0.96–1.07×
# that way, so it computes its 16 rows as two vectors of 8 in turn (1.01×; `python
# benchmarks/ab.py b0479b6 --cases softmax10,log_softmax10 --rounds 11`, 1 and 2 threads). The
# Jacobian products (``_lane_products``) keep 8 rows per call: at 16 their float64 rows
# took 1.14–1.18× the time.
ROWS_PER_CALL = 16 if wide_vectors() else 8
PRODUCT_ROWS_PER_CALL = 8
# Per function (the length of ``softmax_rows``' kind tuple), per dtype: rows per group (one
# 32-byte register of lanes), the group's finish, and the most rows computed as one vector.
_BY_KIND: dict[int, dict[types.Type, tuple[int, Finish, int]]] = {
    len(SOFTMAX): {types.float32: (8, _finish_w, 16), types.float64: (4, _finish_d, 8)},
    len(LOG_SOFTMAX): {
        types.float32: (8, _finish_log_w, 16),
        types.float64: (4, _finish_log_d, 16),
    },
}


def _group_columns(builder, src, start, n, plan, lanes, size):
    """The column vectors (IR values) of the group of rows that starts at src[start]
    (``load_columns``, one per tile; a tile may overlap the one before)."""
    cols: list = []
    for k0, w in plan:
        at = builder.add(start, int_like(k0, start))
        loaded = load_columns(builder, src, at, n, lanes, w, size)
        cols += loaded[len(cols) - k0 :]
    return cols


def lane_max(cols: list[Lanes]) -> Lanes:
    """The maxima of the lanes over the columns, from −∞, passing over NaN entries."""
    top = cols[0].splat(-math.inf)
    for col in cols:
        top = where(col > top, col, top)
    return top


def lane_min(cols: list[Lanes]) -> Lanes:
    """The minima of the lanes over the columns, from +∞, passing over NaN entries."""
    low = cols[0].splat(math.inf)
    for col in cols:
        low = where(col < low, col, low)
    return low


def sum_from(terms: list[Lanes], start: float) -> tuple[Lanes, Lanes]:
    """(s, c): the terms added to ``start`` by Fast2Sum, each addition's error in c (exact
    where every term is at most s, e.g. exponentials scaled by 2^p below start = 2^p)."""
    s, c = terms[0].splat(start), terms[0].splat(0.0)
    for h in terms:
        t = s + h
        c = c + (h - (t - s))
        s = t
    return s, c


def prefetch_rows(builder, src, start, ahead, width, size, rows):
    """Asks for the lines of a call's ``rows`` rows of ``width`` ``ahead`` elements past
    src[start], where ahead > 0."""
    with builder.if_then(builder.icmp_signed(">", ahead, int_like(0, ahead))):
        further = builder.add(start, ahead)
        for offset in range(0, rows * width, _LINE // size):
            _prefetch(builder, src, builder.add(further, int_like(offset, further)))


def load_rows(builder, src, start, width, plan, lanes, size, count) -> list[Lanes]:
    """The lane vectors of a call's rows (``width`` entries each) from src[start]: ``count``
    groups of ``lanes`` rows, side by side in one vector."""
    n = _ir().Constant(_ir().IntType(64), width)
    groups = [
        _group_columns(
            builder, src, builder.add(start, int_like(k * lanes * width, start)),
            n, plan, lanes, size,
        )
        for k in range(count)
    ]  # fmt: skip
    while len(groups) > 1:  # side by side, pairwise: count is a power of 2
        groups = [
            [concat(builder, a, b) for a, b in zip(left, right, strict=True)]
            for left, right in zip(groups[::2], groups[1::2], strict=True)
        ]
    return [Lanes(builder, col) for col in groups[0]]


def store_rows(builder, dst, start, width, plan, lanes, size, count, results, ok, bad, i0):
    """The inverse of ``load_rows`` for the results, into dst[start…]; bad[i0 + j] = 1 for
    the rows j that ``ok`` does not hold, else 0."""
    ir = _ir()
    n = ir.Constant(ir.IntType(64), width)
    flags = ir.VectorType(ir.IntType(8), count * lanes)
    flag_at = builder.bitcast(builder.gep(bad, [i0]), flags.as_pointer())
    builder.store(builder.zext(builder.not_(ok.v), flags), flag_at, align=1)
    for k in range(count):
        mine = [r.v if count == 1 else vector_part(builder, r.v, k, count) for r in results]
        for k0, w in plan:
            at = builder.add(start, int_like(k * lanes * width + k0, start))
            store_columns(builder, dst, at, n, lanes, mine[k0 : k0 + w], size)


@intrinsic
def softmax_rows(typingctx, dst, dstart, x, xstart, n, kind, ahead, bad, i0):
    """dst[dstart + j·n + k] = softmax (or log_softmax) of row j of x[xstart + j·n : …] at
    k, for the call's ``ROWS_PER_CALL`` rows j (groups of 8 float32 or 4 float64 lanes);
    bad[i0 + j] = 1 for a row the NumPy path must take (its output is then meaningless),
    else 0. ``n``: a tuple whose length is the row length (2 ≤ n ≤ 32); ``kind``:
    ``SOFTMAX`` or ``LOG_SOFTMAX`` (a tuple whose length names the function); ``ahead`` > 0:
    prefetch the call's lines that many elements further on."""
    if not isinstance(n, types.UniTuple) or not 2 <= n.count <= 32:
        return None
    if not isinstance(kind, types.UniTuple) or kind.count not in _BY_KIND:
        return None
    by_dtype = _BY_KIND[kind.count]
    if not (isinstance(x, types.Array) and x.dtype in by_dtype):
        return None
    element = x.dtype
    lanes, finish, most = by_dtype[element]
    rows = min(most, ROWS_PER_CALL)  # rows in one vector
    count = rows // lanes  # groups per vector
    if not (isinstance(dst, types.Array) and dst.dtype == element):
        return None
    if not (isinstance(bad, types.Array) and bad.dtype == types.int8):
        return None
    width = n.count
    plan = [(int(k0), int(w)) for k0, w in tiles.py_func(width, lanes)]
    size = element.bitwidth // 8

    def gen(context, builder, signature, args):
        dst_v, dstart_v, x_v, xstart_v, _, _, ahead_v, bad_v, i0_v = args
        src = array_data(context, builder, signature.args[2], x_v)
        prefetch_rows(builder, src, xstart_v, ahead_v, width, size, ROWS_PER_CALL)
        bad_data = array_data(context, builder, signature.args[7], bad_v)
        out = array_data(context, builder, signature.args[0], dst_v)
        for first in range(0, ROWS_PER_CALL, rows):
            xs, ds = (builder.add(v, int_like(first * width, v)) for v in (xstart_v, dstart_v))
            cols = load_rows(builder, src, xs, width, plan, lanes, size, count)
            ys, ok = finish(cols, lane_max(cols))
            flags_at = builder.add(i0_v, int_like(first, i0_v))
            store_rows(
                builder, out, ds, width, plan, lanes, size, count, ys, ok, bad_data, flags_at
            )
        return context.get_dummy_value()

    return types.none(dst, dstart, x, xstart, n, kind, ahead, bad, i0), gen
