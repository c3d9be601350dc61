"""The special-value contract: ±∞ give the declared limits (sign of zero included), NaN
propagates, −0.0 and subnormals are honoured, the kink conventions hold, and no finite
input raises a floating-point warning."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle
from support import (
    DTYPES,
    ELEMENTWISE,
    ORDER_NAMES,
    ORDERS,
    entry_params,
    function_cases,
    label,
    param_cases,
    same_float,
)
from test_kernels_support import TIERS, on_tier

ORDER_CASES = [
    pytest.param(e, p, order, id=f"{label(e, p)}-{ORDER_NAMES[order]}")
    for e in ELEMENTWISE
    for p in entry_params(e)
    for order in ORDERS
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "order"), ORDER_CASES)
def test_infinities_give_the_declared_limits(entry, params, order, dtype):
    at_minus, at_plus = entry.limits(order, **params)
    got = entry.derivative(order)(np.array([-np.inf, np.inf], dtype=dtype), **params)
    assert got.dtype == np.dtype(dtype)
    expected = np.array([at_minus, at_plus], dtype=dtype)
    assert same_float(got[0], expected[0]), f"f^({order})(−∞) = {got[0]!r}, declared {at_minus!r}"
    assert same_float(got[1], expected[1]), f"f^({order})(+∞) = {got[1]!r}, declared {at_plus!r}"


def _continues(value_at_inf: float, value_far: float) -> bool:
    """The value at ±∞ is what the function tends to at ±1e300 (signed zero included)."""
    if np.isinf(value_at_inf):
        return bool(abs(value_far) > 1e200 and np.sign(value_far) == np.sign(value_at_inf))
    return same_float(value_at_inf, value_far)


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_values_at_infinity_continue_the_far_values(entry, params, what, fn):
    """f, f′, f″ and each ∂f/∂p at ±∞ equal their values at ±1e300 (or are ±∞ where those
    are huge), so the declared limits are the limits of the functions, not a convention."""
    far = np.asarray(fn(np.array([-1e300, 1e300]), **params))
    at_inf = np.asarray(fn(np.array([-np.inf, np.inf]), **params))
    for side in (0, 1):
        assert _continues(at_inf[side], far[side]), (what, side, at_inf[side], far[side])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_nan_propagates(entry, params, what, fn, dtype):
    got = np.asarray(fn(np.array([np.nan, 1.0, np.nan], dtype=dtype), **params))
    assert np.isnan(got[[0, 2]]).all()
    assert np.isfinite(got[1])
    assert np.isnan(fn(float("nan"), **params))


@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_signed_zero(entry, params):
    """Where f(0) = 0, f(−0.0) carries the sign of f′(−0.0)·(−0.0): −0.0 for a function that
    rises through 0 (tanh, silu, elu, leaky_relu), +0.0 where the slope at 0 is 0 (relu's
    convention). f(+0.0) is +0.0. Every derivative has the same value at ±0."""
    for dtype in DTYPES:
        zeros = np.array([-0.0, 0.0], dtype=dtype)
        f = entry.fn(zeros, **params)
        if f[1] == 0:
            slope = entry.grad(zeros, **params)[0]
            assert np.signbit(f[0]) == (slope > 0), (dtype, f[0], slope)
            assert not np.signbit(f[1])
        for order in ORDERS:
            values = entry.derivative(order)(zeros, **params)
            assert values[0] == values[1], (dtype, order, values)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "order"), ORDER_CASES)
def test_subnormal_inputs_are_not_flushed(entry, params, order, dtype):
    fi = np.finfo(dtype)
    tiny = float(fi.smallest_subnormal)
    mags = np.array([tiny, 3 * tiny, float(fi.smallest_normal) / 2, float(fi.smallest_normal)])
    xs = np.concatenate([mags, -mags]).astype(dtype)
    got = np.asarray(entry.derivative(order)(xs, **params))
    exact = oracle.exact(entry, order, xs.astype(np.float64), params)
    errs = oracle.ulp_errors(got, exact, dtype)
    assert errs.max() <= entry.ulp_bar(dtype, order), (xs[np.argmax(errs)], got, exact)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_kink_conventions(entry, params, dtype):
    """At each declared kink f′ and f″ take the record's values, at +0.0 and −0.0 alike."""
    for kink in entry.kinks:
        kink_params = {k: v for k, v in params.items() if k in entry.defaults}
        points = np.array([kink.at, -kink.at], dtype=dtype)
        if kink.at != 0:
            points = points[:1]
        grad = entry.grad(points, **params)
        grad2 = entry.grad2(points, **params)
        expected1 = np.asarray(kink.grad(**kink_params), dtype=dtype)
        expected2 = np.asarray(kink.grad2(**kink_params), dtype=dtype)
        assert (grad == expected1).all(), (kink.at, grad, expected1, kink.rule)
        assert (grad2 == expected2).all(), (kink.at, grad2, expected2, kink.rule)
        assert kink.rule


