"""The losses: cross_entropy, nll_loss, binary_cross_entropy_with_logits, mse_loss and their
gradients. Against PyTorch where its conventions are defined, against mpmath for accuracy,
against finite differences, and the contract where PyTorch returns NaN."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import actlab
from actlab import oracle_vector as ov
from actlab.registry import Loss
from softmax_support import central_difference, same, test_rows

LOSSES: tuple[Loss, ...] = tuple(actlab.entries("loss"))


@pytest.fixture(autouse=True)
def _raise_on_fp_errors():
    with np.errstate(all="raise"):
        yield


def _batch(seed=0, n=6, c=5, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * scale, rng.integers(0, c, n)


# ----------------------------------------------------------------------- against PyTorch

CE_OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": np.array([0.5, 2.0, 1.0, 0.25, 3.0])},
    {"ignore_index": 2},
    {"label_smoothing": 0.1},
    {"label_smoothing": 0.2, "weight": np.array([0.5, 2.0, 1.0, 0.25, 3.0])},
    {"label_smoothing": 0.3, "reduction": "none", "ignore_index": 1},
]


CE_CASES = [
    pytest.param(opts, kind, id=f"{kind}-{opts}")
    for kind in ("class", "probability")
    for opts in CE_OPTIONS
    if kind == "class" or "ignore_index" not in opts  # ignore_index: class targets only
]


@pytest.mark.parametrize(("opts", "targets"), CE_CASES)
def test_cross_entropy_matches_torch(opts, targets):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, t = _batch(1)
    if targets == "probability":
        t = np.random.default_rng(2).dirichlet(np.ones(5), size=6)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in opts.items()}
    xt = torch.tensor(x, requires_grad=True)
    want = F.cross_entropy(xt, torch.tensor(t), **topts)
    got = actlab.cross_entropy(x, t, **opts)
    assert np.allclose(got, want.detach().numpy(), rtol=1e-13, atol=0)
    upstream = torch.linspace(0.5, 2.0, want.numel()).reshape(want.shape).double()
    want.backward(upstream)
    go = upstream.numpy() if opts.get("reduction") == "none" else float(upstream)
    grad = actlab.cross_entropy_grad(x, t, grad_output=go, **opts)
    assert np.allclose(grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_cross_entropy_class_axis_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 5))  # (N, C, d1, d2), classes on axis 1
    t = rng.integers(0, 4, (2, 3, 5))
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.allclose(actlab.cross_entropy(x, t, axis=1), want.numpy(), rtol=1e-13)


@pytest.mark.parametrize("opts", [{}, {"weight": np.array([1.0, 0.5, 2.0, 1.0, 1.0])},
                                  {"ignore_index": 0, "reduction": "sum"}], ids=str)  # fmt: skip
def test_nll_loss_matches_torch(opts):
    torch = pytest.importorskip("torch")
    x, t = _batch(4)
    lp = actlab.log_softmax(x)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in opts.items()}
    lpt = torch.tensor(lp, requires_grad=True)
    want = torch.nn.functional.nll_loss(lpt, torch.tensor(t), **topts)
    assert np.allclose(actlab.nll_loss(lp, t, **opts), want.detach().numpy(), rtol=1e-14)
    want.backward()
    assert np.allclose(actlab.nll_loss_grad(lp, t, **opts), lpt.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)) * 5
    t = rng.random((4, 3))
    w = rng.random((4, 3)) + 0.5
    pw = np.array([0.5, 1.0, 3.0])
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        xt,
        torch.tensor(t),
        weight=torch.tensor(w),
        pos_weight=torch.tensor(pw),
        reduction=reduction,
    )
    opts = {"weight": w, "pos_weight": pw, "reduction": reduction}
    got = actlab.binary_cross_entropy_with_logits(x, t, **opts)
    assert np.allclose(got, want.detach().numpy(), rtol=1e-13)
    want.backward(torch.ones_like(want))
    go = np.ones(x.shape) if reduction == "none" else 1.0
    grad = actlab.binary_cross_entropy_with_logits_grad(x, t, grad_output=go, **opts)
    assert np.allclose(grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.mse_loss(xt, torch.tensor(t), reduction=reduction)
    assert np.allclose(actlab.mse_loss(x, t, reduction=reduction), want.detach().numpy())
    want.backward(torch.ones_like(want))
    go = np.ones(x.shape) if reduction == "none" else None
    grad = actlab.mse_loss_grad(x, t, reduction=reduction, grad_output=go)
    assert np.allclose(grad, xt.grad.numpy(), rtol=1e-14)


def test_torch_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    x = torch.tensor(test_rows(5, 3.0, 4, 7), dtype=torch.float32)
    t = torch.tensor([0, 4, 2, 1])
    loss = actlab.cross_entropy(x, t)
    assert isinstance(loss, torch.Tensor)
    assert loss.dtype == torch.float32
    assert actlab.cross_entropy_grad(x, t).shape == x.shape


# ----------------------------------------------------------- where PyTorch returns NaN


def test_mean_over_only_ignored_targets_is_zero():
    x, _ = _batch(8)
    t = np.full(6, -100)
    assert float(actlab.cross_entropy(x, t)) == 0.0
    assert same(actlab.cross_entropy_grad(x, t), np.zeros_like(x))
    assert float(actlab.nll_loss(actlab.log_softmax(x), t)) == 0.0
    assert same(actlab.nll_loss_grad(x, t), np.zeros_like(x))


def test_empty_rows_are_left_out_of_the_mean():
    x, t = _batch(9)
    padded = np.concatenate([x, np.full((2, 5), -np.inf)])
    tp = np.concatenate([t, [0, 3]])
    assert float(actlab.cross_entropy(padded, tp)) == float(actlab.cross_entropy(x, t))
    grad = actlab.cross_entropy_grad(padded, tp)
    assert same(grad[:6], actlab.cross_entropy_grad(x, t))
    assert same(grad[6:], np.zeros((2, 5)))
    mask = np.ones(padded.shape, dtype=bool)
    mask[6:] = False
    masked = np.concatenate([x, np.ones((2, 5))])
    assert float(actlab.cross_entropy(masked, tp, where=mask)) == float(actlab.cross_entropy(x, t))


def test_probability_targets_with_minus_inf_logits():
    # 0·log 0 = 0: no mass on a −∞ logit adds nothing (optax returned NaN); mass there is +∞.
    x = np.array([[0.0, -np.inf, 1.0]])
    q = np.array([[0.25, 0.0, 0.75]])
    got = actlab.cross_entropy(x, q, reduction="none")
    finite = np.array([[0.0, 1.0]])
    assert got[0] == pytest.approx(actlab.cross_entropy(finite, q[:, [0, 2]], reduction="none")[0])
    assert np.all(np.isfinite(actlab.cross_entropy_grad(x, q)))
    assert actlab.cross_entropy(x, np.array([[0.5, 0.5, 0.0]]), reduction="none")[0] == np.inf


def test_label_smoothing_spreads_over_the_unmasked_classes():
    x, t = _batch(10, n=3, c=4)
    keep = np.array([True, True, False, True])
    got = actlab.cross_entropy(x, t % 2, where=keep, label_smoothing=0.2, reduction="none")
    want = actlab.cross_entropy(x[:, keep], t % 2, label_smoothing=0.2, reduction="none")
    assert np.allclose(got, want, rtol=1e-15)


def test_bce_at_infinite_logits():
    # PyTorch returns NaN at x = −∞ (issue 135359); the limits are 0 and +∞.
    x = np.array([-np.inf, -np.inf, np.inf, np.inf])
    t = np.array([0.0, 1.0, 1.0, 0.0])
    got = actlab.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert same(got, [0.0, np.inf, 0.0, np.inf])
    grad = actlab.binary_cross_entropy_with_logits_grad(x, t, reduction="none")
    assert same(grad, [0.0, -1.0, 0.0, 1.0])


def test_mse_with_infinities():
    x = np.array([np.inf, np.inf, -np.inf, 1.0, np.nan])
    t = np.array([1.0, np.inf, np.inf, -np.inf, 0.0])
    assert same(actlab.mse_loss(x, t, reduction="none"), [np.inf, np.nan, np.inf, np.inf, np.nan])
    grad = actlab.mse_loss_grad(x, t, reduction="none")
    assert same(grad, [np.inf, np.nan, -np.inf, np.inf, np.nan])


def test_loss_hard_rows_from_the_registry():
    for entry in LOSSES:
        for hard in entry.hard_rows:
            x = np.array(hard.x, dtype=np.float64)
            if entry.elementwise:
                got = entry.fn(x, np.array([hard.target], dtype=np.float64), reduction="none")[0]
            else:
                where = None if hard.where is None else np.array(hard.where)[None]
                opts = {} if where is None else {"where": where}
                got = entry.fn(x[None], np.array([hard.target]), reduction="none", **opts)[0]
            assert same(got, hard.expected), (entry.name, hard.label, got)


# ------------------------------------------------------------------------------- accuracy


def test_bce_accuracy_against_mpmath():
    entry = actlab.get("binary_cross_entropy_with_logits")
    x = np.concatenate([np.linspace(-60, 60, 97), [-745.0, -40.0, 36.75, 40.0, 700.0]])
    for t_value in (0.0, 1.0, 0.3):
        t = np.full(x.shape, t_value)
        mp = ov.mpmath()
        with mp.workdps(60):
            exact = [ov.bce_ref(mp, mp.mpf(float(v)), mp.mpf(t_value)) for v in x]
            exact_g = [ov.bce_grad_ref(mp, mp.mpf(float(v)), mp.mpf(t_value)) for v in x]
        got = actlab.binary_cross_entropy_with_logits(x, t, reduction="none")
        assert ov.ulp_errors(got, exact, np.float64).max() <= entry.ulp_bar("float64")
        grad = actlab.binary_cross_entropy_with_logits_grad(x, t, reduction="none")
        if t_value in (0.0, 1.0):  # no cancellation: every element
            assert ov.ulp_errors(grad, exact_g, np.float64).max() <= 4
        assert ov.sign_errors(grad, exact_g) == 0 or t_value == 0.3


def test_cross_entropy_grad_matches_finite_differences():
    x, t = _batch(11)
    x[2, 1] = -np.inf
    t[2] = 0
    w = np.array([1.0, 2.0, 0.5, 1.0, 1.5])
    # With label smoothing a −∞ logit makes the loss +∞; a masked class is left out instead.
    keep = np.isfinite(x)
    finite = np.where(keep, x, 7.0)
    cases = [
        (x, {}),
        (x, {"reduction": "sum"}),
        (finite, {"weight": w, "label_smoothing": 0.1, "where": keep}),
    ]
    for z0, opts in cases:
        fd = central_difference(lambda z, o=opts: float(actlab.cross_entropy(z, t, **o)), z0)
        fd = np.where(keep, fd, 0.0)
        assert np.allclose(actlab.cross_entropy_grad(z0, t, **opts), fd, rtol=1e-6, atol=1e-9)


@given(st.lists(st.floats(-50, 50), min_size=2, max_size=8), st.integers(0, 7))
def test_cross_entropy_is_lse_minus_the_target(row, t):
    x = np.array(row)[None]
    t = np.array([t % len(row)])
    with np.errstate(all="raise"):
        loss = actlab.cross_entropy(x, t, reduction="none")[0]
        want = actlab.logsumexp(x[0]) - x[0, t[0]]
        assert loss >= 0
        # want has the rounding of lse − x_t at the larger of the two magnitudes.
        big = max(abs(float(want)), abs(float(x[0, t[0]])), 1e-300)
        assert abs(loss - want) <= 2 * np.spacing(big)
        g = actlab.cross_entropy_grad(x, t, reduction="none")
        assert abs(g.sum()) <= 1e-14
        assert g[0, t[0]] <= 0


# ------------------------------------------------------------------------------ bad input


X, T = _batch(12)
BAD = [
    (lambda: actlab.cross_entropy(X, T[:3]), ValueError, "cross_entropy: class-index target"),
    (lambda: actlab.cross_entropy(X, T.astype(bool)), TypeError, "target must hold"),
    (lambda: actlab.cross_entropy(X, T + 0j), TypeError, "target must hold"),
    (lambda: actlab.cross_entropy(X, np.full(6, 5)), ValueError, "outside [0, 5)"),
    (lambda: actlab.cross_entropy(X, np.full(6, -1)), ValueError, "ignore_index=-100"),
    (lambda: actlab.cross_entropy(X, -np.abs(X)), ValueError, "non-negative"),
    (lambda: actlab.cross_entropy(X, X[:, :3] ** 2), ValueError, "probability target"),
    (lambda: actlab.cross_entropy(X, T, reduction="avg"), ValueError, "reduction must be"),
    (lambda: actlab.cross_entropy(X, T, label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda: actlab.cross_entropy(X, T, label_smoothing=-0.1), ValueError, "label_smoothing"),
    (lambda: actlab.cross_entropy(X, T, weight=np.ones(4)), ValueError, "weight must have"),
    (lambda: actlab.cross_entropy(X, T, axis=2), ValueError, "axis 2 is out of range"),
    (lambda: actlab.cross_entropy(X, T, axis=(0, 1)), TypeError, "single int"),
    (lambda: actlab.cross_entropy(X, T, where=np.ones(3, bool)), ValueError, "where"),
    (lambda: actlab.cross_entropy(np.float64(1.0), T), ValueError, "class axis"),
    (lambda: actlab.cross_entropy_grad(X, T, grad_output=np.ones(6)), ValueError, "scalar"),
    (
        lambda: actlab.cross_entropy_grad(X, T, reduction="none", grad_output=np.ones(5)),
        ValueError,
        "grad_output of shape",
    ),
    (lambda: actlab.nll_loss(X, T.astype(float)), TypeError, "nll_loss: target"),
    (lambda: actlab.nll_loss(X, np.full(6, 7)), ValueError, "nll_loss: target holds"),
    (lambda: actlab.binary_cross_entropy_with_logits(X, X), ValueError, "[0, 1]"),
    (lambda: actlab.binary_cross_entropy_with_logits(X, X[0]), ValueError, "logits' shape"),
    (lambda: actlab.binary_cross_entropy_with_logits(X, 0 * X, reduction=1), ValueError, "reduc"),
    (lambda: actlab.mse_loss(X, X[:3]), ValueError, "target of shape"),
    (lambda: actlab.mse_loss(X, "a"), TypeError, "mse_loss"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


# A lazy array (a JAX tracer under jit, a Dask graph; the ``lazily`` fixture of conftest.py)
# cannot be read without computing it: an invalid target there gives NaN where it lies,
# never a finite loss.


def _close(got, want):
    """float64 without a wider type (JAX, Dask) is within a few ULP of NumPy's extended one."""
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    ("loss", "grad"),
    [
        (actlab.cross_entropy, actlab.cross_entropy_grad),
        (actlab.nll_loss, actlab.nll_loss_grad),
    ],
)
def test_lazy_class_targets_outside_the_classes_give_nan_rows(lazily, loss, grad):
    x, t = _batch(21)
    t[1], t[3], t[4] = 5, -1, -100  # outside [0, 5), negative, ignore_index
    invalid = np.isin(np.arange(6), (1, 3))
    ok = ~invalid
    losses = lazily(loss, x, t, reduction="none")
    assert np.isnan(losses[invalid]).all()
    _close(losses[ok], loss(x[ok], t[ok], reduction="none"))
    g = lazily(grad, x, t, reduction="none")
    assert np.isnan(g[invalid]).all()
    _close(g[ok], grad(x[ok], t[ok], reduction="none"))
    assert np.isnan(lazily(loss, x, t))  # the mean
    # Valid targets: the lazy result is the concrete one.
    t[1], t[3] = 4, 0
    _close(lazily(loss, x, t), loss(x, t))


