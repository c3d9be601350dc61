"""The compiled elementwise loops (imports numba; loaded on first use by ``dispatch``).

One loop per function and one per vector-Jacobian product g·f′(x): the scalar formula of
``_scalars`` inlined into a ``prange`` loop over a contiguous 1-D view, float64 arithmetic
rounded once at the store. The float32 loops of the exp-based functions with a speed bar
(sigmoid, silu/swish, softplus and their derivatives, elu′) use the lean formulas at the end
of ``_scalars`` (float32 clamps, no sign split, the limits from the formula); the others
apply the special-value contract per element (``contract``).
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
def tanh_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = S.contract(v, S.tanh(v, p), lo, hi)


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


# ------------------------------------------------- float32: lean formulas (see _scalars)
# Only float32 input reaches these (the dispatch sends float64 to elementwise64 or NumPy).
# The formulas give NaN and the limits at ±∞ themselves; the β loops add the ±∞ limits,
# which βx·(something) cannot give for every β.


@njit(**PARALLEL)
def sigmoid_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid32(x[i])


@njit(**PARALLEL)
def sigmoid_complement_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_complement32(x[i])


@njit(**PARALLEL)
def sigmoid_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_grad32(x[i])


@njit(**PARALLEL)
def silu_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.silu32(x[i])


@njit(**PARALLEL)
def silu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.silu_grad32(x[i])


@njit(**PARALLEL)
def swish_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        w = np.float64(v)
        out[i] = S.inf_contract32(v, S.swish_of(w, p * w), lo, hi)


@njit(**PARALLEL)
def swish_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = S.inf_contract32(v, S.swish_grad_of(p * np.float64(v)), lo, hi)


@njit(**PARALLEL)
def softplus_f(x, out, p, lo, hi):
    inv_beta = 1.0 / p
    for i in prange(x.shape[0]):
        w = np.float64(x[i])
        out[i] = S.keep_nan(x[i], S.softplus_of(w, p * w, inv_beta))


@njit(**PARALLEL)
def softplus_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_of(p * np.float64(x[i]))


@njit(**PARALLEL)
def elu_grad_f(x, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.elu_grad32(x[i], p)


@njit(**PARALLEL)
def sigmoid_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_grad32(x[i]) * np.float64(g[i])


@njit(**PARALLEL)
def sigmoid_vjp(x, g, out, p, lo, hi):
    """g·σ(x): softplus′ with β = 1."""
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid32(x[i]) * np.float64(g[i])


@njit(**PARALLEL)
def sigmoid_complement_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_complement32(x[i]) * np.float64(g[i])


@njit(**PARALLEL)
def silu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.silu_grad32(x[i]) * np.float64(g[i])


@njit(**PARALLEL)
def swish_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        v = x[i]
        d = S.inf_contract32(v, S.swish_grad_of(p * np.float64(v)), lo, hi)
        out[i] = d * np.float64(g[i])


@njit(**PARALLEL)
def softplus_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.sigmoid_of(p * np.float64(x[i])) * np.float64(g[i])


@njit(**PARALLEL)
def elu_grad_vjp(x, g, out, p, lo, hi):
    for i in prange(x.shape[0]):
        out[i] = S.elu_grad32(x[i], p) * np.float64(g[i])
