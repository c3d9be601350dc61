"""The Jacobian products of softmax and log_softmax over short rows, a group of rows at once
in registers
(LLVM IR intrinsics, AVX2, unrolled for the row length n): ``_lane_softmax``'s layout, one
row per vector lane, 8 rows per call (one float32 group, two float64 groups side by side).

For each group, ``product_rows`` loads the rows of x and of the cotangent g into lanes
(``_lane_transpose``), then, as the long-row kernels of ``row_products`` do per row:

1. the exponentials e_j = e^(x_j − m) with the row kernels' exps, bit for bit, and y_j =
   e_j / Σ e: float32 rows in float64 from the exact float32 pairs; float64 rows from the
   compensated sum as a pair (``quotient``, half an ULP);
2. a = g at the max (the mean over tied maxima) and s = Σ y_j (a − g_j) over every entry
   (the maxima's terms are 0, or with ties a's rounding, which t must take back; float64
   rows: each addition's error recovered by TwoSum);
3. t_j = (g_j − a) + s with g_j − a an exact pair; out = y ⊙ t (softmax's VJP and JVP),
   or t (log_softmax's JVP), rounded once and moved back to rows.

log_softmax's VJP (``product_rows_lsm``, ``_finish_lsm``) is ``row_products``' float64 row
in lanes: τ and Σ g as pairs, g − e·(Σ g/(1 + τ)) by two FMAs, the unique max's entry
(g_k τ − Σ_{i≠k} g_i)/(1 + τ) from exact terms, and the rows where g − y Σ g cancels beyond
``row_products.CANCEL_D`` flagged. float32 rows take it widened: float64 exponentials,
flagged only beyond ``CANCEL_WIDE``; the lanes are then doubles, 8 rows in two registers, as
float64's.

As in the long-row kernels, a −∞ entry takes no part (its output is 0; log_softmax's VJP
reads its g as 0), and an entry below the exp's clamp (x − m < −104 in float32, −746 in
float64 and in log_softmax's VJP) is *far*: its y is taken as 0. Whether such a y could
still show in a product, the long-row kernels weigh entry by entry
(``row_products._far_visible``); here a far entry is kept only where it lies so far below
the clamp that it cannot show whatever g holds (``CUT_W``, ``CUT_D``): the masks of
attention (−1e4, −1e9 added, or −∞) stay on the kernel, and a row with an entry between the
cut and the clamp is flagged. This work is compiled into a second version of the finish,
which a call runs only where one of its rows has a far entry (``_any_far``, on the rows'
minima): unmasked rows pay one minimum per entry for it.

A row is flagged for the NumPy path where its sum is NaN or its max not finite (NaN or +∞
in x, or only −∞), where Σ|g| is not below ``row_products.G_LIMIT`` (NaN or ±∞ in g; in
log_softmax's VJP over the entries that are not −∞), and where an entry lies between the
cut and the clamp.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from numba import types
from numba.extending import intrinsic

from ._exp_rows32 import LOW as LOW_W
from ._exp_rows32 import exp_neg_pair_lanes
from ._exp_rows64 import LOW as LOW_D
from ._exp_rows64 import exp_neg_lanes
from ._lane_log1p import sum_pair, two_sum
from ._lane_softmax import (
    PRODUCT_ROWS_PER_CALL,
    lane_max,
    lane_min,
    load_rows,
    prefetch_rows,
    settle,
    store_rows,
    sum_from,
)
from ._lane_transpose import array_data, tiles
from ._row_stores import quotient
from ._vecmap import Lanes, Mask, where
from .row_products import (
    CANCEL_D,
    CANCEL_WIDE,
    G_LIMIT,
    HALF_TINY_LOG2_D,
    HALF_TINY_LOG2_W,
)

# (the lane vectors of x, of g, their maxima, times_y, far) → (the outputs, the mask of the
# rows that need no NumPy path); far: whether a row of the call has a far entry (or −∞), else
# the finish does no far work
Finish = Callable[[list[Lanes], list[Lanes], Lanes, bool, bool], tuple[list[Lanes], Mask]]


def _shifted(g: Lanes, a: Lanes, s: Lanes) -> Lanes:
    """(g − a) + s with g − a an exact pair (double lanes)."""
    hi, lo = two_sum(g, -a)
    return hi + (lo + s)


def _top_mean(gs: list[Lanes], tops: list[Mask]) -> Lanes:
    """The mean of g over the entries at the max (double lanes)."""
    one = gs[0].splat(1.0)
    count = where(tops[0], one, 0.0)
    total = where(tops[0], gs[0], 0.0)
    for g, top in zip(gs[1:], tops[1:], strict=True):
        count = count + where(top, one, 0.0)
        total = total + where(top, g, 0.0)
    return total / count


def _far_cut(half_tiny_log2: float, g_bound: float) -> float:
    """The x − m below which an entry's y never shows in a product whatever its g: the cut
    of ``row_products._far_visible`` at its largest factor (n ≤ 32 entries, |a| + Σ|g| + |s|
    ≤ 4 Σ|g| < 4·g_bound; log_softmax's VJP, |Σ g|/(1 + τ) ≤ Σ|g|, needs less), less 1 for
    the rounding of x − m."""
    return half_tiny_log2 * math.log(2.0) - math.log(32 * 4 * g_bound + 1.0) - 1.0


CUT_W = _far_cut(HALF_TINY_LOG2_W, 32 * 2.0**128)  # about −201: Σ|g| of float32 g is finite
CUT_D = _far_cut(HALF_TINY_LOG2_D, G_LIMIT)  # about −1375


def _far_ok(d: Lanes, low: float, cut: float) -> Mask:
    """x − m = d at or above the exp's clamp, or below ``cut`` (−∞ too); false for NaN and
    for an entry between the two."""
    return (d > low) | (d == low) | (d < cut)


def _usable(cols: list[Lanes], gs: list[Lanes]) -> list[Lanes]:
    """g with 0 at the −∞ entries of x, which take no part."""
    return [where(col > -math.inf, g, 0.0) for col, g in zip(cols, gs, strict=True)]


def _zero_at_minus_inf(outs: list[Lanes], cols: list[Lanes]) -> list[Lanes]:
    return [where(col > -math.inf, o, 0.0) for o, col in zip(outs, cols, strict=True)]


def _g_ok(gs: list[Lanes]) -> Mask:
    """Σ|g| below G_LIMIT (false for NaN or ±∞ in g)."""
    size = abs(gs[0])
    for g in gs[1:]:
        size = size + abs(g)
    return size < G_LIMIT


def _products(ys: list[Lanes], gs: list[Lanes], tops: list[Mask], times_y: bool, compensated):
    """Steps 2 and 3 (double lanes)."""
    a = _top_mean(gs, tops)
    s = a.splat(0.0)
    c = a.splat(0.0)
    for y, g in zip(ys, gs, strict=True):
        term = y * (a - g)
        if compensated:
            s, err = two_sum(s, term)
            c = c + err
        else:
            s = s + term
    s = s + c
    shifted = [_shifted(g, a, s) for g in gs]
    return [y * t for y, t in zip(ys, shifted, strict=True)] if times_y else shifted


def _finish_d(cols: list[Lanes], gcols: list[Lanes], top: Lanes, times_y: bool, far: bool):
    e = [exp_neg_lanes(col, -top) for col in cols]  # e^(x − m)·2^64
    start = 2.0**64
    s, c = sum_from(e, start)
    sh, sl, ok = settle(s, c, start, top)
    inv = 1.0 / sh
    # A far entry's y is 0 already: its clamped e^−746·2^64 over sh ≥ 2^64 rounds to 0.
    ys = [quotient(h, sh, sl, inv) for h in e]
    ok = ok & _g_ok(gcols)
    tops = [col == top for col in cols]
    outs = _products(ys, gcols, tops, times_y, True)
    if not far:
        return outs, ok
    for col in cols:
        ok = ok & _far_ok(col + (-top), LOW_D, CUT_D)
    return _zero_at_minus_inf(outs, cols), ok


def _finish_w(cols: list[Lanes], gcols: list[Lanes], top: Lanes, times_y: bool, far: bool):
    neg_m = -top
    e = []
    for col in cols:
        h, low = exp_neg_pair_lanes(col, neg_m)  # h + low = e^(x − m)·2^32
        if far:  # y = 0 at a far entry (the clamped pair, once divided, is not 0 in float64)
            d = col + neg_m  # x − m as the exp forms it
            h, low = where(d < float(LOW_W), 0.0, h), where(d < float(LOW_W), 0.0, low)
        e.append(h.wide() + low.wide())  # rounded far below the pair's own error
    total = e[0]
    for h in e[1:]:
        total = total + h
    ok = (total == total) & (abs(top) < math.inf)
    inv = 1.0 / total
    ys = [h * inv for h in e]
    gs = [g.wide() for g in gcols]
    ok = ok & _g_ok(gs)
    tops = [col == top for col in cols]
    outs = [o.to(top.element) for o in _products(ys, gs, tops, times_y, False)]
    if not far:
        return outs, ok
    for col in cols:
        ok = ok & _far_ok(col + neg_m, float(LOW_W), CUT_W)
    return _zero_at_minus_inf(outs, cols), ok


def _finish_lsm(
    cols: list[Lanes], gs: list[Lanes], top: Lanes, cancel: float, far: bool, cut: float
):
    """log_softmax's VJP g − y Σ g over double lanes (float32 rows widened: their
    exponentials then carry float64's rounding, as the NumPy path's y), ``row_products``'
    float64 row in lanes: τ and Σ g as pairs, Σ g/(1 + τ) a pair, at a unique max
    (g_k τ − Σ_{i≠k} g_i)/(1 + τ) from exact terms; a row whose F (as in ``row_products``)
    exceeds ``cancel`` is flagged, and (``far``) one with an entry between ``cut`` and the
    clamp."""
    neg_m = -top
    e = [exp_neg_lanes(col, neg_m) for col in cols]  # e^(x − m)·2^64
    if far:  # g read as 0 at −∞; e 0 at a far entry, not in τ (one entry and −∞: τ = 0)
        gs = _usable(cols, gs)
        ds = [col + neg_m for col in cols]
        e = [where(d < LOW_D, 0.0, h) for h, d in zip(e, ds, strict=True)]
    tops = [col == top for col in cols]
    one = top.splat(1.0)
    count = where(tops[0], one, 0.0)
    for t in tops[1:]:
        count = count + where(t, one, 0.0)
    unique = count == 1.0
    # Σ e from 2^64 up by Fast2Sum (every e ≤ 2^64 ≤ s: each addition's error exact in c);
    # τ·2^64 = Σ e − 2^64 (one maximum's e^0; tied maxima stay in τ): s − 2^65 is exact. c's
    # own sum rounds, so a tiny τ carries about n·2^−53 of itself (log_softmax's forward
    # kernels sum below the max instead: ``_lane_softmax._finish_log_d``, ``rows64.tau_d``).
    start = 2.0**64
    s, c = sum_from(e, start)
    ok = (s == s) & (abs(top) < math.inf)
    th, tl = two_sum(s - 2.0 * start, c)
    th, tl = th * 2.0**-64, tl * 2.0**-64
    one_h, one_l = two_sum(one, th)
    one_l = one_l + tl
    inv = 1.0 / one_h
    inv = inv - inv * ((one_h.fma(inv, -1.0)) + one_l * inv)  # 1/(1 + τ), refined
    gh, gl = sum_pair(gs)
    # Σ g/(1 + τ) as a pair: a quotient and one exact-residual step (``div_dd_pair``)
    ch = gh * inv
    cl = (((-ch).fma(one_h, gh) + gl) - ch * one_l) * inv
    ch, cl = ch * 2.0**-64, cl * 2.0**-64
    outs = []
    for h, g in zip(e, gs, strict=True):
        ne = -h
        outs.append(ne.fma(cl, ne.fma(ch, g)))
    # the top entry: g_k τ − (Σ g − g_k), the terms exact
    gk = where(tops[0], gs[0], 0.0)
    for g, t in zip(gs[1:], tops[1:], strict=True):
        gk = where(t, g, gk)
    ph = gk * th
    pl = gk.fma(th, -ph) + gk * tl
    oh, ol = two_sum(gh, -gk)
    nh, nl = two_sum(ph, -oh)
    top_out = (nh + ((nl + pl) - (ol + gl))) * inv
    outs = [where(t & unique, top_out, o) for o, t in zip(outs, tops, strict=True)]
    # F: the largest y_j |Σ g| below the max (e_j |ch|·2^64 scale) against the largest |out|
    below = [where(t & unique, 0.0, h) for h, t in zip(e, tops, strict=True)]
    tau = th + tl
    tau_term = where(unique, abs(gh) * tau * inv * inv, 0.0)
    risk = abs(ch) * lane_max(below) + tau_term
    size = lane_max([abs(o) for o in outs])
    ok = ok & ((risk < size * cancel) | (risk == size * cancel))
    ok = ok & _g_ok(gs)
    if not far:
        return outs, ok
    for d in ds:
        ok = ok & _far_ok(d, LOW_D, cut)
    return _zero_at_minus_inf(outs, cols), ok


def _finish_lsm_d(cols: list[Lanes], gcols: list[Lanes], top: Lanes, _: bool, far: bool):
    return _finish_lsm(cols, gcols, top, CANCEL_D, far, CUT_D)


def _finish_lsm_w(cols: list[Lanes], gcols: list[Lanes], top: Lanes, _: bool, far: bool):
    """float32 rows widened: their far entries (below −746) are below float32's cut, so
    none is flagged."""
    wide, gs = [col.wide() for col in cols], [g.wide() for g in gcols]
    outs, ok = _finish_lsm(wide, gs, top.wide(), CANCEL_WIDE, far, CUT_W)
    return [o.to(top.element) for o in outs], ok


# Per dtype: rows per group, the finish, and its far entries' test: the exp's clamp on x − m,
# formed in double lanes or not (float32 rows widened for log_softmax's VJP).
_Kind = tuple[int, Finish, float, bool]
_BY_DTYPE: dict[types.Type, _Kind] = {
    types.float32: (8, _finish_w, float(LOW_W), False),
    types.float64: (4, _finish_d, LOW_D, False),
}
_LSM_BY_DTYPE: dict[types.Type, _Kind] = {
    types.float32: (8, _finish_lsm_w, LOW_D, True),
    types.float64: (4, _finish_lsm_d, LOW_D, False),
}


def _any_far(builder, cols: list[Lanes], top: Lanes, low: float, wide: bool):
    """Whether a row of the call has an entry with x − m below ``low`` (−∞ too), as the
    finish forms x − m: from the rows' minima (an i1)."""
    from llvmlite import ir

    if wide:
        cols, top = [col.wide() for col in cols], top.wide()
    far = (lane_min(cols) + (-top)) < low
    bits = builder.bitcast(far.v, ir.IntType(top.width))
    return builder.icmp_unsigned("!=", bits, ir.Constant(bits.type, 0))


