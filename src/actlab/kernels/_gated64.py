"""float64 swish/silu and mish (and their derivatives) for the compiled tier.

As in ``_scalars64``: e = exp(−|x|) (or of −|βx|, βx an exact two-product) as a pair, each
result one ratio of pair terms, rounded once; where the result may be subnormal, e is scaled
by 2^200 and the result scaled back at the end. swish and swish′ (bars 2 to 4 ULP) take the
lean pair of ``_exp64``; mish (bar 2, but x·tanh(softplus) cancels more) keeps ``exp_dd``.
Near the roots of swish′ and mish′ the numerators cancel beyond what the pair exp resolves:
swish′ reduces e around the root there (see ``swish_grad_from``), mish′ takes a Taylor
expansion around the root in the exact offset h = x − x0.
"""

from __future__ import annotations

import math

from numba import njit

from ._dd64 import (
    _exp_tail,
    div_dd,
    div_dd_pair,
    exp_dd_fast,
    fast_two_sum,
    mul_dd,
    one_plus,
    square_dd,
    two_sum,
)
from ._exp64 import (
    exp_split,
    expm1_lean,
    one_plus_pow2,
    one_plus_split,
    ratio,
    reduce,
    split_pair,
    up_pow2,
)
from ._numba_math import SCALAR, fma
from ._scalars64 import SCALE_DOWN, SCALE_UP, SCALE_UP_F, beta_x

# Near the root of mish′ its numerator is taken from a Taylor expansion around the root
# (|h| < 1/64).
_NEAR_ROOT = 1.0 / 64.0
# swish′: its root z0 = −1 − W(1/e) and E0 = e^z0 = −(1 + z0) as pairs (mpmath); within
# |z − z0| < _SILU_NEAR (|r| ≤ ln2/2 of the exp polynomial) e is reduced around z0.
_SILU_ROOT_HI = -1.2784645427610737
_SILU_ROOT_LO = -1.0946994183093437e-16
_SILU_E0_HI = 0.2784645427610738
_SILU_E0_LO = -1.5523606315812798e-18
_SILU_E0_LO_UP = _SILU_E0_LO * 2.0**200
_SILU_NEAR = 0.34
# silu′ folds E0's low part into the reduced argument instead: E0 = E0_HI·e^δ, δ =
# log(1 + E0_LO/E0_HI) ≈ −5.6e−18, so e^z = E0_HI·e^(h + δ), h = z − z0, and the offset
# is z − ROOT_HI − (ROOT_LO − δ) (mpmath).
_SILU_ROOT_LO_E0 = -1.0389522622732797e-16
# mish′: the root x0 of φ (see mish_grad), E0 = e^x0, and the expansion's coefficients
# A1 = E0(3E0² + 8E0 + 6 + 4x0), A2 = E0²(3E0 + 4), A3 = E0³, B1 = 4(1 + E0), B2 = 4E0,
# C = A1 + B1 as a pair (mpmath, 50 digits).
_MISH_ROOT_HI = -1.1924312145154952
_MISH_ROOT_LO = -4.8484829848031044e-17
_MISH_C_HI = 6.407964080090054
_MISH_C_LO = 2.814383212638563e-16
_MISH_A1 = 1.194033938963939
_MISH_A2 = 0.4522603229111282
_MISH_A3 = 0.027951242009170138
_MISH_B2 = 1.2139301411261156


@njit(**SCALAR)
def expm1_minus_h(h):
    """expm1(h) − h for |h| ≤ 1/64, to ~1e−15 relative (Taylor to h^7)."""
    p = 1.0 / 5040.0
    p = p * h + 1.0 / 720.0
    p = p * h + 1.0 / 120.0
    p = p * h + 1.0 / 24.0
    p = p * h + 1.0 / 6.0
    p = p * h + 0.5
    return (h * h) * p


@njit(**SCALAR)
def swish(v, beta):
    zh, zl = beta_x(v, beta)
    return swish_from(v, zh, zl if zh < 0 else -zl)


@njit(**SCALAR)
def silu(v, p):
    """x·σ(x) = x·N/(1 + e), e = e^−|x|, N = e for x < 0 and 1 for x ≥ 0. For x < 0 the
    numerator x·e is an exact product of the pair e·2^200 (normal where e is subnormal) and
    the ratio is scaled back at the end, so x·σ is rounded once also where σ is subnormal
    (x ≈ −745; plain float64 loses 354 ULP there)."""
    p, st = silu_exp(v)
    return silu_rest(v, p, st)


