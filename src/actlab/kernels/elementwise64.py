"""Compiled float64 loops in double-double (the scalar formulas of ``_scalars64`` and
``_gated64``), written out one by one like ``elementwise`` (numba's cache needs that)."""

from __future__ import annotations

import math

from numba import njit, prange

from . import _exp64 as X
from . import _gated64 as G
from . import _scalars as S
from . import _scalars64 as D
from ._numba_math import PARALLEL


@njit(**PARALLEL)
def sigmoid_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid(v, p))


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
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid(v, p)) * g[i]


@njit(**PARALLEL)
def sigmoid_complement_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid_complement(v, p)) * g[i]


@njit(**PARALLEL)
def sigmoid_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.sigmoid_grad(v, p)) * g[i]


@njit(**PARALLEL)
def tanh_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, D.tanh_grad(v, p)) * g[i]


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


@njit(**PARALLEL)
def elu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.elu_grad(v, p), lo, hi) * g[i]


@njit(**PARALLEL)
def swish_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.swish(v, p), lo, hi)


@njit(**PARALLEL)
def silu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        r = G.silu(v, p)
        out[i] = r if v < math.inf else v  # NaN and +∞ give themselves, −∞ gives −0.0


@njit(**PARALLEL)
def silu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, G.silu_grad(v, p))


@njit(**PARALLEL)
def silu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = X.unless_nan(v, G.silu_grad(v, p)) * g[i]


@njit(**PARALLEL)
def softplus_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus(v, p), lo, hi)


@njit(**PARALLEL)
def softplus_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus_grad(v, p), lo, hi)


@njit(**PARALLEL)
def softplus_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, D.softplus_grad(v, p), lo, hi) * g[i]


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


@njit(**PARALLEL)
def swish_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.swish_grad(v, p), lo, hi) * g[i]


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


@njit(**PARALLEL)
def mish_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.contract(v, G.mish_grad(v, p), lo, hi) * g[i]
