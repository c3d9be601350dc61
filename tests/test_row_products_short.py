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


def _meets_bars_and_signs(func: str, ref, entry: str, dtype, x, g) -> np.ndarray:
    """``func``(x, g) on the compiled tier (no floating-point warning) against the oracle:
    every sign right, normwise within the entry's bar; returns the output."""
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = getattr(actlab, func)(x, g)
    assert ov.sign_errors(got, exact, dtype) == 0
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar(entry, func, dtype)
    return got


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
    assert _meets_bars_and_signs(func, ref, entry, dtype, x, g).dtype == dtype
    _computed_all(func, dtype, short_calls, ROWS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", [p[0] for p in SHORT])
def test_short_hard_rows_follow_the_numpy_contract(func, dtype, short_calls):
    """NaN and +∞ in x, ±∞ in g, rows of −∞, (float64) an entry 800 below the max (between
    the cut and the exp's clamp) and a cotangent too large for the kernel's sums are flagged
    and take the NumPy path: its NaN, zeros and signs. The other rows come from the
    short-row kernel within the bar of it, and with the NumPy path's zeros and signs: −∞
    entries (in log_softmax's VJP also with ∞ in g there, which takes no part) and, in
    float32, the entry 800 below (far below float32's cut)."""
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
    # Row 7's ∞ in g at a −∞ entry is flagged by the products y ⊙ t and t (they add |g| over
    # every entry), not by log_softmax's VJP (Σ g leaves out the −∞ entries). softmin reads
    # −x: row 1's +∞ is a −∞ entry there, rows 2, 3 and 7 hold +∞ (flagged), and row 4's
    # entry 800 below the max becomes one 800 above the others.
    flagged = (7 if dtype == np.float64 else 5) + (func != "log_softmax_vjp")
    _computed_all(func, dtype, short_calls, ROWS - flagged)


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


def _causal(dtype, mask: float, func: str) -> tuple[np.ndarray, np.ndarray]:
    """ROWS rows of 16 under a causal mask (row i keeps its first i % 16 + 1 entries; the
    rest get ``mask`` added, or are −∞; for softmin, which reads −x, −mask and +∞), g 0 at
    half of the masked entries."""
    x, g = _rows(16, dtype, seed=16, func=func)
    rng = np.random.default_rng(5)
    masked = np.arange(16)[None, :] > (np.arange(ROWS) % 16)[:, None]
    sign = -1.0 if func.startswith("softmin") else 1.0
    x[masked] = sign * mask if mask == -np.inf else x[masked] + dtype(sign * mask)
    g[masked & (rng.random(x.shape) < 0.5)] = 0.0
    return x, g


@pytest.mark.parametrize("mask", [-1e4, -1e9])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "ref", "entry"), SHORT, ids=[p[0] for p in SHORT])
def test_causally_masked_short_rows_stay_on_the_kernel(func, ref, entry, dtype, mask, short_calls):
    """Attention masks (a large negative number added to the masked logits) make far entries
    whose exact products are 0 or g whatever g holds: the short-row kernel keeps those rows
    (it took the NumPy path for them until the far entries were weighed against a cut), and
    they meet the bars and signs."""
    x, g = _causal(dtype, mask, func)
    _meets_bars_and_signs(func, ref, entry, dtype, x, g)
    _computed_all(func, dtype, short_calls, ROWS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", [p[0] for p in SHORT])
def test_short_rows_masked_by_minus_inf_follow_the_numpy_path(func, dtype, short_calls):
    """A causal mask of −∞ entries (which take no part: output +0 there, as on the NumPy
    path) stays on the kernel, with the NumPy path's zeros and values within the bar. (An
    exact zero elsewhere, the top entry of log_softmax's VJP in a row of one usable entry,
    may differ in sign: either is right, as ``oracle_vector.sign_errors`` accepts.)"""
    x, g = _causal(dtype, -np.inf, func)
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, g)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, g)
    zero, masked = expected == 0, np.isinf(x)
    assert np.all(zero[masked])
    assert same(got[zero], expected[zero])
    assert np.array_equal(np.signbit(got[masked]), np.signbit(expected[masked]))
    scale = np.max(np.abs(expected), axis=1, keepdims=True)
    err = np.abs(got - expected) / np.maximum(scale, np.finfo(dtype).tiny)
    assert err.max() / np.finfo(dtype).eps <= 2 * _bar("softmax", func, dtype)
    _computed_all(func, dtype, short_calls, ROWS)
