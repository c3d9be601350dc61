"""Declared properties, kinks, ranges and roots against what the functions actually do."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from actlab import properties
from actlab.registry import PROPERTIES
from support import DTYPES, ELEMENTWISE, away_from_kinks, entries_cases, param_cases


@pytest.mark.parametrize("entry", entries_cases())
def test_declared_properties_are_the_checked_ones(entry):
    checked = {name for name, holds in properties.check_all(entry).items() if holds}
    declared = set(entry.properties)
    assert declared <= checked, f"declared but not true: {sorted(declared - checked)}"
    assert checked <= declared, f"true but not declared: {sorted(checked - declared)}"


def test_every_property_is_checked_and_discriminates():
    """Each property has a checker, and holds for some entries and fails for others, so no
    checker is vacuously true or false."""
    assert set(properties.CHECKERS) == set(PROPERTIES)
    for name in PROPERTIES:
        assert callable(getattr(properties, f"check_{name}"))
        holds = {e.name for e in ELEMENTWISE if properties.CHECKERS[name](e)}
        assert holds, f"{name} holds for no entry"
        assert holds != {e.name for e in ELEMENTWISE}, f"{name} holds for every entry"


@pytest.mark.parametrize("entry", entries_cases())
def test_kinks_are_real(entry):
    """f′ or f″ visibly breaks near every declared kink, so 'not smooth' is observed, and a
    smooth entry shows no break anywhere on the fine grid."""
    breaks = np.concatenate([properties.jump_points(entry, order) for order in (1, 2)])
    for kink in entry.kinks:
        assert np.any(np.abs(breaks - kink.at) <= 2.0**-8), f"no break seen at {kink.at}"
    if not entry.kinks:
        assert breaks.size == 0, f"breaks at {breaks[:5]} but no kink declared"
    else:
        kinks = np.array([k.at for k in entry.kinks])
        stray = breaks[np.all(np.abs(breaks[:, None] - kinks[None, :]) > 2.0**-8, axis=1)]
        assert stray.size == 0, f"breaks away from the declared kinks: {stray[:5]}"


def _wide_grid(dtype: str) -> np.ndarray:
    fi = np.finfo(dtype)
    exponents = np.arange(fi.minexp - fi.nmant, fi.maxexp)
    mags = np.concatenate([np.ldexp(1.0, exponents), [float(fi.max)]])
    fine = np.linspace(-20, 20, 4001)
    xs = np.concatenate([fine, mags, -mags, [np.inf, -np.inf, 0.0, -0.0, 1e3, -1e3]])
    with np.errstate(over="ignore", under="ignore"):
        return xs.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", entries_cases())
def test_range_is_respected_and_tight(entry, dtype):
    """inf f and sup f over a wide grid (limits included) are the declared range ends."""
    lo, hi = entry.range
    # An interior minimum or maximum lies at a declared root of f′: include those points.
    xs = np.concatenate([_wide_grid(dtype), np.asarray(entry.zeros(1), dtype=dtype)])
    f = np.asarray(entry.fn(xs, **entry.defaults))
    assert not np.isnan(f).any()
    lo_d, hi_d = np.asarray(lo, dtype=dtype), np.asarray(hi, dtype=dtype)
    assert f.min() >= lo_d, (f.min(), lo)
    assert f.max() <= hi_d, (f.max(), hi)
    # Tight: the grid gets within a few ULP of each end (the ends are limits or a minimum).
    tol = 4 * float(np.finfo(dtype).eps)
    assert float(f.min()) == pytest.approx(float(lo_d), rel=tol, abs=tol), "lower end not reached"
    assert float(f.max()) == pytest.approx(float(hi_d), rel=tol, abs=tol), "upper end not reached"


def _sign_changes(entry, order, params) -> np.ndarray:
    xs = away_from_kinks(entry, np.linspace(-30, 30, 60001) + 1e-7, 1e-3)
    g = np.asarray(entry.derivative(order)(xs, **params))
    change = np.sign(g[:-1]) * np.sign(g[1:]) < 0
    return xs[:-1][change]


@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_declared_zeros_are_the_roots(entry, params):
    """Each declared root of f′ and f″ is a root of the mpmath reference (to 2 ULP of float64),
    and every sign change of f′ or f″ on a fine grid is a declared root."""
    for order in (1, 2):
        roots = entry.zeros(order, **{k: v for k, v in params.items() if k in entry.defaults})
        with mp.workdps(50):
            for r in roots:

                def ref(t, order=order):
                    return entry.reference[order](mp, t, **params)

                exact = mp.findroot(ref, mp.mpf(r))
                assert abs(exact - r) <= 2 * np.spacing(abs(r)), (order, r, exact)
                slope = abs(mp.diff(ref, exact))
                assert abs(ref(mp.mpf(r))) <= 4 * np.spacing(abs(r)) * slope + mp.mpf(10) ** -40
        for x in _sign_changes(entry, order, params):
            assert any(abs(x - r) <= 1e-3 for r in roots), f"f^({order}) changes sign at {x}"
