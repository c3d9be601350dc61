"""Compiled float64 row kernels: softmax, log_softmax over the last axis (numba), and the τ
passes that the fused float64 cross-entropy shares.

Per row, as in ``rows32``: the exponentials e_j = e^(x_j − m)·2^64 from the lean exp of
``_exp_rows64`` (of the exact x − m, rounded once) into a per-thread scratch row (never
a full-size temporary) and, in the same pass, their compensated sum in 16 lanes held in
registers (``exp_sum_row`` over ``_lane_sums.exp_sums_from``); the output, streamed to
memory (``_row_stores``). The exp pass of row r also finds the max of row r + 1 (integer
order keys), so the core computes while the next row streams in.

log_softmax and the cross-entropy take τ = Σe − 1 from that same exp pass, as ``rows32``
does (``tau_lean_d``): no drop of the maxima in the exp loop, no count of them; τ is
summed again without them only where it is tiny.

NaN propagates through the exp and the sums (+∞ − ∞ is NaN too), and a row whose max is
not finite is caught by its max: such rows are flagged, not computed, and the caller gives
them to the NumPy path and its hard-row contract. −∞ entries of other rows are exact here
(their exponential is 0).

The exp loops repeat one shape on purpose: numba's disk cache only holds functions
defined at module level, so a loop cannot be made by a factory (docs/performance.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._exp_rows64 import LOW, UNSCALE, exp_neg_d
from ._lane_sums import LANES, TOP, exp_sums_from, lane_sums_from
from ._numba_math import KERNEL, PARALLEL, REDUCE, SCALAR
from ._order_keys import first_max, from_key, lowest_key, max_key, order_key
from ._row_stores import store_quotient, store_shifted_pair
from ._stream import fence
from .rows import TINY_TAU_D, _two_sum, log1p_dd, visible_far


@njit(**KERNEL)
def new_lanes():
    """The per-thread scratch of ``lane_total``: the lanes' sums and their errors."""
    return np.empty(LANES, dtype=np.float64), np.empty(LANES, dtype=np.float64)


@njit(**KERNEL)
def _exp_row_tau(row, m, e, nxt):
    """``exp_sum_row``'s exponentials for τ = Σ_{x_j ≠ m} e^(x_j − m), without the sum: the
    maxima and the entries below −746 give exactly 0 (log_softmax's top entry is −τ, which
    may be subnormal: there e^−746 would count); returns the max key of ``nxt``."""
    neg_m = -m
    k = lowest_key(nxt)
    for j in range(row.shape[0]):
        v = row[j]
        h = exp_neg_d(v, neg_m)
        drop = (v == m) | (v + neg_m < LOW)
        e[j] = 0.0 if drop else h
        key = order_key(nxt[j])
        k = key if key > k else k
    return k


