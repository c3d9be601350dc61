"""A lean float64 exp for the logistic family (imports numba; loaded lazily).

The float64 bars of σ, silu, swish and their derivatives (2 to 4 ULP) leave room that the
double-double machinery of ``_dd64`` does not need to fill: it carries e^x to 2e−17 and
divides twice per element, and those loops trailed PyTorch's plain float64 (which misses
the bars). Here e^x = 2^k·(1 + p) is one Cody–Waite reduction and the Taylor polynomial of
``_dd64`` (p = e^r − 1, rounded once), and 1 + p is never rounded: s·(1 + p), s = 2^k, is
split exactly into a pair (``split_pair``). The pair is off by ≤ 0.9u relative (u = 2^−53:
the roundings of r and of p, each ≤ 2^−55, and the polynomial's), mostly ≈ 0.4u, and a
ratio of such pairs costs one division and one FMA residual (``ratio``).

* ``exp_split``: (s, p, st): s = 2^k (0 where e < 2^−1019), st = 2^(k+200), normal on every
  lane, for results that may be subnormal: those scale their numerator up and the result
  back once, so it is rounded once.
* ``exp_split_sub``: s exact down to the subnormals, for results that are e itself there
  (σ, σ′; with the shorter polynomial of ``expm1_lean``, as silu and silu′).
* ``exp_scaled``: e·2^200 as a pair.
* ``one_plus_pow2``: 1 + e as a pair from s and p alone (no pair of e needed).

Error budget of σ(x) for x < 0, the worst case: e's error reaches σ = e/(1 + e) damped by
1/(1 + e); the ratio adds half an ULP. So σ, silu, swish, σ′, swish′ and elu′ stay within
about 1 ULP (measured: 0.93 to 1.11 in the whole-range audit; bars 2 to 4).
"""

from __future__ import annotations

from numba import njit

from ._dd64 import _exp_tail
from ._numba_math import INV_LN2, LN2_HI, LN2_LO, SCALAR, _as_f64, _as_i64, fma

# Below this argument the exp is clamped. Even times |x| ≤ 1e8 (|βx| ≤ 1e4 with β ≥ 1e−4,
# the most a caller multiplies by), e^−800 rounds to 0 after the final 2^−200.
EXP_CLAMP = -800.0
SCALE_UP = 2.0**200
SCALE_DOWN = 2.0**-200
# Below 2^k = 2^TINY_K the unscaled e is replaced by 0 (e < 2^−1019 is then negligible next
# to 1): callers take their result from the scaled exp there (σ(x) = e^x to 1e−306).
TINY_K = -1020.0
# 1.5·2^52 + 1223: x/ln2 + this rounds to an integer k and holds k + 1223 in its low bits,
# which shifted into the exponent field are 2^(k+200) (``up_pow2``): the scaled power the
# callers need most, with no integer addition.
_BIASED_SHIFTER = 6755399441056967.0


# (e^r − 1 − r)/r² on |r| ≤ ln2/2 as a degree-9 polynomial Q (Chebyshev fit in mpmath,
# coefficients rounded to double): e^r − 1 = r + r²·Q(r) is off by ≤ 1.3e−17 (0.12u) relative
# to e^r, against 4e−18 for the degree-13 Taylor tail of ``_dd64._exp_tail``, two FMAs fewer.
_Q0 = 0.5000000000000001
_Q1 = 0.16666666666666669
_Q2 = 0.041666666666624164
_Q3 = 0.008333333333330065
_Q4 = 0.0013888888917196719
_Q5 = 0.00019841269863040545
_Q6 = 2.4801521322368692e-05
_Q7 = 2.7557268480310024e-06
_Q8 = 2.7620075879983367e-07
_Q9 = 2.5100375832561234e-08


@njit(**SCALAR)
def _cheb_tail(r):
    """The degree-9 Q above by Estrin's scheme (4 dependent FMAs)."""
    r2 = r * r
    r4 = r2 * r2
    s0 = fma(r2, _Q2 + r * _Q3, _Q0 + r * _Q1)
    s1 = fma(r2, _Q6 + r * _Q7, _Q4 + r * _Q5)
    return fma(r4, fma(r4, _Q8 + r * _Q9, s1), s0)


@njit(**SCALAR)
def expm1_lean(r):
    """e^r − 1 for |r| ≤ ln2/2 as r + r²·Q(r), rounded once at the end: < 0.6u relative to
    e^r (0.12u from Q, ≤ 0.35u from that rounding; the Taylor tail measures 0.45u)."""
    return fma(r * r, _cheb_tail(r), r)


@njit(**SCALAR)
def reduce(a, al):
    """(t, kf, r): a + al = k·ln2 + r, |r| ≤ ln2/2 (off by ≤ 2^−55), k = kf, and t holds
    k + 1223 in its low bits (``up_pow2``); a is clamped at EXP_CLAMP."""
    x = max(a, EXP_CLAMP)
    t = fma(x, INV_LN2, _BIASED_SHIFTER)
    kf = t - _BIASED_SHIFTER
    # k·LN2_LO is rounded (by < 1e−22) off the dependency chain; r itself once.
    return t, kf, fma(-kf, LN2_LO, fma(-kf, LN2_HI, x)) + al


