"""What the generic tests share: the elementwise entries, their parameter sets, and ids.

Everything here comes from the registry; no test keeps its own list of activations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import actlab
from actlab.accuracy import scale_of
from actlab.registry import Elementwise

ELEMENTWISE: tuple[Elementwise, ...] = tuple(actlab.entries("elementwise"))
DTYPES = ("float16", "float32", "float64")
ORDERS = (0, 1, 2)
ORDER_NAMES = ("f", "grad", "grad2")
# Moderate arguments, none on a kink of the piecewise entries: where autograd through the
# forward formula must equal the analytic f′.
MODERATE = np.linspace(-4.0, 4.0, 81) + 0.0123


def entry_params(entry: Elementwise) -> list[dict[str, Any]]:
    """The defaults and each audit parameter set (the sets the accuracy bars are stated at)."""
    defaults = dict(entry.defaults)
    return [defaults, *({**defaults, **p} for p in entry.audit_params)]


def label(entry: Elementwise, params: dict[str, Any]) -> str:
    changed = {k: v for k, v in params.items() if entry.defaults.get(k) != v}
    return entry.name + "".join(f"-{k}={v:g}" for k, v in changed.items())


def entries_cases() -> list[Any]:
    return [pytest.param(e, id=e.name) for e in ELEMENTWISE]


def param_cases() -> list[Any]:
    """(entry, params) for every entry and parameter set."""
    return [pytest.param(e, p, id=label(e, p)) for e in ELEMENTWISE for p in entry_params(e)]


def functions_of(entry: Elementwise) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(label, callable) for f, f′, f″ and every parameter gradient of ``entry``."""
    for order in ORDERS:
        yield ORDER_NAMES[order], entry.derivative(order)
    for name, fn in entry.param_grads.items():
        yield f"grad_{name}", fn


def function_cases() -> list[Any]:
    """(entry, params, label, callable) over every public callable of every parameter set."""
    return [
        pytest.param(e, p, what, fn, id=f"{label(e, p)}-{what}")
        for e in ELEMENTWISE
        for p in entry_params(e)
        for what, fn in functions_of(e)
    ]


def ulp(value: float, dtype: Any) -> float:
    """The spacing of ``dtype`` at ``value`` (the subnormal spacing near 0)."""
    return float(np.spacing(np.abs(np.asarray(value, dtype=dtype))))


def kink_points(entry: Elementwise) -> np.ndarray:
    return np.array([k.at for k in entry.kinks], dtype=np.float64)


def away_from_kinks(entry: Elementwise, xs: np.ndarray, margin: float) -> np.ndarray:
    """``xs`` without the points within ``margin`` of a declared kink."""
    kinks = kink_points(entry)
    if kinks.size == 0:
        return xs
    return xs[np.all(np.abs(xs[:, None] - kinks[None, :]) > margin, axis=1)]


def same_float(a: Any, b: Any) -> bool:
    """Equal as floats, NaN equal to NaN and the sign of zero significant."""
    a, b = float(a), float(b)
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return a == b and np.signbit(a) == np.signbit(b)


# Measured over the audit's float64 sample points with |βx| ≤ 30, against the oracle (as the
# audit measures, with an absolute error near the roots of f′ and f″): ≤ 7.2 ULP (silu′ at
# −1.6); ≤ 4.8 where β ≠ 1, now that the exponentials take βx exactly (19, softplus″ with
# β = 10, when they took its rounding). NumPy with the extended type is ≤ 0.6 ULP there.
STRICT_FLOAT64_CORE_ULP = 8.0


def ulp_diff(got: np.ndarray, expected: np.ndarray, dtype) -> np.ndarray:
    """|got − expected| in ULP of ``dtype`` at ``expected`` (both finite, or equal)."""
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    out = np.where(same, 0.0, np.inf)
    check = ~same & np.isfinite(expected) & np.isfinite(got)
    spacing = np.spacing(np.abs(expected[check]).astype(dtype)).astype(np.float64)
    out[check] = np.abs(got[check] - expected[check]) / spacing
    return out


def assert_agrees_with_numpy(values, expected, dtype, xs, params):
    """``values`` of a backend other than NumPy against NumPy's ``expected``, at ``xs``.

    float16/bfloat16/float32: within 1 ULP (both compute in float64 and round once).
    float64 has no wider type on such a backend: for |βx| ≤ 30 (where the oracle
    measurement of test_strict_float64_core_region applies) within STRICT_FLOAT64_CORE_ULP,
    or 8·eps absolute where f′ or f″ is near a root and relative error means nothing."""
    np.testing.assert_array_equal(np.isnan(values), np.isnan(expected))
    inf = np.isinf(expected)
    np.testing.assert_array_equal(values[inf], expected[inf])
    finite = np.isfinite(expected)
    if dtype != "float64":
        diffs = ulp_diff(values[finite], expected[finite], dtype)
        worst = int(np.argmax(diffs)) if diffs.size else 0
        assert diffs.max(initial=0.0) <= 1.0, (
            f"{diffs[worst]} ULP at x = {xs[finite][worst]!r}: "
            f"{values[finite][worst]!r}, NumPy {expected[finite][worst]!r}"
        )
        return
    core = finite & (np.abs(xs) <= 30 / scale_of(params))
    eps = float(np.finfo(np.float64).eps)
    np.testing.assert_allclose(
        values[core], expected[core], rtol=STRICT_FLOAT64_CORE_ULP * eps, atol=8 * eps
    )
