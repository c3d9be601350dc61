"""logsumexp_vjp on large NumPy arrays runs the Array API code a block of rows at a time
(``rowpath.run_product`` without a kernel, one cotangent per row): the whole-array call's
results bit for bit along the last axis, threads or not, with the caller's y, a mask, weights b,
``keepdims``, ``out=``, and hard rows and bad cotangents among ordinary ones."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.functions import _long_row
from actlab.functions import logsumexp as lse_module
from test_kernels_support import on_tier, product_blocks, record_calls

ROWS, N = 120, 40


@pytest.fixture
def blocks(monkeypatch):
    """Blocks of 7 rows of 40; (function, kernel) of the ``run_product`` calls since."""
    return product_blocks(monkeypatch, 7 * N)


def _arrays(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((ROWS, N)) * 5).astype(dtype)
    g = rng.standard_normal(ROWS).astype(dtype)
    x[3, 1] = np.nan
    x[4, 2] = np.inf  # logsumexp is +∞ there: derivative 0
    x[5] = -np.inf  # an empty row: derivative 0
    x[6, ::2] = -np.inf
    x[7, 0] = 90.0
    g[8], g[9], g[10] = np.inf, np.nan, -0.0  # a bad cotangent makes its row NaN
    return x, g


def _whole(x, g, *, axis=-1, where=None, keepdims=False, y=None, b=None):
    return lse_module._logsumexp_vjp(x, g, axis, where, b, keepdims, y)


def _assert_same_bits(got, want):
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("tier", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
def test_blocks_give_the_whole_array_result(dtype, tier, threads, blocks):
    x, g = _arrays(dtype)
    previous = actlab.set_num_threads(threads)
    try:
        with on_tier(tier), np.errstate(all="raise"):
            got = actlab.logsumexp_vjp(x, g, axis=-1)
            moved = actlab.logsumexp_vjp(np.ascontiguousarray(x.T), g, axis=0)
    finally:
        actlab.set_num_threads(previous)
    assert blocks() == [("logsumexp_vjp", None)] * 2
    want = _whole(x, g)
    _assert_same_bits(got, want)
    _assert_same_bits(moved, want.T)  # the rows are moved last, then blocked the same way
    assert np.isnan(got[[3, 8, 9]]).all()  # a NaN entry, a cotangent ±∞ or NaN
    assert not np.isnan(np.delete(got, [3, 8, 9], axis=0)).any()
    assert not got[[4, 5]].any()  # a +∞ entry, an empty row: locally constant


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_options_on_blocks(dtype, blocks):
    x, g = _arrays(dtype)
    y = actlab.logsumexp(x, axis=-1)
    rng = np.random.default_rng(6)
    mask = rng.random(x.shape) < 0.8
    column_mask = rng.random(N) < 0.7  # broadcast along the rows
    b = rng.uniform(-0.3, 2.0, x.shape).astype(dtype)  # some weighted sums negative
    b[11, 3] = np.nan  # a bad weight: its row NaN
    b[12] = np.tile([1.0, -1.0], N // 2)  # and x[12] constant: a sum of 0, derivative 0
    x[12] = 1.5
    column_b = rng.uniform(0.5, 1.0, N).astype(dtype)
    cases = [
        (dict(y=y), dict(y=y)),
        (dict(where=mask), dict(where=mask)),
        (dict(where=column_mask), dict(where=np.broadcast_to(column_mask, x.shape))),
        (dict(keepdims=True), dict(keepdims=True)),
        (dict(b=b), dict(b=b)),
        (dict(b=b, where=mask), dict(b=b, where=mask)),
        (dict(b=column_b, y=y), dict(b=column_b, y=y)),  # with weights y is not read
    ]
    for options, whole_options in cases:
        cotangent = g[:, None] if options.get("keepdims") else g
        got = actlab.logsumexp_vjp(x, cotangent, axis=1, **options)
        _assert_same_bits(got, _whole(x, cotangent, **whole_options))
    _assert_same_bits(actlab.logsumexp_vjp(x, 2.5, axis=1), _whole(x, 2.5))
    out = np.full_like(x, 7.0)
    assert actlab.logsumexp_vjp(x, g, axis=1, out=out) is out
    _assert_same_bits(out, _whole(x, g))
    assert blocks() == [("logsumexp_vjp", None)] * (len(cases) + 2)


def test_a_middle_axis_of_three_dimensions(blocks):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, N, 20)) * 5
    g = rng.standard_normal((6, 20))
    got = actlab.logsumexp_vjp(x, g, axis=1)
    assert blocks() == [("logsumexp_vjp", None)]
    # The whole-array call sums along a strided axis, the blocks along contiguous rows: the
    # same values up to the order of a sum of positive terms (1 ULP of float64).
    np.testing.assert_array_max_ulp(got, _whole(x, g, axis=1), maxulp=1)
    ref = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, g[:, None] * ref / ref.sum(axis=1, keepdims=True), rtol=1e-14)


def test_which_calls_take_the_blocks(blocks, monkeypatch):
    calls = record_calls(monkeypatch, _long_row, "logsumexp_vjp")
    x, g = _arrays(np.float64)
    actlab.logsumexp_vjp(x[:7], g[:7], axis=1)  # a single block: the whole-array call
    assert blocks() == []
    actlab.logsumexp_vjp(x, g, axis=1, b=np.ones(N))  # scale factors: blocks
    actlab.logsumexp_vjp(x, g, axis=(1,))  # a tuple of one axis: blocks
    assert blocks() == [("logsumexp_vjp", None)] * 2
    actlab.logsumexp_vjp(x, 1.0)  # every axis: one row, in passes over blocks of it
    assert blocks() == [("logsumexp_vjp", None)] * 2
    assert len(calls) == 1


def test_bad_arguments_are_named_on_blocks(blocks):
    x, g = _arrays(np.float32)
    wrong = r"g of shape \(7,\) does not broadcast to the result's shape \(120,\)"
    with pytest.raises(ValueError, match=wrong):
        actlab.logsumexp_vjp(x, g[:7], axis=1)
    with pytest.raises(ValueError, match=r"y of shape \(7,\) does not broadcast"):
        actlab.logsumexp_vjp(x, g, axis=1, y=g[:7])
    with pytest.raises(TypeError, match="logsumexp_vjp: g has dtype complex128"):
        actlab.logsumexp_vjp(x, g.astype(complex), axis=1)
    with pytest.raises(ValueError, match="logsumexp_vjp: axis 2 is out of range"):
        actlab.logsumexp_vjp(x, g, axis=2)
    with pytest.raises(TypeError, match="logsumexp_vjp: out has dtype float64, expected float32"):
        actlab.logsumexp_vjp(x, g, axis=1, out=np.empty((ROWS, N), dtype=np.float64))
