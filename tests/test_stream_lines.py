"""The row kernels stream whole cache lines only (``_stream.streamed_range``, the line maps of
``_row_stores``): a line that a row shares with the row beside it gets ordinary stores. The
split must leave the values alone: the same rows written at every offset within a line give
the same bits, the cross-entropy's target entry (written in the pass) included."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.kernels import config
from test_kernels_support import on_tier

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

LINE = 64


def _view_at(shape: tuple[int, ...], dtype: str, offset: int) -> np.ndarray:
    """An empty C-contiguous array whose first element lies ``offset`` elements past a
    64-byte boundary."""
    itemsize = np.dtype(dtype).itemsize
    size = int(np.prod(shape))
    raw = np.empty(size * itemsize + 2 * LINE, dtype=np.uint8)
    skip = (-raw.ctypes.data) % LINE + offset * itemsize
    return raw[skip : skip + size * itemsize].view(dtype).reshape(shape)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_streamed_range_covers_whole_lines_only(dtype):
    from numba import njit

    from actlab.kernels._stream import streamed_range

    @njit
    def span(dst):
        return streamed_range(dst)

    per_line = LINE // np.dtype(dtype).itemsize
    for offset in range(per_line):
        for n in range(0, 3 * per_line + 2):
            dst = _view_at((n,), dtype, offset)
            start, stop = span(dst)
            assert 0 <= start <= stop <= n
            assert (stop - start) % per_line == 0
            if stop > start:  # the streamed part starts on a line and ends on one
                assert (dst.ctypes.data + start * dst.itemsize) % LINE == 0
            # nothing streamable is left out: no whole line before start or after stop
            assert start < per_line or start == n
            assert n - stop < per_line or start == n


def _rows(n_rows: int, n: int, dtype: str) -> np.ndarray:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n_rows, n)) * 6
    x[1, 3 % n] = 40.0  # a confident row: tiny entries beside a y near 1
    return x.astype(dtype)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [13, 37, 203])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_row_outputs_are_the_same_at_every_offset_in_a_line(name, n, dtype):
    x = _rows(9, n, dtype)
    fn = getattr(actlab, name)
    per_line = LINE // np.dtype(dtype).itemsize
    with on_tier("numba"):
        expected = fn(x, out=_view_at(x.shape, dtype, 0))
        for offset in range(1, per_line):
            got = fn(x, out=_view_at(x.shape, dtype, offset))
            np.testing.assert_array_equal(got, expected, err_msg=f"offset {offset}")
    entry = actlab.get(name)
    err = ov.ulp_errors(expected, ov.exact_rows(entry.reference, x), dtype)
    assert float(np.max(err)) <= entry.ulp_bar(dtype, "f")


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [13, 203])
def test_cross_entropy_gradient_is_the_same_at_every_offset_in_a_line(n, dtype):
    x = _rows(9, n, dtype)
    target = np.array([0, 1, 5, 8, 9, 16, 17, n // 2, n - 1]) % n  # head, lines, tail
    per_line = LINE // np.dtype(dtype).itemsize
    with on_tier("numba"):
        loss, expected = actlab.cross_entropy_with_grad(x, target, out=_view_at(x.shape, dtype, 0))
        for offset in range(1, per_line):
            got_loss, got = actlab.cross_entropy_with_grad(
                x, target, out=_view_at(x.shape, dtype, offset)
            )
            np.testing.assert_array_equal(got, expected, err_msg=f"offset {offset}")
            assert got_loss == loss
    ce = actlab.get("cross_entropy")
    exact = [[v / x.shape[0] for v in row] for row in ov.exact_rows(ce.reference_grad, x, target)]
    err = ov.normwise_errors(expected, exact, dtype)
    assert float(np.max(err)) <= ce.ulp_bar(dtype, "grad")
