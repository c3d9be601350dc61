"""Property-based tests: random finite floats of every dtype, the whole range included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from support import DTYPES, entries_cases, functions_of, param_cases


def _finite_arrays(dtype: str):
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(allow_nan=False, allow_infinity=False, width=width)
    # 1-D and short: hypothesis's cost is in drawing elements, and each one is independent.
    return hnp.arrays(dtype, st.integers(1, 32), elements=elements)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params"), param_cases())
@given(data=st.data())
def test_finite_in_finite_out(entry, params, dtype, data):
    """Every f, f′, f″ and ∂f/∂p is finite for every finite input: no NaN, no overflow (the
    exact values are all finite and representable: |f| ≤ |x| + const, derivatives bounded)."""
    x = data.draw(_finite_arrays(dtype))
    for what, fn in functions_of(entry):
        with np.errstate(all="raise", under="ignore"):
            y = np.asarray(fn(x, **params))
        assert y.shape == x.shape
        assert y.dtype == x.dtype
        assert np.isfinite(y).all(), (what, x[~np.isfinite(y)])


MONOTONIC = [c for c in entries_cases() if "monotonic" in c.values[0].properties]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", MONOTONIC)
@given(data=st.data())
def test_monotonic_entries_are_monotone(entry, dtype, data):
    x = np.sort(data.draw(_finite_arrays(dtype)).ravel())
    f = entry.fn(x, **entry.defaults)
    assert np.all(f[1:] >= f[:-1]), (x, f)
    assert np.all(entry.grad(x, **entry.defaults) >= 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", entries_cases())
@given(data=st.data())
def test_values_stay_in_range(entry, dtype, data):
    x = data.draw(_finite_arrays(dtype))
    lo, hi = (np.asarray(v, dtype=dtype) for v in entry.range)
    f = entry.fn(x, **entry.defaults)
    assert np.all(f >= lo), x[f < lo]
    assert np.all(f <= hi), x[f > hi]
