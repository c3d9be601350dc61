"""Numerical checkers for the property vocabulary of the registry (``registry.PROPERTIES``).

A record *declares* its properties; these functions *check* them by evaluating the entry's
own f, f′ and f″ (never its references or its declarations) on a wide grid: a fine grid
around the origin, log-spaced magnitudes out to ±1e300, and ±∞, where the special-value
contract gives the limits. The tests require declared == checked for every entry, and the
report shows the checked set.

Each ``check_<name>(entry, **params) -> bool`` uses the entry's defaults for any parameter
not given. These are numerical checks on a finite grid, not proofs: the grid is chosen so
that every function in actlab shows its features on it (the kinks at 0 and 6, the dips of
silu and mish near −1, saturation long before 1e300).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .registry import PROPERTIES, Elementwise

__all__ = ["CHECKERS", "check_all", "jump_points", *(f"check_{p}" for p in PROPERTIES)]

# A power-of-two step, so that the fine grid hits 0, 6 and every dyadic kink exactly and the
# grid is symmetric about 0 (needed by the oddness check).
_STEP = 2.0**-10
_FINE = np.arange(-12.0, 12.0 + _STEP / 2, _STEP)
_MAGNITUDES = np.geomspace(1e-300, 1e300, 601)
_WIDE = np.unique(
    np.concatenate([_FINE, _MAGNITUDES, -_MAGNITUDES, [1e3, -1e3, np.inf, -np.inf, 0.0]])
)


@functools.cache
def _gauss_hermite() -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite rule: E[g(Z)] for Z ~ N(0, 1) is Σ wᵢ g(xᵢ).

    The nodes are symmetric, so an odd function integrates to exactly 0. 160 nodes: NumPy's
    rule overflows beyond ~300, and more nodes would not fix the slow convergence at a corner.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(160)
    return nodes, weights / np.sqrt(2.0 * np.pi)


def _params(entry: Elementwise, params: dict[str, Any]) -> dict[str, Any]:
    return {**entry.defaults, **params}


def _eval(entry: Elementwise, order: int, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    return np.asarray(entry.derivative(order)(x, **_params(entry, params)), dtype=np.float64)


def check_monotonic(entry: Elementwise, **params: Any) -> bool:
    """f non-decreasing along the sorted wide grid, and f′ ≥ 0 on it."""
    f = _eval(entry, 0, _WIDE, params)
    return bool(np.all(f[1:] >= f[:-1]) and np.all(_eval(entry, 1, _WIDE, params) >= 0))


def check_bounded_below(entry: Elementwise, **params: Any) -> bool:
    """f > −∞ everywhere, ±∞ included: a continuous f with limits above −∞ is bounded below."""
    return bool(np.min(_eval(entry, 0, _WIDE, params)) > -np.inf)


def check_bounded_above(entry: Elementwise, **params: Any) -> bool:
    """f < +∞ everywhere, ±∞ included."""
    return bool(np.max(_eval(entry, 0, _WIDE, params)) < np.inf)


def check_non_negative(entry: Elementwise, **params: Any) -> bool:
    """f ≥ 0 everywhere (−0.0 counts as 0)."""
    return bool(np.all(_eval(entry, 0, _WIDE, params) >= 0))


def check_zero_centred(entry: Elementwise, **params: Any) -> bool:
    """f(0) = 0 and E[f(Z)] = 0 for Z ~ N(0, 1), relative to E|f(Z)|.

    This is the sense in which tanh is zero-centred and leaky_relu, elu and silu are not:
    fed standard-normal pre-activations, their outputs have a non-zero mean, which shifts the
    next layer. Gauss–Hermite converges slowly at a corner: for relu the relative error is
    2.6e-3, and 0 for an odd f. The smallest relative mean of a non-centred function in
    actlab is 0.25 (elu), so a 1e-2 tolerance separates the two with a wide margin each way.
    """
    if _eval(entry, 0, np.array([0.0]), params)[0] != 0:
        return False
    nodes, weights = _gauss_hermite()
    f = _eval(entry, 0, nodes, params)
    mean, mean_abs = float(np.sum(weights * f)), float(np.sum(weights * np.abs(f)))
    return abs(mean) <= 1e-2 * mean_abs


def check_odd(entry: Elementwise, **params: Any) -> bool:
    """f(−x) = −f(x) on the symmetric grid (to 2 ULP, since f is rounded once), ±∞ included."""
    x = _WIDE[_WIDE >= 0]
    f_pos, f_neg = _eval(entry, 0, x, params), _eval(entry, 0, -x, params)
    finite = np.isfinite(f_pos)
    if not np.array_equal(f_neg[~finite], -f_pos[~finite]):
        return False
    tol = 2 * np.finfo(np.float64).eps * np.abs(f_pos[finite])
    return bool(np.all(np.abs(f_neg[finite] + f_pos[finite]) <= tol))


def jump_points(entry: Elementwise, order: int, **params: Any) -> np.ndarray:
    """The grid points near which g = f^(order) jumps or has a corner, on the fine grid.

    On a grid of step h, a smooth g has differences Δᵢ that change slowly: the residual
    Δᵢ − (Δᵢ₋₁ + Δᵢ₊₁)/2 is ≈ −g‴h³/2 (~1e-9 here). A jump J between two grid points puts
    J into one difference only, so the residual is ≈ J; a corner (g′ jumps by J′) gives
    ≈ J′h/2 ≈ 5e-4·J′. Both break smoothness, so a residual above 1e-6 (relative to
    max(1, |g|)) counts; the steepest smooth f″ in actlab (swish, β = 10) stays below 1e-7.
    """
    g = _eval(entry, order, _FINE, params)
    d = np.diff(g)
    residual = np.abs(d[1:-1] - (d[:-2] + d[2:]) / 2)
    scale = np.maximum(1.0, np.maximum(np.abs(g[1:-2]), np.abs(g[2:-1])))
    where = np.nonzero(residual > 1e-6 * scale)[0]
    return _FINE[where + 1]


def check_smooth(entry: Elementwise, **params: Any) -> bool:
    """No kinks declared, and f, f′ and f″ show no jump on the fine grid.

    A jump in f itself would be a discontinuity; f′ jumps at a relu-type kink, and f″ at
    elu's kink when α = 1 (where f′ is continuous). The tests also require a jump near every
    declared kink, so a record cannot pass as non-smooth by declaring a kink it lacks.
    """
    if entry.kinks:
        return False
    return all(jump_points(entry, order, **params).size == 0 for order in (0, 1, 2))


def _saturates(entry: Elementwise, sign: float, params: dict[str, Any]) -> bool:
    # f′ must vanish at the far end of the grid and at the limit itself; 1e300 is far enough
    # for any parameter we audit (swish with β = 0.1 saturates by |x| ≈ 1e4).
    far = sign * np.array([1e6, 1e100, 1e300, np.inf])
    g = _eval(entry, 1, far, params)
    return bool(np.all(np.abs(g) <= 1e-12) and g[-1] == 0)


def check_saturates_left(entry: Elementwise, **params: Any) -> bool:
    """f′(x) → 0 as x → −∞."""
    return _saturates(entry, -1.0, params)


def check_saturates_right(entry: Elementwise, **params: Any) -> bool:
    """f′(x) → 0 as x → +∞."""
    return _saturates(entry, 1.0, params)


def check_piecewise_linear(entry: Elementwise, **params: Any) -> bool:
    """f″ = 0 everywhere, f′ takes at most (kinks + 1) values, and f's second differences vanish.

    The last condition checks f itself rather than trusting its analytic derivatives: on a
    straight piece f(x−h) − 2f(x) + f(x+h) is only rounding noise.
    """
    if not np.all(_eval(entry, 2, _WIDE, params) == 0):
        return False
    finite = _WIDE[np.isfinite(_WIDE)]
    if np.unique(_eval(entry, 1, finite, params)).size > len(entry.kinks) + 1:
        return False
    f = _eval(entry, 0, _FINE, params)
    second = f[:-2] - 2 * f[1:-1] + f[2:]
    kinks = np.array([k.at for k in entry.kinks])
    away = np.all(np.abs(_FINE[1:-1, None] - kinks[None, :]) > _STEP / 2, axis=1)
    tol = 8 * np.finfo(np.float64).eps * (1 + np.abs(f[1:-1]))
    return bool(np.all(np.abs(second[away]) <= tol[away]))


CHECKERS: dict[str, Callable[..., bool]] = {p: globals()[f"check_{p}"] for p in PROPERTIES}


def check_all(entry: Elementwise, **params: Any) -> dict[str, bool]:
    """Every property of the vocabulary, checked: {name: holds}."""
    return {name: checker(entry, **params) for name, checker in CHECKERS.items()}
