"""Compiled float64 row kernels (softmax, log_softmax over the last axis, numba) and the
building blocks the float32 kernels (``rows32``) and the fused cross-entropy share.

Per row, as in ``rows32``: the exponentials e_j = e^(x_j − m)·2^64 from the lean pair exp
of ``_exp_rows64`` (the exact x − m, a pair good to ~2^−60) into a per-thread scratch row
(never a full-size temporary); their compensated (TwoSum) sum; the scaling, streamed to
memory (``_stream``). The exp pass of row r also finds the max of row r + 1 (integer order
keys), so the core computes while the next row streams in.

τ = Σ_{x_j ≠ m} e_j + (n_top − 1) is kept without its dominant terms, as on the NumPy path
(``functions/_rows.py``): log1p(τ) is then exact where log(1 + τ) would round τ away.
NaN propagates through the exp and the sums (+∞ − ∞ is NaN too), and a row whose max is
not finite is caught by its max: such rows are flagged, not computed, and the caller gives
them to the NumPy path and its hard-row contract. −∞ entries of other rows are exact here
(their exponential is 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._exp_rows64 import LOW, UNSCALE, exp_neg_pair_d, from_key_d, order_key_d
from ._numba_math import KERNEL, PARALLEL, exp_dd, fma
from ._stream import store_quotient, store_shifted_dd

# The reductions over values that are already computed may be reassociated (vectorised).
_SUM = {**KERNEL, "fastmath": {"reassoc", "nsz", "contract"}}
_KEY_MIN = np.int64(-(2**63))


@njit(**KERNEL)
def _two_sum(a, b):
    """(s, e) with s + e = a + b exactly (six operations, any order of magnitude)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


