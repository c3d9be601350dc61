"""Double-double building blocks for the float64 kernels (imports numba; loaded lazily).

A value is carried as an unevaluated sum hi + lo of two float64 (about 106 bits). Every block
is straight-line arithmetic with FMA, so the loops around it vectorise (AVX2). The errors
quoted are relative to the exact result of the operation on the exact pair inputs.

* ``two_sum``/``fast_two_sum``: a + b as an exact pair.
* ``mul_dd``, ``square_dd``, ``times_dd``: products to ~2^−104.
* ``div_dd``/``div_dd_pair``: one division and one exact-residual (FMA) correction.
* ``log1p_dd``: log(1 + u) for a pair u ∈ [0, 1], to < 1e−17 relative (table-free).
* ``exp_dd_fast``: e^x·2^extra as a pair for x ≤ 0, where that is a normal number.
"""

from __future__ import annotations

from numba import njit

from ._numba_math import LN2_HI, LN2_LO, SCALAR, _pow2, _round_k, fma, wide_vectors

# ln 2 as a pair (hi correctly rounded, lo = ln 2 − hi to double precision).
LN2_DD_HI = 0.6931471805599453
LN2_DD_LO = 2.3190468138462996e-17
# ``div_dd``'s choice (read when a kernel compiles).
ONE_DIVISION = wide_vectors()
# log1p_dd switches to log(1 + u) = ln 2 + log((1 + u)/2) above √2 − 1.
SQRT2_M1 = 0.41421356237309503


