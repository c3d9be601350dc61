"""``out=``: every function that returns an array of a known shape accepts a NumPy output
buffer, on both tiers: the result lands there (and is returned), equals the result without
``out``, may alias the input, and a wrong buffer is a clear error that names ``out``."""

from __future__ import annotations

import array_api_strict as xps
import numpy as np
import pytest

import actlab
from support import ELEMENTWISE, functions_of
from test_kernels_support import TIERS, on_tier

RNG = np.random.default_rng(12)


def _elementwise_calls():
    for entry in ELEMENTWISE:
        if entry.name == "rrelu":  # random slopes; its vjp is checked below
            continue
        for label, fn in functions_of(entry):
            yield pytest.param(fn, id=f"{entry.name}-{label}")
        yield pytest.param(getattr(actlab, f"{entry.name}_vjp"), id=f"{entry.name}-vjp")


def _call(fn, x, **kw):
    if fn.__name__.endswith("_vjp"):
        return fn(x, np.linspace(-2, 2, x.size, dtype=x.dtype).reshape(x.shape), **kw)
    return fn(x, **kw)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", list(_elementwise_calls()))
def test_elementwise_out(fn, dtype, tier):
    x = (RNG.standard_normal((3, 40)) * 4).astype(dtype)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    with on_tier(tier):
        expected = _call(fn, x)
        out = np.full_like(x, 7.0)
        assert _call(fn, x, out=out) is out
        np.testing.assert_array_equal(out, expected)
        strided = np.full((3, 80), 7.0, dtype=dtype)[:, ::2]  # a non-contiguous buffer
        _call(fn, x, out=strided)
        np.testing.assert_array_equal(strided, expected)
        if not fn.__name__.endswith("_vjp"):
            y = x.copy()
            assert fn(y, out=y) is y  # in place
            np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("tier", TIERS)
def test_wrong_out_is_a_clear_error(tier):
    x = np.linspace(-3, 3, 20, dtype=np.float32)
    with on_tier(tier):
        with pytest.raises(ValueError, match=r"sigmoid: out has shape \(19,\), expected \(20,\)"):
            actlab.sigmoid(x, out=np.empty(19, np.float32))
        with pytest.raises(TypeError, match="sigmoid: out has dtype float64, expected float32"):
            actlab.sigmoid(x, out=np.empty(20))
        with pytest.raises(TypeError, match="out must be a NumPy ndarray"):
            actlab.tanh(x, out=[0.0] * 20)
        read_only = np.empty(20, np.float32)
        read_only.flags.writeable = False
        with pytest.raises(ValueError, match="out is read-only"):
            actlab.relu(x, out=read_only)
        with pytest.raises(ValueError, match=r"softmax: out has shape"):
            actlab.softmax(x.reshape(4, 5), out=np.empty((5, 4), np.float32))
        with pytest.raises(TypeError, match="cross_entropy_grad: out has dtype"):
            actlab.cross_entropy_grad(x.reshape(4, 5), np.arange(4), out=np.empty((4, 5)))


def test_out_on_another_backend_is_refused():
    x = xps.asarray([0.5, -1.0])
    with pytest.raises(TypeError, match="out= is supported for NumPy input only"):
        actlab.sigmoid(x, out=np.empty(2))
    with pytest.raises(TypeError, match="out= is supported for NumPy input only"):
        actlab.softmax(x, out=np.empty(2))
    with pytest.raises(TypeError, match="out= is supported for NumPy input only"):
        actlab.sigmoid_vjp_from_output(x, x, out=np.empty(2))


def test_scalar_input_with_a_0d_out():
    out = np.empty((), np.float64)
    assert actlab.sigmoid(0.0, out=out) is out
    assert out == 0.5


def _t(x):
    return np.arange(x.shape[0]) % x.shape[1]


