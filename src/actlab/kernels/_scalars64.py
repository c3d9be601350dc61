"""float64 sigmoid, tanh, elu, softplus, log_sigmoid (and derivatives) for the compiled tier
(the gated functions are in ``_gated64``).

Plain float64 arithmetic misses the float64 bars. tanh, elu, softplus and log_sigmoid (bar
1 ULP) carry e = exp(−|x|) as the exact pair of ``exp_dd`` (< 0.1 ULP) through one
double-double division, which keeps them within about half an ULP without the x87 extended
type the NumPy path uses; 1 − e comes out of the pair exactly, so tanh keeps its relative
accuracy near 0. σ, σ′, tanh′, elu′ and softplus′ (bars 2 to 4 ULP) take the lean pair of
``_exp64`` (≤ 0.9u) and one division with an FMA residual: below 1 ULP, and faster.
"""

from __future__ import annotations

import math

from numba import njit

from ._dd64 import (
    div_dd,
    exp_dd_fast,
    fast_two_sum,
    log1p_dd,
    one_plus,
    square_dd,
    times_dd,
    two_sum,
)
from ._exp64 import exp_scaled, exp_split, exp_split_sub, one_plus_split, ratio, split_pair
from ._numba_math import SCALAR, fma


@njit(**SCALAR)
def sigmoid(v, p):
    return sigmoid_from(v, -0.0)  # −0.0: x + (−0.0) folds away, x + 0.0 does not


@njit(**SCALAR)
def sigmoid_complement(v, p):
    return sigmoid_from(-v, -0.0)


@njit(**SCALAR)
def _over_square(v, scale, factor):
    """factor·e/(1 + e)² with e = exp(−scale·|x|) and factor a power of 2, rounded once; where
    e < 2^−1019 it is factor·e, from the scaled exp (a subnormal result is rounded once)."""
    s, q, st, normal = exp_split(-scale * abs(v), -0.0)
    eh, el = split_pair(s, q)
    dh, dl = one_plus_split(s, q, eh, el)
    qh, ql = square_dd(dh, dl)
    tiny = (factor * fma(st, q, st)) * SCALE_DOWN
    return factor * ratio(eh, el, qh, ql) if normal else tiny


@njit(**SCALAR)
def sigmoid_grad(v, p):
    """e/(1 + e)², e = e^−|x|, rounded once (e itself where it is subnormal)."""
    s, q = exp_split_sub(-abs(v), -0.0)
    eh, el = split_pair(s, q)
    dh, dl = one_plus_split(s, q, eh, el)
    qh, ql = square_dd(dh, dl)
    return ratio(eh, el, qh, ql)


@njit(**SCALAR)
def tanh(v, p):
    eh, el = exp_dd_fast(-2.0 * abs(v), 0.0, 0)
    nh, nl = two_sum(1.0, -eh)
    dh, dl = one_plus(eh, el)
    return math.copysign(div_dd(nh, nl - el, dh, dl), v)


@njit(**SCALAR)
def tanh_grad(v, p):
    return _over_square(v, 2.0, 4.0)


@njit(**SCALAR)
def elu(v, alpha):
    # α·expm1(v) for v ≤ 0: e^v − 1 = (eh − 1) + el, with eh − 1 taken exactly (TwoSum).
    eh, el = exp_dd_fast(min(v, 0.0), 0.0, 0)
    h, low = two_sum(eh, -1.0)
    neg = times_dd(alpha, h, low + el)
    neg = alpha * v if v == 0 else neg  # elu(−0.0) = −0.0
    return v if v > 0 else neg


@njit(**SCALAR)
def elu_grad(v, alpha):
    nh, nl = exp_scaled(min(v, 0.0), -0.0)  # e^x·2^200: a subnormal α·e^x is rounded once
    neg = times_dd(alpha, nh, nl) * SCALE_DOWN
    return 1.0 if v > 0 else neg


# Where a result may be subnormal, e is scaled by 2^200 and the result rounded once at the end.
SCALE_UP = 200
SCALE_DOWN = 2.0**-200
SCALE_UP_F = 2.0**200