@njit(**SCALAR)
def silu_exp(v):
    """(p, st): e^−|x| = st·(1 + p)·2^−200, st = 2^(k+200)."""
    t, _, r = reduce(-abs(v), -0.0)  # −0.0: x + (−0.0) folds away, x + 0.0 does not
    return expm1_lean(r), up_pow2(t)


@njit(**SCALAR)
def silu_rest(v, p, st):
    """``silu`` after its exp (``silu_exp``)."""
    neg = v < 0
    nh, nl = split_pair(st, p)  # e·2^200
    dh, dl = one_plus_pow2(st * SCALE_DOWN, p)
    xc = max(v, -1.0e8)  # x·e must round to 0 where the exp is clamped
    ph = xc * nh
    pl = fma(xc, nh, -ph) + xc * nl
    y = ratio(ph if neg else v, pl if neg else 0.0, dh, dl) * (SCALE_DOWN if neg else 1.0)
    return math.copysign(y, v)  # σ > 0: the sign of x, also where the product rounds to ±0


@njit(**SCALAR)
def swish_from(v, zh, al):
    """x·σ(z), z = βx = zh + zl (al the low part of −|z|, as in ``sigmoid_from``): one ratio
    x·N/(1 + e) with N = e for z < 0 (the product x·e taken exactly as a pair) and 1 for
    z ≥ 0. Where e < 2^−1019 (z < −707) it is x·e from the scaled exp, rounded once: where σ
    is subnormal (x ≈ −745) x·σ is still normal (plain float64 loses 354 ULP there)."""
    neg = zh < 0
    s, p, st, normal = exp_split(-abs(zh), al)
    eh, el = split_pair(s, p)
    dh, dl = one_plus_split(s, p, eh, el)
    xc = min(max(v, -1.0e8), 1.0e8)  # x·e must round to 0 where the exp is clamped
    ph = xc * eh
    pl = fma(xc, eh, -ph) + xc * el
    y = ratio(ph if neg else v, pl if neg else 0.0, dh, dl)
    nh, nl = split_pair(st, p)  # e·2^200
    th = xc * nh
    tiny = (th + (fma(xc, nh, -th) + xc * nl)) * SCALE_DOWN  # x·e rounded once where normal
    r = y if normal | ~neg else tiny
    return math.copysign(r, v)  # σ > 0: the sign of x, also where the product rounds to ±0


@njit(**SCALAR)
def swish_grad(v, beta):
    zh, zl = beta_x(v, beta)
    return swish_grad_from(zh, zl, zl if zh < 0 else -zl)


@njit(**SCALAR)
def silu_grad(v, p):
    """silu′ = A·w/d² as in ``swish_grad_from`` (z = x, no low part; e reduced around the
    root z0 there too), with a few operations fewer: E0's low part folded into the reduced
    argument, the product z·e rounded where it only adds (z ≥ 0), d = 1 + e by ``one_plus``
    and the exp tail of ``expm1_lean``. About 1 ULP (1.1 measured), also near the root."""
    p, st = silu_grad_exp(v)
    return silu_grad_rest(v, p, st)


@njit(**SCALAR)
def silu_grad_exp(v):
    """(p, st): e^−|x| = st·(1 + p)·2^−200, with st = E0·2^200 (its high part) and p =
    e^(x − x0) − 1 within |x − x0| < 0.34 of the root x0 of silu′, st = 2^(k+200) beyond."""
    t, _, r = reduce(-abs(v), -0.0)
    hh = v - _SILU_ROOT_HI  # exact near the root (Sterbenz); ±∞ and NaN are not near
    near = abs(hh) < _SILU_NEAR
    r = hh - _SILU_ROOT_LO_E0 if near else r
    return expm1_lean(r), (_SILU_E0_HI * SCALE_UP_F if near else up_pow2(t))


