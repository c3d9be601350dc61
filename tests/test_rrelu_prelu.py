"""What the registry cannot express: rrelu's random slopes and prelu's per-channel weight."""

from __future__ import annotations

import numpy as np
import pytest

import actlab

X = np.linspace(-5, 5, 2001).reshape(1, -1).repeat(4, axis=0)  # many negatives, some ≥ 0
LOWER, UPPER = 0.1, 0.4


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rrelu_training_draws_slopes_in_bounds_and_applies_them(dtype):
    x = X.astype(dtype)
    y, slopes = actlab.rrelu(x, lower=LOWER, upper=UPPER, training=True, rng=1, return_slopes=True)
    assert y.dtype == slopes.dtype == np.dtype(dtype)
    assert slopes.shape == x.shape
    assert slopes.min() >= np.asarray(LOWER, dtype)
    assert slopes.max() <= np.asarray(UPPER, dtype)
    assert np.unique(slopes).size > 100  # one draw per element
    expected = np.where(x > 0, x, (slopes.astype(np.float64) * x.astype(np.float64)))
    np.testing.assert_array_equal(y, expected.astype(dtype))
    # Backward with the very slopes of the forward pass.
    grad = actlab.rrelu_grad(x, lower=LOWER, upper=UPPER, training=True, slopes=slopes)
    np.testing.assert_array_equal(grad, np.where(x > 0, 1, slopes).astype(dtype))


def test_rrelu_is_reproducible_with_a_seed_or_generator():
    a = actlab.rrelu(X, training=True, rng=7)
    b = actlab.rrelu(X, training=True, rng=7)
    c = actlab.rrelu(X, training=True, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gen1, gen2 = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(
        actlab.rrelu(X, training=True, rng=gen1), actlab.rrelu(X, training=True, rng=gen2)
    )
    # A Generator advances: the next call draws new slopes.
    assert not np.array_equal(
        actlab.rrelu(X, training=True, rng=gen1), actlab.rrelu(X, training=True, rng=3)
    )


def test_rrelu_slopes_are_uniform_with_the_right_mean():
    _, slopes = actlab.rrelu(
        np.full(200_000, -1.0), lower=LOWER, upper=UPPER, training=True, rng=0, return_slopes=True
    )
    assert slopes.mean() == pytest.approx((LOWER + UPPER) / 2, abs=2e-3)
    assert slopes.std() == pytest.approx((UPPER - LOWER) / np.sqrt(12), rel=1e-2)


def test_rrelu_training_backward_needs_the_slopes():
    with pytest.raises(ValueError, match="slopes"):
        actlab.rrelu_grad(X, training=True)
    with pytest.raises(ValueError, match="shape"):
        actlab.rrelu_grad(X, training=True, slopes=np.full(3, 0.2))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rrelu_eval_is_leaky_relu_with_the_mean_slope(dtype):
    x = np.concatenate([X.ravel(), [np.inf, -np.inf, np.nan, -0.0]]).astype(dtype)
    mean = (LOWER + UPPER) / 2
    pairs = [
        (actlab.rrelu, actlab.leaky_relu),
        (actlab.rrelu_grad, actlab.leaky_relu_grad),
        (actlab.rrelu_grad2, actlab.leaky_relu_grad2),
    ]
    for ours, leaky in pairs:
        got = ours(x, lower=LOWER, upper=UPPER)
        np.testing.assert_array_equal(got, leaky(x, negative_slope=mean))
        assert np.array_equal(np.signbit(got), np.signbit(leaky(x, negative_slope=mean)))
    _y, slopes = actlab.rrelu(x, lower=LOWER, upper=UPPER, return_slopes=True)
    np.testing.assert_array_equal(slopes, np.full_like(x, mean))


def test_rrelu_bound_gradients_in_training():
    """a = l + (u − l)·U: ∂a/∂l = 1 − U and ∂a/∂u = U, checked by finite differences with the
    same uniform draws U."""
    x = X.ravel()
    _, s = actlab.rrelu(x, lower=LOWER, upper=UPPER, training=True, rng=5, return_slopes=True)
    u01 = (s - LOWER) / (UPPER - LOWER)

    def f(lower, upper):
        return np.where(x > 0, x, (lower + (upper - lower) * u01) * x)

    h = 1e-6
    kw = dict(lower=LOWER, upper=UPPER, training=True, slopes=s)
    fd_lower = (f(LOWER + h, UPPER) - f(LOWER - h, UPPER)) / (2 * h)
    fd_upper = (f(LOWER, UPPER + h) - f(LOWER, UPPER - h)) / (2 * h)
    np.testing.assert_allclose(actlab.rrelu_grad_lower(x, **kw), fd_lower, atol=1e-8)
    np.testing.assert_allclose(actlab.rrelu_grad_upper(x, **kw), fd_upper, atol=1e-8)


# ------------------------------------------------------------------------------------ prelu


def _nchw(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, 3, 4, 5)), np.array([0.1, -0.2, 0.7])