def test_lazy_probability_targets_that_are_negative_give_nan(lazily):
    x, _ = _batch(22)
    q = np.random.default_rng(22).dirichlet(np.ones(5), size=6)
    q[2, 1] = -0.25
    losses = lazily(actlab.cross_entropy, x, q, reduction="none")
    assert np.isnan(losses[2])
    _close(
        np.delete(losses, 2),
        actlab.cross_entropy(np.delete(x, 2, 0), np.delete(q, 2, 0), reduction="none"),
    )
    assert np.isnan(lazily(actlab.cross_entropy_grad, x, q)[2]).all()
    p = np.clip(q, 0.0, 1.0)
    p[4, 4] = 1.5
    bad = np.zeros(p.shape, dtype=bool)
    bad[4, 4] = True
    for weight in (1.0, 0.0):  # a zero weight does not hide it
        for fn in (
            actlab.binary_cross_entropy_with_logits,
            actlab.binary_cross_entropy_with_logits_grad,
        ):
            got = lazily(fn, x, p, reduction="none", weight=weight)
            assert np.isnan(got[bad]).all()
            assert not np.isnan(got[~bad]).any()


def test_concrete_backend_targets_are_still_checked():
    jnp = pytest.importorskip("jax.numpy")
    x, t = _batch(23)
    t[0] = 9
    with pytest.raises(ValueError, match=re.escape("outside [0, 5)")):
        actlab.cross_entropy(jnp.asarray(x, dtype=jnp.float32), jnp.asarray(t))


