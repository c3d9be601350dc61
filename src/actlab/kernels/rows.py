"""Compiled float64 row kernels (softmax, log_softmax over the last axis, numba) and the
building blocks the float32 kernels (``rows32``) and the fused cross-entropy share.

One DRAM pass per row: the row is read once from memory (max and finiteness), and the later
passes (exponentials, their sum, the scaling) find it in the cache. e_j = exp(x_j − m) goes
to a scratch row (one per thread), never to a full-size temporary. The row's sum is
kept without its dominant terms, τ = Σ_{x_j ≠ m} e_j + (n_top − 1), as on the NumPy path
(``functions/_rows.py``): log1p(τ) is then exact where log(1 + τ) would round τ away.

float64 rows take x − m as an exact TwoSum hi + lo, exp_d(hi)·(1 + lo), and a compensated
(TwoSum) sum, which keeps them within the float64 bars without an extended type. Rows holding
NaN or ±∞ are flagged, not computed: the caller gives them to the NumPy path and its
hard-row contract.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._numba_math import KERNEL, PARALLEL, exp_dd, fma

# The reductions over values that are already computed may be reassociated (vectorised).
_SUM = {**KERNEL, "fastmath": {"reassoc", "nsz", "contract"}}
_FAR = -1.0e300  # x − m below this: e^(x−m) is 0 and TwoSum's error term would be ±∞


@njit(**KERNEL)
def _row_max(row):
    """max(row) with eight independent maxima (a select chain does not vectorise; eight do
    run in parallel). Meaningless for a row with NaN (those rows are flagged)."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    n8 = row.shape[0] // 8
    for i in range(n8):
        b = 8 * i
        v0, v1, v2, v3 = row[b], row[b + 1], row[b + 2], row[b + 3]
        v4, v5, v6, v7 = row[b + 4], row[b + 5], row[b + 6], row[b + 7]
        m0 = v0 if v0 > m0 else m0
        m1 = v1 if v1 > m1 else m1
        m2 = v2 if v2 > m2 else m2
        m3 = v3 if v3 > m3 else m3
        m4 = v4 if v4 > m4 else m4
        m5 = v5 if v5 > m5 else m5
        m6 = v6 if v6 > m6 else m6
        m7 = v7 if v7 > m7 else m7
    for j in range(8 * n8, row.shape[0]):
        v = row[j]
        m0 = v if v > m0 else m0
    a = m0 if m0 > m1 else m1
    b = m2 if m2 > m3 else m3
    c = m4 if m4 > m5 else m5
    d = m6 if m6 > m7 else m7
    a = a if a > b else b
    c = c if c > d else d
    return a if a > c else c


@njit(**KERNEL)
def _non_finite(row):
    """Whether the row holds NaN or ±∞ (an integer count: vectorises without fast-math
    flags, which would let LLVM assume there is no NaN to find)."""
    bad = 0
    for j in range(row.shape[0]):
        bad += 0 if abs(row[j]) < math.inf else 1
    return bad > 0


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


# ------------------------------------------------------------------------------- float64


@njit(**KERNEL)
def _two_diff(a, m):
    """(hi, lo) with hi + lo = a − m exactly (TwoSum); far entries give (_FAR·2, 0)."""
    neg = -m
    hi = a + neg
    bv = hi - a
    av = hi - bv
    lo = (a - av) + (neg - bv)
    far = hi < _FAR
    return (2.0 * _FAR if far else hi), (0.0 if far else lo)


@njit(**KERNEL)
def _exp_row_dd(row, m, eh, el):
    """eh_j + el_j = e^(x_j − m) (0 at the max); returns the count of maxima (counted in a
    pass of its own: a counter in this loop keeps it scalar)."""
    for j in range(row.shape[0]):
        hi, lo = _two_diff(row[j], m)
        h, low = exp_dd(hi, lo)
        top = hi == 0
        eh[j] = 0.0 if top else h
        el[j] = 0.0 if top else low
    return count_top(row, m)


@njit(**KERNEL)
def log1p_tau_dd(row, m, eh, el):
    """(L, c, τ): log1p(τ) for a float64 row as a pair L + c good to ~1e−17, and τ itself
    (rounded once from its double-double sum).

    τ = th + tl in double-double; L = log1p(th) from libm (< 1 ULP), then one Newton step
    in double-double: c = (1 + τ)·e^(−L) − 1 ≈ log1p(τ) − L, with e^(−L) from exp_dd and
    the product's error recovered exactly by an FMA.
    """
    n_top = _exp_row_dd(row, m, eh, el)
    th, tl = _sum_dd(eh, el)
    th, e = _two_sum(th, np.float64(n_top - 1))
    tl = tl + e
    big = math.log1p(th)
    gh, gl = exp_dd(-big, 0.0)
    a, b = _two_sum(1.0, th)  # 1 + τ = a + b + tl
    p = a * gh
    p_err = fma(a, gh, -p)  # the exact error of the product
    c = ((p - 1.0) + p_err) + (a * gl + (b + tl) * gh)
    return big, c, th + tl


@njit(**PARALLEL)
def softmax_d(x, out, flags, chunk):
    """float64 softmax in double-double: e_j = eh + el, S = 1 + τ = sh + sl, and
    y = (eh + el)/(sh + sl) from h·(1/S) and an FMA-exact correction (≈ 0.5 ULP)."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float64)
        el = np.empty(n, dtype=np.float64)
        for r in range(c * chunk, min(n_rows, (c + 1) * chunk)):
            row, dst = x[r], out[r]
            if _non_finite(row):
                flags[r] = 1
                continue
            m = _row_max(row)
            n_top = _exp_row_dd(row, m, eh, el)
            th, tl = _sum_dd(eh, el)
            sh, e = _two_sum(np.float64(n_top), th)
            sl = e + tl
            inv = 1.0 / sh
            for j in range(n):
                top = row[j] == m
                h = 1.0 if top else eh[j]
                low = 0.0 if top else el[j]
                # y0 = h/S to within an ULP, then one correction with the exact residual:
                # about half an ULP in all, without a division per element.
                y0 = h * inv
                rem = fma(-y0, sh, h)  # exact
                dst[j] = y0 + ((rem + low) - y0 * sl) * inv


@njit(**PARALLEL)
def log_softmax_d(x, out, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float64)
        el = np.empty(n, dtype=np.float64)
        for r in range(c * chunk, min(n_rows, (c + 1) * chunk)):
            row, dst = x[r], out[r]
            if _non_finite(row):
                flags[r] = 1
                continue
            m = _row_max(row)
            big, corr, _ = log1p_tau_dd(row, m, eh, el)
            for j in range(n):
                # (hi − L) with its rounding error recovered, plus lo − c: one rounding.
                # x − m itself may overflow to −∞ (x ≈ −max, m ≈ max): then so does z.
                hi, lo = _two_sum(row[j], -m)
                s, err = _two_sum(hi, -big)
                z = s + (err + (lo - corr))
                dst[j] = z if hi > -math.inf else hi
