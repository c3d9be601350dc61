"""Compiled float64 loops in double-double (the scalar formulas of ``_scalars64`` and
``_gated64``), written out one by one like ``elementwise`` (numba's cache needs that).

σ, silu and silu′ (the lean exp of ``_exp64``) run split in two loops per block of BLOCK
elements: the exp into two small buffers, then the rest. One loop body over the whole formula
is bound by its dependency chain (~85 cycles for silu′, ~90 instructions per 4 lanes: the
out-of-order window holds only a few iterations); two shorter loops keep more iterations in
flight: 20 to 30% faster for the same results, bit for bit. Each thread takes a chunk of
blocks with buffers of its own (``_chunking``). Where numba compiles with AVX-512 the
dispatch runs the line maps of ``lines64`` instead, the same operations.

The other products g·f′ run a loop over each chunk's slice (``_NAME_times``), not numba's
element-wise ``prange`` loop: there a count (below) cost 6–9% (elu′), here the loops with
the count are as fast as the ``prange`` ones without it (ratios 0.92–1.11, median about 1,
in five processes: ``python benchmarks/ab.py f6824f3 --cases elu_vjp,sigmoid_vjp,
log_sigmoid_vjp,silu_vjp --threads 1``). Every product loop returns how many f′ fell below
float64's normal range, for the dispatch to redo (see ``_NORMAL_MIN``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from . import _exp64 as X
from . import _gated64 as G
from . import _scalars as S
from . import _scalars64 as D
from ._numba_math import KERNEL, PARALLEL

# Elements per block of the split loops: the buffers (2·8 KiB) and the block's input and
# output stay in L1/L2 between the two loops (1024 measured best of 128 to 2048).
BLOCK = 1024


@njit(**KERNEL)
def _chunking(n):
    """(chunks, elements per chunk): whole blocks, at least 32 chunks where n allows (for the
    threads' balance; numba's thread count would make the kernels uncachable), at most 16
    blocks per chunk (the buffers are allocated once per chunk)."""
    blocks = (n + BLOCK - 1) // BLOCK
    per = min(max(blocks // 32, 1), 16)
    return (blocks + per - 1) // per, per * BLOCK


# g·f′ is f′ rounded to float64, times g. Where f′ lies below float64's normal range
# (2^−1022: the far tails, e.g. σ′(−720)) it has lost bits to the subnormals, or is 0, and a
# |g| > 1 can lift the product back into the range where those bits show (σ′(−720)·10^300 as
# ``sigmoid_grad(x) * g`` is 2.4e4 ULP off the oracle's product). The product loops return
# how many f′ fell below (a count without a branch: a test of g as well, or a flag store,
# slowed the loops by 10–30%); the dispatch then recomputes those with |g| > 1 on the NumPy
# path, whose extended type has the exponent range (``dispatch._double_double_products``).
_NORMAL_MIN = 2.2250738585072014e-308


@njit(**KERNEL)
def _sigmoid_exps(x, p, s):
    for i in range(x.shape[0]):
        s[i], p[i] = X.exp_split_sub(-abs(x[i]), -0.0)


@njit(**KERNEL)
def _sigmoid_rests(x, g, p, s, out, use_g):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = X.unless_nan(v, D.sigmoid_rest(v, s[i], p[i]))
        out[i] = r * g[i] if use_g else r
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**KERNEL)
def _sigmoid_span(x, g, out, start, stop, use_g):
    """σ (or g·σ with use_g) over x[start:stop] by blocks; returns the count of σ below
    float64's normal range (see ``_NORMAL_MIN``)."""
    p = np.empty(BLOCK)
    s = np.empty(BLOCK)
    lost = 0
    for j in range(start, stop, BLOCK):
        k = min(BLOCK, stop - j)
        _sigmoid_exps(x[j : j + k], p[:k], s[:k])
        lost += _sigmoid_rests(x[j : j + k], g[j : j + k], p[:k], s[:k], out[j : j + k], use_g)
    return lost


@njit(**KERNEL)
def _silu_exps(x, p, st):
    for i in range(x.shape[0]):
        p[i], st[i] = G.silu_exp(x[i])


@njit(**KERNEL)
def _silu_rests(x, p, st, out):
    for i in range(x.shape[0]):
        v = x[i]
        r = G.silu_rest(v, p[i], st[i])
        out[i] = r if v < math.inf else v  # NaN and +∞ give themselves, −∞ gives −0.0


@njit(**KERNEL)
def _silu_span(x, out, start, stop):
    p = np.empty(BLOCK)
    st = np.empty(BLOCK)
    for j in range(start, stop, BLOCK):
        k = min(BLOCK, stop - j)
        _silu_exps(x[j : j + k], p[:k], st[:k])
        _silu_rests(x[j : j + k], p[:k], st[:k], out[j : j + k])