@njit(**SCALAR)
def silu_grad_rest(v, p, st):
    """``silu_grad`` after its exp (``silu_grad_exp``)."""
    z = min(max(v, -1.0e4), 1.0e4)  # as beta_x: beyond, silu′ is 0 or 1 and z·e stays finite
    neg = v < 0
    nh = fma(st, p, st)  # e·2^200 as a pair (nh, nl), normal where e is subnormal
    nl = fma(st, p, st - nh)  # exact also for st = E0_HI·2^200: st − nh by Sterbenz
    eh = nh * SCALE_DOWN
    el = nl * SCALE_DOWN
    dh, dl = one_plus(eh, el)
    # w = d + z·B: for z < 0, d + z exactly (TwoSum; w cancels near the root and is ~z far
    # out, where a rounded w would cost half an ULP); for z ≥ 0 its terms add up and z·e is
    # rounded once (≤ 0.15u of w).
    ph = z * (1.0 if neg else eh)
    wh, wl = two_sum(dh, ph)
    wl = wl + fma(z, 0.0 if neg else el, dl)
    ah = nh if neg else SCALE_UP_F
    al = nl if neg else 0.0
    xh = ah * wh
    xl = fma(ah, wh, -xh) + fma(ah, wl, al * wh)
    qh = dh * dh
    ql = fma(dh, dh, -qh) + (dh + dh) * dl
    return ratio(xh, xl, qh, ql) * SCALE_DOWN


@njit(**SCALAR)
def swish_grad_from(zh, zl, al):
    """σ(z)(1 + z·σ(−z)), z = βx, as one quotient A·w/d² with d = 1 + e, e = e^−|z|,
    w = d + z·B: (A, B) = (1, e) for z ≥ 0 and (e, 1) for z < 0; where e < 2^−1019 (z <
    −707) the result is subnormal: A = e·2^200 (as a pair, normal) and the ratio is scaled
    back once at the end.

    w = 1 + z + e cancels near the root z0 ≈ −1.278 (w ≈ 1.28·(z − z0)). Within |h| < 0.34,
    h = z − z0, e is reduced around z0 instead of k·ln2: e = E0·(1 + p), p = e^h − 1 from
    the same polynomial, E0 = e^z0 = −(1 + z0) as a pair. Then (1 + z) + E0 = h exactly, and
    every rounding left is relative to p ≈ h: w keeps its relative accuracy down to the
    root. Beyond, |w| > 0.45 and e's error (< 0.9u) reaches w at most 0.87-fold."""
    neg = zh < 0
    t, _, r = reduce(-abs(zh), al)
    hh = zh - _SILU_ROOT_HI  # exact near the root (Sterbenz)
    near = abs(hh) < _SILU_NEAR
    r = hh + (zl - _SILU_ROOT_LO) if near else r
    p = fma(r * r, _exp_tail(r), r)  # e^r − 1
    st = _SILU_E0_HI * SCALE_UP_F if near else up_pow2(t)
    nh = fma(st, p, st)  # e·2^200 as a pair (nh, nl), normal where e is subnormal
    nl = fma(st, p, st - nh)
    nl = nl + (fma(_SILU_E0_LO_UP, p, _SILU_E0_LO_UP) if near else 0.0)
    eh = nh * SCALE_DOWN
    dh, dl = one_plus(eh, nl * SCALE_DOWN)  # |dl| ≤ 2^−53: its rounding stays below w's
    bh = 1.0 if neg else eh
    ph = zh * bh
    pl = fma(zh, bh, -ph) + ((0.0 if neg else zh * (nl * SCALE_DOWN)) + zl * bh)
    wh, wl = two_sum(dh, ph)
    wl = wl + (dl + pl)
    ah, al2 = mul_dd(nh if neg else SCALE_UP_F, nl if neg else 0.0, wh, wl)
    qh, ql = square_dd(dh, dl)
    return ratio(ah, al2, qh, ql) * SCALE_DOWN


