"""Label smoothing on the fused cross-entropy kernels (numba tier): loss and gradient against
mpmath on the accuracy rows, hard rows like the NumPy tier, and the kernels actually taken."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.losses import _fused
from softmax_support import accuracy_rows, same
from test_kernels_support import TIERS, on_tier, record_calls

CE = actlab.get("cross_entropy")
DTYPES = (np.float32, np.float64)
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def fused(monkeypatch):
    """The calls of the fused kernels' driver (rows they flag go on to the NumPy path)."""
    return record_calls(monkeypatch, _fused, "run")


def _targets(x: np.ndarray, seed: int) -> np.ndarray:
    """A random finite class per row, every third row its arg-max (a confident row there:
    the target's gradient is (1 − a_t) − τ/(1 + τ))."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, x.shape[1], x.shape[0])
    t[::3] = np.argmax(x[::3], axis=1)
    return np.where(np.isfinite(x[np.arange(len(t)), t]), t, np.argmax(x, axis=1))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("eps", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_smoothed_loss_and_gradient_against_mpmath(dtype, eps, tier, fused):
    """Per row, the loss within the record's ULP bar and the gradient normwise within its
    product bar with every sign right, for upstream scales below and above 1 (the kernels'
    lean and exact gradient passes)."""
    name = np.dtype(dtype).name
    for i, x in enumerate(accuracy_rows(dtype, seed=700)):
        x64 = x.astype(np.float64)
        t = _targets(x64, i)
        go = np.linspace(0.25, 3.0, x.shape[0]).astype(dtype)
        with on_tier(tier):
            loss, grad = actlab.cross_entropy_with_grad(
                x, t, label_smoothing=eps, reduction="none", grad_output=go
            )
        exact = ov.exact_rows(CE.reference, x64, list(t), label_smoothing=eps)
        assert ov.ulp_errors(loss, [[v] for v in exact], dtype).max() <= CE.ulp_bar(name)
        exact_grad = ov.exact_rows(CE.reference_grad, x64, list(t), label_smoothing=eps)
        scaled = [[float(g) * v for v in row] for g, row in zip(go, exact_grad, strict=True)]
        assert ov.normwise_errors(grad, scaled, dtype).max() <= CE.product_eps
        assert ov.sign_errors(grad, scaled, dtype) == 0
    assert len(fused) == (len(accuracy_rows(dtype)) if tier == "numba" else 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_hard_rows_and_reductions_like_the_numpy_tier(dtype, reduction, fused):
    """Ignored rows, a row of −∞ (left out of the mean), a −∞ entry (the smoothed mass on an
    impossible class: an infinite loss), +∞, NaN and a confident row: the kernel flags the
    hard ones, and the results match the NumPy tier's (NaN, ±∞ and zeros exactly)."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 30)) * 6).astype(dtype)
    t = rng.integers(0, 30, 40)
    t[[3, 17]] = -100
    x[5, 2] = np.inf
    x[6, :] = -np.inf
    x[7, 4] = -np.inf
    x[9, 0] = np.nan
    x[8, 1] = 80.0
    go = np.linspace(0.5, 2, 40) if reduction == "none" else 0.75
    options = {"label_smoothing": 0.2, "reduction": reduction, "grad_output": go}
    with on_tier("numba"):
        loss, grad = actlab.cross_entropy_with_grad(x, t, **options)
    with on_tier("numpy"):
        ref_loss, ref_grad = actlab.cross_entropy_with_grad(x, t, **options)
    assert len(fused) == 1
    special = ~np.isfinite(ref_loss) | (ref_loss == 0)
    assert same(np.asarray(loss)[special], np.asarray(ref_loss)[special])
    np.testing.assert_allclose(loss, ref_loss, rtol=4 * np.finfo(dtype).eps)
    special = ~np.isfinite(ref_grad) | (ref_grad == 0)
    assert same(grad[special], ref_grad[special])
    scale = np.max(np.abs(ref_grad[np.isfinite(ref_grad)]))
    assert np.nanmax(np.abs(grad - ref_grad)) <= 4 * np.finfo(dtype).eps * scale


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_float64_spread_near_the_top_of_the_range_goes_to_the_numpy_path(dtype):
    """Σ (m − x_j) can pass the float's largest value while the smoothed loss is finite
    (ε/C scales it back), or come within 2^4 of it (2^1021 here), where the float64
    kernel's compensated lanes would start beyond the range: the float64 kernel flags such
    rows, the float32 kernel sums in float64 and computes them."""
    big = np.finfo(dtype).max
    x = np.array([[big, -big, 0.0, 1.0], [2.0**126, -(2.0**126), 0.0, 3.0]], dtype)
    if dtype == np.float64:
        x[1] = [2.0**1020, -(2.0**1020), 0.0, 3.0]
    with on_tier("numba"):
        loss = actlab.cross_entropy(x, np.array([0, 3]), label_smoothing=0.1, reduction="none")
    exact = ov.exact_rows(CE.reference, x.astype(np.float64), [0, 3], label_smoothing=0.1)
    assert np.isfinite(loss).all()
    assert ov.ulp_errors(loss, [[v] for v in exact], dtype).max() <= CE.ulp_bar(
        np.dtype(dtype).name
    )


def test_float64_spread_whose_differences_round_against_mpmath(fused):
    """Rows whose differences m − x_j round: entries of every magnitude and both signs, a few
    near m; and rows where every difference rounds down by almost half an ULP and the spread
    is the whole loss (x = (m, −2^60, …), m just below half the ULP of 2^60, the target at
    m, ε = 1), where leaving out the rounding errors' sum costs a whole ULP (1.07 measured)."""
    rng = np.random.default_rng(11)
    wide = rng.standard_normal((4, 64)) * np.exp2(rng.integers(-60, 60, (4, 64)))
    wide[:, :5] = wide.max(axis=1, keepdims=True) - np.exp2(-np.arange(5.0) - 40)
    down = np.full((3, 64), -(2.0**60))
    down[:, 0] = np.array([0.49, 0.499, 0.45]) * 2.0**8
    x = np.concatenate([wide, down])
    t = np.array([0, 1, 7, 50, 0, 0, 0])
    with on_tier("numba"):
        loss = actlab.cross_entropy(x, t, label_smoothing=1.0, reduction="none")
    assert len(fused) == 1
    exact = ov.exact_rows(CE.reference, x, list(t), label_smoothing=1.0)
    assert ov.ulp_errors(loss, [[v] for v in exact], "float64").max() <= 0.5


@pytest.mark.parametrize("tier", TIERS)
def test_bad_smoothing_is_refused_on_either_path(tier):
    x = np.zeros((4, 5), np.float32)
    t = np.zeros(4, int)
    with on_tier(tier):
        with pytest.raises(ValueError, match="label_smoothing must be in"):
            actlab.cross_entropy(x, t, label_smoothing=1.5)
        with pytest.raises(TypeError, match="label_smoothing must be a real number"):
            actlab.cross_entropy_grad(x, t, label_smoothing="0.1")
