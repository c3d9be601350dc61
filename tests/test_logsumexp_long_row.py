"""logsumexp with a mask or weights, and logsumexp_vjp, over one row longer than a block
(every axis: ``axis=None``, the full tuple, a 1-D array) run in passes over blocks of the row
(``functions/_long_row``) instead of the whole-array code's twenty temporaries of x's size.

Per element they are the whole-array code's operations; only the row's sums are added up
block by block, so the results are the whole-array call's within one rounding (in practice
its bits), the same hard-row contract, and within the oracle's bars."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.functions import _long_row
from actlab.functions import logsumexp as lse_module
from actlab.kernels import blocked
from test_kernels_support import record_calls

DTYPES = [np.float16, np.float32, np.float64]


@pytest.fixture
def long_rows(monkeypatch):
    """Blocks of 64 entries; the list of (function name) of the long-row calls since."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 64)
    vjp = record_calls(monkeypatch, _long_row, "logsumexp_vjp")
    forward = record_calls(monkeypatch, _long_row, "logsumexp")
    return lambda: ["logsumexp"] * len(forward) + ["logsumexp_vjp"] * len(vjp)


def _x(dtype, shape=(12, 50), seed=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 8).astype(dtype)


def _ulps(got, want):
    """The largest distance in ULP of ``want``'s dtype (NaN where they agree on NaN: 0)."""
    both_nan = np.isnan(got) & np.isnan(want)
    assert not (np.isnan(got) ^ np.isnan(want)).any()
    g, w = np.where(both_nan, 0, got), np.where(both_nan, 0, want)
    spacing = np.spacing(np.abs(w).astype(want.dtype)).astype(np.float64)
    return float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)) / spacing))


def _whole_vjp(x, g, **kw):
    """The whole-array call (the reference these passes must reproduce)."""
    return lse_module._logsumexp_vjp(
        x, g, kw.get("axis"), kw.get("where"), kw.get("b"), kw.get("keepdims", False), kw.get("y")
    )


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_vjp_over_every_axis_is_the_whole_array_call(dtype, threads, long_rows):
    x = _x(dtype)
    rng = np.random.default_rng(1)
    b = rng.uniform(-0.2, 2.0, x.shape).astype(dtype)  # a few negative weights
    mask = rng.random(x.shape) < 0.7
    y = actlab.logsumexp(x)
    cases = [
        dict(),
        dict(y=y),
        dict(b=b),
        dict(where=mask),
        dict(where=mask, b=b),
        dict(keepdims=True),
        dict(axis=(0, 1)),
        dict(axis=(1, 0), y=y),
    ]
    previous = actlab.set_num_threads(threads)
    try:
        with np.errstate(all="raise"):
            for kw in cases:
                g = np.ones((1, 1), dtype) * 1.5 if kw.get("keepdims") else dtype(1.5)
                got = actlab.logsumexp_vjp(x, g, **kw)
                want = _whole_vjp(x, g, **kw)
                assert got.dtype == want.dtype
                assert got.shape == want.shape == x.shape
                assert _ulps(got, want) <= 1.0, kw
    finally:
        actlab.set_num_threads(previous)
    assert long_rows() == ["logsumexp_vjp"] * len(cases)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_vjp_of_one_row_is_within_the_oracles_bar(dtype, long_rows):
    """Against mpmath: ≤ 4 eps normwise (``docs/softmax.md``), for a 1-D row and a confident
    row (one entry 40 above the rest: the others' derivatives are tiny)."""
    rng = np.random.default_rng(7)
    plain = (rng.standard_normal(1000) * 4).astype(dtype)
    confident = plain.copy()
    confident[17] = plain.max() + 40
    eps = float(np.finfo(dtype).eps)
    for x in (plain, confident):
        got = actlab.logsumexp_vjp(x, 1.0)
        exact = ov.exact_rows(ov.logsumexp_vjp_ref, x.astype(np.float64)[None, :])[0]
        error = np.linalg.norm(got.astype(np.float64) - exact) / np.linalg.norm(exact)
        assert error <= 4 * eps
        same_y = actlab.logsumexp_vjp(x, 1.0, y=actlab.logsumexp(x))
        assert _ulps(same_y, got) <= 1.0
    assert long_rows() == ["logsumexp_vjp"] * 4  # the forward without options: its kernel


