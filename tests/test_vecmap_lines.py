"""``_vecmap.span_map(..., lines=2)``: a formula evaluated over two cache lines at once must
give every element the bits the one-line map gives, at every length and offset of a span
(the head before the first line, the whole blocks, a spare line, the tail), streamed or not,
and a counted map the same count."""

from __future__ import annotations

import numpy as np
import pytest

from actlab.kernels import config

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


def _maps(formula, inputs: int, counted: bool = False):
    from numba import njit

    from actlab.kernels._vecmap import span_map

    one = span_map(formula, inputs=inputs, scalars=0, counted=counted)
    two = span_map(formula, inputs=inputs, scalars=0, counted=counted, lines=2)

    @njit
    def run_one(out, start, stop, stream, *arrays):
        return one(out, start, stop, stream, *arrays)

    @njit
    def run_two(out, start, stop, stream, *arrays):
        return two(out, start, stop, stream, *arrays)

    return run_one, run_two


LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 64, 65, 100, 1000]


@pytest.mark.parametrize("stream", [False, True], ids=["ordinary", "streamed"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_lines_per_body_give_the_one_line_bits_everywhere(dtype, stream):
    from actlab.kernels import lean32, lines64

    formula = lines64._tanh if dtype == "float64" else lean32._tanh
    run_one, run_two = _maps(formula, inputs=1)
    x = (np.random.default_rng(3).standard_normal(1100) * 4).astype(dtype)
    for offset in range(17):  # every position relative to a 64-byte line
        for n in LENGTHS:
            want = np.full(n, np.nan, dtype=dtype)
            got = np.full(n, np.nan, dtype=dtype)
            run_one(want, 0, n, stream, x[offset : offset + n])
            run_two(got, 0, n, stream, x[offset : offset + n])
            np.testing.assert_array_equal(got, want)
            # and every element written: tanh within an ULP of the input's dtype
            exact = np.tanh(x[offset : offset + n].astype(np.float64))
            np.testing.assert_allclose(got, exact, rtol=np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("stream", [False, True], ids=["ordinary", "streamed"])
def test_a_counted_map_over_two_lines_counts_what_the_one_line_map_counts(stream):
    """g·σ′ from the float64 line maps flags each f′ below the normal range; a span starting
    inside the array (start > 0) as the kernels' chunks do."""
    from actlab.kernels import lines64

    run_one, run_two = _maps(lines64._counted_product(lines64._sigmoid), inputs=2, counted=True)
    rng = np.random.default_rng(4)
    x = rng.uniform(-760, 40, 1200)  # σ(x) below 2.2e−308 for x < −708
    g = rng.standard_normal(1200)
    for start, stop in [(0, 1200), (3, 1197), (5, 70), (11, 12), (40, 40), (1, 1000)]:
        want = np.zeros(1200)
        got = np.zeros(1200)
        lost_one = run_one(want, start, stop, stream, x, g)
        lost_two = run_two(got, start, stop, stream, x, g)
        np.testing.assert_array_equal(got, want)
        assert lost_two == lost_one == int(np.sum(x[start:stop] < -708.4))


def test_more_than_two_lines_per_body_is_refused():
    from actlab.kernels._vecmap import span_map

    with pytest.raises(ValueError, match="lines must be 1 or 2"):
        span_map(lambda v: v, inputs=1, scalars=0, lines=4)
