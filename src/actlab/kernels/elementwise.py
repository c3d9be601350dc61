"""The compiled elementwise loops (imports numba; loaded on first use by ``dispatch``).

One loop per function and one per vector-Jacobian product g·f′(x): the scalar formula of
``_scalars`` inlined into a ``prange`` loop over a contiguous 1-D view, float64 arithmetic
rounded once at the store, the special-value contract applied per element (``contract``).
The float32 loops of the exp-based functions with a speed bar (sigmoid, silu/swish,
softplus and their derivatives, elu′, tanh) are line maps of their own (``lean32``).
The loops are written out one by one (not made by a factory): numba's disk cache only
works for functions defined at module level (closures and function arguments miss it)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import _scalars as S
from ._numba_math import PARALLEL

# ---------------------------------------------------------------------------- f(x) loops


@njit(**PARALLEL)
def log_sigmoid_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.log_sigmoid(v, p), lo, hi)


@njit(**PARALLEL)
def tanh_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.tanh_grad(v, p), lo, hi)


@njit(**PARALLEL)
def relu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu(v, p), lo, hi)


@njit(**PARALLEL)
def relu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu_grad(v, p), lo, hi)


@njit(**PARALLEL)
def relu6_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu6(v, p), lo, hi)


@njit(**PARALLEL)
def relu6_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu6_grad(v, p), lo, hi)


@njit(**PARALLEL)
def leaky_relu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.leaky_relu(v, p), lo, hi)


@njit(**PARALLEL)
def leaky_relu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.leaky_relu_grad(v, p), lo, hi)


@njit(**PARALLEL)
def elu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.elu(v, p), lo, hi)


@njit(**PARALLEL)
def mish_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.mish(v, p), lo, hi)


@njit(**PARALLEL)
def mish_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.mish_grad(v, p), lo, hi)


# ----------------------------------------------------------------------- g·f′(x) loops


@njit(**PARALLEL)
def tanh_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.tanh_grad(v, p), lo, hi) * np.float64(g[i])


@njit(**PARALLEL)
def relu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu_grad(v, p), lo, hi) * np.float64(g[i])


@njit(**PARALLEL)
def relu6_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.relu6_grad(v, p), lo, hi) * np.float64(g[i])


@njit(**PARALLEL)
def leaky_relu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.leaky_relu_grad(v, p), lo, hi) * np.float64(g[i])


@njit(**PARALLEL)
def mish_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.mish_grad(v, p), lo, hi) * np.float64(g[i])
