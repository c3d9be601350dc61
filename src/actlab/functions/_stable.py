"""Numerics shared by the activation families, written against the Array API.

Every helper takes finite inputs in the working dtype. The recurring idea is the sign split:
work with e = exp(−|x|), which lies in [0, 1] and never overflows, and write each quantity as
a ratio of terms in e that are all positive, so nothing cancels and nothing overflows.
"""

from __future__ import annotations

import math
from typing import Any

from ._elementwise import EXP_ARG_LIMIT


def exp_neg_abs(xp: Any, x: Any, dz: Any = None) -> Any:
    """e = exp(−|x|) ∈ [0, 1]; with ``dz`` (``scale_pair``) that of x + dz, the exact βx:
    e·e^(∓dz) = e ∓ e·dz, |dz| ≤ 2^−53·|x|, good to far below an ULP."""
    e = xp.exp(-xp.abs(x))
    if dz is None:
        return e
    return e + e * _signed(xp, x, dz)


def clamp_exponent(xp: Any, z: Any) -> Any:
    """z limited to ±EXP_ARG_LIMIT, where every exp-based quantity has saturated."""
    return xp.clip(z, -EXP_ARG_LIMIT, EXP_ARG_LIMIT)


# Veltkamp's splitter: a·(2^27 + 1) cuts a double into two halves of at most 26 bits whose
# products are exact, for |a| < 2^995 (beyond, the product overflows).
_SPLITTER = 134217729.0
_SPLIT_LIMIT = 2.0**995


def _halves(a: Any) -> tuple[Any, Any]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def scale_pair(xp: Any, beta: Any, x: Any) -> tuple[Any, Any]:
    """(z, dz): z = β·x clamped to ±EXP_ARG_LIMIT without overflowing on the way there, and
    where the working dtype is float64 (no wider type to hold βx: PyTorch, JAX,
    array-api-strict) the rounding error of that product, z + dz = β·x exactly (Dekker's
    two-product: the Array API has no FMA), else None. exp(z) turns z's rounding into a
    relative error of up to |z|·2^−53, 745 times float64's: softplus with β = 10 measured
    490 ULP that way. dz is 0 where z is clamped, for β = ±1 and a power of two (βx exact),
    and for |x| ≥ 2^995 (only a |β| below 1e−295 brings βx into range there)."""
    if isinstance(beta, float):
        if beta == 0.0:
            return xp.zeros_like(x), None
        bound = EXP_ARG_LIMIT / abs(beta)
        xc = xp.clip(x, -bound, bound)
        z = beta * xc
        if math.frexp(beta)[0] in (0.5, -0.5):
            return z, None
    else:
        xc = x
        z = clamp_exponent(xp, beta * x)
    if x.dtype != xp.float64:
        return z, None
    bh, bl = _halves(beta)
    safe = xp.abs(xc) < _SPLIT_LIMIT
    xh, xl = _halves(xp.where(safe, xc, xp.zeros_like(xc)))
    dz = ((xh * bh - z) + xh * bl + xl * bh) + xl * bl
    return z, xp.where(safe & (xp.abs(z) < EXP_ARG_LIMIT), dz, xp.zeros_like(dz))


def _signed(xp: Any, x: Any, dz: Any) -> Any:
    """−|x + dz| + |x|: the change dz makes to −|x| (dz ≪ |x|, 0 at x = 0)."""
    return xp.where(x < 0, dz, -dz)


def sigmoid(xp: Any, x: Any, dz: Any = None) -> Any:
    """σ(x) = 1/(1+e^{−x}); for x < 0 as e/(1+e) so that it never overflows. (``dz``, here
    and below: ``scale_pair``'s error of x = βx, taken into e.)"""
    e = exp_neg_abs(xp, x, dz)
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_complement(xp: Any, x: Any, dz: Any = None) -> Any:
    """σ(−x) = 1 − σ(x), computed directly (1 − σ(x) cancels for large x)."""
    e = exp_neg_abs(xp, x, dz)
    return xp.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


def sigmoid_grad(xp: Any, x: Any, dz: Any = None) -> Any:
    """σ′(x) = σ(x)σ(−x) = e/(1+e)² with e = exp(−|x|); never σ(1−σ), which gives 0 for x ≳ 37."""
    e = exp_neg_abs(xp, x, dz)
    return e / ((1.0 + e) * (1.0 + e))


def one_minus_two_sigmoid(xp: Any, x: Any, dz: Any = None) -> Any:
    """1 − 2σ(x) = −tanh(x/2) = sign(x)·expm1(−|x|)/(1+e), exact in relative terms near 0."""
    u = -xp.abs(x)
    m = xp.expm1(u)
    e = xp.exp(u)
    if dz is not None:  # expm1(u + du) = m + e·du, exp(u + du) = e + e·du
        e_du = e * _signed(xp, x, dz)
        m, e = m + e_du, e + e_du
    r = m / (1.0 + e)
    return xp.where(x > 0, r, -r)


def softplus(xp: Any, x: Any) -> Any:
    """log(1+e^x) = max(x, 0) + log1p(exp(−|x|)): no overflow, no threshold, no cancellation."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(exp_neg_abs(xp, x))


def sech2(xp: Any, x: Any) -> Any:
    """sech²(x) = 4e/(1+e)² with e = exp(−2|x|); 1 − tanh² would cancel to 0 for |x| ≳ 19."""
    e = xp.exp(-2.0 * xp.abs(clamp_exponent(xp, x)))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))
