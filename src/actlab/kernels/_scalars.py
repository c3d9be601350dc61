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

from ._numba_math import SCALAR, exp_w, expm1_w, log1p_unit


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


# ---------------------------------------------------------------------------------- logistic


@njit(**SCALAR)
def sigmoid(v, p):
    e = exp_w(-abs(v))
    return 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)


@njit(**SCALAR)
def sigmoid_complement(v, p):
    e = exp_w(-abs(v))
    return e / (1.0 + e) if v >= 0 else 1.0 / (1.0 + e)


@njit(**SCALAR)
def sigmoid_grad(v, p):
    e = exp_w(-abs(v))
    return e / ((1.0 + e) * (1.0 + e))


@njit(**SCALAR)
def softplus(v, beta):
    e = exp_w(-abs(beta * v))
    return max(v, 0.0) + log1p_unit(e) / beta


@njit(**SCALAR)
def softplus_grad(v, beta):
    return sigmoid(beta * v, 0.0)


@njit(**SCALAR)
def log_sigmoid(v, p):
    return -softplus(-v, 1.0)


# -------------------------------------------------------------------------------- hyperbolic


@njit(**SCALAR)
def tanh(v, p):
    a = -2.0 * abs(v)
    t = -expm1_w(a) / (1.0 + exp_w(a))
    return math.copysign(t, v)


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
    return min(v, 6.0) if v > 0 else 0.0


@njit(**SCALAR)
def relu6_grad(v, p):
    return 1.0 if (v > 0 and v < 6.0) else 0.0


@njit(**SCALAR)
def leaky_relu(v, slope):
    return v if v > 0 else slope * v


@njit(**SCALAR)
def leaky_relu_grad(v, slope):
    return 1.0 if v > 0 else slope


# ------------------------------------------------------------------------------- exponential


@njit(**SCALAR)
def elu(v, alpha):
    return v if v > 0 else alpha * expm1_w(min(v, 0.0))


@njit(**SCALAR)
def elu_grad(v, alpha):
    return 1.0 if v > 0 else alpha * exp_w(v)


# ------------------------------------------------------------------------------------ gated


@njit(**SCALAR)
def swish(v, beta):
    return v * sigmoid(beta * v, 0.0)


@njit(**SCALAR)
def swish_grad(v, beta):
    # σ(z)·(1 + z·σ(−z)): the textbook σ + x·σ(1−σ) cancels.
    z = beta * v
    return sigmoid(z, 0.0) * (1.0 + z * sigmoid_complement(z, 0.0))


@njit(**SCALAR)
def _mish_t(v, e):
    """tanh(softplus(v)) from e = exp(−|v|), as a ratio of positive terms."""
    if v >= 0:
        return (1.0 + 2.0 * e) / (1.0 + 2.0 * e + 2.0 * e * e)
    n = e * (e + 2.0)
    return n / (n + 2.0)


@njit(**SCALAR)
def mish(v, p):
    return v * _mish_t(v, exp_w(-abs(v)))


@njit(**SCALAR)
def mish_grad(v, p):
    e = exp_w(-abs(v))
    one_e = 1.0 + e
    t = _mish_t(v, e)
    if v >= 0:
        q = e * one_e / (1.0 + 2.0 * e + 2.0 * e * e)
        sig = 1.0 / one_e
    else:
        q = one_e / (e * (e + 2.0) + 2.0)
        sig = e / one_e
    product = v * sig * (4.0 * q * q)
    # Far left t is +0.0 and the product −0.0; mish′ < 0 there, so the product alone.
    return product if t == 0 else t + product