@njit(**KERNEL)
def exp_sum_row(row, m, e, nxt, s, c):
    """One pass over the row: e_j = e^(x_j − m)·2^64 (entries below −746 give e^−746·2^64,
    which rounds to 0 in y), their compensated sum from 2^64 as a pair (hi, lo)
    (``lane_total``), and the max key of ``nxt`` (the next row): (key, hi, lo). ``s`` and
    ``c`` are the lanes' scratch (``new_lanes``).

    The lanes' part is one IR loop (``_lane_sums.exp_sums_from``), the last n mod LANES
    entries this loop's own. An exp loop and a sum loop over e (in numba, the lanes fused
    into the exp loop cost twice the exp: that loop no longer vectorised) read a row of
    8192 from L2 twice; the one pass gives the same bits in 0.97–0.98× the time of float64
    softmax over 8192×8192, 0.96× of log_softmax over 65536×1000, 0.89–0.93× of the
    cross-entropy (`python benchmarks/ab.py b05172b --cases softmax8192,log_softmax1000,ce
    --rounds 9`, 1 and 2 threads)."""
    neg_m = -m
    key = exp_sums_from(row, neg_m, e, nxt, s, c, TOP)
    for j in range(LANES * (row.shape[0] // LANES), row.shape[0]):
        e[j] = exp_neg_d(row[j], neg_m)
        v = order_key(nxt[j])
        key = v if v > key else key
    sh, sl = lanes_combined(e, s, c, TOP)
    return key, sh, sl


@njit(**KERNEL)
def lane_total(a, s, c, top):
    """Σ a as a pair (hi, lo), compensated: the row in LANES Fast2Sum chains started at
    ``top`` (a power of two ≥ 2·Σ|a|; ``_lane_sums``, in registers), each lane then less
    ``top`` (exact), the last entries and the lanes added by TwoSum. The chains' errors are
    summed with rounding, about n·2^−53 of them: negligible against Σ a where top is near
    2·Σ|a|, not where it is far above (a tiny τ summed from 2^64)."""
    lane_sums_from(a, s, c, top)
    return lanes_combined(a, s, c, top)


@njit(**SCALAR)
def lanes_combined(a, s, c, top):
    """The end of ``lane_total`` once the lanes hold their sums (s) and errors (c): the last
    entries of ``a`` and the lanes added by TwoSum, as a pair."""
    h = 0.0
    lo = 0.0
    for j in range(LANES * (a.shape[0] // LANES), a.shape[0]):
        h, err = _two_sum(h, a[j])
        lo += err
    for k in range(LANES):
        h, err = _two_sum(h, s[k] - top)
        lo += err + c[k]
    return _two_sum(h, lo)


@njit(**SCALAR)
def pow2_above(v):
    """The least power of two ≥ v (v ≥ 0, finite)."""
    return math.ldexp(1.0, math.frexp(v)[1])


@njit(**REDUCE)
def _count_top(row, m):
    """How many entries of the row equal its max m (a pass of its own: a counter inside the
    exp loop keeps that loop scalar)."""
    c = 0.0
    for j in range(row.shape[0]):
        c += 1.0 if row[j] == m else 0.0
    return c


@njit(**KERNEL)
def tau_d(row, m, e, nxt, s, c, bound):
    """(τ as a pair th + tl, n_top, the next row's max key), τ = Σ_{x_j ≠ m} e^(x_j − m) +
    (n_top − 1); the scaled exponentials stay in e (0 at the max). th is NaN for a row
    holding NaN or +∞, or only −∞ (the caller flags it). ``bound`` ≥ Σ_{x_j ≠ m} e^(x_j − m)
    within a factor of 2 (the lean τ): the lanes start just above the sum, so that a tiny
    τ keeps its relative accuracy (from 2^64, a τ of 1e−16 over 32 entries lost 3 ULP of
    log_softmax's top entry)."""
    if not abs(m) < math.inf:  # +∞ or a positive NaN is the max, or every entry is −∞
        return math.nan, 0.0, 0.0, max_key(nxt)
    key = _exp_row_tau(row, m, e, nxt)
    sh, sl = lane_total(e, s, c, pow2_above(4.0 * bound * 2.0**64))
    n_top = _count_top(row, m)
    th, err = _two_sum(sh * UNSCALE, n_top - 1.0)  # the unscaling is exact unless subnormal
    return th, err + sl * UNSCALE, n_top, key


# Below this τ the lean τ (``tau_lean_d``) is summed again without the maxima and the far
# entries: its absolute error (the far entries' e^−746 each, the sum's ~2^−100·(1 + τ))
# would show there in log1p(τ) ≈ τ; above it, τ's relative error is at most its terms'
# (0.70·2^−52, the exp's), as all terms are positive.
TAU_EXACT_BELOW = 2.0**-32


@njit(**SCALAR)
def tau_lean_d(row, m, e, nxt, s, c):
    """(th, tl, the next row's max key, whether τ was summed again): τ = th + tl for
    log_softmax and the cross-entropy, from softmax's exp pass (no drop, no count of the
    maxima: a pass of its own, and the drop costs the exp loop a fifth of its speed).

    The sum then holds every maximum's e^0 = 2^64 exactly, and τ = Σ e_j·2^−64 − 1 (the
    subtraction exact, as a pair) is the same τ. Where τ < ``TAU_EXACT_BELOW`` (one entry
    far above the rest) it is summed again by ``tau_d``, whose exponentials then hold 0
    at the maxima and the far entries (below ``rows.TINY_TAU_D`` a row with entries just
    below −746 is flagged). th is NaN for a row holding NaN or +∞, or only −∞ (the caller
    flags it)."""
    if not abs(m) < math.inf:  # +∞ or a positive NaN is the max, or every entry is −∞
        return math.nan, 0.0, max_key(nxt), False
    key, sh, sl = exp_sum_row(row, m, e, nxt, s, c)
    th, err = _two_sum(sh * UNSCALE, -1.0)  # S ≥ 2^64: the unscaling is exact
    tl = err + sl * UNSCALE
    exact = th < TAU_EXACT_BELOW
    if exact:
        th, tl, _, _ = tau_d(row, m, e, row, s, c, th)
        if th < TINY_TAU_D and visible_far(row, m, LOW, row.shape[0]) > 0.0:
            th = math.nan  # entries below −746 would count: the NumPy path
    return th, tl, key, exact


@njit(**PARALLEL)
def softmax_d(x, out, flags, chunk):
    """float64 softmax: y = e/(sh + sl), the exponential divided by its compensated sum
    (1 + τ)·2^64 as a pair, to about half an ULP (``store_quotient``)."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            key, sh, sl = exp_sum_row(x[r], m, e, nxt, lane_s, lane_c)  # the maxima included
            if sh != sh or not abs(m) < math.inf:
                flags[r] = 1
            else:
                store_quotient(e, sh, sl, out[r])
            m = from_key(key)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def log_softmax_d(x, out, flags, chunk):
    """float64 log_softmax: z = x − M, M = m + log1p(τ) as a pair (log1p(τ) a pair L + c
    from ``log1p_dd``), x − M an exact TwoSum: one rounding."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            th, tl, key, _ = tau_lean_d(x[r], m, e, nxt, lane_s, lane_c)
            if th != th:
                flags[r] = 1
            else:
                big, corr, _ = log1p_dd(th, tl)
                mh, ml = _two_sum(m, big)  # M = m + log1p(τ) as a pair, once per row
                store_shifted_pair(x[r], -mh, -(ml + corr), out[r])
            m = from_key(key)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def exp_floor_d(x, out):
    """The exp-only floor of these kernels: the same exp (``exp_neg_d``), unscaled, over
    x ≤ 0 (larger x are taken as 0: the kernels only exponentiate x − max ≤ 0)."""
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = exp_neg_d(v if v < 0.0 else 0.0, 0.0) * UNSCALE
