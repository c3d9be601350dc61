"""Row calls that no compiled kernel takes as they are, run on another function's kernel over
transformed rows (``kernels.rowpath.Transform``): softmin on softmax's kernel over −x, and
float32 softmax, softmin and log_softmax with a temperature on the float64 kernels over
(x − max)/T. They meet the same bars against the oracle, keep the hard-row contract (the
flagged rows from the NumPy path), and really take that path (a spy on it)."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.kernels import config, rowpath
from softmax_support import ROW_PRODUCTS, accuracy_rows, same
from test_kernels_support import on_tier, record_calls

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

# (function, temperature, dtype): each a call that used to leave the compiled tier.
CALLS = [
    ("softmin", 1.0, np.float32),
    ("softmin", 1.0, np.float64),
    ("softmin", 0.37, np.float32),
    ("softmax", 0.37, np.float32),
    ("softmax", 5.0, np.float32),
    ("log_softmax", 0.37, np.float32),
    ("log_softmax", 1e-3, np.float32),
]


@pytest.fixture
def transformed(monkeypatch):
    """How many blocks went through ``rowpath._run_transformed``."""
    calls = []
    original = rowpath._run_transformed

    def spy(*args):
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(rowpath, "_run_transformed", spy)
    return calls


@pytest.mark.parametrize(("name", "t", "dtype"), CALLS)
def test_transformed_rows_meet_the_bars(name, t, dtype, transformed):
    entry = actlab.get(name)
    bar = entry.ulp_bar(np.dtype(dtype).name)
    with on_tier("numba"), np.errstate(all="raise"):
        for x in accuracy_rows(dtype):
            exact = ov.exact_rows(entry.reference, x.astype(np.float64), temperature=t)
            got = entry.fn(x, temperature=t)
            assert got.dtype == x.dtype
            err = ov.ulp_errors(got, exact, dtype)
            assert err.max() <= bar, (name, t, err.max(), bar)
    assert transformed  # the calls above took the transformed path


@pytest.mark.parametrize(("name", "t", "dtype"), CALLS)
@pytest.mark.parametrize("n", [7, 300])
def test_hard_rows_follow_the_contract(name, t, dtype, n, transformed):
    """Rows with NaN, ±∞ entries, all −∞ or all +∞ (the kernel flags the hard ones for the
    NumPy path and computes −∞ entries itself) give the NumPy tier's NaN, ±∞ and zeros, and
    its other values within the bar (both tiers are held to it)."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((40, n)) * 30).astype(dtype)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2] = -np.inf
    x[3, ::2] = -np.inf
    x[4] = np.inf
    x[5, 0] = 3e38  # (x − m)/T beyond float64's range for T = 1e−3 is −∞ there: exp 0
    fn = getattr(actlab, name)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, temperature=t)
    assert transformed
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, temperature=t)
    _assert_like_the_numpy_tier(got, expected, name, dtype)


def _assert_like_the_numpy_tier(got, expected, name, dtype):
    """NaN, ±∞ and zeros (one-hot rows included) as the NumPy tier gives them; other values
    within the bar of it (the tiers agree within their bars, not in bits)."""
    exact = ~np.isfinite(expected) | (expected == 0)
    assert same(got[exact], expected[exact])
    rest = ~exact
    ulps = np.abs(got[rest] - expected[rest]) / np.spacing(np.abs(expected[rest]))
    assert ulps.max(initial=0.0) <= actlab.get(name).ulp_bar(np.dtype(dtype).name) + 0.5


@pytest.mark.parametrize(("name", "t", "dtype"), CALLS)
def test_a_moved_axis_with_hard_rows(name, t, dtype, transformed):
    """Over axis 0 the rows are moved into a copy that the kernels may overwrite in place:
    the flagged rows must still be redone from their input (a float32 temperature call once
    redid them from the float64 kernel's output: NaN for a row with +∞)."""
    x = (np.random.default_rng(3).standard_normal((300, 50)) * 10).astype(dtype)
    x[5, 3] = np.inf
    x[6, 4] = -np.inf
    x[7, 5] = np.nan
    fn = getattr(actlab, name)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, axis=0, temperature=t)
    assert transformed
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, axis=0, temperature=t)
    _assert_like_the_numpy_tier(got, expected, name, dtype)


def test_softmin_is_softmax_of_the_negated_rows(transformed):
    """Negation is exact, so softmin on softmax's kernel gives softmax's bits for −x."""
    x = np.random.default_rng(1).standard_normal((300, 50)) * 10
    with on_tier("numba"):
        assert same(actlab.softmin(x, axis=0), actlab.softmax(-x, axis=0))
    assert transformed


