"""The softmax family, maxout and the losses on other Array API backends: array_api_strict
(the standard and nothing more), PyTorch (dtype, autograd through the forward agreeing with
the analytic products), JAX and Dask (the row axis split across chunks). Tests skip when a
backend is not installed."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from softmax_support import same, test_rows
from test_kernels_support import on_tier

VECTOR = tuple(actlab.entries("vector"))


def _rows(dtype=np.float32, seed=0):
    x = test_rows(7, 20.0, 5, seed).astype(dtype)
    x[1, 2] = -np.inf
    x[3] = -np.inf
    x[4, 0] = np.inf
    return x


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_array_api_strict_runs_the_same_code(entry):
    # float32 is computed in float64 on both NumPy and array_api_strict: bit-identical results.
    xps = pytest.importorskip("array_api_strict")
    x = _rows()
    g = test_rows(7, 1.0, 5, 1).astype(np.float32)
    s, gs = xps.asarray(x), xps.asarray(g)
    mask = np.ones(7, dtype=bool)
    mask[5] = False
    with np.errstate(all="raise"):
        assert same(np.asarray(entry.fn(s, where=xps.asarray(mask))), entry.fn(x, where=mask))
        assert same(np.asarray(entry.vjp(s, gs)), entry.vjp(x, g))
        assert same(np.asarray(entry.jvp(s, gs, temperature=3.0)), entry.jvp(x, g, temperature=3.0))
        assert same(np.asarray(entry.jacobian(s)), entry.jacobian(x))


def test_array_api_strict_reductions_and_losses():
    xps = pytest.importorskip("array_api_strict")
    x = _rows()
    s = xps.asarray(x)
    t = np.array([0, 1, 2, 3, 4])
    q = np.full(x.shape, 1 / 7, dtype=np.float32)
    with np.errstate(all="raise"):
        assert same(np.asarray(actlab.logsumexp(s, axis=(0, 1))), actlab.logsumexp(x, axis=(0, 1)))
        assert same(np.asarray(actlab.logsumexp_vjp(s, xps.ones(5), axis=1)),
                    actlab.logsumexp_vjp(x, np.ones(5), axis=1))  # fmt: skip
        for fn in (actlab.cross_entropy, actlab.cross_entropy_grad):
            assert same(np.asarray(fn(s, xps.asarray(t))), fn(x, t))
            assert same(np.asarray(fn(s, xps.asarray(q), label_smoothing=0.1)),
                        fn(x, q, label_smoothing=0.1))  # fmt: skip
        finite = np.where(np.isfinite(x), x, 0.0).astype(np.float32)
        for fn in (actlab.binary_cross_entropy_with_logits, actlab.mse_loss, actlab.mse_loss_grad):
            assert same(np.asarray(fn(xps.asarray(finite), xps.asarray(q))), fn(finite, q))
        assert same(np.asarray(actlab.nll_loss(s, xps.asarray(t))), actlab.nll_loss(x, t))


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_autograd_agrees_with_the_analytic_products(entry, dtype):
    torch = pytest.importorskip("torch")
    x = torch.tensor(test_rows(6, 3.0, 4, 2), dtype=getattr(torch, dtype), requires_grad=True)
    w = torch.tensor(test_rows(6, 1.0, 4, 3), dtype=x.dtype)
    y = entry.fn(x, temperature=1.5)
    assert isinstance(y, torch.Tensor)
    assert y.dtype == x.dtype
    (y * w).sum().backward()
    analytic = entry.vjp(x.detach(), w, temperature=1.5)
    assert analytic.dtype == x.dtype
    tol = 1e-12 if dtype == "float64" else 1e-6
    assert torch.allclose(x.grad, analytic, rtol=tol, atol=tol)


def test_torch_agrees_with_torch_functions():
    torch = pytest.importorskip("torch")
    x = torch.tensor(test_rows(9, 5.0, 6, 4))
    assert torch.allclose(actlab.softmax(x, axis=1), torch.softmax(x, dim=1), rtol=1e-14)
    assert torch.allclose(actlab.log_softmax(x), torch.log_softmax(x, dim=-1), rtol=1e-14)
    assert torch.allclose(actlab.logsumexp(x, axis=1), torch.logsumexp(x, dim=1), rtol=1e-15)
    w = torch.tensor(test_rows(9, 1.0, 6, 5))
    xg = x.clone().requires_grad_(True)
    torch.logsumexp(xg, dim=1).backward(w[:, 0])
    assert torch.allclose(actlab.logsumexp_vjp(x, w[:, 0], axis=1), xg.grad, rtol=1e-12)


def test_torch_half_precision_keeps_its_dtype():
    torch = pytest.importorskip("torch")
    for dtype in (torch.float16, torch.bfloat16):
        x = torch.tensor(test_rows(8, 30.0, 3, 6), dtype=dtype)
        for fn in (actlab.softmax, actlab.log_softmax, actlab.logsumexp):
            assert fn(x).dtype == dtype
        y = actlab.softmax(x)
        assert torch.allclose(y.double().sum(dim=-1), torch.ones(3, dtype=torch.float64), atol=2e-2)
        assert actlab.cross_entropy(x, torch.tensor([0, 1, 2])).dtype == dtype


def test_torch_hard_rows_are_not_nan():
    torch = pytest.importorskip("torch")
    x = torch.full((2, 3), -torch.inf, dtype=torch.float64)
    x[1] = torch.tensor([0.0, torch.inf, 1.0])
    assert torch.equal(actlab.softmax(x), torch.tensor([[0.0, 0, 0], [0, 1, 0]], dtype=x.dtype))
    g = actlab.softmax_vjp(x, torch.ones_like(x))
    assert torch.equal(g, torch.zeros_like(x))


def test_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = jnp.asarray(test_rows(5, 3.0, 2, 7), dtype=jnp.float32)
    assert np.allclose(np.asarray(actlab.softmax(x)), np.asarray(jax.nn.softmax(x)), rtol=1e-6)
    w = jnp.ones_like(x)
    auto = jax.grad(lambda z: jnp.sum(w * actlab.log_softmax(z)))(x)
    assert np.allclose(np.asarray(auto), np.asarray(actlab.log_softmax_vjp(x, w)), atol=1e-6)


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_dask_with_the_row_axis_split_across_chunks(entry):
    da = pytest.importorskip("dask.array")
    # float32 is computed in float64 on both: bit-identical to NumPy, as on array_api_strict.
    x = _rows()
    g = test_rows(7, 1.0, 5, 1).astype(np.float32)
    lx, lg = da.from_array(x, chunks=(2, 3)), da.from_array(g, chunks=(2, 3))
    mask = np.ones(7, dtype=bool)
    mask[5] = False
    lazy = entry.fn(lx, where=da.from_array(mask, chunks=3))
    assert isinstance(lazy, da.Array)

    def computed(a):
        return a.compute(scheduler="synchronous")  # NumPy's error state is per thread

    # Underflow is the one exception: the graph runs after the call, outside actlab's own
    # quiet_underflow (NumPy ignores underflow by default).
    with np.errstate(all="raise", under="ignore"):
        assert same(computed(lazy), entry.fn(x, where=mask))
        assert same(computed(entry.vjp(lx, lg)), entry.vjp(x, g))
        assert same(computed(entry.jacobian(lx)), entry.jacobian(x))
        t = np.array([0, 1, 2, 3, 4])
        loss = actlab.cross_entropy(lx, da.from_array(t, chunks=2), reduction="none")
        assert same(computed(loss), actlab.cross_entropy(x, t, reduction="none"))


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
@pytest.mark.parametrize("axis", [0, -1, (0, 1)])
def test_dask_without_a_mask_computes_whole_rows_on_numpy(entry, axis):
    """Without ``where``, a Dask array's rows are made whole in each chunk and computed by
    the NumPy path: its bits (float64 in the extended type, not the float64-only formulas
    above), under NumPy's error state, underflow included. The rows here are small, so that
    the whole array takes the NumPy path as well (not the compiled row kernels, which agree
    with it within their bounds, not in bits)."""
    da = pytest.importorskip("dask.array")
    for dtype in (np.float32, np.float64):
        x = _rows(dtype)
        x[0, 0] = 2000.0  # e^(x − m) underflows for the rest of that row (and column)
        lazy = entry.fn(da.from_array(x, chunks=(2, 3)), axis=axis, temperature=0.5)
        assert isinstance(lazy, da.Array)
        assert lazy.dtype == x.dtype
        assert lazy.shape == x.shape
        with np.errstate(all="raise"):
            got = lazy.compute(scheduler="synchronous")
        expected = entry.fn(x, axis=axis, temperature=0.5)
        assert same(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_dask_arguments_are_checked_when_the_call_is_made(entry):
    da = pytest.importorskip("dask.array")
    lx = da.from_array(_rows(), chunks=(2, 3))
    with pytest.raises(ValueError, match=f"{entry.name}: axis 2 is out of range"):
        entry.fn(lx, axis=2)
    with pytest.raises(ValueError, match=f"{entry.name}: temperature must be finite and > 0"):
        entry.fn(lx, temperature=0.0)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_dask_logsumexp_reduces_whole_rows_on_numpy(axis, keepdims):
    """logsumexp without ``where``, ``b`` or ``return_sign`` on a Dask array: the axes made
    whole in each chunk, each chunk by the NumPy path (float64 within its 1-ULP bar there,
    not the float64-only formulas' 1.8), NumPy's bits, underflow quiet."""
    da = pytest.importorskip("dask.array")
    for dtype in (np.float32, np.float64):
        x = _rows(dtype)
        x[0, 0] = 2000.0  # the rest of that row (and column) underflows in e^(x − m)
        lazy = actlab.logsumexp(da.from_array(x, chunks=(2, 3)), axis=axis, keepdims=keepdims)
        expected = actlab.logsumexp(x, axis=axis, keepdims=keepdims)
        assert isinstance(lazy, da.Array)
        assert lazy.dtype == x.dtype
        assert lazy.shape == expected.shape  # the graph's own shape, before computing
        with np.errstate(all="raise"):
            got = lazy.compute(scheduler="synchronous")
        assert same(got, expected)


PRODUCT_NAMES = ["softmax_vjp", "softmax_jvp", "softmin_vjp", "softmin_jvp", "log_softmax_vjp",
                 "log_softmax_jvp"]  # fmt: skip


@pytest.mark.parametrize("tier", ["numba", "numpy"])
@pytest.mark.parametrize("name", PRODUCT_NAMES)
def test_dask_products_run_chunk_by_chunk_with_numpys_bits(name, tier):
    """Without a mask, a product of Dask arrays rechunks the rows whole and runs each chunk
    through the NumPy call (its kernels or NumPy path, its error state): NumPy's bits on any
    axis, with a temperature, a cotangent cut unlike x, a broadcast row, a number, and hard
    rows, over both axes at once; underflow stays quiet (the far entries underflow in
    e^(x − m))."""
    da = pytest.importorskip("dask.array")
    fn = getattr(actlab, name)
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal((60, 30)) * 5).astype(dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        x[3, 2], x[4], x[5, 1], x[6, 0] = np.inf, -np.inf, np.nan, 2000.0
        lx = da.from_array(x, chunks=(7, 11))
        cases = [
            (dict(axis=1), da.from_array(g, chunks=(13, 4)), g),
            (dict(axis=0, temperature=0.7), da.from_array(g, chunks=(13, 4)), g),
            (dict(axis=1, temperature=3.0), g[0], g[0]),  # a NumPy row, broadcast
            (dict(axis=-1), 2.5, 2.5),
            (dict(axis=(0, 1), temperature=2.0), da.from_array(g, chunks=(13, 4)), g),
        ]
        with on_tier(tier):
            for options, lazy_g, numpy_g in cases:
                lazy = fn(lx, lazy_g, **options)
                assert isinstance(lazy, da.Array)
                assert lazy.dtype == x.dtype
                with np.errstate(all="raise"):
                    got = lazy.compute(scheduler="synchronous")
                expected = fn(x, numpy_g, **options)
                assert same(got, expected)
                assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_dask_products_from_the_callers_y_and_their_checks():
    da = pytest.importorskip("dask.array")
    x = test_rows(30, 4.0, 40, 2)
    g = test_rows(30, 1.0, 40, 3)
    y = actlab.softmax(x)
    lx, lg, ly = (da.from_array(a, chunks=(9, 7)) for a in (x, g, y))
    with np.errstate(all="raise"):
        got = actlab.softmax_vjp(lx, lg, y=ly).compute(scheduler="synchronous")
    assert same(got, actlab.softmax_vjp(x, g, y=y))
    with pytest.raises(ValueError, match="softmax_vjp: axis 2 is out of range"):
        actlab.softmax_vjp(lx, lg, axis=2)
    with pytest.raises(ValueError, match="log_softmax_jvp: temperature must be finite and > 0"):
        actlab.log_softmax_jvp(lx, lg, temperature=-1.0)
    with pytest.raises(ValueError, match=r"softmin_vjp: g of shape \(3,\) does not broadcast"):
        actlab.softmin_vjp(lx, np.ones(3))
    with pytest.raises(ValueError, match=r"softmax_vjp: y has shape \(30,\), expected"):
        actlab.softmax_vjp(lx, lg, y=y[0])  # as for NumPy: y is the output, not broadcast
    with pytest.raises(ValueError, match=r"softmax_vjp: y has shape \(30,\), expected"):
        actlab.softmax_vjp(x, g, y=y[0])


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_dask_logsumexp_vjp_runs_chunk_by_chunk(axis, keepdims):
    """logsumexp_vjp without ``where`` or ``b`` on a Dask array: the reduced axes made whole
    in each chunk, g and the caller's y (one value per row) cut along with them, each chunk
    through the NumPy call: NumPy's bits, underflow quiet."""
    da = pytest.importorskip("dask.array")
    for dtype in (np.float32, np.float64):
        x = _rows(dtype)
        x[0, 0] = 2000.0
        y = actlab.logsumexp(x, axis=axis, keepdims=keepdims)
        g = np.linspace(-2.0, 3.0, y.size).reshape(y.shape).astype(dtype)
        lx = da.from_array(x, chunks=(2, 3))
        lg = da.from_array(g, chunks=2) if g.ndim else float(g)
        for given in (None, y):
            lazy = actlab.logsumexp_vjp(lx, lg, axis=axis, keepdims=keepdims, y=given)
            assert isinstance(lazy, da.Array)
            assert lazy.shape == x.shape
            with np.errstate(all="raise"):
                got = lazy.compute(scheduler="synchronous")
            expected = actlab.logsumexp_vjp(x, g, axis=axis, keepdims=keepdims, y=given)
            assert same(got, expected)
            assert np.array_equal(np.signbit(got), np.signbit(expected))
    with pytest.raises(ValueError, match=r"logsumexp_vjp: g of shape \(4,\) does not broadcast"):
        actlab.logsumexp_vjp(lx, np.ones(4), axis=1)
