"""nll_loss and nll_loss_grad of large NumPy arrays read and write the target entries by
index (``losses/nll.py``, ``_nll_by_index``): the one-hot formulas' results bit for bit,
without their temporaries the size of the input, and the same checks."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.kernels import blocked
from actlab.losses import nll
from test_kernels_support import record_calls

pytestmark = pytest.mark.filterwarnings("error")
ROWS, C = 200, 30


@pytest.fixture
def by_index(monkeypatch):
    """Arrays of 6000 entries count as large; the calls that took the by-index path."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 1000)
    return record_calls(monkeypatch, nll, "_nll_by_index")


def _whole(monkeypatch, fn, *args, **kwargs):
    """The one-hot formulas on the whole array (the by-index path switched off)."""
    with monkeypatch.context() as m:
        m.setattr(nll, "_by_index", lambda *a: False)
        return fn(*args, **kwargs)


CASES = {
    "mean": {},
    "sum": {"reduction": "sum", "grad_output": 0.5},
    "none": {"reduction": "none", "grad_output": np.linspace(-1.0, 2.0, ROWS)},
    "weight": {"weight": np.linspace(0.5, 2.0, C), "ignore_index": 3},
    "axis 0": {"axis": 0, "weight": np.linspace(0.5, 2.0, C)},
    "ignored only": {"ignore_index": -100, "target": "ignored"},
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", CASES)
def test_by_index_gives_the_one_hot_result(case, dtype, by_index, monkeypatch):
    rng = np.random.default_rng(4)
    opts = dict(CASES[case])
    lp = actlab.log_softmax(rng.standard_normal((ROWS, C)) * 3).astype(dtype)
    lp[5, :] = np.nan  # not read: only the target entry is
    t = rng.integers(0, C, ROWS)
    t[7] = opts.get("ignore_index", -100)
    lp[9, t[9]] = -np.inf  # an infinite loss
    if opts.pop("target", None) == "ignored":
        t = np.full(ROWS, -100)
    if opts.get("axis") == 0:
        lp = np.ascontiguousarray(lp.T)
    go = opts.pop("grad_output", None)
    loss = actlab.nll_loss(lp, t, **opts)
    grad = actlab.nll_loss_grad(lp, t, grad_output=go, **opts)
    assert [call[0] for call in by_index] == ["nll_loss", "nll_loss_grad"]
    np.testing.assert_array_equal(loss, _whole(monkeypatch, actlab.nll_loss, lp, t, **opts))
    want = _whole(monkeypatch, actlab.nll_loss_grad, lp, t, grad_output=go, **opts)
    np.testing.assert_array_equal(grad, want)
    np.testing.assert_array_equal(np.signbit(grad), np.signbit(want))
    assert grad.dtype == lp.dtype


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        (np.full(ROWS, C), {}, "outside"),
        (np.zeros(ROWS - 1, int), {}, "must have shape"),
        (np.zeros(ROWS, int), {"weight": np.ones(C + 1)}, "weight must have shape"),
        (np.zeros(ROWS, int), {"reduction": "avg"}, "reduction"),
    ],
)
def test_bad_input_is_named(target, options, message, by_index):
    lp = np.zeros((ROWS, C))
    with pytest.raises(ValueError, match=message):
        actlab.nll_loss_grad(lp, target, **options)