def _product_rows(by_dtype: dict[types.Type, _Kind], times_y: bool):
    """The intrinsic ``product_rows`` for one product: ``by_dtype``'s finish (``times_y``:
    softmax's y ⊙ t)."""

    @intrinsic
    def product_rows(typingctx, dst, dstart, x, g, xstart, n, ahead, bad, i0):
        """dst[dstart + j·n + k] = the product at entry k of row j of x[xstart + j·n : …]
        and g[xstart + j·n : …], for the call's ``PRODUCT_ROWS_PER_CALL`` rows j; bad[i0 + j] = 1
        for a row the NumPy path must take (its output is then meaningless), else 0.
        ``n``: a tuple whose length is the row length (2 ≤ n ≤ 32); ``ahead`` > 0: prefetch
        the call's lines of x and g that many elements further on."""
        if not isinstance(n, types.UniTuple) or not 2 <= n.count <= 32:
            return None
        if not (isinstance(x, types.Array) and x.dtype in by_dtype):
            return None
        element = x.dtype
        for a in (dst, g):
            if not (isinstance(a, types.Array) and a.dtype == element):
                return None
        if not (isinstance(bad, types.Array) and bad.dtype == types.int8):
            return None
        lanes, finish, low, wide = by_dtype[element]
        count = PRODUCT_ROWS_PER_CALL // lanes  # groups per call
        width = n.count
        plan = [(int(k0), int(w)) for k0, w in tiles.py_func(width, lanes)]
        size = element.bitwidth // 8

        def gen(context, builder, signature, args):
            dst_v, dstart_v, x_v, g_v, xstart_v, _, ahead_v, bad_v, i0_v = args
            xcols, gcols = [], []
            for k, v, cols in ((2, x_v, xcols), (3, g_v, gcols)):
                src = array_data(context, builder, signature.args[k], v)
                prefetch_rows(builder, src, xstart_v, ahead_v, width, size, PRODUCT_ROWS_PER_CALL)
                cols += load_rows(builder, src, xstart_v, width, plan, lanes, size, count)
            top = lane_max(xcols)
            bad_data = array_data(context, builder, signature.args[7], bad_v)
            out = array_data(context, builder, signature.args[0], dst_v)
            # Two versions of the finish: the far entries' work only where a row has one.
            with builder.if_else(_any_far(builder, xcols, top, low, wide)) as paths:
                for path, far in zip(paths, (True, False), strict=True):
                    with path:
                        outs, ok = finish(xcols, gcols, top, times_y, far)
                        store_rows(
                            builder, out, dstart_v, width, plan, lanes, size, count,
                            outs, ok, bad_data, i0_v,
                        )  # fmt: skip
            return context.get_dummy_value()

        return types.none(dst, dstart, x, g, xstart, n, ahead, bad, i0), gen

    return product_rows


product_rows_y = _product_rows(_BY_DTYPE, True)  # y ⊙ ((g − a) + s): softmax's VJP and JVP
product_rows_t = _product_rows(_BY_DTYPE, False)  # (g − a) + s: log_softmax's JVP
product_rows_lsm = _product_rows(_LSM_BY_DTYPE, False)  # g − y Σ g: log_softmax's VJP