@njit(**SCALAR)
def two_sum(a, b):
    """a + b = s + e exactly (Knuth; any magnitudes)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


@njit(**SCALAR)
def fast_two_sum(a, b):
    """a + b = s + e exactly, for |a| ≥ |b| (or a = 0)."""
    s = a + b
    return s, (a - s) + b


@njit(**SCALAR)
def one_plus(eh, el):
    """1 + (eh + el) as a pair, for 0 ≤ eh ≤ 1 (Fast2Sum is exact there)."""
    dh = 1.0 + eh
    return dh, ((1.0 - dh) + eh) + el


@njit(**SCALAR)
def mul_dd(ah, al, bh, bl):
    """(ah + al)·(bh + bl) as a pair (the product's rounding error recovered by an FMA)."""
    p = ah * bh
    return p, fma(ah, bh, -p) + (ah * bl + al * bh)


@njit(**SCALAR)
def square_dd(dh, dl):
    p = dh * dh
    return p, fma(dh, dh, -p) + 2.0 * dh * dl


@njit(**SCALAR)
def times_dd(a, h, low):
    """a·(h + low) rounded once (the product's error recovered by an FMA)."""
    p = a * h
    return p + (fma(a, h, -p) + a * low)


@njit(**SCALAR)
def div_dd(nh, nl, dh, dl):
    """(nh + nl)/(dh + dl) rounded (≈ 0.5 ULP): y0 ≈ nh/dh, then one exact-residual step.

    With 256-bit vectors the loops are bound by the latency of their dependency chain (the
    out-of-order window holds only two or three iterations), so y0 is divided directly
    rather than nh·(1/dh). With AVX-512 (``ONE_DIVISION``) they are bound by the divider (16
    cycles per 8 lanes on Intel's server cores), so y0 = nh·(1/dh): within an ULP of the
    quotient, which the residual step corrects as well (float64 tanh of 2^25 elements in 0.95×
    the time at 1 and 2 threads: ``python benchmarks/ab.py 7115408 --cases tanh``)."""
    inv = 1.0 / dh
    y0 = nh * inv if ONE_DIVISION else nh / dh
    rem = fma(-y0, dh, nh)
    return y0 + ((rem + nl) - y0 * dl) * inv


@njit(**SCALAR)
def div_dd_pair(nh, nl, dh, dl):
    """(nh + nl)/(dh + dl) as a pair (y0, c): y0 + c good to ~1e−32 relative."""
    inv = 1.0 / dh
    y0 = nh * inv
    rem = fma(-y0, dh, nh)
    return y0, ((rem + nl) - y0 * dl) * inv


@njit(**SCALAR)
def _atanh_tail(z):
    """(atanh(s)/s − 1)/z = Σ_{j≥0} z^j/(2j + 3) for z = s² ≤ 0.0295 (10 terms: the first
    one left out is z^11/23 < 1e−18 relative), by Estrin's scheme: a chain of 4 operations
    instead of Horner's 9 (softplus waits on the latency of its chain)."""
    z2 = z * z
    z4 = z2 * z2
    a0 = 1.0 / 3.0 + z * (1.0 / 5.0)
    a1 = 1.0 / 7.0 + z * (1.0 / 9.0)
    a2 = 1.0 / 11.0 + z * (1.0 / 13.0)
    a3 = 1.0 / 15.0 + z * (1.0 / 17.0)
    a4 = 1.0 / 19.0 + z * (1.0 / 21.0)
    return (a0 + z2 * a1) + z4 * ((a2 + z2 * a3) + z4 * a4)


@njit(**SCALAR)
def log1p_dd(uh, ul):
    """log(1 + u) for a pair u = uh + ul ∈ [0, 1] (uh normal or 0), as a pair good to < 1e−17
    relative (7e−18 measured, near the switch, from the rounding of the series tail).

    log(1 + u) = k·ln 2 + 2·atanh(s), s = (u − k)/(u + 2 + k), with k = 1 above √2 − 1 (so
    that |s| ≤ 0.172 and the odd series is short) and k = 0 below; u − k is exact (TwoSum)
    and s is one double-double division. The series tail is small (≤ 1% of 2s), so it is
    taken in plain float64. No 1 + u is ever rounded: log1p(1e−300) keeps full precision.
    """
    k = 1.0 if uh > SQRT2_M1 else 0.0
    nh, nl = two_sum(uh, -k)
    nl = nl + ul
    dh, dl = fast_two_sum(2.0 + k, uh)
    dl = dl + ul
    sh, sl = div_dd_pair(nh, nl, dh, dl)
    z = sh * sh
    t = (2.0 * sh) * (z * _atanh_tail(z))
    h, low = fast_two_sum(k * LN2_DD_HI, 2.0 * sh)  # |k ln 2| ≥ |2s| whenever k = 1
    return h, low + (k * LN2_DD_LO + (2.0 * sl + t))


@njit(**SCALAR)
def _exp_tail(r):
    """(e^r − 1 − r)/r² for |r| ≤ ln2/2: the Taylor terms 1/2! … 1/13! (truncation < 4e−18
    relative), by Estrin's scheme: 4 dependent FMAs instead of Horner's 11, which is what
    limits a loop that is otherwise waiting on the FMA latency."""
    r2 = r * r
    r4 = r2 * r2
    q0 = 1.0 / 2.0 + r * (1.0 / 6.0)
    q1 = 1.0 / 24.0 + r * (1.0 / 120.0)
    q2 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    q3 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    q4 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    q5 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    s0 = q0 + r2 * q1
    s1 = q2 + r2 * q3
    s2 = q4 + r2 * q5
    return s0 + r4 * (s1 + r4 * s2)


# Below this exp_dd_fast returns 0: even scaled by 2^200 and multiplied by 1e4 (the largest
# factor a caller applies), e^−800 rounds to 0 in float64.
EXP_FAST_LOW = -800.0


@njit(**SCALAR)
def _exp_core(hi, lo):
    """(a, b, k): e^(hi + lo) = (a + b)·2^k, a ∈ [0.7, 1.42], |b| ≤ ulp(a), for hi ≤ 0, the
    pair exact to 2e−17 relative; hi is clamped at −800."""
    x = hi if hi > EXP_FAST_LOW else EXP_FAST_LOW
    kf, k = _round_k(x)
    r_hi = fma(-kf, LN2_HI, x)  # exact
    r = fma(-kf, LN2_LO, r_hi)
    # What the rounding of r dropped (r_hi − r is exact); it joins lo: e^(r + δ) = e^r(1 + δ).
    lo = lo - fma(kf, LN2_LO, r - r_hi)
    t = (r * r) * _exp_tail(r)
    q = r + t
    q_lo = (r - q) + t  # Fast2Sum (|r| ≥ |t|): e^r − 1 = q + q_lo to ~1e−19
    a = 1.0 + q
    b = ((1.0 - a) + q) + (q_lo + lo * a)  # Fast2Sum (|q| < 1): 1 + q = a + ((1 − a) + q)
    return a, b, k


@njit(**SCALAR)
def exp_dd_fast(hi, lo, extra):
    """e^(hi + lo)·2^extra as a pair (eh, el) good to 2e−17 relative, for hi ≤ 0, |lo| ≤
    ulp(hi) and 0 ≤ extra ≤ 200, wherever the scaled value is at least 2^−1021; 0 (or, just
    below, a less accurate normal or subnormal value) where it is smaller, or hi < −800.

    ``exp_dd_scaled`` without its subnormal results (one scaling factor instead of two) and
    with a Fast2Sum for 1 + q: callers whose result may be subnormal pass extra = 200 and
    scale back once at the end, so they never need a subnormal e.
    """
    a, b, k = _exp_core(hi, lo)
    s = _pow2(k + extra)
    # a·2^(k+extra) is normal; an integer test (AVX2 has no int64 -> float64 conversion).
    keep = (hi > EXP_FAST_LOW) & (k + extra >= -1021)
    return (a * s if keep else 0.0), (b * s if keep else 0.0)
