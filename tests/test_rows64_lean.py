"""The lean float64 row kernels (log_softmax and the cross-entropy from τ = Σe − 1 of
softmax's exp pass, log_softmax's x − M with M a pair, the gradient's target entry in the
streamed pass; softmax alongside) against mpmath on the rows where these shortcuts could
show: τ on both sides of the exact re-sum threshold, ties at the max, −∞ entries, huge
magnitudes, entries below −746, and the target at or off the max."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.kernels import config
from test_kernels_support import on_tier

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


def _hard_rows() -> np.ndarray:
    """Rows of 203 (odd: unaligned ends of the streamed passes): one max at 0 and the rest at
    d, with (n − 1)·e^d = τ for τ from 1e−300 to 1e3, around 2^−32 (TAU_EXACT_BELOW) in
    particular; then ties at the max, −∞ entries, huge magnitudes, random rows."""
    n = 203
    rng = np.random.default_rng(64)
    rows = []
    taus = [1e-300, 1e-200, 2.0**-60, 2.0**-40, 2.0**-33, 2.0**-32, 2.0**-31, 2.0**-20]
    taus += [1e-5, 0.01, 1.0, 7.0, 1e3]
    for tau in taus:
        d = np.log(tau / (n - 1))
        row = d + rng.uniform(-1e-3, 1e-3, n)
        row[rng.integers(n)] = 0.0
        rows.append(row + rng.uniform(-50, 50))
    tie = rng.standard_normal(n) - 30.0
    tie[[3, 100, 202]] = 2.5
    rows.append(tie)
    inf_row = rng.standard_normal(n) * 5
    inf_row[rng.integers(0, n, 20)] = -np.inf
    rows.append(inf_row)
    huge = rng.uniform(-0.8, 0.8, n) * 1e308  # x − m near −1.6e308: no overflow
    huge[0] = 0.85e308
    rows.append(huge)
    far = rng.uniform(-800.0, 0.0, n)  # entries below −746: e^(x − m) rounds to 0
    far[7] = 0.0
    rows.append(far)
    for scale in (1.0, 30.0, 1e4):
        rows.append(rng.standard_normal(n) * scale)
    return np.array(rows)


@needs_numba
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_lean_float64_row_kernels_meet_their_bars_on_hard_rows(name):
    entry = actlab.get(name)
    x = _hard_rows()
    with on_tier("numba"):
        got = entry.fn(x, axis=-1)
    exact = ov.exact_rows(entry.reference, x)
    err = ov.ulp_errors(got, exact, "float64")
    assert float(np.max(err)) <= entry.ulp_bar("float64", "f")


@needs_numba
@pytest.mark.parametrize("at_max", [True, False], ids=["target-at-max", "target-elsewhere"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_lean_float64_cross_entropy_meets_its_bars_on_hard_rows(at_max, reduction):
    ce = actlab.get("cross_entropy")
    x = _hard_rows()
    top = np.argmax(x, axis=1)
    t = top if at_max else (top + 1 + np.arange(x.shape[0])) % x.shape[1]
    t = np.where(np.isfinite(x[np.arange(x.shape[0]), t]), t, top)
    with on_tier("numba"):
        loss = ce.fn(x, t, reduction="none")
        grad = ce.grad(x, t, reduction=reduction)
    exact = ov.exact_rows(ce.reference, x, t)
    assert float(np.max(ov.ulp_errors(loss, exact, "float64"))) <= ce.ulp_bar("float64", "f")
    exact_grad = ov.exact_rows(ce.reference_grad, x, t)
    if reduction == "mean":  # the kernels' gradient scale 1/N (not a power of two here)
        exact_grad = [[v / x.shape[0] for v in row] for row in exact_grad]
    err = ov.normwise_errors(grad, exact_grad, "float64")
    assert float(np.max(err)) <= ce.ulp_bar("float64", "grad")