@njit(**SCALAR)
def _mish_ratio(v, eh, el, sc):
    """(Nh, Nl, Qh, Ql, e²h, e²l): tanh(softplus(x)) = (N/Q)·sc as pairs, from one exp.

    tanh(log(1 + E)) = ((1 + E)² − 1)/((1 + E)² + 1), E = e^x. For x ≥ 0, with e = e^−x:
    N = 1 + 2e, Q = N + 2e² (sc = 1). For x < 0, with e = e^x scaled by 2^200 (eh, el):
    N = e(2 + e), Q = 2 + N·2^−200 and sc = 2^−200, so that a subnormal mish is rounded once.
    (eh, el, sc) come from ``_mish_exp``.
    """
    neg = v < 0
    # x ≥ 0
    nph, npl = fast_two_sum(1.0, 2.0 * eh)
    npl = npl + 2.0 * el
    sqh, sql = square_dd(eh, el)
    qph, qpl = two_sum(nph, 2.0 * sqh)
    qpl = qpl + (npl + 2.0 * sql)
    # x < 0
    wh, wl = fast_two_sum(2.0, eh * sc)
    nnh, nnl = mul_dd(eh, el, wh, wl + el * sc)
    qnh, qnl = fast_two_sum(2.0, nnh * sc)
    qnl = qnl + nnl * sc
    return (
        nnh if neg else nph,
        nnl if neg else npl,
        qnh if neg else qph,
        qnl if neg else qpl,
        sqh,
        sql,
    )


@njit(**SCALAR)
def _mish_exp(v):
    """e = e^−|x| as a pair, scaled by sc⁻¹ = 2^200 for x < 0; returns (eh, el, sc)."""
    neg = v < 0
    eh, el = exp_dd_fast(-abs(v), 0.0, SCALE_UP if neg else 0)
    return eh, el, SCALE_DOWN if neg else 1.0


@njit(**SCALAR)
def mish(v, p):
    eh, el, sc = _mish_exp(v)
    nh, nl, qh, ql, _, _ = _mish_ratio(v, eh, el, sc)
    y0, c = div_dd_pair(nh, nl, qh, ql)
    # Near 0 the product's error would underflow below the FMA's reach: scale x up there.
    tiny = abs(v) < 2.0**-500
    xs = v * 2.0**600 if tiny else v
    prod = xs * y0
    r = (prod + (fma(xs, y0, -prod) + xs * c)) * (sc * 2.0**-600 if tiny else sc)
    return math.copysign(r, v)  # tanh(softplus(x)) > 0: the sign of x, also at ±0


@njit(**SCALAR)
def mish_grad(v, p):
    """mish′ = t + x·σ(x)·sech²(softplus(x)) over one denominator: (N·Q + 4x·G)/Q² with N, Q
    of ``_mish_ratio`` and G = e²(1 + e) for x ≥ 0, e(1 + e) for x < 0 (e scaled there as in
    ``_mish_ratio``). All in double-double: the two terms cancel at the root x ≈ −1.19."""
    eh, el, sc = _mish_exp(v)
    nh, nl, qh, ql, sqh, sql = _mish_ratio(v, eh, el, sc)
    neg = v < 0
    oh, ol = one_plus(eh * sc, el * sc)
    gh, gl = mul_dd(eh if neg else sqh, el if neg else sql, oh, ol)
    x4 = 4.0 * min(max(v, -1000.0), 1000.0)  # beyond, e = 0: no ∞·0
    ph = x4 * gh
    pl = fma(x4, gh, -ph) + x4 * gl
    ah, al = mul_dd(nh, nl, qh, ql)
    sh, sl = two_sum(ah, ph)
    sl = sl + (al + pl)
    # Near the root x0 the two terms cancel beyond what e^x to ~1e−19 resolves. There the
    # numerator is e^x·φ(x), φ = (E + 2)(E² + 2E + 2) + 4x(1 + E), expanded around x0 in
    # h = x − x0 (exact) and m = expm1(h): φ = C·h + A1·(m − h) + A2·m² + A3·m³ + B2·h·m.
    hh = v - _MISH_ROOT_HI
    hl = -_MISH_ROOT_LO
    g = expm1_minus_h(hh)
    m = hh + g
    corr = _MISH_A1 * g + m * (m * (_MISH_A2 + _MISH_A3 * m) + _MISH_B2 * hh)
    fh = _MISH_C_HI * hh
    fl = fma(_MISH_C_HI, hh, -fh) + (_MISH_C_HI * hl + _MISH_C_LO * hh) + corr
    fh, fl = mul_dd(eh, el, fh, fl)
    near = abs(hh) < _NEAR_ROOT
    dh, dl = square_dd(qh, ql)
    r = div_dd(fh if near else sh, fl if near else sl, dh, dl) * sc
    return math.copysign(r, hh + hl)  # mish′ has the sign of x − x0 (also at ±0)