@njit(**SCALAR)
def beta_x(v, beta):
    """βx as an exact pair (a two-product), x clamped where βx saturates (|βx| ≤ 1e4)."""
    bound = 1.0e4 / abs(beta) if beta != 0 else math.inf
    vc = min(max(v, -bound), bound)
    zh = beta * vc
    return zh, fma(beta, vc, -zh)


@njit(**SCALAR)
def sigmoid_from(zh, al):
    """σ(z) rounded (≈ 0.5 ULP plus ≤ 0.9 from e), z = zh + zl and al = zl for z < 0, −zl
    for z ≥ 0 (the low part of −|z|). One ratio N/(1 + e), e = e^−|z|, N = e for z < 0 and
    1 for z ≥ 0; where e is subnormal it is rounded once (and d = 1)."""
    s, p = exp_split_sub(-abs(zh), al)
    return sigmoid_rest(zh, s, p)


@njit(**SCALAR)
def sigmoid_rest(zh, s, p):
    """``sigmoid_from`` after its exp, from e = s·(1 + p) (``exp_split_sub``): the second
    half of the loops split in two (``elementwise64``)."""
    neg = zh < 0
    eh, el = split_pair(s, p)
    dh, dl = one_plus_split(s, p, eh, el)
    return ratio(eh if neg else 1.0, el if neg else 0.0, dh, dl)


@njit(**SCALAR)
def sigmoid_of_pair(zh, zl):
    return sigmoid_from(zh, zl if zh < 0 else -zl)


@njit(**SCALAR)
def softplus_grad(v, beta):
    zh, zl = beta_x(v, beta)
    return sigmoid_of_pair(zh, zl)


# Beyond this |βx|, log1p(e) = e to far below an ULP (e < 2^−865), and e is scaled by 2^200
# so that a subnormal softplus is rounded once from an accurate value.
_SOFTPLUS_TAIL = 600.0


@njit(**SCALAR)
def _log1p_exp_neg(ah, al):
    """(lh, ll, sc): log1p(e^−a) = (lh + ll)·sc for a = ah + al ≥ 0, with e^−a from
    ``exp_dd_fast`` and log1p in double-double. Beyond ``_SOFTPLUS_TAIL`` it is e^−a itself,
    scaled by 2^200 (sc = 2^−200) so that a subnormal result is rounded once, by the caller."""
    tail = ah > _SOFTPLUS_TAIL
    eh, el = exp_dd_fast(-ah, -al, SCALE_UP if tail else 0)
    lh, ll = log1p_dd(eh, el)
    return (eh if tail else lh), (el if tail else ll), (SCALE_DOWN if tail else 1.0)


@njit(**SCALAR)
def softplus(v, beta):
    """max(x, 0) + log1p(e)/β with e = e^−|βx| from the exact βx, the division by β with an
    FMA residual, and one final rounding (β > 0)."""
    zh, zl = beta_x(v, beta)
    neg = zh < 0
    lh, ll, sc = _log1p_exp_neg(-zh if neg else zh, -zl if neg else zl)
    inv = 1.0 / beta
    y0 = lh * inv
    y0, yl = fast_two_sum(y0, (fma(-y0, beta, lh) + ll) * inv)  # y0 rounded before scaling
    s, err = two_sum(max(v, 0.0), y0 * sc)
    return s + (err + yl * sc)


@njit(**SCALAR)
def softplus_unit(v, p):
    """softplus with β = 1: |x| is exact and there is no β to divide by (LLVM does not fold
    away ``softplus(v, 1.0)``'s βx clamp and division). With the Estrin series of
    ``log1p_dd``: 0.79× the time (``python benchmarks/ab.py cf7a229 --cases softplus``)."""
    lh, ll, sc = _log1p_exp_neg(abs(v), 0.0)
    s, err = two_sum(max(v, 0.0), lh * sc)
    return s + (err + ll * sc)


@njit(**SCALAR)
def log_sigmoid(v, p):
    return -softplus_unit(-v, 1.0)
