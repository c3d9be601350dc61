"""The same functions on GPU arrays: CuPy, PyTorch on CUDA and JAX on a GPU. Each backend is
skipped cleanly where it, or a GPU, is absent (always on CI, which has no GPU).

What matters on a GPU, beyond the values: the result is the input's kind of array on the
input's device, and nothing goes through the host. CuPy and PyTorch refuse an implicit copy
to NumPy (``np.asarray`` of a device array raises), so any host round trip in actlab would
fail these tests rather than pass slowly.

The values are held to the bars of the other non-NumPy backends (``assert_agrees_with_numpy``):
float16/float32 are computed in float64 on the device and rounded once (within 1 ULP of
NumPy); float64 has no wider type there, so it is held to the measured core-region bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import actlab
from actlab.accuracy import sample_points, scale_of
from softmax_support import test_rows
from support import MODERATE, assert_agrees_with_numpy, away_from_kinks, function_cases, ulp_diff

VECTOR = tuple(actlab.entries("vector"))


@dataclass(frozen=True)
class Gpu:
    """One GPU backend: ``put`` copies NumPy to the device, ``get`` copies back to NumPy,
    ``owns`` says whether an array is this backend's, on the device the tests use."""

    name: str
    put: Callable[[np.ndarray], Any]
    get: Callable[[Any], np.ndarray]
    owns: Callable[[Any], bool]


def _cupy() -> Gpu:
    cp = pytest.importorskip("cupy", reason="CuPy is optional; its checks need it and a GPU")
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except cp.cuda.runtime.CUDARuntimeError:
        count = 0
    if count == 0:
        pytest.skip("CuPy is installed but sees no CUDA device")
    here = cp.cuda.Device()
    return Gpu(
        "cupy",
        put=cp.asarray,
        get=cp.asnumpy,
        owns=lambda a: isinstance(a, cp.ndarray) and a.device == here,
    )


def _torch_cuda() -> Gpu:
    torch = pytest.importorskip("torch", reason="PyTorch is optional; its checks need it")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    cuda = torch.device("cuda", torch.cuda.current_device())
    return Gpu(
        "torch.cuda",
        put=lambda a: torch.as_tensor(a, device=cuda),
        get=lambda t: t.detach().cpu().numpy(),
        owns=lambda t: isinstance(t, torch.Tensor) and t.device == cuda,
    )


def _jax_gpu(jax) -> Gpu:
    try:
        gpu = jax.devices("gpu")[0]
    except RuntimeError:
        pytest.skip("JAX sees no GPU")
    return Gpu(
        "jax.gpu",
        put=lambda a: jax.device_put(a, gpu),
        get=np.asarray,
        owns=lambda a: isinstance(a, jax.Array) and a.devices() == {gpu},
    )


@pytest.fixture(params=["cupy", "torch.cuda", "jax.gpu"], scope="module")
def gpu(request) -> Gpu:
    if request.param == "cupy":
        return _cupy()
    if request.param == "torch.cuda":
        return _torch_cuda()
    return _jax_gpu(request.getfixturevalue("jax_x64"))


# ------------------------------------------------------------------------------ elementwise


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_elementwise_on_the_gpu(gpu, entry, params, what, fn):
    """Every public callable of every entry: the device's array back, its dtype, and NumPy's
    values within the non-NumPy bars, ±∞ and NaN included."""
    for dtype in ("float16", "float32", "float64"):
        x = sample_points(dtype, scale=scale_of(params))[::5]
        x = np.concatenate([x, [np.inf, -np.inf, np.nan, -0.0]]).astype(dtype)
        got = fn(gpu.put(x), **params)
        assert gpu.owns(got), type(got)
        assert str(got.dtype).removeprefix("torch.") == dtype
        values, expected, x = _comparable(gpu, gpu.get(got), np.asarray(fn(x, **params)), x)
        assert_agrees_with_numpy(values, expected, dtype, x, params)


