"""The float64 loops of σ, silu and silu′ split in two per block (kernels/elementwise64.py:
the exp into buffers, then the rest) and the line maps of the same formulas
(kernels/lines64.py, which the dispatch runs instead with AVX-512) give what the one-pass
scalar formula gives, bit for bit, at every length around the block and chunk edges, with
the special values anywhere in the array. Both are called directly here, on any CPU."""

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


def _sample(n):
    rng = np.random.default_rng(n)
    x = np.concatenate([rng.standard_normal(n) * 8, rng.uniform(-760, 760, n)])[:n]
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-320, -1.2784645427610737, -745.0]
    x[rng.integers(0, n, min(n, len(specials)))] = specials[: min(n, len(specials))]
    g = rng.uniform(-2, 2, n)
    want = np.empty((5, n))
    _one_pass()(x, g, want)
    return x, g, want


@pytest.mark.parametrize("n", SIZES)
def test_split_loops_match_the_one_pass_formula(n):
    from actlab.kernels import elementwise64 as E

    x, g, want = _sample(n)
    got = np.empty((5, n))
    E.sigmoid_f(x, got[0], 0.0, 0.0, 1.0)
    E.silu_f(x, got[1], 1.0, 0.0, np.inf)
    E.silu_grad_f(x, got[2], 1.0, 0.0, 1.0)
    E.sigmoid_vjp(x, g, got[3], 0.0, 0.0, 1.0)
    E.silu_grad_vjp(x, g, got[4], 1.0, 0.0, 1.0)
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("stream", [False, True], ids=["ordinary", "streamed"])
@pytest.mark.parametrize("n", SIZES)
def test_line_maps_match_the_one_pass_formula(n, stream):
    from actlab.kernels import lines64 as L

    x, g, want = _sample(n + 3)
    for offset in (0, 3):  # the output on a line boundary, then single lanes before the first
        part = slice(offset, offset + n)
        got = np.empty((5, n + 3))
        L.sigmoid_f(x[part], got[0, part], stream)
        L.silu_f(x[part], got[1, part], stream)
        L.silu_grad_f(x[part], got[2, part], stream)
        lost = [L.sigmoid_vjp(x[part], g[part], got[3, part], stream)]
        lost.append(L.silu_grad_vjp(x[part], g[part], got[4, part], stream))
        assert np.array_equal(got[:, part].view(np.int64), want[:, part].view(np.int64))
        tiny = np.count_nonzero(np.abs(want[:, part]) < 2.2250738585072014e-308, axis=1)
        assert lost == [tiny[0], tiny[2]]  # f′ below the normal range, counted
    g32 = g.astype(np.float32)  # a float32 g is widened exactly, as the numba loops do
    got = np.empty(n + 3)
    L.silu_grad_vjp(x, g32, got, stream)
    assert np.array_equal(got, want[2] * g32.astype(np.float64), equal_nan=True)
