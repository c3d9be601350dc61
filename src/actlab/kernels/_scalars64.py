"""float64 sigmoid and tanh (and their derivatives) in double-double, for the compiled tier.

Plain float64 arithmetic misses the float64 bars; carrying e = exp(−|x|) as the exact pair
of ``exp_dd`` (< 0.1 ULP) through one double-double division keeps every result within
about half an ULP, without the x87 extended type the NumPy path uses. 1 − e comes out of the
pair exactly (e's pair holds 1 + q exactly), so tanh keeps its relative accuracy near 0.
"""

from __future__ import annotations

import math

from numba import njit

from ._numba_math import SCALAR, exp_dd, exp_dd_scaled, fma


@njit(**SCALAR)
def _two_sum(a, b):
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


@njit(**SCALAR)
def _div_dd(nh, nl, dh, dl):
    """(nh + nl)/(dh + dl) rounded (≈ 0.5 ULP): y0 = nh/dh, then one exact-residual step."""
    inv = 1.0 / dh
    y0 = nh * inv
    rem = fma(-y0, dh, nh)
    return y0 + ((rem + nl) - y0 * dl) * inv


@njit(**SCALAR)
def _one_plus(eh, el):
    """1 + e as a pair (e ∈ [0, 1]: Fast2Sum is exact)."""
    dh = 1.0 + eh
    return dh, ((1.0 - dh) + eh) + el


@njit(**SCALAR)
def _square(dh, dl):
    p = dh * dh
    return p, fma(dh, dh, -p) + 2.0 * dh * dl


@njit(**SCALAR)
def sigmoid(v, p):
    eh, el = exp_dd(-abs(v), 0.0)
    dh, dl = _one_plus(eh, el)
    pos = v >= 0
    return _div_dd(1.0 if pos else eh, 0.0 if pos else el, dh, dl)


@njit(**SCALAR)
def sigmoid_complement(v, p):
    eh, el = exp_dd(-abs(v), 0.0)
    dh, dl = _one_plus(eh, el)
    pos = v >= 0
    return _div_dd(eh if pos else 1.0, el if pos else 0.0, dh, dl)


@njit(**SCALAR)
def sigmoid_grad(v, p):
    eh, el = exp_dd(-abs(v), 0.0)
    dh, dl = _one_plus(eh, el)
    sh, sl = _square(dh, dl)
    return _div_dd(eh, el, sh, sl)


@njit(**SCALAR)
def tanh(v, p):
    eh, el = exp_dd(-2.0 * abs(v), 0.0)
    nh, nl = _two_sum(1.0, -eh)
    dh, dl = _one_plus(eh, el)
    return math.copysign(_div_dd(nh, nl - el, dh, dl), v)


@njit(**SCALAR)
def tanh_grad(v, p):
    eh, el = exp_dd(-2.0 * abs(v), 0.0)
    dh, dl = _one_plus(eh, el)
    sh, sl = _square(dh, dl)
    return 4.0 * _div_dd(eh, el, sh, sl)  # ×4 is exact


@njit(**SCALAR)
def _times(a, h, low):
    """a·(h + low) rounded once (the product's error recovered by an FMA)."""
    p = a * h
    return p + (fma(a, h, -p) + a * low)


@njit(**SCALAR)
def elu(v, alpha):
    # α·expm1(v) for v ≤ 0: e^v − 1 = (eh − 1) + el, with eh − 1 taken exactly (TwoSum).
    eh, el = exp_dd(min(v, 0.0), 0.0)
    h, low = _two_sum(eh, -1.0)
    neg = _times(alpha, h, low + el)
    neg = alpha * v if v == 0 else neg  # elu(−0.0) = −0.0
    return v if v > 0 else neg


@njit(**SCALAR)
def elu_grad(v, alpha):
    eh, el = exp_dd(min(v, 0.0), 0.0)
    neg = _times(alpha, eh, el)
    return 1.0 if v > 0 else neg


@njit(**SCALAR)
def _div_dd_pair(nh, nl, dh, dl):
    """(nh + nl)/(dh + dl) as a pair (y0, c): y0 + c good to ~1e−32 relative."""
    inv = 1.0 / dh
    y0 = nh * inv
    rem = fma(-y0, dh, nh)
    return y0, ((rem + nl) - y0 * dl) * inv


_SCALE_UP = 200
_SCALE_DOWN = 2.0**-200


@njit(**SCALAR)
def swish(v, beta):
    """x·σ(βx) with βx exact (a two-product), σ as a pair, and, for βx < 0, everything scaled
    by 2^200: where σ is subnormal (x ≈ −745) the product x·σ is still normal and exact to
    half an ULP (plain float64 loses up to 354 ULP there)."""
    bound = 1.0e4 / abs(beta) if beta != 0 else math.inf
    vc = min(max(v, -bound), bound)  # βx saturates the exp long before ±1e4
    zh = beta * vc
    zl = fma(beta, vc, -zh)
    neg = zh < 0
    ah = -zh if neg else zh
    al = -zl if neg else zl
    eh, el = exp_dd_scaled(-ah, -al, _SCALE_UP if neg else 0)
    sc = _SCALE_DOWN if neg else 1.0
    dh, dl = _one_plus(eh * sc, el * sc)
    y0, c = _div_dd_pair(eh if neg else 1.0, el if neg else 0.0, dh, dl)
    p = v * y0
    r = (p + (fma(v, y0, -p) + v * c)) * sc
    return math.copysign(r, v)  # σ > 0: the sign of x, also where the product rounds to ±0
