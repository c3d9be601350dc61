"""The exactness bars of the softmax family against mpmath at 60 digits.

The rows: lengths 10 and 1000 from N(0, s) for s in {1, 100, 1e4}, and rows with −∞ entries.
The bars are the records' (``entry.ulp_bar``), element by element for the forwards and
normwise per row, with every sign right, for the derivative products. The peers' failure
points from the research are checked by value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.registry import Loss, Reduction, VectorFunction
from softmax_support import accuracy_rows, test_rows

DTYPES = (np.float64, np.float32, np.float16)
VECTOR: tuple[VectorFunction, ...] = tuple(actlab.entries("vector"))
LSE: Reduction = actlab.get("logsumexp")
CE: Loss = actlab.get("cross_entropy")


@pytest.fixture(autouse=True)
def _raise_on_fp_errors():
    with np.errstate(all="raise"):
        yield


def _name(dtype) -> str:
    return np.dtype(dtype).name


def _targets(x: np.ndarray, seed: int) -> np.ndarray:
    """A random finite class per row."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, x.shape[1], x.shape[0])
    return np.where(np.isfinite(x[np.arange(len(t)), t]), t, 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_forward_every_element(entry: VectorFunction, dtype):
    bar = entry.ulp_bar(_name(dtype))
    for x in accuracy_rows(dtype):
        exact = ov.exact_rows(entry.reference, x.astype(np.float64))
        err = ov.ulp_errors(entry.fn(x), exact, dtype)
        assert err.max() <= bar, (entry.name, err.max(), bar)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
def test_logsumexp(dtype):
    bar = LSE.ulp_bar(_name(dtype))
    for x in accuracy_rows(dtype, seed=100):
        exact = [[v] for v in ov.exact_rows(LSE.reference, x.astype(np.float64))]
        err = ov.ulp_errors(actlab.logsumexp(x, axis=-1), exact, dtype)
        assert err.max() <= bar


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
def test_cross_entropy_per_row(dtype):
    bar = CE.ulp_bar(_name(dtype))
    for i, x in enumerate(accuracy_rows(dtype, seed=200)):
        x64 = x.astype(np.float64)
        # A random class, and the arg-max: there the loss is tiny and peers return −0.
        for t in (_targets(x64, i), np.argmax(x64, axis=1)):
            exact = ov.exact_rows(CE.reference, x64, list(t))
            got = actlab.cross_entropy(x, t, reduction="none")
            assert ov.ulp_errors(got, [[v] for v in exact], dtype).max() <= bar
            # A loss that does not round to 0 in the dtype is never returned as 0 or −0.
            fi = np.finfo(dtype)
            tiny = ov.mpmath().ldexp(1, int(fi.minexp) - int(fi.nmant) - 1)
            positive = np.array([v > tiny for v in exact])
            assert np.all(got[positive] > 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
@pytest.mark.parametrize("product", ["vjp", "jvp"])
@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_products_normwise_and_signs(entry: VectorFunction, product, dtype):
    fn = getattr(entry, product)
    ref = getattr(entry, f"reference_{product}")
    bar = entry.ulp_bar(_name(dtype), product)
    for i, x in enumerate(accuracy_rows(dtype, seed=300)):
        w = np.random.default_rng(i).standard_normal(x.shape).astype(dtype)
        exact = ov.exact_rows(ref, x.astype(np.float64), w.astype(np.float64))
        got = fn(x, w)
        assert ov.normwise_errors(got, exact, dtype).max() <= bar
        assert ov.sign_errors(got, exact, dtype) == 0


@pytest.mark.parametrize("dtype", DTYPES, ids=_name)
def test_gradients_of_logsumexp_and_cross_entropy(dtype):
    for i, x in enumerate(accuracy_rows(dtype, seed=400)):
        x64 = x.astype(np.float64)
        exact = ov.exact_rows(ov.logsumexp_vjp_ref, x64)
        got = actlab.logsumexp_vjp(x, np.ones(x.shape[0], dtype=dtype), axis=-1)
        assert ov.normwise_errors(got, exact, dtype).max() <= LSE.product_eps
        assert ov.sign_errors(got, exact, dtype) == 0
        t = np.argmax(x64, axis=1) if i % 2 else _targets(x64, i)
        exact = ov.exact_rows(CE.reference_grad, x64, list(t))
        got = actlab.cross_entropy_grad(x, t, reduction="none")
        assert ov.normwise_errors(got, exact, dtype).max() <= CE.product_eps
        assert ov.sign_errors(got, exact, dtype) == 0


# Where float64 has no wider type to be computed in (array_api_strict, PyTorch), only the
# exact x − max and the sum without its dominant term remain; the sum of exponentials then
# carries float64 rounding, which log1p passes on. Measured: softmax 2.4, log_softmax and
# CE 2.3, logsumexp 1.8 ULP (plain max-subtraction: 255 ULP on these rows).
BARS_WITHOUT_WIDER_TYPE = {"softmax": 4.0, "softmin": 4.0, "log_softmax": 3.0, "logsumexp": 2.0}


def test_float64_without_a_wider_type():
    xps = pytest.importorskip("array_api_strict")
    for i, x in enumerate(accuracy_rows(np.float64, seed=500)):
        s = xps.asarray(x)
        for entry in VECTOR:
            exact = ov.exact_rows(entry.reference, x)
            err = ov.ulp_errors(np.asarray(entry.fn(s)), exact, np.float64)
            assert err.max() <= BARS_WITHOUT_WIDER_TYPE[entry.name]
        exact = [[v] for v in ov.exact_rows(LSE.reference, x)]
        got = np.asarray(actlab.logsumexp(s, axis=-1))
        assert ov.ulp_errors(got, exact, np.float64).max() <= BARS_WITHOUT_WIDER_TYPE["logsumexp"]
        w = np.random.default_rng(i).standard_normal(x.shape)
        exact = ov.exact_rows(ov.softmax_vjp_ref, x, w)
        got = np.asarray(actlab.softmax_vjp(s, xps.asarray(w)))
        assert ov.normwise_errors(got, exact, np.float64).max() <= 4
        assert ov.sign_errors(got, exact) == 0


def test_bfloat16_within_one_ulp():
    torch = pytest.importorskip("torch")
    x = torch.tensor(test_rows(10, 100.0, 16, 600), dtype=torch.bfloat16)
    x64 = x.to(torch.float64).numpy()
    for entry in VECTOR:
        got = entry.fn(x)
        assert got.dtype == torch.bfloat16
        exact = ov.exact_rows(entry.reference, x64)
        err = _bf16_ulp_errors(got.to(torch.float64).numpy(), exact)
        assert err.max() <= entry.ulp_bar("bfloat16")


def _bf16_ulp_errors(got: np.ndarray, exact: list) -> np.ndarray:
    """ULP errors in bfloat16 (8 significant bits, float32's exponent range)."""
    mp = ov.mpmath()
    out = []
    for v, e in zip(got.ravel(), [e for row in exact for e in row], strict=True):
        if mp.isinf(e) or (e == 0 and v == 0):
            out.append(0.0 if v == e else np.inf)
            continue
        exp = max(int(mp.frexp(e)[1]), -125)
        out.append(float(abs(mp.mpf(float(v)) - e) / mp.ldexp(1, exp - 8)))
    return np.array(out)


# ------------------------------------------------------------ the peers' failure points


def test_log_softmax_at_the_dominant_entry_is_not_zero():
    # Every peer returns 0 here (log(1 + τ) with τ below eps); the exact value is −3.4e−18.
    x = np.array([128.17177591572866, 88.0, 40.0, -3.0])
    got = actlab.log_softmax(x)
    exact = ov.exact_rows(ov.log_softmax_ref, x[None])
    assert got[0] < 0
    assert ov.ulp_errors(got, exact, np.float64).max() <= 2


def test_cross_entropy_of_a_confident_right_answer_is_positive():
    # torch, scipy and jax return −0 where the exact loss is ~1e−73.
    x = np.array([[259.18324204980598, 90.0, 20.0]])
    got = actlab.cross_entropy(x, np.array([0]), reduction="none")
    exact = ov.exact_rows(ov.cross_entropy_ref, x, [0])
    assert got[0] > 0
    assert ov.ulp_errors(got, [exact], np.float64).max() <= 2


def test_cross_entropy_gradient_at_the_target():
    # y_t − 1 gives 0 for x_t = 303.58 above the rest; the exact gradient is −Σ_{j≠t} y_j.
    x = np.array([[303.58, 0.0, 223.0, -5.0]])
    got = actlab.cross_entropy_grad(x, np.array([0]), reduction="none")
    exact = ov.exact_rows(ov.cross_entropy_grad_ref, x, [0])
    assert got[0, 0] < 0
    assert ov.ulp_errors(got, exact, np.float64).max() <= 4


def test_softmax_vjp_sign_at_the_dominant_element():
    # Peers compute w_k − ⟨w, y⟩ and get the sign of the tiny result wrong.
    x = np.array([202.32928205971413, 170.0, 165.5, 160.25, 0.0])
    w = np.array([0.3, 1.7, -2.0, 0.9, 5.0])
    exact = ov.exact_rows(ov.softmax_vjp_ref, x[None], w[None])
    got = actlab.softmax_vjp(x, w)
    assert ov.sign_errors(got, exact) == 0
    assert ov.ulp_errors(got, exact, np.float64).max() <= 4


def test_tiny_softmax_outputs():
    # max-subtracting peers are 511 ULP off on outputs like 1e−237: x − max is rounded.
    x = np.array([0.0, -186.80409413914452 * 2.9, -545.123456789, -700.000000001])
    got = actlab.softmax(x)
    exact = ov.exact_rows(ov.softmax_ref, x[None])
    assert ov.ulp_errors(got, exact, np.float64).max() <= 1
    assert np.all(got > 0)


def test_logsumexp_of_a_shifted_row():
    # torch's backward uses exp(x − lse) with the rounded lse: 255 eps on such rows.
    x = test_rows(1000, 1.0, 1, 700) - 1000.0
    exact = ov.exact_rows(ov.logsumexp_vjp_ref, x)
    got = actlab.logsumexp_vjp(x, np.ones(1), axis=-1)
    assert ov.normwise_errors(got, exact, np.float64).max() <= 1
    out = actlab.logsumexp(x, axis=-1)
    got = actlab.logsumexp_vjp(x, np.ones(1), axis=-1, y=out)
    assert ov.normwise_errors(got, exact, np.float64).max() <= 1


def test_uniform_bfloat16_softmax_sums_to_one():
    torch = pytest.importorskip("torch")
    y = actlab.softmax(torch.zeros(4096, dtype=torch.bfloat16))
    assert y.dtype == torch.bfloat16
    assert abs(float(y.to(torch.float64).sum()) - 1.0) <= 1e-3


def test_ulp_errors_catches_a_wrong_value():
    # The oracle is able to fail: one ULP off is one ULP.
    x = np.array([[3.0, 2.0, 1.0]])
    exact = ov.exact_rows(ov.softmax_ref, x)
    got = actlab.softmax(x)
    off = np.nextafter(got, 1.0)
    assert ov.ulp_errors(off, exact, np.float64).max() > 0.5
    assert math.isinf(ov.ulp_errors(np.full(3, np.nan), exact, np.float64).max())
