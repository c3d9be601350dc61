"""log1p of vectors of double lanes (``_vecmap.Lanes``), for the short-row log_softmax
(``_lane_softmax``): log1p(τ) with τ = Σ_{j≠k} e^(x_j − m) in [0, 32), one per row.

1 + τ = u + du as an exact pair (TwoSum); u = 2^k·w with w in [√2/2, √2) by comparisons
(u < 64: six of them, no exponent bits); then log(w + du·2^−k) = 2·atanh(s) with
s = f/(2 + f), f = (w − 1) + du·2^−k (w − 1 exact by Sterbenz), |s| ≤ 0.172, and the
odd series of atanh to s^21 (truncation below 2^−55 relative):
log1p(τ) = k·ln 2 + 2s + 2s·(s²/3 + s⁴/5 + …).

``log1p_lanes`` rounds that once (a few units of 2^−53 relative: float32's
z = (x − m) − log1p(τ) needs 2^−30). ``log1p_pair_lanes`` keeps f, s and k·ln 2 as pairs
and adds the series' tail (at most 1% of 2s) in plain float64: about 2^−60 relative, as
``rows.log1p_dd``, for float64's z.
"""

from __future__ import annotations

import math

from ._numba_math import LN2_HI, LN2_LO
from ._vecmap import Lanes, where

_SQRT2 = math.sqrt(2.0)
_LN2 = math.log(2.0)
# atanh(s)/s − 1 = Σ_{i≥1} s^(2i)/(2i + 1): the coefficients 1/3 … 1/21
_ATANH = [1.0 / (2 * i + 1) for i in range(1, 11)]


def two_sum(a: Lanes, b: Lanes) -> tuple[Lanes, Lanes]:
    """(s, err) with s + err = a + b exactly."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def sum_pair(terms: list[Lanes]) -> tuple[Lanes, Lanes]:
    """Σ terms as a pair (hi, lo), each addition's error recovered by TwoSum."""
    s, c = terms[0], terms[0].splat(0.0)
    for t in terms[1:]:
        s, err = two_sum(s, t)
        c = c + err
    return two_sum(s, c)


def _reduced(u: Lanes, du: Lanes) -> tuple[Lanes, Lanes, Lanes]:
    """(k, f as a pair) with u + du = 2^k·(1 + f), for 1 ≤ u < 64."""
    k = u.splat(0.0)
    scale = u.splat(1.0)
    for i in range(1, 7):  # u ≥ √2·2^(i−1): w = u·2^−i
        above = (u > _SQRT2 * 2.0 ** (i - 1)) | (u == _SQRT2 * 2.0 ** (i - 1))
        k = where(above, float(i), k)
        scale = where(above, 2.0**-i, scale)
    fh, fl = two_sum(u * scale - 1.0, du * scale)  # u·2^−k − 1 exact (Sterbenz)
    return k, fh, fl


def _atanh_tail(s: Lanes) -> tuple[Lanes, Lanes]:
    """(s², atanh(s)/s − 1) for |s| ≤ 0.172."""
    z = s * s
    p = z.splat(_ATANH[-1])
    for c in reversed(_ATANH[:-1]):
        p = p.fma(z, c)
    return z, z * p


def log1p_lanes(tau: Lanes) -> Lanes:
    """log(1 + τ) for 0 ≤ τ < 63, rounded once (NaN gives NaN)."""
    u, du = two_sum(tau.splat(1.0), tau)
    k, fh, fl = _reduced(u, du)
    f = fh + fl
    s = f / (f + 2.0)
    two_s = s * 2.0
    _, tail = _atanh_tail(s)
    return k.fma(_LN2, two_s.fma(tail, two_s))


def log1p_pair_lanes(th: Lanes, tl: Lanes) -> tuple[Lanes, Lanes]:
    """log(1 + τ) for τ = th + tl (a normalised pair, 0 ≤ τ < 63) as a pair (hi, lo)."""
    u, du = two_sum(th.splat(1.0), th)
    k, fh, fl = _reduced(u, du + tl)
    # 2 + f as a pair (2 ≥ |fh|: Fast2Sum), s = f/(2 + f) as a pair (one residual step)
    dh = fh + 2.0
    dl = (((-dh) + 2.0) + fh) + fl
    sh = fh / dh
    sl = ((-sh).fma(dh, fh) + (fl - sh * dl)) / dh
    _, tail = _atanh_tail(sh)
    # k·ln 2 + 2s: k·LN2_HI exact, and |k·ln 2| ≥ |2s| where k ≠ 0 (Fast2Sum)
    a = k * LN2_HI
    hi = a + sh * 2.0
    lo = (sh * 2.0 - (hi - a)) + (k.fma(LN2_LO, sl * 2.0) + (sh * 2.0) * tail)
    return two_sum(hi, lo)
