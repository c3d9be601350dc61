"""How many threads numba gets for a call: the configured count for work that fills more
than one chunk of a kernel's parallel loop, one for a small call (waking the pool costs more
than such work: ``dispatch.SERIAL_MAX``). The results do not depend on it."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.kernels import config, dispatch
from test_kernels_support import on_tier

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


@pytest.fixture
def two_threads():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba's pool has one thread")
    previous = actlab.set_num_threads(2)
    try:
        yield numba
    finally:
        actlab.set_num_threads(previous)


def _threads_after(numba, call) -> int:
    numba.set_num_threads(1 if numba.get_num_threads() > 1 else 2)  # neither answer by chance
    call()
    return numba.get_num_threads()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_threads_follow_the_size(two_threads, dtype):
    small = np.linspace(-3, 3, 1000, dtype=dtype)
    large = np.concatenate([small, np.linspace(-30, 30, dispatch.SERIAL_MAX, dtype=dtype)])
    g = np.ones_like(small)
    with on_tier("numba"):
        assert _threads_after(two_threads, lambda: actlab.sigmoid(small)) == 1
        assert _threads_after(two_threads, lambda: actlab.relu(small)) == 1
        assert _threads_after(two_threads, lambda: actlab.silu_vjp(small, g)) == 1
        assert _threads_after(two_threads, lambda: actlab.sigmoid(large)) == 2
        assert _threads_after(two_threads, lambda: actlab.relu(large)) == 2
        # the small call's values are the large call's (one thread or two)
        np.testing.assert_array_equal(actlab.tanh(small), actlab.tanh(large)[: small.size])


def test_row_threads_follow_the_chunks(two_threads):
    rng = np.random.default_rng(0)
    few = rng.standard_normal((64, 10)).astype(np.float32)
    many = rng.standard_normal((40_000, 10)).astype(np.float32)  # several chunks of 2^16
    t_few, t_many = rng.integers(0, 10, 64), rng.integers(0, 10, 40_000)
    with on_tier("numba"):
        assert _threads_after(two_threads, lambda: actlab.softmax(few, axis=-1)) == 1
        assert _threads_after(two_threads, lambda: actlab.cross_entropy(few, t_few)) == 1
        assert _threads_after(two_threads, lambda: actlab.softmax_vjp(few, few, axis=-1)) == 1
        assert _threads_after(two_threads, lambda: actlab.softmax(many, axis=-1)) == 2
        assert _threads_after(two_threads, lambda: actlab.cross_entropy(many, t_many)) == 2
        assert _threads_after(two_threads, lambda: actlab.softmax_vjp(many, many, axis=-1)) == 2
        np.testing.assert_array_equal(
            actlab.log_softmax(few, axis=-1), actlab.log_softmax(np.vstack([few, many]))[:64]
        )
