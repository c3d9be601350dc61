"""The float64 row kernels' compensated sum (``rows64._sum_lanes`` over ``_lane_sums``): Σa
as a pair, against the exact sum (fractions), for rows of every length around the lane
count and with the terms of a softmax row (0 < a ≤ 2^64)."""

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
    from actlab.kernels.rows64 import _sum_lanes, new_lanes

    rng = np.random.default_rng(n)
    a = TOP * np.exp(-rng.uniform(0.0, 60.0, n))
    if n:
        a[rng.integers(n)] = TOP  # the max's own term, the largest a lane takes
    s, c = new_lanes()
    hi, lo = _sum_lanes(a, s, c)
    exact = sum(map(Fraction, a), Fraction(0))
    assert hi == float(exact)  # the pair is normalised: hi is the sum rounded once
    assert abs(Fraction(hi) + Fraction(lo) - exact) <= Fraction(2.0**-90) * max(exact, 1)
