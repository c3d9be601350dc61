"""log1p of a vector of double lanes (``_vecmap.Lanes``), for the short-row log_softmax of
float32 rows (``_lane_softmax``): log1p(τ) with τ = Σ_{j≠k} e^(x_j − m) in [0, 32), one
per row, to a few units of 2^−53 relative (float32's z = (x − m) − log1p(τ) needs 2^−30).

1 + τ = u + du as an exact pair (TwoSum); u = 2^k·w with w in [√2/2, √2) by comparisons
(u < 64: six of them, no exponent bits); then log(w + dw·2^−k) = 2·atanh(s) with
s = f/(2 + f), f = (w − 1) + dw·2^−k (w − 1 exact by Sterbenz), |s| ≤ 0.172, and the
odd series of atanh to s^21 (truncation below 2^−55 relative):
log1p(τ) = k·ln 2 + 2s + 2s·(s²/3 + s⁴/5 + …).
"""

from __future__ import annotations

import math

from ._vecmap import Lanes, where

_SQRT2 = math.sqrt(2.0)
_LN2 = math.log(2.0)
# atanh(s)/s − 1 = Σ_{i≥1} s^(2i)/(2i + 1): the coefficients 1/3 … 1/21
_ATANH = [1.0 / (2 * i + 1) for i in range(1, 11)]


def log1p_lanes(tau: Lanes) -> Lanes:
    """log(1 + τ) for 0 ≤ τ < 63 (NaN gives NaN)."""
    u = tau + 1.0
    bv = u - tau
    du = (tau - (u - bv)) + ((-bv) + 1.0)  # TwoSum: u + du = 1 + τ exactly
    k = u.splat(0.0)
    scale = u.splat(1.0)
    for i in range(1, 7):  # u ≥ √2·2^(i−1): w = u·2^−i
        above = (u > _SQRT2 * 2.0 ** (i - 1)) | (u == _SQRT2 * 2.0 ** (i - 1))
        k = where(above, float(i), k)
        scale = where(above, 2.0**-i, scale)
    w = u * scale  # exact: a power of two
    f = (w - 1.0) + du * scale
    s = f / (f + 2.0)
    z = s * s
    p = z.splat(_ATANH[-1])
    for c in reversed(_ATANH[:-1]):
        p = p.fma(z, c)
    two_s = s * 2.0
    return k.fma(_LN2, two_s.fma(z * p, two_s))