@pytest.mark.parametrize("axis", [1, -3])
def test_prelu_weight_is_per_channel_along_axis(axis):
    x, w = _nchw()
    wb = w.reshape(1, 3, 1, 1)
    np.testing.assert_array_equal(actlab.prelu(x, w, axis=axis), np.where(x > 0, x, wb * x))
    np.testing.assert_array_equal(
        actlab.prelu_grad(x, w, axis=axis), np.where(x > 0, 1.0, np.broadcast_to(wb, x.shape))
    )
    np.testing.assert_array_equal(actlab.prelu_grad2(x, w, axis=axis), np.zeros_like(x))
    np.testing.assert_array_equal(
        actlab.prelu_grad_weight(x, w, axis=axis), np.where(x > 0, 0.0, x)
    )


def test_prelu_channels_last_and_list_weight():
    x, w = _nchw()
    x_last = np.moveaxis(x, 1, -1)
    got = actlab.prelu(x_last, list(w), axis=-1)
    np.testing.assert_array_equal(np.moveaxis(got, -1, 1), actlab.prelu(x, w))
    # A single slope (a number, a 1-element or 0-d array) broadcasts to every channel.
    for single in (0.3, np.array([0.3]), np.asarray(0.3)):
        np.testing.assert_array_equal(actlab.prelu(x, single), actlab.leaky_relu(x, 0.3))


def test_prelu_weight_gradient_summed_equals_finite_differences():
    """∂L/∂w_c = Σ over all axes but the channel axis of g · ∂prelu/∂w; L is linear in w, so
    a central difference is exact up to rounding."""
    x, w = _nchw()
    g = np.random.default_rng(1).standard_normal(x.shape)
    analytic = np.sum(g * actlab.prelu_grad_weight(x, w), axis=(0, 2, 3))
    h = 1e-3
    numeric = []
    for c in range(3):
        e = np.zeros(3)
        e[c] = h
        numeric.append(np.sum(g * (actlab.prelu(x, w + e) - actlab.prelu(x, w - e))) / (2 * h))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-10)


def test_prelu_weight_gradient_equals_torch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch is optional; this check needs it")
    x, w = _nchw()
    g = np.random.default_rng(1).standard_normal(x.shape)
    wt = torch.tensor(w, requires_grad=True)
    y = torch.nn.functional.prelu(torch.tensor(x), wt)
    (torch_grad,) = torch.autograd.grad((y * torch.tensor(g)).sum(), wt)
    ours = np.sum(g * actlab.prelu_grad_weight(x, w), axis=(0, 2, 3))
    np.testing.assert_allclose(ours, torch_grad.numpy(), rtol=1e-12)
    # and autograd through our own prelu on tensors
    wt2 = torch.tensor(w, requires_grad=True)
    y2 = actlab.prelu(torch.tensor(x), wt2)
    (through_ours,) = torch.autograd.grad((y2 * torch.tensor(g)).sum(), wt2)
    np.testing.assert_allclose(through_ours.numpy(), ours, rtol=1e-12)


def test_prelu_weight_and_rrelu_slopes_are_never_modified():
    x, w = _nchw()
    x0, w0 = x.copy(), w.copy()
    for fn in (actlab.prelu, actlab.prelu_grad, actlab.prelu_grad2, actlab.prelu_grad_weight):
        fn(x, w)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(x, x0)
    _, slopes = actlab.rrelu(x, training=True, rng=0, return_slopes=True)
    s0 = slopes.copy()
    for fn in (actlab.rrelu_grad, actlab.rrelu_grad_lower, actlab.rrelu_grad_upper):
        fn(x, training=True, slopes=slopes)
    np.testing.assert_array_equal(slopes, s0)


def test_compiled_array_slopes_match_the_numpy_path_bit_for_bit():
    """prelu with a weight per channel and rrelu with drawn slopes (forward and product) run
    compiled loops on the numba tier; they must give the NumPy path's bits, special values,
    signed zeros and a zero slope at −∞ (limit −0.0, not −∞·0) included."""
    from test_kernels_support import on_tier

    rng = np.random.default_rng(4)
    for dtype in ("float32", "float64"):
        x = (rng.standard_normal((3, 5, 64)) * 3).astype(dtype)
        x[0, :, :5] = [np.nan, np.inf, -np.inf, -0.0, 5e-45]
        g = rng.standard_normal(x.shape).astype(dtype)
        w = np.array([0.1, -0.2, 0.0, 0.3, 0.25], dtype)
        results = {}
        for tier in ("numba", "numpy"):
            with on_tier(tier):
                y, s = actlab.rrelu(x, LOWER, UPPER, training=True, rng=5, return_slopes=True)
                s0 = np.where(np.arange(x.size).reshape(x.shape) % 3 == 0, 0.0, s).astype(dtype)
                out = np.empty_like(x)
                results[tier] = [
                    actlab.prelu(x, w),
                    actlab.prelu(x, w[:3].copy(), axis=0),
                    actlab.prelu_vjp(x, g, weight=w),
                    y,
                    s,
                    actlab.rrelu_vjp(x, g, lower=LOWER, upper=UPPER, training=True, slopes=s0),
                    actlab.prelu(x, w, out=out),
                ]
                assert results[tier][-1] is out
        for got, want in zip(results["numba"], results["numpy"], strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want))