@njit(**KERNEL)
def _silu_grad_exps(x, p, st):
    for i in range(x.shape[0]):
        p[i], st[i] = G.silu_grad_exp(x[i])


@njit(**KERNEL)
def _silu_grad_rests(x, g, p, st, out, use_g):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = X.unless_nan(v, G.silu_grad_rest(v, p[i], st[i]))
        out[i] = r * g[i] if use_g else r
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**KERNEL)
def _silu_grad_span(x, g, out, start, stop, use_g):
    p = np.empty(BLOCK)
    st = np.empty(BLOCK)
    lost = 0
    for j in range(start, stop, BLOCK):
        k = min(BLOCK, stop - j)
        _silu_grad_exps(x[j : j + k], p[:k], st[:k])
        lost += _silu_grad_rests(x[j : j + k], g[j : j + k], p[:k], st[:k], out[j : j + k], use_g)
    return lost


@njit(**PARALLEL)
def sigmoid_f(x, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    for c in prange(chunks):
        _sigmoid_span(x, x, out, c * size, min(n, (c + 1) * size), False)


@njit(**PARALLEL)
def sigmoid_complement_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid_complement(v, p))


@njit(**PARALLEL)
def sigmoid_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid_grad(v, p))


@njit(**PARALLEL)
def tanh_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.tanh(v, p), lo, hi)


@njit(**PARALLEL)
def tanh_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.tanh_grad(v, p))


@njit(**PARALLEL)
def sigmoid_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        lost += _sigmoid_span(x, g, out, c * size, min(n, (c + 1) * size), True)
    return lost


@njit(**KERNEL)
def _sigmoid_complement_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = X.unless_nan(v, D.sigmoid_complement(v, p))
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def sigmoid_complement_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _sigmoid_complement_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**KERNEL)
def _sigmoid_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = X.unless_nan(v, D.sigmoid_grad(v, p))
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def sigmoid_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _sigmoid_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**KERNEL)
def _tanh_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = X.unless_nan(v, D.tanh_grad(v, p))
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def tanh_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _tanh_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**PARALLEL)
def elu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.elu(v, p), lo, hi)


@njit(**PARALLEL)
def elu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.elu_grad(v, p), lo, hi)


@njit(**KERNEL)
def _elu_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = S.contract(v, D.elu_grad(v, p), lo, hi)
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def elu_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _elu_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**PARALLEL)
def swish_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.swish(v, p), lo, hi)


@njit(**PARALLEL)
def silu_f(x, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    for c in prange(chunks):
        _silu_span(x, out, c * size, min(n, (c + 1) * size))


@njit(**PARALLEL)
def silu_grad_f(x, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    for c in prange(chunks):
        _silu_grad_span(x, x, out, c * size, min(n, (c + 1) * size), False)


@njit(**PARALLEL)
def silu_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        lost += _silu_grad_span(x, g, out, c * size, min(n, (c + 1) * size), True)
    return lost


@njit(**PARALLEL)
def softplus_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus(v, p), lo, hi)


@njit(**PARALLEL)
def softplus_unit_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus_unit(v, p), lo, hi)


@njit(**PARALLEL)
def softplus_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus_grad(v, p), lo, hi)


@njit(**KERNEL)
def _softplus_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = S.contract(v, D.softplus_grad(v, p), lo, hi)
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def softplus_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _softplus_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**PARALLEL)
def log_sigmoid_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.log_sigmoid(v, p), lo, hi)


@njit(**PARALLEL)
def swish_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.swish_grad(v, p), lo, hi)


@njit(**KERNEL)
def _swish_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = S.contract(v, G.swish_grad(v, p), lo, hi)
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def swish_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _swish_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost


@njit(**PARALLEL)
def mish_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.mish(v, p), lo, hi)


@njit(**PARALLEL)
def mish_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.mish_grad(v, p), lo, hi)


@njit(**KERNEL)
def _mish_grad_times(x, g, out, p, lo, hi):
    lost = 0
    for i in range(x.shape[0]):
        v = x[i]
        r = S.contract(v, G.mish_grad(v, p), lo, hi)
        out[i] = r * g[i]
        lost += abs(r) < _NORMAL_MIN
    return lost


@njit(**PARALLEL)
def mish_grad_vjp(x, g, out, p, lo, hi):
    n = x.shape[0]
    chunks, size = _chunking(n)
    lost = 0
    for c in prange(chunks):
        a, b = c * size, min(n, (c + 1) * size)
        lost += _mish_grad_times(x[a:b], g[a:b], out[a:b], p, lo, hi)
    return lost