def _flushes_subnormals(gpu: Gpu, dtype: Any) -> bool:
    """Whether the backend's own arithmetic flushes subnormals of ``dtype`` to zero (CuPy
    compiles every kernel with -ftz=true, which flushes float32; XLA flushes on the CPU).
    Then no library on it can keep them, and the contract's subnormal row cannot hold."""
    tiny = np.finfo(dtype).smallest_subnormal
    doubled = gpu.put(np.array([tiny], dtype=dtype))
    return bool(gpu.get(doubled + doubled)[0] == 0)


def _comparable(gpu: Gpu, values: np.ndarray, expected: np.ndarray, x: np.ndarray):
    """(values, expected, x) as flat arrays, without the elements where ``x`` or the
    expected result is subnormal if the backend flushes those to zero."""
    values, expected, x = values.ravel(), expected.ravel(), x.ravel()
    if not _flushes_subnormals(gpu, expected.dtype):
        return values, expected, x
    keep = ~_subnormal(x) & ~_subnormal(expected)
    return values[keep], expected[keep], x[keep]


def _subnormal(a: np.ndarray) -> np.ndarray:
    return (a != 0) & (np.abs(a) < np.finfo(a.dtype).smallest_normal)


@pytest.mark.parametrize("name", ["silu", "softplus", "elu", "tanh", "relu6"])
def test_elementwise_products_on_the_gpu(gpu, name):
    """g·f′ with g on the device, a device g broadcast along rows, and a number."""
    vjp = getattr(actlab, f"{name}_vjp")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 33)) * 6
    g = rng.normal(size=x.shape)
    for dtype in ("float32", "float64"):
        xd, gd = x.astype(dtype), g.astype(dtype)
        for cotangent in (gd, gd[0], 2.5):
            device_g = cotangent if isinstance(cotangent, float) else gpu.put(cotangent)
            got = vjp(gpu.put(xd), device_g)
            assert gpu.owns(got)
            expected = np.asarray(vjp(xd, cotangent))
            assert_agrees_with_numpy(gpu.get(got), expected, dtype, xd, {})


def test_sigmoid_and_tanh_products_from_a_saved_output_on_the_gpu(gpu):
    rng = np.random.default_rng(2)
    for name in ("sigmoid", "tanh"):
        from_output = getattr(actlab, f"{name}_vjp_from_output")
        y = np.asarray(getattr(actlab, name)(rng.normal(size=4000) * 8)).astype(np.float32)
        g = rng.normal(size=y.shape).astype(np.float32)
        got = from_output(gpu.put(y), gpu.put(g))
        assert gpu.owns(got)
        assert ulp_diff(gpu.get(got), np.asarray(from_output(y, g)), "float32").max() <= 1.0


def test_torch_cuda_autograd_equals_the_analytic_gradient():
    torch = pytest.importorskip("torch")
    gpu = _torch_cuda()
    for entry in actlab.entries("elementwise"):
        xs = away_from_kinks(entry, MODERATE, 1e-3)
        t = gpu.put(xs).requires_grad_(True)
        (grad,) = torch.autograd.grad(entry.fn(t).sum(), t)
        assert gpu.owns(grad)
        np.testing.assert_allclose(
            gpu.get(grad), entry.grad(xs), rtol=1e-11, atol=1e-15, err_msg=entry.name
        )


# ------------------------------------------------------------------ softmax family and losses


def _hard_rows(dtype) -> np.ndarray:
    """Rows with a −∞ entry, a row of −∞ only, and a +∞ entry, among ordinary rows."""
    x = test_rows(7, 20.0, 6, 0).astype(dtype)
    x[1, 2] = -np.inf
    x[3] = -np.inf
    x[4, 0] = np.inf
    return x