ROW_CALLS = [
    ("softmax", lambda x, **kw: actlab.softmax(x, axis=-1, **kw)),
    ("softmin", lambda x, **kw: actlab.softmin(x, axis=-1, **kw)),
    ("log_softmax", lambda x, **kw: actlab.log_softmax(x, axis=-1, **kw)),
    ("log_softmax-axis0", lambda x, **kw: actlab.log_softmax(x, axis=0, **kw)),
    ("softmax-T", lambda x, **kw: actlab.softmax(x, temperature=2.5, **kw)),
    ("logsumexp", lambda x, **kw: actlab.logsumexp(x, axis=-1, **kw)),
    ("logsumexp-all", lambda x, **kw: actlab.logsumexp(x, **kw)),
    ("softmax_vjp", lambda x, **kw: actlab.softmax_vjp(x, np.cos(x), **kw)),
    ("softmax_jvp", lambda x, **kw: actlab.softmax_jvp(x, np.cos(x), **kw)),
    ("softmin_vjp", lambda x, **kw: actlab.softmin_vjp(x, np.cos(x), **kw)),
    ("log_softmax_vjp", lambda x, **kw: actlab.log_softmax_vjp(x, np.cos(x), **kw)),
    ("log_softmax_jvp", lambda x, **kw: actlab.log_softmax_jvp(x, np.cos(x), **kw)),
    ("logsumexp_vjp", lambda x, **kw: actlab.logsumexp_vjp(x, x[:, 0] ** 2, -1, **kw)),
    (
        "sigmoid_vjp_from_output",
        lambda x, **kw: actlab.sigmoid_vjp_from_output(actlab.sigmoid(x), np.cos(x), **kw),
    ),
    (
        "tanh_vjp_from_output",
        lambda x, **kw: actlab.tanh_vjp_from_output(actlab.tanh(x), np.cos(x), **kw),
    ),
    ("cross_entropy-none", lambda x, **kw: actlab.cross_entropy(x, _t(x), reduction="none", **kw)),
    ("cross_entropy-mean", lambda x, **kw: actlab.cross_entropy(x, _t(x), **kw)),
    ("cross_entropy_grad", lambda x, **kw: actlab.cross_entropy_grad(x, _t(x), **kw)),
    ("cross_entropy_with_grad", lambda x, **kw: actlab.cross_entropy_with_grad(x, _t(x), **kw)[1]),
]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "call"), ROW_CALLS, ids=[n for n, _ in ROW_CALLS])
def test_row_functions_out(name, call, dtype, tier):
    x = (RNG.standard_normal((6, 9)) * 3).astype(dtype)
    with on_tier(tier):
        expected = np.asarray(call(x))
        out = np.full(expected.shape, 7.0, dtype=dtype)
        got = call(x, out=out)
        assert got is out
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("shape", [(50, 400), (1001, 10)])  # long rows; short rows
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_in_place(tier, shape, dtype):
    """out=x gives the bits of a separate output (the kernels read each row before its
    results overwrite it), a last partial block of short rows included."""
    x = (RNG.standard_normal(shape) * 5).astype(dtype)
    with on_tier(tier):
        expected = actlab.softmax(x)
        y = x.copy()
        assert actlab.softmax(y, out=y) is y
    np.testing.assert_array_equal(y, expected)


