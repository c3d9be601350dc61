"""Building blocks that the compiled row kernels share (``rows64``, the fused
cross-entropy; ``visible_far`` and ``TINY_TAU`` also float32's ``rows32``): exact
sums (TwoSum), log1p(τ) as a pair, and the rows whose τ the entries below the exp's clamp
can change.

τ = Σ_{x_j ≠ m} e^(x_j − m) + (n_top − 1) is kept without its dominant terms, as on the
NumPy path (``functions/_rows.py``): log1p(τ) is then exact where log(1 + τ) would round τ
away.
"""

from __future__ import annotations

import math

from numba import njit

from ._numba_math import KERNEL, REDUCE, exp_dd, fma

# Below TINY_TAU (float32's, float64's) the top entry of log_softmax, −log1p(τ) ≈ −τ, and
# logsumexp and the cross-entropy with it, lie near or in the subnormal range: there the
# entries below the exps' clamp (x − m < −104, −746), each less than half the smallest
# subnormal but up to 31 of them in a row of 32, can make the result. The long-row kernels
# leave them out of τ, so a row with such entries (``visible_far``) and a τ below this goes
# to the NumPy path, which computes them (a rare case: τ is summed again below 2^−23 or
# 2^−32 anyway). Above it they change τ by less than 2^−45 (2^−71) of itself. (The short
# rows' lane exps reach below the clamp instead: ``_lane_softmax``.)
TINY_TAU_W, TINY_TAU_D = 2.0**-100, 2.0**-1000


@njit(**REDUCE)
def visible_far(row, m, low, scale):
    """How many entries lie below the exp's clamp ``low`` (x − m as the exp computes it) but
    within ln|scale| + 1 of it: there e^(x − m) < e^low, but ``scale`` of them (or one times
    |scale|) may reach half the smallest subnormal (e^low is just below it). Lower entries,
    −∞ among them, stay below it."""
    neg_m = -m
    lowest = low - (math.log(abs(scale)) + 1.0)
    count = 0.0
    for j in range(row.shape[0]):
        d = row[j] + neg_m
        count += 1.0 if (d < low) & (d >= lowest) else 0.0
    return count


@njit(**KERNEL)
def _two_sum(a, b):
    """(s, e) with s + e = a + b exactly (six operations, any order of magnitude)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


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
