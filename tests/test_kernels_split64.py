"""The float64 loops split in two per block (kernels/elementwise64.py: the exp into buffers,
then the rest) give what the one-pass scalar formula gives, bit for bit, at every length
around the block and chunk edges, with the special values anywhere in the array."""

from __future__ import annotations

import numpy as np
import pytest

from actlab.kernels import config

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

SIZES = [1, 7, 1023, 1024, 1025, 2 * 1024 + 5, 33 * 1024 - 1, 40 * 1024 + 3, 600 * 1024 + 9]


def _one_pass():
    from numba import njit

    from actlab.kernels import _exp64 as X
    from actlab.kernels import _gated64 as G
    from actlab.kernels import _scalars64 as D
    from actlab.kernels._numba_math import KERNEL

    @njit(**{**KERNEL, "cache": False})  # the kernels' options: FMA contraction as there
    def run(x, g, out):
        for i in range(x.shape[0]):
            v = x[i]
            out[0, i] = X.unless_nan(v, D.sigmoid(v, 0.0))
            s = G.silu(v, 1.0)
            out[1, i] = s if v < np.inf else v
            out[2, i] = X.unless_nan(v, G.silu_grad(v, 1.0))
            out[3, i] = out[0, i] * g[i]
            out[4, i] = out[2, i] * g[i]

    return run


@pytest.mark.parametrize("n", SIZES)
def test_split_loops_match_the_one_pass_formula(n):
    from actlab.kernels import elementwise64 as E

    rng = np.random.default_rng(n)
    x = np.concatenate([rng.standard_normal(n) * 8, rng.uniform(-760, 760, n)])[:n]
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-320, -1.2784645427610737, -745.0]
    x[rng.integers(0, n, min(n, len(specials)))] = specials[: min(n, len(specials))]
    g = rng.uniform(-2, 2, n)
    want = np.empty((5, n))
    _one_pass()(x, g, want)
    got = np.empty((5, n))
    E.sigmoid_f(x, got[0], 0.0, 0.0, 1.0)
    E.silu_f(x, got[1], 1.0, 0.0, np.inf)
    E.silu_grad_f(x, got[2], 1.0, 0.0, 1.0)
    E.sigmoid_vjp(x, g, got[3], 0.0, 0.0, 1.0)
    E.silu_grad_vjp(x, g, got[4], 1.0, 0.0, 1.0)
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