@njit(**SCALAR)
def up_pow2(t):
    """2^(k+200) from ``reduce``'s t: normal for every k ≥ −1222 (a ≥ EXP_CLAMP)."""
    return _as_f64(_as_i64(t) << 52)


@njit(**SCALAR)
def exp_split(a, al):
    """(s, p, st, normal): e^(a + al) = s·(1 + p) with s = 2^k, |p| < 0.42, for a ≤ 0 (or
    NaN) and |al| ≤ ulp(a); a is clamped at EXP_CLAMP. st = 2^(k+200) is normal on every
    lane (a subnormal result is then rounded once, at a final ·2^−200); s is 0 where not
    ``normal`` (k < TINY_K). p is off by ≤ 2^−55 (the rounding of r) + 2^−55 (its own) +
    ~0.1u, so e is good to ≤ 0.9u relative (u = 2^−53), mostly ≈ 0.4u."""
    t, kf, r = reduce(a, al)
    p = fma(r * r, _exp_tail(r), r)  # e^r − 1
    normal = kf >= TINY_K
    s = _as_f64((_as_i64(t) - 200) << 52) if normal else 0.0
    st = up_pow2(t)
    return s, p, st, normal


@njit(**SCALAR)
def exp_split_sub(a, al):
    """(s, p) as in ``exp_split``, but s = 2^k exact down to the subnormals (0 below
    2^−1075; 2^(k+200)·2^−200, off the dependency chain), so that fma(s, p, s) rounds a
    subnormal e^a once: for results that are e itself where e is tiny (σ, σ′)."""
    t, _, r = reduce(a, al)
    return up_pow2(t) * SCALE_DOWN, expm1_lean(r)


@njit(**SCALAR)
def exp_scaled(a, al):
    """e^(a + al)·2^200 as an exact pair s·(1 + p) (normal even where e is subnormal: a
    caller scales its result back once), p from ``expm1_lean``: elu′ = α·e^x, its one
    caller, measured 1.04 ULP in the full audit (0.94 with the Taylor tail, bar 2), in
    0.75–0.90× the time at 1 thread (``python benchmarks/ab.py 04b4bc0 --cases elu_vjp``)."""
    t, _, r = reduce(a, al)
    return split_pair(up_pow2(t), expm1_lean(r))


@njit(**SCALAR)
def split_pair(s, p):
    """s·(1 + p) as an exact pair (s a power of 2 or 0: s·p is exact, and s + s·p is within
    a factor 2 of s, so s − h is exact)."""
    h = fma(s, p, s)
    return h, fma(s, p, s - h)


@njit(**SCALAR)
def one_plus_split(s, p, eh, el):
    """1 + e as a pair, e = s·(1 + p) = eh + el (``split_pair``), s ≤ 1: dh is one FMA from
    the exact 1 + s + s·p, so it need not wait for eh; dl is exact whatever dh's rounding
    (1 − dh is exact, and (1 − dh) + eh is a multiple of ulp(eh) below 2^−51)."""
    dh = fma(s, p, 1.0 + s)
    return dh, ((1.0 - dh) + eh) + el


@njit(**SCALAR)
def one_plus_pow2(s, p):
    """1 + e as a pair, e = s·(1 + p) with s = 2^k ≤ 1 (or 0), without e's own pair: dh from
    the exact 1 + s + s·p by one FMA, and dl = 1 + e − dh exact by another, since (1 − dh)
    + s = s − (dh − 1) is exact (Sterbenz: dh − 1 ≈ s·(1 + p) is within a factor 2 of s, or
    0). For callers that need 1 + e but not e unscaled (silu)."""
    dh = fma(s, p, 1.0 + s)
    return dh, fma(s, p, (1.0 - dh) + s)


@njit(**SCALAR)
def ratio(nh, nl, dh, dl):
    """(nh + nl)/(dh + dl) rounded, for |nl| ≤ ulp(nh) and |dl| ≤ ulp(dh): y0 = nh·(1/dh),
    then one residual (exact by FMA) corrects it to half an ULP plus a hair (< 0.52 ULP;
    a larger nl costs a little more: 0.65 ULP at |nl| = 0.1|nh|). One division: dividing
    y0 = nh/dh in parallel with 1/dh shortens the chain but measured no faster."""
    inv = 1.0 / dh
    y0 = nh * inv
    rem = fma(-y0, dh, nh) + (nl - y0 * dl)
    return fma(rem, inv, y0)


@njit(**SCALAR)
def unless_nan(v, r):
    """r, or v itself where v is NaN (the input NaN, as the NumPy path returns it): the
    formulas here give the limits at ±∞ by themselves."""
    return r if v == v else v
