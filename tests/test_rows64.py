"""The float64 row kernels' building blocks (the lean exp, the order keys) on hard
inputs, and the short-row kernels among special rows."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.accuracy_rows import exp_error_rows
from actlab.kernels import config
from test_kernels_support import FLOAT64_KERNEL_ULPS, TIERS, on_tier

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


@needs_numba
def test_row_kernels_float64_exp_is_within_its_bounds():
    """e^(x − m)·2^64 over every difference the kernels keep (down to −746), for maxima whose
    x − m is not exact in float64: within 0.95 ULP and 0.70·2^−52 relative (and above 0.5
    ULP somewhere: the sample reaches the rounding); x = m gives exactly 2^64, −∞ gives a
    value that rounds to 0 in every output, NaN and +∞ − ∞ give NaN."""
    from numba import njit

    from actlab.kernels._exp_rows64 import UNSCALE, exp_neg_d

    @njit
    def run(x, neg_m, out):
        for i in range(x.shape[0]):
            out[i] = exp_neg_d(x[i], neg_m)

    rng = np.random.default_rng(7)
    ln2 = np.log(2.0)
    worst = worst_rel = 0.0
    for m in (0.0, 3.7, -55.1, 1e4, 2.5e5):
        # random differences, and ones at and around the ±ln2/2 ends of the reduction
        k = rng.integers(0, 1075, 20_000)
        ends = k * ln2 + rng.choice([-0.5, 0.5], k.size) * ln2 + rng.uniform(-1e-9, 1e-9, k.size)
        d = np.concatenate([rng.uniform(0, 745.9, 200_000), np.logspace(-12, 2.8, 20_000), ends])
        x = np.minimum(m - d[(d >= 0) & (d < 745.9)], m)
        e = np.empty_like(x)
        run(x, -m, e)
        exact = np.exp(np.longdouble(x) - np.longdouble(m)) * np.longdouble(2.0**64)
        err = np.abs(np.longdouble(e) - exact) / np.longdouble(np.spacing(e))
        worst = max(worst, float(np.max(err)))
        rel = np.abs(np.longdouble(e) - exact) / exact
        worst_rel = max(worst_rel, float(np.max(rel)) / 2.0**-52)
    assert 0.5 < worst < 0.95
    assert worst_rel < 0.70  # the bound FLOAT64_KERNEL_ULPS is derived from
    x = np.array([2.0, -np.inf, np.nan, np.inf])
    e = np.empty_like(x)
    run(x, -2.0, e)
    assert e[0] == 2.0**64
    assert 0 < e[1] < 2.0 ** (64 - 1075)  # e^−746: rounds to 0 once unscaled
    assert e[1] * UNSCALE == 0
    assert np.isnan(e[2])
    assert np.isnan(e[3])


@needs_numba
def test_float64_quotient_is_rounded_once():
    """y = e/(sh + sl) (``store_quotient``: y0 = e·(1/sh), then one correction by the exact
    residual): within 0.5 ULP and a hair of the exact quotient (Fractions) over the kernels'
    range (sh ≥ 2^64, e ≤ 2^64, y down into the subnormals, where a product with a
    reciprocal pair rh + rl measured up to 0.90 ULP: docs/performance.md, "Short rows are
    stored straight into the output"), and sl matters."""
    from fractions import Fraction

    from actlab.kernels._row_stores import store_quotient

    rng = np.random.default_rng(11)
    e = np.ldexp(rng.uniform(1, 2, 4000), rng.integers(-1000, 64, 4000))
    worst = 0.0
    for sh in 2.0**64 * rng.uniform(1, 2**20, 12):
        sl = float(np.spacing(sh)) * rng.uniform(-0.5, 0.5)
        y = np.empty_like(e)
        store_quotient(e, sh, sl, y)
        y_without = np.empty_like(e)
        store_quotient(e, sh, 0.0, y_without)
        exact = [Fraction(v) / (Fraction(sh) + Fraction(sl)) for v in e]
        ulp = np.spacing(np.abs(y))
        err = [abs(Fraction(a) - b) / Fraction(u) for a, b, u in zip(y, exact, ulp, strict=True)]
        worst = max(worst, float(max(err)))
        off = [
            abs(Fraction(a) - b) / Fraction(u)
            for a, b, u in zip(y_without, exact, ulp, strict=True)
        ]
        assert max(off) > 0.5 + 2.0**-20
    assert 0.49 < worst <= 0.5 + 2.0**-40


@needs_numba
@pytest.mark.parametrize("n", [10, 40, 200])
def test_float64_row_kernels_where_the_exp_errors_add_up(n):
    """The compiled float64 softmax and log_softmax on rows built from the differences where
    the rounded exp errs most, one entry at one extreme and the others at the other (the
    sum's error then has the other sign from that entry's): within their bounds
    (``FLOAT64_KERNEL_ULPS``), below the bars of 4 and 2 ULP."""
    x = exp_error_rows(n, 500, seed=n)
    xl = np.longdouble(x)
    shifted = xl - xl.max(axis=1, keepdims=True)
    total = np.exp(shifted).sum(axis=1, keepdims=True)
    exact = {"softmax": np.exp(shifted) / total, "log_softmax": shifted - np.log(total)}
    with on_tier("numba"):
        for name, want in exact.items():
            got = getattr(actlab, name)(x)
            ulps = np.abs(np.longdouble(got) - want) / np.longdouble(np.spacing(got))
            assert float(np.max(ulps)) <= FLOAT64_KERNEL_ULPS[name], name


@needs_numba
@pytest.mark.parametrize("n", [10, 32, 40, 200])
def test_float64_confident_rows_keep_their_tiny_tau(n):
    """Rows with one entry 40 above the rest (a confident classifier: τ ≈ n·4e−18): the
    top entry's log-probability −log1p(τ) ≈ −τ shows τ's relative error in full. Summed
    from 2^64, the lanes' own errors carried about n·2^−53 of such a τ (3.05 ULP measured
    over rows of 32, against the bar of 2); the short-row and long-row kernels now keep τ
    to its terms' accuracy. log_softmax and the cross-entropy at entry 0 (the top one but
    in some rows of spread 30), against mpmath, within ``FLOAT64_KERNEL_ULPS``."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(n)
    x = rng.standard_normal((64, n)) * np.array([0.1, 4.0, 30.0, 1.0])[np.arange(64) % 4, None]
    x[:, 0] += 40.0
    with on_tier("numba"):
        z = actlab.log_softmax(x)
        loss = actlab.cross_entropy(x, np.zeros(64, dtype=np.int64), reduction="none")
    worst = 0.0
    with mpmath.workdps(40):
        for r in range(64):
            top = x[r].max()
            m = mpmath.mpf(float(top))
            # τ without the max's 1 (1 + τ − 1 would cancel at any precision for τ ≈ 1e−48)
            tau = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v)) - m) for v in x[r] if v != top)
            exact = (mpmath.mpf(float(x[r, 0])) - m) - mpmath.log1p(tau)  # 0 is mostly the max
            ulp = float(np.spacing(abs(float(exact))))
            for got in (z[r, 0], -loss[r]):
                worst = max(worst, float(abs(mpmath.mpf(float(got)) - exact)) / ulp)
    assert worst <= FLOAT64_KERNEL_ULPS["log_softmax"]


@needs_numba
@pytest.mark.parametrize(("dtype", "key"), [(np.float32, np.int32), (np.float64, np.int64)])
def test_order_keys_order_like_the_floats(dtype, key):
    from numba import njit

    from actlab.kernels._order_keys import from_key, order_key

    @njit
    def keys(x, out, back):
        for i in range(x.shape[0]):
            out[i] = order_key(x[i])
            back[i] = from_key(out[i])

    rng = np.random.default_rng(8)
    fi = np.finfo(dtype)
    tiny, big = float(fi.smallest_subnormal), float(fi.max)
    special = [-np.inf, -big, -1.0, -tiny, -0.0, 0.0, tiny, float(fi.tiny), 1.0, big, np.inf]
    top = int(np.log10(big)) - 1
    scales = 10.0 ** rng.integers(-top, top, 1000)
    x = np.concatenate([special, rng.standard_normal(1000) * scales]).astype(dtype)
    out, back = np.empty(x.size, key), np.empty_like(x)
    keys(x, out, back)
    np.testing.assert_array_equal(back.view(key), x.view(key))  # its own inverse
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(out[order]) >= 0)
    assert out[4] < out[5]  # −0.0 just below +0.0


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 3, 10, 32])
def test_short_rows_special_rows_among_ordinary_ones(n, dtype, tier):
    """Short rows (flattened blocks in the compiled kernels): the same values as the NumPy
    path within an ULP (compiled float64: its bound, ``FLOAT64_KERNEL_ULPS``, plus the NumPy
    path's half ULP), and the special rows (NaN, +∞, only −∞) exactly its contract."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((3000, n)) * 20).astype(dtype)
    x[1, 0] = np.nan
    x[2, n - 1] = np.inf
    x[3, :] = -np.inf
    x[4, 0] = -np.inf
    x[5, :] = 7.0  # every entry the max
    with on_tier("numpy"):
        expected = actlab.softmax(x)
    with on_tier(tier):
        got = actlab.softmax(x)
    np.testing.assert_array_equal(got[1:4], expected[1:4])
    ok = np.isfinite(expected)
    tiny = np.finfo(dtype).smallest_subnormal
    ulps = np.abs(got[ok].astype(np.float64) - expected[ok]) / np.spacing(
        np.maximum(np.abs(expected[ok]), tiny)
    ).astype(np.float64)
    compiled64 = dtype == "float64" and tier == "numba"
    assert float(np.max(ulps)) <= (FLOAT64_KERNEL_ULPS["softmax"] + 0.5 if compiled64 else 1.0)
    np.testing.assert_array_equal(got[5], np.full(n, 1.0 / n, dtype=dtype))
