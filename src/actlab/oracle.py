"""The arbitrary-precision oracle: exact values from the registry's mpmath references, and
errors measured in ULP of the output dtype.

mpmath is needed only here (and so only by the audit and the tests); it is imported on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .registry import Elementwise

# At 60 significant digits an error of the reference itself is ~1e-60 relative: far below
# any ULP of float64 (1.1e-16), and enough headroom for the cancellation near the roots of
# f′ and f″, where a few digits are lost.
DIGITS = 60


def mpmath() -> Any:
    try:
        import mpmath
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "the accuracy oracle needs mpmath: pip install 'actlab[audit]' (or mpmath)"
        ) from exc
    return mpmath


def exact(entry: Elementwise, order: int, xs: Sequence[float], params: Mapping[str, Any]) -> list:
    """The exact f^(order)(x) as mpf for each finite x (a float64-representable value)."""
    key = tuple(sorted(params.items()))
    return [_exact_one(entry.name, order, key, float(x)) for x in xs]


def exact_param_grad(
    entry: Elementwise, param: str, xs: Sequence[float], params: Mapping[str, Any]
) -> list:
    """The exact ∂f/∂param at each x."""
    mp = mpmath()
    ref = entry.reference_param_grads[param]
    with mp.workdps(DIGITS):
        return [+ref(mp, mp.mpf(float(x)), **params) for x in xs]


@functools.lru_cache(maxsize=1_000_000)
def _exact_one(name: str, order: int, params: tuple, x: float) -> Any:
    from .registry import get

    mp = mpmath()
    ref = get(name).reference[order]
    with mp.workdps(DIGITS):
        # Unary plus rounds the result to the working precision (mpf arithmetic is exact
        # for the piecewise-linear references, which would otherwise keep every bit).
        return +ref(mp, mp.mpf(x), **dict(params))


def ulp_of(value: Any, dtype: Any) -> Any:
    """The spacing of ``dtype`` at the exact (mpf) ``value``; subnormal spacing below tiny."""
    mp = mpmath()
    fi = np.finfo(dtype)
    digits = fi.nmant + 1
    if value == 0 or abs(value) < mp.ldexp(1, int(fi.minexp)):
        return mp.ldexp(1, int(fi.minexp) - digits + 1)
    _, e = mp.frexp(value)  # |value| = m·2^e with m in [0.5, 1)
    return mp.ldexp(1, int(e) - digits)


def ulp_errors(got: np.ndarray, exact_values: Sequence[Any], dtype: Any) -> np.ndarray:
    """|got − exact| / ulp(exact) for each element; +inf where got is NaN or ±inf."""
    mp = mpmath()
    out = np.empty(len(exact_values), dtype=np.float64)
    with mp.workdps(DIGITS):
        for i, (g, ex) in enumerate(
            zip(np.asarray(got, dtype=np.float64).ravel(), exact_values, strict=True)
        ):
            if not np.isfinite(g):
                out[i] = np.inf
                continue
            out[i] = float(abs(mp.mpf(float(g)) - ex) / ulp_of(ex, dtype))
    return out


def abs_errors(got: np.ndarray, exact_values: Sequence[Any]) -> np.ndarray:
    """|got − exact| as float64 (+inf where got is not finite)."""
    mp = mpmath()
    g = np.asarray(got, dtype=np.float64).ravel()
    with mp.workdps(DIGITS):
        return np.array(
            [
                float(abs(mp.mpf(float(v)) - ex)) if np.isfinite(v) else np.inf
                for v, ex in zip(g, exact_values, strict=True)
            ],
            dtype=np.float64,
        )