def test_float64_with_a_temperature_stays_on_the_numpy_path(transformed):
    """(x/T rounds, and exp amplifies it): no transform, the extended-precision path."""
    x = np.random.default_rng(2).standard_normal((50, 40)) * 30
    with on_tier("numba"):
        got = actlab.softmax(x, temperature=0.37)
    assert not transformed
    with on_tier("numpy"):
        assert same(got, actlab.softmax(x, temperature=0.37))


# ------------------------------------------------------------------- products with a temperature

PRODUCTS = ROW_PRODUCTS  # float32 with a temperature: on the float64 product kernels


def _product_calls(monkeypatch):
    calls = record_calls(monkeypatch, rowpath, "run_transformed_product")
    return lambda: [call[0] for call in calls]


@pytest.mark.parametrize("t", [0.37, 5.0, 1e-3])
@pytest.mark.parametrize(("func", "ref", "entry"), PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_float32_products_with_a_temperature_meet_the_bars(func, ref, entry, t, monkeypatch):
    taken = _product_calls(monkeypatch)
    fn = getattr(actlab, func)
    bar = actlab.get(entry).ulp_bar("float32", "jvp" if "jvp" in func else "vjp")
    with on_tier("numba"), np.errstate(all="raise"):
        for i, x in enumerate(accuracy_rows(np.float32, seed=610)):
            w = np.random.default_rng(i).standard_normal(x.shape).astype(np.float32)
            exact = ov.exact_rows(ref, x.astype(np.float64), w.astype(np.float64), temperature=t)
            got = fn(x, w, temperature=t)
            assert got.dtype == np.float32
            assert ov.normwise_errors(got, exact, np.float32).max() <= bar
            assert ov.sign_errors(got, exact, np.float32) == 0
    assert set(taken()) == {func}  # every call of the loop, on the transformed kernel


@pytest.mark.parametrize("func", [p[0] for p in PRODUCTS])
def test_float32_products_with_a_temperature_keep_the_contract(func, monkeypatch):
    """NaN and ±∞ in x or g, rows of −∞, ties, over a moved axis into out=g: the flagged rows
    from the NumPy path with T on the original rows; NaN, zeros and signs as the NumPy tier
    gives them, the rest within the bar of it."""
    taken = _product_calls(monkeypatch)
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((40, 33)) * 6).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2] = -np.inf
    x[3, ::2] = -np.inf
    x[5, :3] = x[5].max() + 1
    g[6, 7] = np.inf
    fn = getattr(actlab, func)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, g, temperature=0.5)
    gt = np.ascontiguousarray(g.T)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(np.ascontiguousarray(x.T), gt, axis=0, temperature=0.5, out=gt).T
    assert taken() == [func]
    exact = ~np.isfinite(expected) | (expected == 0)
    assert same(got[exact], expected[exact])
    assert np.array_equal(np.signbit(got[expected == 0]), np.signbit(expected[expected == 0]))
    scale = np.max(np.abs(np.where(np.isfinite(expected), expected, 0)), axis=1, keepdims=True)
    err = np.abs(got - expected) / np.maximum(scale, np.finfo(np.float32).tiny)
    assert err[~exact].max(initial=0.0) <= 4 * np.finfo(np.float32).eps


def _signalling_nan_scratch(monkeypatch):
    """``np.empty_like`` that hands back float64 scratch full of a signalling NaN: what
    uninitialised memory may hold, and what an arithmetic step or a rounding to float32
    reports as "invalid"."""
    original = np.empty_like

    def filled(prototype, *args, **kwargs):
        a = original(prototype, *args, **kwargs)
        if a.dtype == np.float64:
            a.view(np.uint64)[...] = 0x7FF0000000000001
        return a

    monkeypatch.setattr(np, "empty_like", filled)


@pytest.mark.parametrize("func", ["softmax", "log_softmax", *(p[0] for p in PRODUCTS)])
def test_flagged_rows_never_touch_the_kernels_unwritten_scratch(func, monkeypatch):
    """The kernels leave a flagged row of their float64 scratch unwritten, and it is redone
    from the NumPy path: its uninitialised contents must not be divided by T or rounded (a
    fresh-clone CI run once raised "invalid value encountered in divide" there)."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((40, 33)) * 6).astype(np.float32)
    x[1, 2] = np.inf
    x[7, 5] = np.nan
    args = (x,) if func in ("softmax", "log_softmax") else (x, rng.standard_normal(x.shape))
    args = tuple(a.astype(np.float32) for a in args)
    fn = getattr(actlab, func)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(*args, temperature=0.5)
    _signalling_nan_scratch(monkeypatch)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(*args, temperature=0.5)
    flagged = [1, 7]
    assert same(got[flagged], expected[flagged])
