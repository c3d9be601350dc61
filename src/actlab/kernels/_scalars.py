"""The activations as scalar float64 functions, inlined into the compiled loops.

Each is the formula of the NumPy path (``functions/_stable.py`` and the family modules),
written for one finite value with the building blocks of ``_numba_math``: the sign split
e = exp(−|x|) ∈ [0, 1], ratios of positive terms, expm1 and log1p where a difference would
cancel. They compute in float64 and are used for float32 results (rounded once at the store),
and, for the piecewise-linear ones, for float64 too (one multiplication, exact).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._numba_math import (
    INV_LN2,
    LN2,
    SCALAR,
    _as_f64,
    _as_i64,
    exp_parts_w,
    exp_w,
    expm1_w,
    log1p_unit,
)


@njit(**SCALAR)
def contract(v, r, lo, hi):
    """The special-value contract: NaN stays NaN, ±∞ give the declared limits."""
    if v != v:
        return v
    if v == math.inf:
        return hi
    if v == -math.inf:
        return lo
    return r


# Every function is straight-line code whose only conditionals choose between values already
# computed: LLVM turns those into vector selects. A conditional around a call or a division
# would stay a branch and keep the loop scalar (about 4x slower).

# ---------------------------------------------------------------------------------- logistic


@njit(**SCALAR)
def softplus(v, beta):
    e = exp_w(-abs(beta * v))
    return max(v, 0.0) + log1p_unit(e) / beta


@njit(**SCALAR)
def log_sigmoid(v, p):
    return -softplus(-v, 1.0)


# -------------------------------------------------------------------------------- hyperbolic


@njit(**SCALAR)
def tanh(v, p):
    # tanh|v| = −expm1(−2|v|)/(1 + e^{−2|v|}), both from one reduction.
    q, s = exp_parts_w(-2.0 * abs(v))
    em1 = q * s + (s - 1.0)
    return math.copysign(-em1 / (2.0 + em1), v)


@njit(**SCALAR)
def tanh_grad(v, p):
    e = exp_w(-2.0 * abs(v))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


# ------------------------------------------------------------------------ piecewise linear


@njit(**SCALAR)
def relu(v, p):
    return v if v > 0 else 0.0


@njit(**SCALAR)
def relu_grad(v, p):
    return 1.0 if v > 0 else 0.0


@njit(**SCALAR)
def relu6(v, p):
    m = v if v < 6.0 else 6.0
    return m if v > 0 else 0.0


@njit(**SCALAR)
def relu6_grad(v, p):
    inside = (v > 0) & (v < 6.0)
    return 1.0 if inside else 0.0


@njit(**SCALAR)
def leaky_relu(v, slope):
    s = slope * v
    return v if v > 0 else s


@njit(**SCALAR)
def leaky_relu_grad(v, slope):
    return 1.0 if v > 0 else slope


# ------------------------------------------------------------------------------- exponential


@njit(**SCALAR)
def elu(v, alpha):
    # expm1 of min(v, 0): only x ≤ 0 reaches it, and min keeps −0.0 (elu(−0.0) = −0.0).
    neg = alpha * expm1_w(min(v, 0.0))
    return v if v > 0 else neg


# ------------------------------------------------------------------------------------ gated


@njit(**SCALAR)
def _mish_t(v, e):
    """tanh(softplus(v)) from e = exp(−|v|), as a ratio of positive terms."""
    n = e * (e + 2.0)
    num = (1.0 + 2.0 * e) if v >= 0 else n
    den = (1.0 + 2.0 * e + 2.0 * e * e) if v >= 0 else (n + 2.0)
    return num / den


@njit(**SCALAR)
def mish(v, p):
    return v * _mish_t(v, exp_w(-abs(v)))


@njit(**SCALAR)
def mish_grad(v, p):
    e = exp_w(-abs(v))
    one_e = 1.0 + e
    n = e * (e + 2.0)
    pos = v >= 0
    d = (1.0 + 2.0 * e + 2.0 * e * e) if pos else (n + 2.0)
    t = ((1.0 + 2.0 * e) if pos else n) / d
    q = ((e * one_e) if pos else one_e) / d
    sig = (1.0 if pos else e) / one_e
    product = v * sig * (4.0 * q * q)
    # Far left t is +0.0 and the product −0.0; mish′ < 0 there, so the product alone.
    return product if t == 0 else t + product


# ------------------------------------------------------------- lean formulas, float32 input
# The float32 loops below are limited by the number of vector instructions per element and
# by how long their dependency chains are, not by memory. These formulas take the float32
# input itself, clamp it in float32 (one vmaxps/vminps for 8 lanes, NaN passes through), and
# need no sign split and no contract: the clamped argument already gives the limits at ±∞.
# The exp is a degree-6 minimax polynomial in Estrin form (relative error < 3.1e−9, about
# 0.05 float32 ULP) evaluated in float64, and every result is rounded once at the store.

# |argument| beyond which every result here is saturated in float32: e^−200 ≈ 1.4e−87, and
# even 3.4e38·e^−200 rounds to 0 in float32. e^200 ≈ 7e86: (1 + e^200)² stays finite.
_BIG32 = np.float32(200.0)
_NEG_BIG32 = np.float32(-200.0)
_ZERO32 = np.float32(0.0)
_BIG = 200.0
# 1.5·2^52 + 1023: x/ln2 + this rounds to an integer k and holds k + 1023 in the low bits.
_BIASED_SHIFTER = 6755399441056767.0

# Minimax (Lawson iteration, mpmath) for (e^r − 1 − r)/r² on |r| ≤ ln2/2, relative error of
# e^r < 3.06e−9.
_E0 = 0.49999993451472624
_E1 = 0.16666520687563108
_E2 = 0.04166838740854697
_E3 = 0.00836871003530828
_E4 = 0.0013814611001066852

# exp_lean's polynomial minus e^r − 1 at r0 = −1.2784645427610738 + 2 ln2 (mpmath).
_E_ROOT = -1.8890675063880148e-09

# Minimax for (atanh(s)/s − 1)/z, z = s² ∈ [0, 1/9]: log1p(u) = 2s(1 + z·R(z)), s = u/(2+u),
# relative error < 1.1e−10 for u ∈ [0, 1].
_L0 = 0.3333333775021206
_L1 = 0.19999444175641037
_L2 = 0.14308298407433817
_L3 = 0.10715370057246337
_L4 = 0.1214477999650615


@njit(**SCALAR)
def clamp32(v):
    """v limited to [−200, 200] in float32; NaN stays NaN (max/min return their first
    argument when it is NaN, as vmaxps/vminps do with these operand orders)."""
    return min(max(v, _NEG_BIG32), _BIG32)


@njit(**SCALAR)
def clamp64(z):
    return min(max(z, -_BIG), _BIG)


@njit(**SCALAR)
def exp_lean(x):
    """e^x for float64 |x| ≤ 700, relative error < 3.1e−9: for results rounded to float32.
    Estrin's scheme keeps the dependency chain short (Horner's was measured 25% slower)."""
    t = x * INV_LN2 + _BIASED_SHIFTER
    kf = t - _BIASED_SHIFTER
    r = x - kf * LN2
    r2 = r * r
    p = (_E0 + _E1 * r) + r2 * ((_E2 + _E3 * r) + r2 * _E4)
    s = _as_f64(_as_i64(t) << 52)  # t's low bits hold k + 1023: 2^k in one shift
    return s + (r + r2 * p) * s


@njit(**SCALAR)
def exp_silu_root(x):
    """``exp_lean`` with its error at silu′'s root removed: there x = −1.2785 reduces to
    r0 = 0.10783, where the polynomial is off by E_ROOT (−1.9e−9 of e^r), and silu′ =
    e^x(e^x + 1 + x)/(1 + e^x)² cancels, which turned that into 100s of ULP. Subtracting it
    leaves an error of 3.5e−8·|r − r0| near the root (the bar needs < 4e−7·|r − r0|) and
    < 6e−9 elsewhere. One addition, off the critical path (a Taylor-7 exp was 25% slower)."""
    t = x * INV_LN2 + _BIASED_SHIFTER
    kf = t - _BIASED_SHIFTER
    r = x - kf * LN2
    r2 = r * r
    p = (_E0 + _E1 * r) + r2 * ((_E2 + _E3 * r) + r2 * _E4)
    s = _as_f64(_as_i64(t) << 52)
    return s + (r2 * p + (r - _E_ROOT)) * s


@njit(**SCALAR)
def log1p_lean(u):
    """log(1 + u) for u ∈ [0, 1], relative error < 2e−10."""
    s = u / (2.0 + u)
    z = s * s
    z2 = z * z
    r = (_L0 + _L1 * z) + z2 * ((_L2 + _L3 * z) + z2 * _L4)
    return 2.0 * s + (2.0 * s) * (z * r)


@njit(**SCALAR)
def sigmoid32(v):
    # σ(x) = e^x/(1 + e^x): no sign split (e^200 is finite in float64), and the relative
    # error of the exp passes to σ damped by 1/(1 + e^x) ≤ 1. No operation negates the
    # argument, so a NaN keeps its sign bit, as on the NumPy path.
    e = exp_lean(np.float64(clamp32(v)))
    return e / (1.0 + e)


@njit(**SCALAR)
def sigmoid_complement32(v):
    return 1.0 / (1.0 + exp_lean(np.float64(clamp32(v))))


@njit(**SCALAR)
def sigmoid_grad32(v):
    e = exp_lean(np.float64(clamp32(v)))
    return e / ((1.0 + e) * (1.0 + e))


@njit(**SCALAR)
def sigmoid_of(z):
    """σ(z) for a float64 z (βx of softplus′)."""
    e = exp_lean(clamp64(z))
    return e / (1.0 + e)


@njit(**SCALAR)
def silu32(v):
    # x·e^x/(1 + e^x); the factor x is clamped below so that −∞ gives −0.0, not −∞·0.
    e = exp_lean(np.float64(clamp32(v)))
    return (np.float64(max(v, _NEG_BIG32)) * e) / (1.0 + e)


@njit(**SCALAR)
def _swish_grad_of_clamped(c):
    # σ(c)(1 + c·σ(−c)) = e^c(e^c + 1 + c)/(1 + e^c)²: one division. e^c + (1 + c) cancels
    # near the root of silu′ (c ≈ −1.2785): there the exp must be good to ~1e−11, which
    # exp_silu_root is at that point; 1 + c is exact.
    e = exp_silu_root(c)
    return (e * (e + (1.0 + c))) / ((1.0 + e) * (1.0 + e))


@njit(**SCALAR)
def silu_grad32(v):
    return _swish_grad_of_clamped(np.float64(clamp32(v)))


@njit(**SCALAR)
def swish_of(v, z):
    """v·σ(z) for z = βv (float64), finite v."""
    e = exp_lean(clamp64(z))
    return (v * e) / (1.0 + e)


@njit(**SCALAR)
def swish_grad_of(z):
    """swish′ = σ(z)(1 + z·σ(−z)) for z = βv, as ``silu_grad32``."""
    return _swish_grad_of_clamped(clamp64(z))


@njit(**SCALAR)
def softplus_of(v, z, inv_beta):
    """max(v, 0) + log1p(e^−|z|)/β for z = βv (float64), β > 0."""
    u = exp_lean(max(-abs(z), -_BIG))
    return max(v, 0.0) + log1p_lean(u) * inv_beta


@njit(**SCALAR)
def elu_grad32(v, alpha):
    # e^min(x, 0) is 1 for x > 0, so the select only picks the factor (1 or α).
    e = exp_lean(np.float64(max(min(v, _ZERO32), _NEG_BIG32)))
    return e if v > 0 else alpha * e


@njit(**SCALAR)
def keep_nan(v, r):
    """r rounded to float32, or v itself where v is NaN: for formulas that negate their
    argument (a NaN's sign bit flips) where the NumPy path returns the input NaN."""
    r32 = np.float32(r)
    return r32 if v == v else v


@njit(**SCALAR)
def inf_contract32(v, r, lo, hi):
    """The limits at ±∞ for loops whose formula cannot give them (a general β); NaN has
    already propagated through the formula. Compares in float32, picks in float64."""
    lim = hi if v > 0 else lo
    return lim if abs(v) == np.inf else r
