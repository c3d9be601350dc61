"""The Jacobian products of softmax, softmin and log_softmax on large NumPy arrays that no
compiled kernel takes (the NumPy tier): the NumPy path on blocks of rows gives the
whole-array call's results bit for bit, threads or not, on any axis, with the caller's y,
with ``out=``, and with hard rows among ordinary ones."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.functions import softmax_derivatives
from test_kernels_support import on_tier, product_blocks

pytestmark = pytest.mark.filterwarnings("error")
ROWS, N = 120, 40
PRODUCTS = [
    "softmax_vjp",
    "softmax_jvp",
    "softmin_vjp",
    "softmin_jvp",
    "log_softmax_vjp",
    "log_softmax_jvp",
]


@pytest.fixture
def blocks(monkeypatch):
    """Blocks of 7 rows of 40; (function, kernel) of the ``run_product`` calls since."""
    return product_blocks(monkeypatch, 7 * N)


def _arrays(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((ROWS, N)) * 5).astype(dtype)
    g = rng.standard_normal((ROWS, N)).astype(dtype)
    x[3, 1] = np.nan
    x[4, 2] = np.inf
    x[5] = -np.inf
    x[6, ::2] = -np.inf
    x[7, 0] = 90.0
    return x, g


def _whole(name, x, g, **options):
    """The NumPy path on the whole array (the Array API implementation)."""
    impl = {
        "softmax_vjp": ("_softmax_product", False),
        "softmax_jvp": ("_softmax_product", False),
        "softmin_vjp": ("_softmax_product", True),
        "softmin_jvp": ("_softmax_product", True),
    }
    axis = options.get("axis", -1)
    y = options.get("y")
    if name in impl:
        return softmax_derivatives._softmax_product(
            name, x, g, axis, None, 1.0, y, negate=impl[name][1]
        )
    fn = getattr(softmax_derivatives, f"_{name}")
    return fn(name, x, g, axis, None, 1.0, y)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", PRODUCTS)
def test_blocks_give_the_whole_array_result(name, dtype, threads, blocks):
    x, g = _arrays(dtype)
    previous = actlab.set_num_threads(threads)
    try:
        with on_tier("numpy"):
            got = getattr(actlab, name)(x, g)
            moved = getattr(actlab, name)(np.ascontiguousarray(x.T), g.T, axis=0)
    finally:
        actlab.set_num_threads(previous)
    assert blocks() == [(name, None), (name, None)]
    want = _whole(name, x, g)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(moved, want.T)
    assert got.dtype == x.dtype


@pytest.mark.parametrize("name", ["softmax_vjp", "softmin_jvp"])
def test_with_the_callers_y_and_out(name, blocks):
    x, g = _arrays(np.float64)
    forward = actlab.softmin if "softmin" in name else actlab.softmax
    y = forward(x)
    out = np.empty_like(x)
    with on_tier("numpy"):
        got = getattr(actlab, name)(x, g, y=y, out=out)
    assert got is out
    assert blocks() == [(name, None)]
    np.testing.assert_array_equal(out, _whole(name, x, g, y=y))


def test_out_may_be_the_cotangent(blocks):
    x, g = _arrays(np.float32)
    want = _whole("log_softmax_vjp", x, g)
    with on_tier("numpy"):
        got = actlab.log_softmax_vjp(x, g, out=g)
    assert got is g
    assert blocks() == [("log_softmax_vjp", None)]
    np.testing.assert_array_equal(g, want)


def _whole_with(name, x, g, axis=-1, where=None, temperature=1.0, y=None):
    """The whole-array NumPy path of ``name`` with every option."""
    if name.startswith(("softmax", "softmin")):
        negate = name.startswith("softmin")
        return softmax_derivatives._softmax_product(
            name, x, g, axis, where, temperature, y, negate=negate
        )
    return getattr(softmax_derivatives, f"_{name}")(name, x, g, axis, where, temperature, y)


@pytest.mark.parametrize("tier", ["numba", "numpy"])
@pytest.mark.parametrize("name", PRODUCTS)
def test_masks_and_temperatures_run_on_blocks_on_either_tier(name, tier, blocks):
    """No kernel takes a mask or a temperature: the NumPy path on blocks of rows, on the
    compiled tier too, with the whole-array call's bits."""
    x, g = _arrays(np.float64)
    rng = np.random.default_rng(4)
    mask = rng.random(x.shape) < 0.8
    column_mask = rng.random(N) < 0.7
    fn = getattr(actlab, name)
    with on_tier(tier), np.errstate(all="raise", under="ignore"):
        cases = [
            (fn(x, g, temperature=0.5), _whole_with(name, x, g, temperature=0.5)),
            (fn(x, g, where=mask), _whole_with(name, x, g, where=mask)),
            (fn(x, g, where=column_mask, temperature=3.0),
             _whole_with(name, x, g, where=np.broadcast_to(column_mask, x.shape),
                         temperature=3.0)),
        ]  # fmt: skip
    assert blocks() == [(name, None)] * len(cases)
    for got, want in cases:
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble], ids=lambda d: d.__name__)
def test_dtypes_no_kernel_takes_run_on_blocks(dtype, blocks):
    x, g = (a.astype(dtype) for a in _arrays(np.float64))
    got = actlab.softmin_vjp(x, g)
    assert blocks() == [("softmin_vjp", None)]
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, _whole_with("softmin_vjp", x, g))


def test_an_extended_cotangent_runs_on_blocks(blocks):
    """No kernel reads a longdouble g: float64 x with one takes the blocks, on either tier."""
    x, g = _arrays(np.float64)
    g = g.astype(np.longdouble)
    with on_tier("numba"):
        got = actlab.softmax_vjp(x, g)
    assert blocks() == [("softmax_vjp", None)]
    np.testing.assert_array_equal(got, _whole_with("softmax_vjp", x, g))


def test_log_softmax_products_with_the_callers_y_run_on_blocks(blocks):
    """No log_softmax kernel takes the caller's y: blocks on the compiled tier too."""
    x, g = _arrays(np.float32)
    y = actlab.log_softmax(x)
    with on_tier("numba"):
        vjp = actlab.log_softmax_vjp(x, g, y=y)
        jvp = actlab.log_softmax_jvp(x, g, y=y, temperature=2.0)
    assert blocks() == [("log_softmax_vjp", None), ("log_softmax_jvp", None)]
    np.testing.assert_array_equal(vjp, _whole_with("log_softmax_vjp", x, g, y=y))
    want = _whole_with("log_softmax_jvp", x, g, temperature=2.0, y=y)
    np.testing.assert_array_equal(jvp, want)


def test_bad_options_are_named_on_blocks(blocks):
    x, g = _arrays(np.float32)
    with pytest.raises(ValueError, match="softmax_vjp: temperature must be finite and > 0"):
        actlab.softmax_vjp(x, g, temperature=-1.0)
    with pytest.raises(ValueError, match=r"softmax_vjp: where of shape \(3,\) does not broadcast"):
        actlab.softmax_vjp(x, g, where=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match=r"log_softmax_vjp: y has shape \(7, 40\)"):
        actlab.log_softmax_vjp(x, g, y=x[:7], temperature=2.0)
    with pytest.raises(ValueError, match=r"softmin_jvp: v of shape \(120, 3\) does not broadcast"):
        actlab.softmin_jvp(x, g[:, :3], where=np.ones(N, dtype=bool))
