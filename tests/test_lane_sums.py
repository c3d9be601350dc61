"""The float64 row kernels' compensated sum (``rows64.lane_total`` over ``_lane_sums``): Σa
as a pair, against the exact sum (fractions), for rows of every length around the lane
count and with the terms of a softmax row (0 < a ≤ 2^64); and the one pass of exp, sum and
the next row's max (``rows64.exp_sum_row``) against those three done apart."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from actlab.kernels import config

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


@needs_numba
@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 33, 1000, 8192])
def test_sum_lanes_is_the_exact_sum_to_a_pair(n):
    from actlab.kernels._lane_sums import TOP
    from actlab.kernels.rows64 import lane_total, new_lanes

    rng = np.random.default_rng(n)
    a = TOP * np.exp(-rng.uniform(0.0, 60.0, n))
    if n:
        a[rng.integers(n)] = TOP  # the max's own term, the largest a lane takes
    s, c = new_lanes()
    hi, lo = lane_total(a, s, c, TOP)
    exact = sum(map(Fraction, a), Fraction(0))
    assert hi == float(exact)  # the pair is normalised: hi is the sum rounded once
    assert abs(Fraction(hi) + Fraction(lo) - exact) <= Fraction(2.0**-90) * max(exact, 1)


@needs_numba
@pytest.mark.parametrize("n", [1, 15, 16, 17, 31, 32, 33, 48, 49, 1000, 8192])
def test_exp_sum_row_is_the_exp_the_sum_and_the_max_done_apart(n):
    from actlab.kernels._exp_rows64 import exp_neg_d
    from actlab.kernels._lane_sums import TOP
    from actlab.kernels._order_keys import max_key
    from actlab.kernels.rows64 import exp_sum_row, lane_total, new_lanes

    rng = np.random.default_rng(n)
    row = rng.standard_normal(n) * rng.choice([1.0, 40.0, 400.0], n)
    if n > 1:
        row[rng.integers(n - 1)] = -np.inf  # 0 exactly (the last entry stays finite)
        row[-1] = abs(row[-1])  # and the max is finite
    m = float(np.max(row))
    nxt = rng.standard_normal(n) * 100.0
    nxt[rng.integers(n)] = -0.0
    if n > 20:  # the max in the lanes, not in the loop's own last entries
        nxt[rng.integers(16 * (n // 16))] = 1e300
    e = np.full(n, np.nan)
    key, hi, lo = exp_sum_row(row, m, e, nxt, *new_lanes())
    want_e = np.array([exp_neg_d(v, -m) for v in row])
    want_hi, want_lo = lane_total(want_e, *new_lanes(), TOP)
    np.testing.assert_array_equal(e, want_e)
    assert (key, hi, lo) == (max_key(nxt), want_hi, want_lo)
