"""The activations as scalar float64 functions, inlined into the compiled loops.

Each is the formula of the NumPy path (``functions/_stable.py`` and the family modules),
written for one finite value with the building blocks of ``_numba_math``: the sign split
e = exp(−|x|) ∈ [0, 1], ratios of positive terms, expm1 and log1p where a difference would
cancel. They compute in float64 and are used for float32 results (rounded once at the store),
and, for the piecewise-linear ones, for float64 too (one multiplication, exact).
"""

from __future__ import annotations

import math

from numba import njit

from ._numba_math import (
    SCALAR,
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
