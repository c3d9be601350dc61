"""Cross-entropy of large NumPy arrays off the fused kernels: the Array API code on blocks of
rows (``losses/_blocked.py``) gives the whole-array call's results bit for bit, on every
option, threads or not, and its checks name the argument."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.kernels import blocked
from actlab.losses import _blocked
from actlab.losses.cross_entropy import _cross_entropy_with_grad
from test_kernels_support import on_tier, record_calls

pytestmark = pytest.mark.filterwarnings("error")
ROWS, C = 300, 50
DEFAULTS = {
    "axis": -1, "weight": None, "ignore_index": -100, "label_smoothing": 0.0,
    "reduction": "mean", "where": None,
}  # fmt: skip


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 rows of 50 (the arrays here are 300 rows: 43 blocks), and the calls that
    took the blocked path."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 7 * C)
    return record_calls(monkeypatch, _blocked, "run")


def _logits(dtype, seed=0):
    """Rows with the hard cases among ordinary ones: an ignored target, a row of −∞ (empty:
    left out of the mean), NaN, +∞, a −∞ entry, a confident row."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((ROWS, C)) * 4).astype(dtype)
    t = rng.integers(0, C, ROWS)
    t[5] = -100
    x[6] = -np.inf
    x[7, 3] = np.nan
    x[8, 2] = np.inf
    x[9, 4] = -np.inf
    x[10, 1] = dtype(60)
    return x, t


CASES = {
    "mean": {},
    "sum": {"reduction": "sum", "grad_output": 0.5},
    "none": {"reduction": "none", "grad_output": np.linspace(0.1, 2.0, ROWS)},
    "weight+smoothing": {"weight": np.linspace(0.5, 2.0, C), "label_smoothing": 0.1},
    "where+smoothing": {"where": "mask", "label_smoothing": 0.2},
    "probabilities": {"target": "probabilities", "weight": np.linspace(0.5, 2.0, C)},
    "axis 0": {"axis": 0, "weight": np.linspace(0.5, 2.0, C)},
    "axis 0, where, none": {"axis": 0, "where": "mask", "reduction": "none"},
    "ignored only": {"target": "ignored"},
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", CASES)
def test_blocks_give_the_whole_array_result(case, dtype, threads, small_blocks):
    opts = dict(CASES[case])
    with np.errstate(under="ignore"):  # float16 logits and probabilities
        x, t = _logits(dtype)
        if opts.pop("target", None) == "probabilities":
            t = np.random.default_rng(1).dirichlet(np.ones(C), ROWS).astype(dtype)
    if case == "ignored only":
        t = np.full(ROWS, -100)
    if opts.get("where") == "mask":
        mask = np.random.default_rng(2).random((ROWS, C)) > 0.2
        mask[11] = False  # a fully masked row: empty, left out of the mean
        opts["where"] = mask
    if opts.get("axis") == 0:
        x = np.ascontiguousarray(x.T)
        if t.ndim == 2:
            t = np.ascontiguousarray(t.T)
        if opts.get("where") is not None:
            opts["where"] = np.ascontiguousarray(opts["where"].T)
    go = opts.pop("grad_output", None)
    previous = actlab.set_num_threads(threads)
    try:
        with on_tier("numpy"):
            loss, grad = actlab.cross_entropy_with_grad(x, t, grad_output=go, **opts)
            alone = actlab.cross_entropy(x, t, **opts)
    finally:
        actlab.set_num_threads(previous)
    assert [call[0] for call in small_blocks] == ["cross_entropy_grad", "cross_entropy"]
    whole = {**DEFAULTS, **opts}
    want_loss, want_grad = _cross_entropy_with_grad(x, t, grad_output=go, want_loss=True, **whole)
    np.testing.assert_array_equal(loss, want_loss)
    np.testing.assert_array_equal(alone, want_loss)
    np.testing.assert_array_equal(grad, want_grad)
    assert grad.dtype == x.dtype
    assert np.shape(loss) == np.shape(want_loss)


def test_out_receives_the_gradient(small_blocks):
    x, t = _logits(np.float32)
    x = np.ascontiguousarray(x.T)
    out = np.full_like(x, np.nan)
    with on_tier("numpy"):
        _, grad = actlab.cross_entropy_with_grad(x, t, axis=0, out=out)
    assert grad is out
    assert [call[0] for call in small_blocks] == ["cross_entropy_grad"]
    _, want = _cross_entropy_with_grad(x, t, grad_output=None, want_loss=False, **{
        **DEFAULTS, "axis": 0})  # fmt: skip
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"target": np.full(ROWS, C)}, ValueError, "outside"),
        ({"target": np.zeros(ROWS - 1, int)}, ValueError, "must have shape"),
        ({"target": np.zeros((ROWS, C + 1))}, ValueError, "probability target must have"),
        ({"weight": np.ones(C + 1)}, ValueError, "weight must have shape"),
        ({"where": np.ones((ROWS, C), dtype=np.int8)}, TypeError, "where must be a boolean"),
        ({"label_smoothing": 2.0}, ValueError, "label_smoothing"),
        ({"reduction": "avg"}, ValueError, "reduction"),
        ({"grad_output": np.ones(3)}, ValueError, "grad_output"),
        ({"axis": 2}, ValueError, "axis"),
    ],
)
def test_bad_input_is_named_as_on_the_whole_array_path(change, error, message, small_blocks):
    x, t = _logits(np.float64)
    opts = {"target": t, **change}
    target = opts.pop("target")
    with on_tier("numpy"), pytest.raises(error, match=message):
        actlab.cross_entropy_with_grad(x, target, **opts)
