"""Derivatives: parameter gradients against the oracle, the oracle's own derivatives against
mpmath's numerical differentiation, and our analytic f′, f″ against finite differences."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from actlab import oracle
from actlab.accuracy import sample_points
from support import DTYPES, ELEMENTWISE, away_from_kinks, entry_params, label, param_cases

PARAM_GRAD_CASES = [
    pytest.param(e, p, name, id=f"{label(e, p)}-{name}")
    for e in ELEMENTWISE
    for p in entry_params(e)
    for name in e.param_grads
]


def _scale(params):
    beta = params.get("beta")
    return abs(beta) if isinstance(beta, float) and beta != 0 else 1.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "name"), PARAM_GRAD_CASES)
def test_param_grad_matches_oracle(entry, params, name, dtype):
    """∂f/∂p over the audit's sample points, held to the entry's f′ bar (1 ULP below float64)."""
    xs = sample_points(dtype, scale=_scale(params))[::3]
    got = np.asarray(entry.param_grads[name](xs, **params))
    assert got.dtype == np.dtype(dtype)
    exact = oracle.exact_param_grad(entry, name, xs.astype(np.float64), params)
    errs = oracle.ulp_errors(got, exact, dtype)
    bar = entry.ulp_bar(dtype, 1)
    worst = int(np.argmax(errs))
    assert errs[worst] <= bar, f"x={xs[worst]!r}: {got[worst]!r} vs {exact[worst]}"


# Moderate points, where mpmath's numerical differentiation is reliable; kinks are avoided.
MODERATE = np.linspace(-6.0, 6.0, 13) + 0.123


def _rel_err(a, b):
    return abs(a - b) / max(abs(b), mp.mpf(10) ** -40)


@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_reference_derivatives_agree_with_mpmath_diff(entry, params):
    """The oracle's f′, f″ and ∂f/∂p are the derivatives of its f (mp.diff, 40 digits).

    This is what makes the oracle trustworthy: the references are written independently for
    each order, and here they must agree with each other to 20 digits.
    """
    xs = away_from_kinks(entry, MODERATE, 0.05)
    with mp.workdps(40):
        for x in (mp.mpf(float(v)) for v in xs):

            def f(t, x=x):
                return entry.reference[0](mp, t, **params)

            for order in (1, 2):
                numeric = mp.diff(f, x, order)
                assert _rel_err(entry.reference[order](mp, x, **params), numeric) < 1e-20, (
                    order,
                    x,
                )
            for name, ref in entry.reference_param_grads.items():

                def in_param(p, x=x, name=name):
                    return entry.reference[0](mp, x, **{**params, name: p})

                numeric = mp.diff(in_param, mp.mpf(params[name]))
                assert _rel_err(ref(mp, x, **params), numeric) < 1e-20, (name, x)


def _first(f, x, h):
    """Fourth-order central first difference (error h⁴f⁽⁵⁾/30)."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def _second(f, x, h):
    """Fourth-order central second difference (error h⁴f⁽⁶⁾/90)."""
    return (-f(x + 2 * h) + 16 * f(x + h) - 30 * f(x) + 16 * f(x - h) - f(x - 2 * h)) / (12 * h * h)


SMOOTH_POINTS = np.concatenate(
    [np.linspace(-8, 8, 97) + 0.0123, np.geomspace(1e-3, 30, 40), -np.geomspace(1e-3, 30, 40)]
)


@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_analytic_derivatives_match_finite_differences(entry, params):
    """f′ and f″ against differences of our own float64 f (and f″ against differences of f′).

    Measured errors are ≤ 1e-11 for f′ and f″-from-f′ (h = 2⁻¹²), and ≤ 2e-6 for f″-from-f
    (h = 2⁻⁷; swish with β = 10, whose f⁽⁶⁾ ~ β⁵ dominates the truncation error).
    """
    xs = away_from_kinks(entry, SMOOTH_POINTS, 0.05)

    def f(x):
        return entry.fn(x, **params)

    def g(x):
        return entry.grad(x, **params)

    g1, g2 = g(xs), entry.grad2(xs, **params)
    np.testing.assert_allclose(_first(f, xs, 2.0**-12), g1, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_first(g, xs, 2.0**-12), g2, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_second(f, xs, 2.0**-7), g2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("entry", "params", "name"), PARAM_GRAD_CASES)
def test_param_grads_match_finite_differences(entry, params, name):
    xs = away_from_kinks(entry, SMOOTH_POINTS, 0.05)
    p0 = float(params[name])
    h = 2.0**-12 * max(1.0, abs(p0))

    def f_of(p):
        return entry.fn(xs, **{**params, name: p})

    numeric = (f_of(p0 - 2 * h) - 8 * f_of(p0 - h) + 8 * f_of(p0 + h) - f_of(p0 + 2 * h)) / (12 * h)
    np.testing.assert_allclose(numeric, entry.param_grads[name](xs, **params), rtol=1e-8, atol=1e-9)
