"""What the generic tests share: the elementwise entries, their parameter sets, and ids.

Everything here comes from the registry; no test keeps its own list of activations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import actlab
from actlab.registry import Elementwise

ELEMENTWISE: tuple[Elementwise, ...] = tuple(actlab.entries("elementwise"))
DTYPES = ("float16", "float32", "float64")
ORDERS = (0, 1, 2)
ORDER_NAMES = ("f", "grad", "grad2")


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
