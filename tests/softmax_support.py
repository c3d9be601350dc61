"""What the tests of the softmax family, maxout and the losses share."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from actlab import oracle_vector as ov


def test_rows(n: int, s: float, count: int, seed: int) -> np.ndarray:
    """``count`` rows of length ``n`` from N(0, s) (float64)."""
    return np.random.default_rng(seed).standard_normal((count, n)) * s


test_rows.__test__ = False  # a helper, not a test


def rows_with_neg_inf(n: int, count: int, seed: int, fraction: float = 0.3) -> np.ndarray:
    """N(0, 10) rows where a fraction of the entries is −∞ (the first entry stays finite)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, n)) * 10
    x[rng.random((count, n)) < fraction] = -math.inf
    x[:, 0] = rng.standard_normal(count)
    return x


def accuracy_rows(dtype: Any, seed: int = 0) -> list[np.ndarray]:
    """The rows the accuracy bars are stated on, for one dtype: lengths 10 and 1000 from
    N(0, s) for s in {1, 100, 1e4} (float16 stops at 100: 1e4 is near its largest value),
    and rows with −∞ entries. Values are exactly representable in ``dtype``."""
    out = []
    scales = (1.0, 100.0) if np.dtype(dtype) == np.float16 else (1.0, 100.0, 1e4)
    for i, s in enumerate(scales):
        out.append(test_rows(10, s, 24, seed + i).astype(dtype))
        out.append(test_rows(1000, s, 1, seed + 10 + i).astype(dtype))
    out.append(rows_with_neg_inf(10, 12, seed + 20).astype(dtype))
    return out


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6):
    """∂f/∂x by central differences (float64), entry by entry; ±∞ entries get 0."""
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        if not np.isfinite(flat[i]):
            continue
        up, down = flat.copy(), flat.copy()
        up[i] += h
        down[i] -= h
        grad.reshape(-1)[i] = (f(up.reshape(x.shape)) - f(down.reshape(x.shape))) / (2 * h)
    return grad


def same(a: Any, b: Any) -> bool:
    """Equal element by element as float64, NaN equal to NaN, shapes equal."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# The Jacobian products of the softmax family: (function, its oracle, the registry entry
# whose product bar applies).
ROW_PRODUCTS = [
    ("softmax_vjp", ov.softmax_vjp_ref, "softmax"),
    ("softmax_jvp", ov.softmax_vjp_ref, "softmax"),
    ("softmin_vjp", ov.softmin_vjp_ref, "softmin"),
    ("softmin_jvp", ov.softmin_vjp_ref, "softmin"),
    ("log_softmax_vjp", ov.log_softmax_vjp_ref, "log_softmax"),
    ("log_softmax_jvp", ov.log_softmax_jvp_ref, "log_softmax"),
]