@njit(**KERNEL)
def _sum_dd(a, b):
    """Σ a + Σ b as a pair (hi, lo): a compensated sum of ``a`` plus the small terms ``b``.

    Eight TwoSum lanes in scalar variables (registers): each lane is a chain of dependent
    additions, so eight keep the FP units busy where four left them waiting on latency.
    """
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = 0.0
    for i in range(a.shape[0] // 8):
        i8 = 8 * i
        s0, e0 = _two_sum(s0, a[i8 + 0])
        c0 += e0 + b[i8 + 0]
        s1, e1 = _two_sum(s1, a[i8 + 1])
        c1 += e1 + b[i8 + 1]
        s2, e2 = _two_sum(s2, a[i8 + 2])
        c2 += e2 + b[i8 + 2]
        s3, e3 = _two_sum(s3, a[i8 + 3])
        c3 += e3 + b[i8 + 3]
        s4, e4 = _two_sum(s4, a[i8 + 4])
        c4 += e4 + b[i8 + 4]
        s5, e5 = _two_sum(s5, a[i8 + 5])
        c5 += e5 + b[i8 + 5]
        s6, e6 = _two_sum(s6, a[i8 + 6])
        c6 += e6 + b[i8 + 6]
        s7, e7 = _two_sum(s7, a[i8 + 7])
        c7 += e7 + b[i8 + 7]
    h = 0.0
    lo = 0.0
    for j in range(8 * (a.shape[0] // 8), a.shape[0]):
        h, e = _two_sum(h, a[j])
        lo += e + b[j]
    for v, c in ((s0, c0), (s1, c1), (s2, c2), (s3, c3), (s4, c4), (s5, c5), (s6, c6), (s7, c7)):
        h, e = _two_sum(h, v)
        lo += e + c
    return h, lo


@njit(**KERNEL)
def _sum_compensated(a):
    """Σ a (non-negative terms) with four TwoSum lanes: error ≈ ε·Σ, not n·ε·Σ."""
    s0 = s1 = s2 = s3 = 0.0
    c0 = c1 = c2 = c3 = 0.0
    n4 = a.shape[0] // 4
    for i in range(n4):
        v0, v1, v2, v3 = a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]
        s0, e0 = _two_sum(s0, v0)
        s1, e1 = _two_sum(s1, v1)
        s2, e2 = _two_sum(s2, v2)
        s3, e3 = _two_sum(s3, v3)
        c0 += e0
        c1 += e1
        c2 += e2
        c3 += e3
    for j in range(4 * n4, a.shape[0]):
        s0, e0 = _two_sum(s0, a[j])
        c0 += e0
    return ((s0 + s1) + (s2 + s3)) + ((c0 + c1) + (c2 + c3))


@njit(**_SUM)
def count_top(row, m):
    """How many entries of the row equal its max m (a pass of its own: a counter inside an
    exp loop keeps that loop scalar)."""
    c = 0.0
    for j in range(row.shape[0]):
        c += 1.0 if row[j] == m else 0.0
    return c


@njit(**KERNEL)
def log1p_dd(th, tl):
    """(L, c, τ): log1p(τ) for τ = th + tl (a double-double) as a pair L + c good to ~1e−17,
    and τ rounded once.

    L = log1p(th) from libm (< 1 ULP), then one Newton step in double-double:
    c = (1 + τ)·e^(−L) − 1 ≈ log1p(τ) − L, with e^(−L) from exp_dd and the product's error
    recovered exactly by an FMA. Once per row: its cost does not matter.
    """
    big = math.log1p(th)
    gh, gl = exp_dd(-big, 0.0)
    a, b = _two_sum(1.0, th)  # 1 + τ = a + b + tl
    p = a * gh
    p_err = fma(a, gh, -p)  # the exact error of the product
    c = ((p - 1.0) + p_err) + (a * gl + (b + tl) * gh)
    return big, c, th + tl


# ------------------------------------------------------------------------------- float64
# The float64 kernels follow rows32: the exp pass of row r (``exp_neg_pair_d``) also finds
# the max of row r + 1 over integer order keys, and the output is streamed (``_stream``).


@njit(**KERNEL)
def _max_key_d(row):
    k = _KEY_MIN
    for j in range(row.shape[0]):
        v = order_key_d(row[j])
        k = v if v > k else k
    return k


@njit(**KERNEL)
def first_max_d(x, r0):
    """The max of row r0 of x, which starts a chunk (later rows get theirs from the row
    before)."""
    return from_key_d(_max_key_d(x[r0]))


@njit(**KERNEL)
def _exp_row_d(row, m, eh, el, nxt):
    """eh_j + el_j = e^(x_j − m)·2^64 (entries below −746 give e^−746·2^64, which rounds to
    0 in y); returns the max key of ``nxt`` (the next row)."""
    neg_m = -m
    k = _KEY_MIN
    for j in range(row.shape[0]):
        h, low = exp_neg_pair_d(row[j], neg_m)
        eh[j] = h
        el[j] = low
        v = order_key_d(nxt[j])
        k = v if v > k else k
    return k


@njit(**KERNEL)
def _exp_row_tau_d(row, m, eh, el, nxt):
    """``_exp_row_d`` for τ = Σ_{x_j ≠ m} e^(x_j − m), as the pairs eh + el: the maxima and
    the entries below −746 give exactly 0 (log_softmax's top entry is −τ, which may be
    subnormal: there e^−746 would count)."""
    neg_m = -m
    k = _KEY_MIN
    for j in range(row.shape[0]):
        v = row[j]
        h, low = exp_neg_pair_d(v, neg_m)
        drop = (v == m) | (v + neg_m < LOW)
        eh[j] = 0.0 if drop else h
        el[j] = 0.0 if drop else low
        key = order_key_d(nxt[j])
        k = key if key > k else k
    return k


@njit(**KERNEL)
def tau_d(row, m, eh, el, nxt):
    """(τ as a pair th + tl, n_top, the next row's max key), τ = Σ_{x_j ≠ m} e^(x_j − m) +
    (n_top − 1); the scaled exponentials stay in eh + el (0 at the max). th is NaN for a row
    holding NaN or +∞, or only −∞ (the caller flags it)."""
    if not abs(m) < math.inf:  # +∞ or a positive NaN is the max, or every entry is −∞
        return math.nan, 0.0, 0.0, _max_key_d(nxt)
    key = _exp_row_tau_d(row, m, eh, el, nxt)
    sh, sl = _sum_dd(eh, el)
    n_top = count_top(row, m)
    th, e = _two_sum(sh * UNSCALE, n_top - 1.0)  # the unscaling is exact unless subnormal
    return th, e + sl * UNSCALE, n_top, key


@njit(**PARALLEL)
def softmax_d(x, out, flags, chunk):
    """float64 softmax: y = (eh + el)/(sh + sl), the exponential and its compensated sum
    (1 + τ)·2^64 as pairs, divided to about half an ULP (``store_quotient``)."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float64)
        el = np.empty(n, dtype=np.float64)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max_d(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            key = _exp_row_d(x[r], m, eh, el, nxt)
            sh, sl = _sum_dd(eh, el)  # the maxima included
            if sh != sh or not abs(m) < math.inf:
                flags[r] = 1
            else:
                store_quotient(eh, el, sh, sl, out[r])
            m = from_key_d(key)


@njit(**PARALLEL)
def log_softmax_d(x, out, flags, chunk):
    """float64 log_softmax: z = (x − m) − log1p(τ), x − m and the difference exact
    TwoSums, log1p(τ) a pair L + c (``log1p_dd``): one rounding."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float64)
        el = np.empty(n, dtype=np.float64)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max_d(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            th, tl, _, key = tau_d(x[r], m, eh, el, nxt)
            if th != th:
                flags[r] = 1
            else:
                big, corr, _ = log1p_dd(th, tl)
                store_shifted_dd(x[r], -m, -big, corr, out[r])
            m = from_key_d(key)


@njit(**PARALLEL)
def exp_floor_d(x, out):
    """The exp-only floor of these kernels: the same exp (``exp_neg_pair_d``), its pair added
    and unscaled, over x ≤ 0 (larger x are taken as 0: the kernels only exponentiate
    x − max ≤ 0)."""
    for i in prange(x.shape[0]):
        v = x[i]
        h, low = exp_neg_pair_d(v if v < 0.0 else 0.0, 0.0)
        out[i] = (h + low) * UNSCALE
