"""softmax's Jacobian products over short rows (``rows_short.softmax_product`` and the lane
kernels of ``kernels._lane_products``): the oracle bars and signs for row lengths up to
``rowpath.SHORT_ROW``, the hard rows through the NumPy path, and which calls take the
short-row kernel."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.kernels import config
from softmax_support import same
from test_kernels_support import on_tier

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

DTYPES = [np.float32, np.float64]
# The products of the short-row kernel: y ⊙ t (softmax's, softmin's at (−x, −g)), t, and
# log_softmax's VJP g − y Σ g.
SHORT = [
    ("softmax_vjp", ov.softmax_vjp_ref, "softmax"),
    ("softmin_jvp", ov.softmin_vjp_ref, "softmin"),
    ("log_softmax_jvp", ov.log_softmax_jvp_ref, "log_softmax"),
    ("log_softmax_vjp", ov.log_softmax_vjp_ref, "log_softmax"),
]
ROWS = 70  # a whole block of 64 rows and a tail of 6, computed from a padded copy


@pytest.fixture
def short_calls(monkeypatch):
    """The rows the short-row kernel computed (not flagged), call by call."""
    from actlab.kernels import rows_short

    calls: list[int] = []
    original = rows_short._product_short

    def counted(x, g, out, flags, chunk, row, kind):
        original(x, g, out, flags, chunk, row, kind)
        calls.append(int(flags.size - np.count_nonzero(flags)))

    monkeypatch.setattr(rows_short, "_product_short", counted)
    return calls


def _bar(entry: str, func: str, dtype) -> float:
    return actlab.get(entry).ulp_bar(np.dtype(dtype).name, "jvp" if "jvp" in func else "vjp")


def _rows(n: int, dtype, seed: int, func: str = "softmax_vjp") -> tuple[np.ndarray, np.ndarray]:
    """ROWS rows of n at three spreads (within the exp's clamp), some with tied maxima, and
    cotangents: normal, nearly constant (softmax's products nearly cancel there, without
    loss in their form), and large. log_softmax's VJP takes no nearly constant g: with tied
    maxima, g − y Σ g cancels there beyond what any path resolves (docs/softmax.md; the
    kernels' share of such rows: ``test_row_products``)."""
    rng = np.random.default_rng(seed)
    spread = np.array([0.5, 4.0, 12.0])[np.arange(ROWS) % 3, None]
    x = rng.standard_normal((ROWS, n)) * spread
    x[::5, : max(2, n // 3)] = x[::5].max(axis=1, keepdims=True)  # tied maxima
    g = rng.standard_normal((ROWS, n))
    if func != "log_softmax_vjp":
        g[1::4] = 1 + 2.0**-20 * g[1::4]
    g[2::7] *= 1e6
    return x.astype(dtype), g.astype(dtype)


def _computed_all(func: str, dtype, calls: list[int], rows: int) -> None:
    """The short-row kernel computed ``rows`` rows; float64 log_softmax's VJP also flags the
    rows whose g − y Σ g cancels beyond CANCEL_D (a few of these: at most a fifth)."""
    if func == "log_softmax_vjp" and dtype == np.float64:
        assert rows - rows // 5 <= calls[0] <= rows
    else:
        assert calls == [rows]


@pytest.mark.parametrize("n", [2, 3, 5, 8, 10, 13, 16, 31, 32])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "ref", "entry"), SHORT, ids=[p[0] for p in SHORT])
def test_short_rows_meet_the_bars_and_signs(func, ref, entry, dtype, n, short_calls):
    x, g = _rows(n, dtype, seed=n, func=func)
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = getattr(actlab, func)(x, g)
    assert got.dtype == dtype
    assert ov.sign_errors(got, exact, dtype) == 0
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar(entry, func, dtype)
    _computed_all(func, dtype, short_calls, ROWS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", [p[0] for p in SHORT])
def test_short_hard_rows_follow_the_numpy_contract(func, dtype, short_calls):
    """NaN and ±∞ in x or g, rows of −∞, −∞ entries, an entry below the exp's clamp and
    (float64) a cotangent too large for the kernel's sums are flagged and take the NumPy
    path: its NaN, zeros and signs; the other rows come from the short-row kernel within
    the bar of it."""
    x, g = _rows(10, dtype, seed=3, func=func)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2] = -np.inf
    x[3, ::2] = -np.inf
    x[4, 5] = x[4].max() - 800  # beyond the clamp in both dtypes
    g[5, 7] = np.nan
    g[6, 8] = np.inf
    x[7, 9], g[7, 9] = -np.inf, np.inf  # g's ∞ meets no usable entry
    # ±max/4: beyond 2^900 summed in float64 (flagged); float32's sums, in float64, hold it
    g[8] = np.finfo(dtype).max / 4 * np.where(np.arange(10) % 3, 1, -1)
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, g)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, g)
    exact = ~np.isfinite(expected) | (expected == 0)
    assert same(got[exact], expected[exact])
    zero = expected == 0
    assert np.array_equal(np.signbit(got[zero]), np.signbit(expected[zero]))
    scale = np.max(np.abs(np.where(np.isfinite(expected), expected, 0)), axis=1, keepdims=True)
    err = np.abs(got - expected) / np.maximum(scale, np.finfo(dtype).tiny)
    assert err[~exact].max() / np.finfo(dtype).eps <= 2 * _bar("softmax", func, dtype)
    _computed_all(func, dtype, short_calls, ROWS - (9 if dtype == np.float64 else 8))


def test_a_float64_cotangent_of_float32_short_rows_takes_the_long_row_kernel(short_calls):
    """The short-row kernel reads g in x's dtype; a float64 g for float32 x (never rounded)
    goes to the long-row kernel, which reads it as it is."""
    x, _ = _rows(10, np.float32, seed=4)
    g = 1 + 2.0**-30 * np.random.default_rng(4).choice([-1.0, 1.0], x.shape)
    exact = ov.exact_rows(ov.softmax_vjp_ref, x.astype(np.float64), g)
    with on_tier("numba"), np.errstate(all="raise"):
        got = actlab.softmax_vjp(x, g)
    assert ov.sign_errors(got, exact, np.float32) == 0
    assert short_calls == []