def test_inputs_are_never_modified():
    x, t = _batch(13)
    q = np.random.default_rng(0).dirichlet(np.ones(5), size=6)
    w = np.ones(5)
    copies = [a.copy() for a in (x, t, q, w)]
    actlab.cross_entropy_grad(x, t, weight=w, label_smoothing=0.1)
    actlab.cross_entropy_grad(x, q)
    actlab.binary_cross_entropy_with_logits_grad(x, q)
    actlab.mse_loss_grad(x, q)
    for a, c in zip((x, t, q, w), copies, strict=True):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x, t = _batch(14)
    x = x.astype(dtype)
    q = np.full(x.shape, 0.2, dtype=dtype)
    for fn in (actlab.cross_entropy, actlab.cross_entropy_grad):
        assert fn(x, t).dtype == dtype
    for fn in (actlab.binary_cross_entropy_with_logits, actlab.mse_loss, actlab.mse_loss_grad):
        assert fn(x, q).dtype == dtype
    assert math.isfinite(float(actlab.cross_entropy(x, t)))


@pytest.mark.parametrize("large", [False, True], ids=["whole array", "by index"])
def test_nll_zero_weight_at_a_minus_inf_target_is_zero_without_a_warning(large, monkeypatch):
    """0·log 0 = 0 for a class of weight 0 (PyTorch computes 0·(−∞) = NaN); the fixture
    raises on any floating-point warning, 0·∞ included."""
    from actlab.kernels import blocked

    if large:
        monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 2)
    lp = np.array([[0.0, -np.inf], [-1.0, -0.5]])
    w = np.array([1.0, 0.0])
    losses = actlab.nll_loss(lp, np.array([1, 0]), weight=w, reduction="none")
    np.testing.assert_array_equal(losses, [0.0, 1.0])
    assert actlab.nll_loss(lp, np.array([1, 0]), weight=w) == 1.0
