"""softmax, softmin and log_softmax with a ``where`` mask over one row longer than a block
(every axis, or an array of one row) run in passes over blocks of the row
(``functions/_long_row.vector``) instead of the whole-array code's twenty-odd temporaries of
x's size.

Per element they are the whole-array code's operations; only the row's sums are added up
block by block, so the results are the whole-array call's within one rounding (in practice
its bits), with the same hard-row contract."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import actlab
from actlab.functions import _long_row
from actlab.functions import softmax as softmax_module
from actlab.kernels import blocked
from test_kernels_support import record_calls

DTYPES = [np.float16, np.float32, np.float64]
WHOLE = {
    "softmax": softmax_module._softmax,
    "softmin": softmax_module._softmin,
    "log_softmax": softmax_module._log_softmax,
}


@pytest.fixture
def long_rows(monkeypatch):
    """Blocks of 64 entries; the number of long-row calls since."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 64)
    calls = record_calls(monkeypatch, _long_row, "vector")
    return lambda: len(calls)


def _case(dtype, kind, seed=3):
    """A 12×50 array and a mask, with one kind of hard row (the whole array is the row)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((12, 50)) * 8).astype(dtype)
    mask = rng.random(x.shape) < 0.7
    if kind == "nan":
        x[3, 4], mask[3, 4] = np.nan, True
        x[5, 6], mask[5, 6] = np.inf, True
    elif kind in ("one +inf", "two +inf"):
        x[7, 8], mask[7, 8] = np.inf, True
        if kind == "two +inf":
            x[9, 10], mask[9, 10] = np.inf, True
        x[1, 1], mask[1, 1] = -np.inf, True
    elif kind == "empty":
        mask[:] = False
    elif kind == "all -inf":
        x[mask] = -np.inf
    elif kind == "masked nan":
        x[2, 2], mask[2, 2] = np.nan, False  # left out: no part in the row
    return x, mask


def _ulps(got, want):
    """The largest distance in ULP of ``want``'s dtype over the finite values; the others
    (NaN, ±∞) must be equal."""
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite], want[~finite], equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    if not finite.any():
        return 0.0
    g, w = got[finite].astype(np.float64), want[finite].astype(np.float64)
    spacing = np.spacing(np.abs(want[finite])).astype(np.float64)
    return float(np.max(np.abs(g - w) / spacing))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "kind", ["plain", "nan", "one +inf", "two +inf", "empty", "all -inf", "masked nan"]
)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(WHOLE))
def test_masked_calls_over_every_axis_are_the_whole_array_call(
    name, dtype, kind, threads, long_rows
):
    x, mask = _case(dtype, kind)
    fn = getattr(actlab, name)
    previous = actlab.set_num_threads(threads)
    try:
        with np.errstate(all="raise"):
            got = fn(x, axis=(0, 1), where=mask)
            flat = fn(x.reshape(-1), where=mask.reshape(-1))  # a 1-D row
            column = fn(x.reshape(-1, 1), axis=0, where=mask.reshape(-1, 1))  # one row, axis 0
            out = np.empty_like(x)
            assert fn(x, axis=(1, 0), where=mask, out=out) is out
    finally:
        actlab.set_num_threads(previous)
    want = WHOLE[name](x, axis=(0, 1), where=mask)
    assert long_rows() == 4
    assert _ulps(got, want) <= 1.0
    for other in (flat.reshape(x.shape), column.reshape(x.shape), out):
        assert np.array_equal(other, got, equal_nan=True)
        assert np.array_equal(np.signbit(other), np.signbit(got))


def test_a_temperature_or_a_short_row_keeps_the_other_paths(long_rows):
    x, mask = _case(np.float32, "plain")
    want = WHOLE["softmax"](x, axis=(0, 1), where=mask, temperature=0.5)
    got = actlab.softmax(x, axis=(0, 1), where=mask, temperature=0.5)
    np.testing.assert_array_equal(got, want)
    actlab.softmax(x[:1, :40], axis=(0, 1), where=mask[:1, :40])  # one block: whole
    actlab.log_softmax(x, axis=1, where=mask)  # rows to block over
    assert long_rows() == 0


@pytest.mark.parametrize("name", list(WHOLE))
def test_peak_memory_of_one_long_masked_row_is_a_few_blocks(monkeypatch, name):
    """One row of 2^20 float32 entries (blocks of 2^12): the whole-array code peaked at about
    24.5× x's bytes; in passes, the result (1×), softmin's negated copy (1×) and a few
    blocks' temporaries."""
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 1 << 12)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1 << 20).astype(np.float32)
    mask = x > -1
    fn = getattr(actlab, name)
    fn(x, where=mask)
    tracemalloc.start()
    try:
        fn(x, where=mask)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (2.5 if name == "softmin" else 1.5) * x.nbytes
