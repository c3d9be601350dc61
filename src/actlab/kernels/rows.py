"""Building blocks that the compiled float64 row kernels share (``rows64``, the fused
cross-entropy): exact sums (TwoSum), and log1p(τ) as a pair.

τ = Σ_{x_j ≠ m} e^(x_j − m) + (n_top − 1) is kept without its dominant terms, as on the
NumPy path (``functions/_rows.py``): log1p(τ) is then exact where log(1 + τ) would round τ
away.
"""

from __future__ import annotations

import math

from numba import njit

from ._numba_math import KERNEL, exp_dd, fma


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
