"""The correctness column: every candidate's largest error on a sample of its output, against
the registry's mpmath references (60 digits), so that a fast but wrong candidate shows.

The exact values are computed once per table, kept as a float64 pair (hi + lo, about 106
bits), and each candidate's sample is compared in NumPy: |got − hi − lo| in absolute terms
and in ULP of the table's dtype. The cross-entropy loss is a mean over every row, so its
reference is a wide-precision sum over all rows (float64 for float32 data, the x87
extended type for float64), not mpmath.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import oracle, oracle_vector
from ..registry import get
from .workloads import Data, TableSpec

__all__ = ["Reference", "reference"]


@dataclass
class Reference:
    hi: np.ndarray
    lo: np.ndarray
    dtype: np.dtype
    extract: Callable[[Any], np.ndarray]

    def errors(self, result: Any) -> tuple[float, float]:
        """(max abs error, max error in ULP of the dtype) of ``result``'s sample."""
        got = np.asarray(self.extract(result), dtype=np.float64).ravel()
        if got.shape != self.hi.shape:
            return float("inf"), float("inf")
        if not np.all(np.isfinite(got)):
            return float("inf"), float("inf")
        err = np.abs((got - self.hi) - self.lo)
        ulp = np.spacing(np.abs(self.hi).astype(self.dtype)).astype(np.float64)
        return float(err.max(initial=0.0)), float((err / ulp).max(initial=0.0))


# f′ written in terms of the output y = f(x), for the products from a saved output.
FROM_OUTPUT_EXACT = {"sigmoid": lambda y: y * (1 - y), "tanh": lambda y: 1 - y * y}


def _split(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    mp = oracle.mpmath()
    with mp.workdps(oracle.DIGITS):
        hi = np.array([float(v) for v in values], dtype=np.float64)
        lo = np.array([float(v - h) for v, h in zip(values, hi, strict=True)], dtype=np.float64)
    return hi, lo


def _to_numpy(result: Any) -> np.ndarray:
    """A candidate's result as a NumPy array (torch tensors, JAX arrays, NumPy)."""
    if hasattr(result, "detach"):
        return result.detach().cpu().numpy()
    return np.asarray(result)


def _sample(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.int64))


def reference(spec: TableSpec, data: Data, samples: int) -> Reference:
    """The exact values of ``samples`` output elements (or a few rows) of ``spec``."""
    dtype = np.dtype(spec.dtype)
    if spec.kind in ("elementwise", "vjp", "vjp_y", "strided"):
        return _elementwise(spec, data, samples, dtype)
    if spec.kind in ("rows", "axis0"):
        return _rows(spec, data, samples, dtype)
    if spec.kind == "ce":
        return _cross_entropy(data, samples, dtype)
    raise ValueError(f"no reference for table kind {spec.kind!r}")


def _elementwise(spec: TableSpec, data: Data, samples: int, dtype: np.dtype) -> Reference:
    entry = get(spec.name)
    params = dict(spec.params)
    idx = _sample(data.x.size, samples)
    xs = (
        [float(v) for v in data.x.ravel()[idx]]
        if data.x.flags.c_contiguous
        else [float(v) for v in np.ascontiguousarray(data.x).ravel()[idx]]
    )
    if spec.kind in ("elementwise", "strided"):
        exact = oracle.exact(entry, 0, xs, params)
    elif spec.kind == "vjp_y":
        # The product from a stored y is judged against the exact g·f′ *of that y*: the
        # rounding of y itself (1 − y loses everything where y ≈ 1) is not the kernel's.
        mp = oracle.mpmath()
        ys = data.y.ravel()[idx]  # type: ignore[union-attr]
        gs = data.g.ravel()[idx]  # type: ignore[union-attr]
        with mp.workdps(oracle.DIGITS):
            exact = [
                mp.mpf(float(g)) * FROM_OUTPUT_EXACT[spec.name](mp.mpf(float(y)))
                for g, y in zip(gs, ys, strict=True)
            ]
    else:
        mp = oracle.mpmath()
        grads = oracle.exact(entry, 1, xs, params)
        gs = data.g.ravel()[idx]  # type: ignore[union-attr]
        with mp.workdps(oracle.DIGITS):
            exact = [mp.mpf(float(g)) * d for g, d in zip(gs, grads, strict=True)]
    hi, lo = _split(exact)
    return Reference(hi, lo, dtype, lambda r: _to_numpy(r).ravel()[idx])


def _rows(spec: TableSpec, data: Data, samples: int, dtype: np.dtype) -> Reference:
    entry = get(spec.name)
    x = data.x if spec.kind == "rows" else data.x.T  # axis 0: the columns are the rows
    n_rows, width = x.shape
    idx = _sample(n_rows, max(1, samples // width))
    exact = oracle_vector.exact_rows(entry.reference, x[idx])
    hi, lo = _split([v for row in exact for v in row])
    if spec.kind == "rows":
        return Reference(hi, lo, dtype, lambda r: _to_numpy(r)[idx])
    return Reference(hi, lo, dtype, lambda r: _to_numpy(r).T[idx])


def _cross_entropy(data: Data, samples: int, dtype: np.dtype) -> Reference:
    entry = get("cross_entropy")
    x, t = data.x, data.target
    assert t is not None
    n_rows, width = x.shape
    wide = np.float64 if dtype == np.float32 else np.longdouble
    total = wide(0)
    for start in range(0, n_rows, 1024):
        block = x[start : start + 1024].astype(wide)
        m = block.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(block - m).sum(axis=1))
        picked = np.take_along_axis(block, t[start : start + 1024, None], axis=1)[:, 0]
        total += (lse - picked).sum()
    loss = total / wide(n_rows)
    loss_hi = np.float64(loss)
    loss_lo = np.float64(loss - wide(loss_hi))

    idx = _sample(n_rows, max(1, samples // width))
    mp = oracle.mpmath()
    exact = oracle_vector.exact_rows(entry.reference_grad, x[idx], t[idx])
    with mp.workdps(oracle.DIGITS):
        grads = [v / n_rows for row in exact for v in row]
    ghi, glo = _split(grads)
    hi = np.concatenate([[loss_hi], ghi])
    lo = np.concatenate([[loss_lo], glo])

    def extract(result: Any) -> np.ndarray:
        loss_value, grad = result
        return np.concatenate([np.ravel(_to_numpy(loss_value)), _to_numpy(grad)[idx].ravel()])

    return Reference(hi, lo, dtype, extract)
