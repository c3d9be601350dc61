"""Numerics shared by the activation families, written against the Array API.

Every helper takes finite inputs in the working dtype. The recurring idea is the sign split:
work with e = exp(−|x|), which lies in [0, 1] and never overflows, and write each quantity as
a ratio of terms in e that are all positive, so nothing cancels and nothing overflows.
"""

from __future__ import annotations

from typing import Any

from ._elementwise import EXP_ARG_LIMIT


def exp_neg_abs(xp: Any, x: Any) -> Any:
    """e = exp(−|x|) ∈ [0, 1]."""
    return xp.exp(-xp.abs(x))


def clamp_exponent(xp: Any, z: Any) -> Any:
    """z limited to ±EXP_ARG_LIMIT, where every exp-based quantity has saturated."""
    return xp.clip(z, -EXP_ARG_LIMIT, EXP_ARG_LIMIT)


def scale(xp: Any, beta: Any, x: Any) -> Any:
    """β·x, clamped to ±EXP_ARG_LIMIT without overflowing on the way there."""
    if isinstance(beta, float):
        if beta == 0.0:
            return xp.zeros_like(x)
        bound = EXP_ARG_LIMIT / abs(beta)
        return beta * xp.clip(x, -bound, bound)
    return clamp_exponent(xp, beta * x)


def sigmoid(xp: Any, x: Any) -> Any:
    """σ(x) = 1/(1+e^{−x}); for x < 0 as e/(1+e) so that it never overflows."""
    e = exp_neg_abs(xp, x)
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_complement(xp: Any, x: Any) -> Any:
    """σ(−x) = 1 − σ(x), computed directly (1 − σ(x) cancels for large x)."""
    e = exp_neg_abs(xp, x)
    return xp.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


def sigmoid_grad(xp: Any, x: Any) -> Any:
    """σ′(x) = σ(x)σ(−x) = e/(1+e)² with e = exp(−|x|); never σ(1−σ), which gives 0 for x ≳ 37."""
    e = exp_neg_abs(xp, x)
    return e / ((1.0 + e) * (1.0 + e))


def one_minus_two_sigmoid(xp: Any, x: Any) -> Any:
    """1 − 2σ(x) = −tanh(x/2) = sign(x)·expm1(−|x|)/(1+e), exact in relative terms near 0."""
    u = -xp.abs(x)
    m = xp.expm1(u)
    r = m / (1.0 + xp.exp(u))
    return xp.where(x > 0, r, -r)


def softplus(xp: Any, x: Any) -> Any:
    """log(1+e^x) = max(x, 0) + log1p(exp(−|x|)): no overflow, no threshold, no cancellation."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(exp_neg_abs(xp, x))


def sech2(xp: Any, x: Any) -> Any:
    """sech²(x) = 4e/(1+e)² with e = exp(−2|x|); 1 − tanh² would cancel to 0 for |x| ≳ 19."""
    e = xp.exp(-2.0 * xp.abs(clamp_exponent(xp, x)))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))
