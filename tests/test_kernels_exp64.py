"""The lean float64 exp pair of kernels/_exp64.py against mpmath: the pair e^a (also where it
is subnormal, and scaled by 2^200), the one-division ratio, and swish′ near its root, where
the exp is reduced around the root instead of k·ln2."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle
from actlab.kernels import config
from test_kernels_support import on_tier

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

U = 2.0**-53


def _mp():
    import mpmath

    mpmath.mp.dps = 50
    return mpmath


def _arguments():
    rng = np.random.default_rng(64)
    return -np.concatenate(
        [rng.uniform(0, 40, 3000), rng.uniform(0, 745, 3000), rng.uniform(0, 1e-6, 300), [0.0]]
    )


def test_split_pair_is_e_to_under_an_ulp_down_to_the_subnormals():
    from numba import njit

    from actlab.kernels._exp64 import exp_split_sub, split_pair

    @njit
    def run(a, out):
        for i in range(a.shape[0]):
            s, p = exp_split_sub(a[i], -0.0)
            out[0, i], out[1, i] = split_pair(s, p)

    mp = _mp()
    a = _arguments()
    out = np.empty((2, a.size))
    run(a, out)
    worst = 0.0
    for ai, h, low in zip(a, out[0], out[1], strict=True):
        exact = mp.exp(mp.mpf(ai))
        if exact >= mp.mpf(2) ** -1022:
            worst = max(worst, float(abs(mp.mpf(h) + mp.mpf(low) - exact) / exact))
        else:  # a subnormal e: h is e rounded once (p's error is far below its ULP)
            assert float(abs(mp.mpf(h) - exact)) <= 0.51 * 2.0**-1074
    assert worst < 0.9 * U


def test_exp_scaled_is_a_normal_pair_where_e_is_subnormal():
    from numba import njit

    from actlab.kernels._exp64 import exp_scaled

    @njit
    def run(a, out):
        for i in range(a.shape[0]):
            out[0, i], out[1, i] = exp_scaled(a[i], -0.0)

    mp = _mp()
    a = np.concatenate([_arguments(), -np.linspace(740, 800, 61)])
    out = np.empty((2, a.size))
    run(a, out)
    worst = 0.0
    for ai, h, low in zip(a, out[0], out[1], strict=True):
        exact = mp.exp(mp.mpf(ai)) * mp.mpf(2) ** 200
        worst = max(worst, float(abs(mp.mpf(h) + mp.mpf(low) - exact) / exact))
    assert worst < 0.9 * U


def test_ratio_rounds_a_quotient_of_pairs_to_half_an_ulp():
    from numba import njit

    from actlab.kernels._exp64 import ratio

    @njit
    def run(nh, nl, dh, dl, out):
        for i in range(nh.shape[0]):
            out[i] = ratio(nh[i], nl[i], dh[i], dl[i])

    mp = _mp()
    rng = np.random.default_rng(65)
    n = 3000
    nh = rng.uniform(0.5, 2.0, n) * 2.0 ** rng.integers(-60, 60, n)
    nl = nh * rng.uniform(-0.5, 0.5, n) * U
    dh = rng.uniform(1.0, 4.0, n)
    dl = dh * rng.uniform(-0.5, 0.5, n) * U
    got = np.empty(n)
    run(nh, nl, dh, dl, got)
    worst = 0.0
    for args, g in zip(zip(nh, nl, dh, dl, strict=True), got, strict=True):
        a, b, c, d = (mp.mpf(float(v)) for v in args)
        exact = (a + b) / (c + d)
        worst = max(worst, float(abs(mp.mpf(g) - exact) / np.spacing(abs(float(exact)))))
    assert worst < 0.52


def test_silu_grad_within_an_ulp_down_to_its_root():
    """Around the root z0 of silu′ the compiled float64 loop reduces e^z around z0: the
    result keeps its relative accuracy (≤ 1 ULP; the bar there is absolute). With β ≠ 1 the
    low part of βx adds a rounding of ~2^−106 to w ≈ 1.28·(z − z0): the absolute bar holds,
    1 ULP does not within ~1e−15 of the root."""
    beta = 1.0
    z0 = -1.2784645427610737
    rng = np.random.default_rng(66)
    z = np.concatenate(
        [
            z0 + rng.uniform(-0.4, 0.4, 4000),
            z0 + rng.uniform(-1e-5, 1e-5, 1000),
            z0 + np.arange(-40, 41) * 2.0**-52,
        ]
    )
    x = z / beta
    entry = actlab.get("swish")
    with on_tier("numba"):
        got = entry.derivative(1)(x, beta=beta)
    errs = oracle.ulp_errors(got, oracle.exact(entry, 1, x, {"beta": beta}), "float64")
    assert errs.max() <= 1.0, (x[np.argmax(errs)], errs.max())


def test_expm1_lean_within_0_6u_of_e_to_the_r():
    """The degree-9 Chebyshev tail: e^r − 1 over the whole reduced range |r| ≤ ln2/2, off by
    < 0.6u relative to e^r (0.12u from the polynomial, up to 0.35u from the final rounding of
    p, the rest from the evaluation; the degree-13 Taylor tail measures 0.45u)."""
    from numba import njit

    from actlab.kernels._exp64 import expm1_lean

    @njit
    def run(r, out):
        for i in range(r.shape[0]):
            out[i] = expm1_lean(r[i])

    mp = _mp()
    half = float(np.log(2.0) / 2)
    rng = np.random.default_rng(67)
    r = np.concatenate([rng.uniform(-half, half, 4000), np.linspace(-half, half, 401)])
    got = np.empty_like(r)
    run(r, got)
    worst = max(
        float(abs(mp.mpf(g) - mp.expm1(mp.mpf(ri))) / mp.exp(mp.mpf(ri)))
        for ri, g in zip(r, got, strict=True)
    )
    assert worst < 0.6 * U


def test_one_plus_pow2_is_one_plus_e_exactly():
    """1 + s·(1 + p) as a pair from s = 2^k and p alone: exact (to dl's own rounding, far
    below an ULP of dh) from k = 0 down to where s is subnormal."""
    from numba import njit

    from actlab.kernels._exp64 import one_plus_pow2

    @njit
    def run(s, p, out):
        for i in range(s.shape[0]):
            out[0, i], out[1, i] = one_plus_pow2(s[i], p[i])

    mp = _mp()
    rng = np.random.default_rng(68)
    n = 3000
    s = 2.0 ** -rng.integers(0, 1080, n).astype(np.float64)
    p = rng.uniform(-0.293, 0.415, n)
    out = np.empty((2, n))
    run(s, p, out)
    for si, pi, dh, dl in zip(s, p, out[0], out[1], strict=True):
        exact = 1 + mp.mpf(si) * (1 + mp.mpf(pi))
        assert abs(mp.mpf(dh) + mp.mpf(dl) - exact) <= 2.0**-105, (si, pi)
        assert abs(dl) <= np.spacing(dh)