def _assert_close_rows(gpu: Gpu, got: Any, expected: np.ndarray, dtype: str) -> None:
    """Within 8·eps of float64 absolute: the round-off of the float64 working type where a
    result cancels to (nearly) 0, as a gradient entry a_j − y_j does; then float32 within
    1 ULP of NumPy (float64 on both sides, rounded once), float64 within 16 ULP relative
    (the exp and log1p of two libraries, and no wider type on the device)."""
    got = gpu.get(got)
    assert got.shape == expected.shape
    got, expected, _ = _comparable(gpu, got, expected, expected)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    inf = np.isinf(expected)
    np.testing.assert_array_equal(got[inf], expected[inf])
    finite = np.isfinite(expected)
    got, expected = got[finite].astype(np.float64), expected[finite].astype(np.float64)
    eps = float(np.finfo(np.float64).eps)
    residue = np.abs(got - expected) <= 8 * eps
    if dtype == "float32":
        assert np.all(residue | (ulp_diff(got, expected, dtype) <= 1.0))
    else:
        np.testing.assert_allclose(got, expected, rtol=16 * eps, atol=8 * eps)


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_on_the_gpu(gpu, entry, dtype):
    """The function with a mask and a temperature, its products and Jacobian, on hard rows."""
    x = _hard_rows(dtype)
    g = test_rows(7, 1.0, 6, 1).astype(dtype)
    mask = np.ones(7, dtype=bool)
    mask[5] = False
    calls = {
        "f": (lambda a: entry.fn(a), ()),
        "temperature": (lambda a: entry.fn(a, temperature=0.5), ()),
        "where": (lambda a, m: entry.fn(a, where=m), (mask,)),
        "vjp": (lambda a, v: entry.vjp(a, v), (g,)),
        "jvp": (lambda a, v: entry.jvp(a, v, temperature=3.0), (g,)),
        "jacobian": (lambda a: entry.jacobian(a), ()),
    }
    for what, (call, others) in calls.items():
        got = call(gpu.put(x), *map(gpu.put, others))
        assert gpu.owns(got), what
        _assert_close_rows(gpu, got, np.asarray(call(x, *others)), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_and_losses_on_the_gpu(gpu, dtype):
    x = _hard_rows(dtype)
    finite = np.where(np.isfinite(x), x, 0.0).astype(dtype)
    t = np.array([0, 1, 2, 3, 4, 5])
    q = np.full(x.shape, 1 / 7, dtype=dtype)
    w = np.linspace(0.5, 2.0, 7).astype(dtype)
    cases = [
        (actlab.logsumexp, (x,), dict(axis=1)),
        (actlab.logsumexp, (x,), dict(axis=(0, 1))),
        (actlab.logsumexp_vjp, (x, np.ones(6, dtype=dtype)), dict(axis=1)),
        (actlab.nll_loss, (actlab.log_softmax(finite), t), {}),
        (actlab.binary_cross_entropy_with_logits, (finite, q), {}),
        (actlab.mse_loss_grad, (finite, q), {}),
    ]
    for fn in (actlab.cross_entropy, actlab.cross_entropy_grad):
        cases += [
            (fn, (finite, t), {}),
            (fn, (x, t), dict(reduction="none")),
            (fn, (finite, t), dict(weight=w, label_smoothing=0.1)),
            (fn, (finite, q), dict(label_smoothing=0.2)),
        ]
    for fn, args, options in cases:
        device_options = {k: gpu.put(v) if k == "weight" else v for k, v in options.items()}
        got = fn(*(gpu.put(np.asarray(a)) for a in args), **device_options)
        assert gpu.owns(got), fn.__name__
        _assert_close_rows(gpu, got, np.asarray(fn(*args, **options)), dtype)


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_torch_cuda_autograd_agrees_with_the_analytic_products(entry):
    torch = pytest.importorskip("torch")
    gpu = _torch_cuda()
    x = gpu.put(test_rows(6, 3.0, 4, 2)).requires_grad_(True)
    w = gpu.put(test_rows(6, 1.0, 4, 3))
    (entry.fn(x, temperature=1.5) * w).sum().backward()
    analytic = entry.vjp(x.detach(), w, temperature=1.5)
    assert gpu.owns(analytic)
    assert torch.allclose(x.grad, analytic, rtol=1e-12, atol=1e-12)


def test_bad_input_on_the_gpu_names_the_argument(gpu):
    x = gpu.put(test_rows(5, 1.0, 3, 0))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        actlab.softmax(x, axis=2)
    with pytest.raises(ValueError, match="target holds class indices outside"):
        actlab.cross_entropy(x, gpu.put(np.array([0, 1, 5])))
    with pytest.raises(ValueError, match="beta must be in"):
        actlab.softplus(x, beta=-1.0)