def test_vjp_hard_rows_follow_the_contract(long_rows):
    x = _x(np.float64).reshape(-1)
    cases = {
        "a NaN entry": (np.where(np.arange(x.size) == 300, np.nan, x), 1.0, {}, "nan"),
        "a +∞ entry": (np.where(np.arange(x.size) == 400, np.inf, x), 1.0, {}, "zero"),
        "every entry −∞": (np.full(x.size, -np.inf), 1.0, {}, "zero"),
        "every entry masked": (x, 1.0, dict(where=np.zeros(x.size, bool)), "zero"),
        "a cotangent +∞": (x, np.inf, {}, "nan"),
        "a NaN weight": (x, 1.0, dict(b=np.where(np.arange(x.size) == 5, np.nan, 1.0)), "nan"),
        "weights summing to 0": (np.zeros(4 * 64), 1.0, dict(b=np.tile([1.0, -1.0], 128)), "zero"),
    }
    for name, (row, g, kw, expected) in cases.items():
        with np.errstate(all="raise"):
            got = actlab.logsumexp_vjp(row, g, **kw)
        want = _whole_vjp(row, np.float64(g), **kw)
        assert np.array_equal(got, want, equal_nan=True), name
        assert np.isnan(got).all() if expected == "nan" else not got.any(), name
    assert long_rows() == ["logsumexp_vjp"] * len(cases)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_forward_with_a_mask_or_weights_over_every_axis(dtype, long_rows):
    x = _x(dtype)
    rng = np.random.default_rng(2)
    b = rng.uniform(0.0, 2.0, x.shape).astype(dtype)
    mask = rng.random(x.shape) < 0.6
    cases = [dict(b=b), dict(where=mask), dict(where=mask, b=b), dict(b=b, axis=(0, 1))]
    for kw in cases:
        with np.errstate(all="raise"):
            got = actlab.logsumexp(x, **kw)
        want = lse_module._logsumexp(x, kw.get("axis"), where=kw.get("where"), b=kw.get("b"))
        assert isinstance(got, np.ndarray)
        assert got.shape == ()
        assert got.dtype == dtype
        assert _ulps(got, want) <= 1.0, kw
        weights = (b if "b" in kw else np.ones_like(x)) * kw.get("where", True)
        exact = np.log(np.sum(weights.astype(np.longdouble) * np.exp(x.astype(np.longdouble))))
        assert abs(float(got) - float(exact)) <= float(np.spacing(np.abs(dtype(exact))))
    assert long_rows() == ["logsumexp"] * len(cases)


def test_forward_hard_rows_follow_the_contract(long_rows):
    x = _x(np.float64).reshape(-1)
    n = np.arange(x.size)
    cases = {
        "a NaN weight": (x, dict(b=np.where(n == 5, np.nan, 1.0)), np.nan),
        "a negative sum": (x, dict(b=np.full(x.size, -1.0)), np.nan),
        "+∞ with cancelling weights": (
            np.where(n < 2, np.inf, x),
            dict(b=np.where(n == 0, -1.0, 1.0)),
            np.nan,
        ),
        "+∞ entry": (np.where(n == 9, np.inf, x), dict(b=np.ones(x.size)), np.inf),
        "every entry masked": (x, dict(where=np.zeros(x.size, bool)), -np.inf),
        "a NaN under the mask": (np.where(n == 3, np.nan, x), dict(where=n != 3), None),
    }
    for name, (row, kw, expected) in cases.items():
        with np.errstate(all="raise"):
            got = actlab.logsumexp(row, **kw)
        want = lse_module._logsumexp(row, where=kw.get("where"), b=kw.get("b"))
        assert np.array_equal(got, want, equal_nan=True), name
        if expected is not None:
            assert np.array_equal(got, expected, equal_nan=True), name
        else:
            assert np.isfinite(got), name
    assert long_rows() == ["logsumexp"] * len(cases)


def test_bad_arguments_are_reported_as_before(long_rows):
    x = _x(np.float32)
    with pytest.raises(ValueError, match=r"logsumexp_vjp: b of shape \(3,\) does not broadcast"):
        actlab.logsumexp_vjp(x, 1.0, b=np.ones(3))
    with pytest.raises(TypeError, match="logsumexp_vjp: where must be a boolean array"):
        actlab.logsumexp_vjp(x, 1.0, where=np.ones(x.shape))
    with pytest.raises(ValueError, match=r"logsumexp_vjp: g of shape \(2,\) does not broadcast"):
        actlab.logsumexp_vjp(x, np.ones(2))
    with pytest.raises(ValueError, match="out"):
        actlab.logsumexp_vjp(x, 1.0, out=np.empty(3, np.float32))


def test_out_receives_the_result(long_rows):
    x = _x(np.float32)
    out = np.empty_like(x)
    got = actlab.logsumexp_vjp(x, 2.0, b=np.abs(x), out=out)
    assert got is out
    assert np.array_equal(out, actlab.logsumexp_vjp(x, 2.0, b=np.abs(x)))


@pytest.mark.parametrize("options", ["b", "where", "y"])
def test_peak_memory_of_one_long_row_is_a_few_blocks(monkeypatch, options):
    """One row of 2^20 float32 entries: the whole-array code peaked at 23.5–26.75× x's bytes;
    in passes the result (1×) and a few blocks' temporaries (blocks of 2^12 here)."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 1 << 12)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1 << 20).astype(np.float32)
    kw = {
        "b": dict(b=np.abs(x)),
        "where": dict(where=x > -1),
        "y": dict(y=actlab.logsumexp(x)),
    }[options]
    actlab.logsumexp_vjp(x, 1.0, **kw)
    tracemalloc.start()
    try:
        actlab.logsumexp_vjp(x, 1.0, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * x.nbytes
