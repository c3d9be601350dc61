"""maxout and maxout_vjp: values, the tie rule, NaN groups, axes, bad input, backends."""

from __future__ import annotations

import re

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from softmax_support import central_difference, same


@pytest.fixture(autouse=True)
def _raise_on_fp_errors():
    with np.errstate(all="raise"):
        yield


def test_values_are_the_group_maxima():
    x = np.random.default_rng(0).standard_normal((3, 12))
    for p in (1, 2, 3, 4, 6, 12):
        want = x.reshape(3, 12 // p, p).max(axis=-1)
        assert same(actlab.maxout(x, p), want)
    exact = ov.exact_rows(lambda mp, row: ov.maxout_ref(mp, row, 3), x)
    assert ov.ulp_errors(actlab.maxout(x, 3), exact, np.float64).max() == 0


def test_other_axis():
    x = np.random.default_rng(1).standard_normal((6, 4, 2))
    got = actlab.maxout(x, 3, axis=0)
    assert got.shape == (2, 4, 2)
    assert same(got, np.moveaxis(actlab.maxout(np.moveaxis(x, 0, -1), 3), -1, 0))
    g = np.random.default_rng(2).standard_normal(got.shape)
    vjp = actlab.maxout_vjp(x, g, 3, axis=0)
    assert vjp.shape == x.shape
    assert same(
        vjp, np.moveaxis(actlab.maxout_vjp(np.moveaxis(x, 0, -1), np.moveaxis(g, 0, -1), 3), -1, 0)
    )


def test_vjp_routes_to_the_first_maximum():
    x = np.array([[1.0, 3.0, 3.0, 0.0, -1.0, -1.0]])
    g = np.array([[10.0, 20.0]])
    assert same(actlab.maxout_vjp(x, g, 3), [[0.0, 10.0, 0.0, 20.0, 0.0, 0.0]])
    assert same(actlab.maxout_vjp(x, np.ones((1, 3)), 2), [[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])


def test_vjp_matches_finite_differences_away_from_ties():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8))
    w = rng.standard_normal((2, 4))
    fd = central_difference(lambda z: float(np.sum(w * actlab.maxout(z, 2))), x)
    assert np.allclose(actlab.maxout_vjp(x, w, 2), fd, rtol=1e-8, atol=1e-10)


def test_vjp_matches_torch():
    torch = pytest.importorskip("torch")
    x = torch.tensor(np.random.default_rng(4).standard_normal((3, 8)), requires_grad=True)
    y = x.reshape(3, 4, 2).max(dim=-1).values
    g = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(3, 4)
    y.backward(g)
    got = actlab.maxout_vjp(x.detach(), g, 2)
    assert isinstance(got, torch.Tensor)
    assert torch.equal(got, x.grad)
    assert torch.equal(actlab.maxout(x.detach(), 2), y.detach())


def test_hard_rows_from_the_registry():
    entry = actlab.get("maxout")
    for hard in entry.hard_rows:
        got = entry.fn(np.array(hard.x), **dict(hard.options))
        assert same(got, hard.expected), hard.label
    x = np.array([1.0, np.nan, 3.0, 4.0])
    assert same(actlab.maxout_vjp(x, np.ones(2), 2), [np.nan, np.nan, 0.0, 1.0])


def test_array_api_strict_and_dtypes():
    xps = pytest.importorskip("array_api_strict")
    x = np.random.default_rng(5).standard_normal((2, 6))
    got = actlab.maxout(xps.asarray(x), 3)
    assert same(np.asarray(got), actlab.maxout(x, 3))
    g = np.ones((2, 2))
    assert same(np.asarray(actlab.maxout_vjp(xps.asarray(x), xps.asarray(g), 3)),
                actlab.maxout_vjp(x, g, 3))  # fmt: skip
    for dtype in (np.float16, np.float32):
        assert actlab.maxout(x.astype(dtype), 2).dtype == dtype
    assert actlab.maxout(np.arange(6), 3).dtype == np.float64


BAD = [
    (lambda: actlab.maxout(np.ones(6), 4), ValueError, "maxout: pieces=4 does not divide"),
    (lambda: actlab.maxout(np.ones(6), 0), ValueError, "pieces must be a positive int"),
    (lambda: actlab.maxout(np.ones(6), 2.0), TypeError, "pieces must be a positive int"),
    (lambda: actlab.maxout(np.ones(6), True), TypeError, "pieces must be a positive int"),
    (lambda: actlab.maxout(np.ones(6), 2, axis=1), ValueError, "axis 1 is out of range"),
    (lambda: actlab.maxout(np.ones((2, 6)), 2, axis=(0, 1)), TypeError, "single int"),
    (lambda: actlab.maxout_vjp(np.ones(6), np.ones(2), 2), ValueError, "maxout_vjp: g"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