def _unaligned(shape, dtype):
    """A writeable C-contiguous array whose address is not a multiple of its element size
    (a view into a byte buffer at offset 1): streaming stores must not be used there."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.zeros(count * dtype.itemsize + 1, dtype=np.uint8)
    view = np.frombuffer(raw.data, dtype=dtype, count=count, offset=1).reshape(shape)
    assert not view.flags.aligned
    assert view.flags.c_contiguous
    assert view.flags.writeable
    return view


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_outputs_into_unaligned_buffers(dtype, tier):
    x = (RNG.standard_normal((40, 300)) * 4).astype(dtype)
    t = RNG.integers(0, 300, 40)
    with on_tier(tier):
        for fn in (actlab.softmax, actlab.log_softmax):
            out = _unaligned(x.shape, dtype)
            assert fn(x, out=out) is out
            np.testing.assert_array_equal(out, fn(x))
        out = _unaligned(x.shape, dtype)
        _, grad = actlab.cross_entropy_with_grad(x, t, out=out)
        assert grad is out
        np.testing.assert_array_equal(out, actlab.cross_entropy_grad(x, t))


def test_logsumexp_return_sign_has_no_out():
    with pytest.raises(TypeError, match="return_sign"):
        actlab.logsumexp(np.ones(3), return_sign=True, out=np.empty(()))


@pytest.mark.parametrize("tier", TIERS)
def test_rrelu_vjp_out(tier):
    x = np.linspace(-2, 2, 9)
    g = np.full(9, 3.0)
    with on_tier(tier):
        out = np.empty(9)
        assert actlab.rrelu_vjp(x, g, out=out) is out
    np.testing.assert_array_equal(out, g * actlab.rrelu_grad(x))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_from_output_products_match_the_derivative(dtype, tier):
    """g·f′ from the saved output equals g·f′(x) within the rounding of y itself."""
    x = np.linspace(-6, 6, 1001).astype(dtype)
    g = np.cos(x).astype(dtype)
    eps = np.finfo(dtype).eps
    with on_tier(tier):
        for name in ("sigmoid", "tanh"):
            y = getattr(actlab, name)(x)
            got = getattr(actlab, f"{name}_vjp_from_output")(y, g)
            ref = getattr(actlab, f"{name}_vjp")(x, g)
            assert got.dtype == x.dtype
            # y carries half an ULP; f′ amplifies it by |f″/f′|·|f|/|f′| ≤ 2 here.
            np.testing.assert_allclose(got, ref, rtol=8 * eps, atol=4 * eps * np.abs(g).max())


VJP_NAMES = [e.name for e in ELEMENTWISE if e.name != "rrelu"]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [(40, 30), (400, 300)], ids=["small", "blocked"])
@pytest.mark.parametrize("name", VJP_NAMES)
def test_products_into_g_or_x_in_place(name, size, dtype, tier):
    """``NAME_vjp(x, g, out=g)`` and ``out=x`` equal the call without ``out``, for a strided
    x too (whose copy must not land in g's buffer before g is read: it once did, on both
    tiers), and with far-tail x times a large g, whose float64 products the compiled tier
    takes from the NumPy path after its loop (which then still needs x and g)."""
    base = (RNG.standard_normal((size[0], 2 * size[1])) * 6).astype(dtype)
    base[0, :8] = [-745.0, -800.0, 720.0, -3000.0, 400.0, -400.0, 30.0, -0.5]
    g = (RNG.standard_normal(size) * (1e300 if dtype == "float64" else 1e30)).astype(dtype)
    fn = getattr(actlab, f"{name}_vjp")
    with on_tier(tier):
        for x in (np.ascontiguousarray(base[:, ::2]), base[:, ::2]):
            expected = fn(x, g)
            buffer = g.copy()
            assert fn(x, buffer, out=buffer) is buffer
            np.testing.assert_array_equal(buffer, expected)
            if x.flags.c_contiguous:
                buffer = x.copy()
                assert fn(buffer, g, out=buffer) is buffer
                np.testing.assert_array_equal(buffer, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", VJP_NAMES)
def test_a_broadcast_or_strided_g_takes_the_same_loop(name, dtype):
    """A cotangent given as a number, a row broadcast to x's shape, or a strided view gives
    the bits of the same values as a contiguous array: it is copied into one and takes the
    same compiled loop (it took the NumPy path before, 10–45× slower and, in float64, up to
    an ULP apart from the compiled loop's result)."""
    x = (RNG.standard_normal((64, 50)) * 6).astype(dtype)
    x[0, :4] = [-745.0, -1.2784645427610738, 30.0, -0.5]
    fn = getattr(actlab, f"{name}_vjp")
    row = (RNG.standard_normal(50) * 3).astype(dtype)
    wide = (RNG.standard_normal((64, 100)) * 3).astype(dtype)
    for g in (2.5, np.asarray(-0.75, dtype=dtype), row, wide[:, ::2]):
        full = np.ascontiguousarray(np.broadcast_to(g, x.shape), dtype=np.result_type(g, x))
        _same_bits(fn(x, g), fn(x, full))
    y = actlab.sigmoid(wide)[:, ::2]
    _same_bits(
        actlab.sigmoid_vjp_from_output(y, wide[:, ::2]),
        actlab.sigmoid_vjp_from_output(np.ascontiguousarray(y), wide[:, ::2].copy()),
    )


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))