def _finite_extremes(dtype: str) -> np.ndarray:
    fi = np.finfo(dtype)
    mags = [
        float(fi.max),
        float(np.nextafter(fi.max, 0, dtype=dtype)),
        float(fi.smallest_normal),
        float(fi.smallest_subnormal),
        3 * float(fi.smallest_subnormal),
        1.0,
        1e3,
        float(np.log(fi.max)),
        710.11,
        745.2,
    ]
    with np.errstate(over="ignore"):
        xs = np.array([*mags, *(-m for m in mags), 0.0, -0.0], dtype=np.float64).astype(dtype)
    return xs[np.isfinite(xs)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_no_floating_point_warnings_on_finite_inputs(entry, params, what, fn, dtype):
    """Overflow, invalid and divide-by-zero raise here; the library must not trigger them."""
    xs = _finite_extremes(dtype)
    with np.errstate(all="raise"):
        got = np.asarray(fn(xs, **params))
        for x in xs:
            fn(x, **params)
    assert not np.isnan(got).any()


def test_signed_zero_examples():
    """The rule above, spelled out for the cases users ask about."""
    assert np.signbit(actlab.tanh(-0.0))
    assert np.signbit(actlab.silu(-0.0))
    assert np.signbit(actlab.leaky_relu(-0.0))
    assert not np.signbit(actlab.relu(-0.0))
    assert not np.signbit(actlab.relu6(-0.0))


VJP_NAMES = sorted(e.name for e in ELEMENTWISE)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("name", VJP_NAMES)
def test_infinite_cotangents_give_ieee_products_without_warnings(name, tier):
    """g·f′ with g = ±∞: NaN where f′ is 0 (0·∞, as in PyTorch and JAX), ±∞ where f′ ≠ 0,
    and no warning, on both tiers; the products from a saved output likewise."""
    x = np.array([-30.0, -3.0, -0.0, 0.0, 2.0, 7.0] * 4)  # f′ clearly 0 or not
    g = np.where(np.arange(x.size) % 2 == 0, np.inf, -np.inf)
    with on_tier(tier):
        derivative = actlab.get(name).grad(x)
        got = getattr(actlab, f"{name}_vjp")(x, g)
        from_y = [actlab.sigmoid_vjp_from_output, actlab.tanh_vjp_from_output]
        products = [fn(np.array([0.0, 1.0, -1.0, 0.5]), np.full(4, np.inf)) for fn in from_y]
    with np.errstate(invalid="ignore"):
        expected = derivative * g
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
    assert np.isnan(products[0][:2]).all()
    assert np.isnan(products[1][1:3]).all()
    assert products[0][3] == np.inf
    assert products[1][0] == np.inf


@pytest.mark.parametrize("tier", TIERS)
def test_products_beyond_the_range_round_to_infinity_without_warnings(tier):
    """silu′(2.4) ≈ 1.1: times g = 3.3e38 the exact product exceeds float32's range."""
    x = np.full(5, 2.4, np.float32)
    g = np.full(5, 3.3e38, np.float32)
    with on_tier(tier):
        assert np.all(actlab.silu_vjp(x, g) == np.inf)
        assert np.all(actlab.sigmoid_vjp_from_output(np.full(5, 1e20, np.float32), g) == -np.inf)
