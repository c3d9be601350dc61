"""The float64 double-double building blocks (kernels/_dd64.py, _gated64.py) against mpmath
and longdouble on hard inputs: the pair exp with and without scaling, log1p of a pair near
0, around the switch at √2 − 1 and at 1 (u normal or 0: the kernels never pass a subnormal
e), and the expansion used near the roots of f′."""

from __future__ import annotations

import numpy as np
import pytest

from actlab.kernels import config

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


def _mp():
    import mpmath

    mpmath.mp.dps = 50
    return mpmath


def _rel(mp, h, lo, exact):
    return float(abs((mp.mpf(h) + mp.mpf(lo)) - exact) / abs(exact))


def test_exp_dd_fast_is_a_pair_to_2e17_and_flushes_only_near_the_underflow():
    from numba import njit

    from actlab.kernels._dd64 import exp_dd_fast

    @njit
    def run(x, lo, extra, out):
        for i in range(x.shape[0]):
            out[0, i], out[1, i] = exp_dd_fast(x[i], lo[i], extra)

    mp = _mp()
    rng = np.random.default_rng(64)
    x = -np.concatenate([rng.uniform(0, 800, 3000), rng.uniform(0, 1e-3, 500), [0.0, 1e-300]])
    lo = x * rng.uniform(-1, 1, x.size) * 2.0**-53
    for extra in (0, 200):
        out = np.empty((2, x.size))
        run(x, lo, extra, out)
        worst = 0.0
        for xi, li, h, low in zip(x, lo, out[0], out[1], strict=True):
            exact = mp.exp(mp.mpf(xi) + mp.mpf(li)) * mp.mpf(2) ** extra
            if exact >= mp.mpf(2) ** -1021:
                worst = max(worst, _rel(mp, h, low, exact))
            else:  # flushed (callers scale by 2^200 where they need such values)
                assert h == 0.0 or 0 < h < 2.0**-1020
        assert worst < 2e-17


def test_log1p_dd_is_a_pair_to_1e17_over_the_unit_interval():
    from numba import njit

    from actlab.kernels._dd64 import log1p_dd

    @njit
    def run(u, ul, out):
        for i in range(u.shape[0]):
            out[0, i], out[1, i] = log1p_dd(u[i], ul[i])

    mp = _mp()
    rng = np.random.default_rng(65)
    switch = 0.41421356237309503
    u = np.concatenate(
        [
            np.logspace(-300, 0, 1500),
            rng.uniform(0, 1, 1500),
            switch + np.arange(-20, 21) * 2.0**-54,
            1.0 - np.arange(0, 20) * 2.0**-53,
            [0.0, 2.2250738585072014e-308],
        ]
    )
    ul = np.where(u < 1, u * rng.uniform(-1, 1, u.size) * 2.0**-54, 0.0)
    out = np.empty((2, u.size))
    run(u, ul, out)
    worst = 0.0
    for ui, li, h, low in zip(u, ul, out[0], out[1], strict=True):
        exact = mp.log1p(mp.mpf(ui) + mp.mpf(li))
        if exact == 0:
            assert h == 0.0
            continue
        worst = max(worst, _rel(mp, h, low, exact))
    assert worst < 1e-17


def test_expm1_minus_h_near_the_roots():
    from numba import njit

    from actlab.kernels._gated64 import expm1_minus_h

    @njit
    def run(h, out):
        for i in range(h.shape[0]):
            out[i] = expm1_minus_h(h[i])

    mp = _mp()
    h = np.concatenate([np.linspace(-1 / 64, 1 / 64, 2001), [1e-300, -1e-200, 2.0**-30]])
    got = np.empty_like(h)
    run(h, got)
    worst = max(
        float(abs(mp.mpf(g) - (mp.expm1(mp.mpf(x)) - mp.mpf(x))) / (mp.mpf(x) ** 2 / 2))
        for x, g in zip(h, got, strict=True)
        if x != 0 and abs(x) > 1e-150
    )
    assert worst < 1e-15
