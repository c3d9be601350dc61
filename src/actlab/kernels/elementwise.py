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
from ._numba_math import PARALLEL, fma

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


# ------------------------------------------------------ derivatives from a saved output


@njit(**PARALLEL)
def sigmoid_from_output_vjp(y, g, out):
    """g·y·(1 − y) = g·(y − y²): the FMA gives y − y² with one rounding, the product with g
    a second (≤ 1 ULP of the exact product for this y), in y's own dtype."""
    for i in prange(y.shape[0]):
        v = y[i]
        out[i] = fma(-v, v, v) * g[i]


@njit(**PARALLEL)
def tanh_from_output_vjp(y, g, out):
    """g·(1 − y²), 1 − y² by one FMA (one rounding), then the product with g."""
    one = np.ones(1, dtype=y.dtype)[0]
    for i in prange(y.shape[0]):
        v = y[i]
        out[i] = fma(-v, v, one) * g[i]


# ------------------------------------------------------- relu and relu6 in the input dtype
# A choice between x, 0, 1 and 6 is exact in any dtype: these loops skip the float64 round
# trip (two conversions per element), which is what separates a copy-speed loop from one
# that is 10-20% slower. The special values are handled inline (the limits are 0/±∞/1/6).


@njit(**PARALLEL)
def relu_native_f(x, out):
    zero = np.zeros(1, dtype=x.dtype)[0]
    for i in prange(x.shape[0]):
        v = x[i]
        rest = v if v != v else zero  # NaN stays NaN; −∞, −0.0 and negatives give +0.0
        out[i] = v if v > zero else rest


@njit(**PARALLEL)
def relu6_native_f(x, out):
    zero = np.zeros(1, dtype=x.dtype)[0]
    six = zero + 6
    for i in prange(x.shape[0]):
        v = x[i]
        rest = v if v != v else zero
        top = v if v < six else six
        out[i] = top if v > zero else rest


@njit(**PARALLEL)
def relu_grad_native_vjp(x, g, out):
    zero = np.zeros(1, dtype=out.dtype)[0]
    for i in prange(x.shape[0]):
        v = x[i]
        d = g[i] if v > 0 else zero * g[i]  # 0·g keeps IEEE: 0·∞ = NaN, 0·(−1) = −0.0
        out[i] = d if v == v else v


@njit(**PARALLEL)
def relu6_grad_native_vjp(x, g, out):
    zero = np.zeros(1, dtype=out.dtype)[0]
    for i in prange(x.shape[0]):
        v = x[i]
        inside = (v > 0) & (v < 6)
        d = g[i] if inside else zero * g[i]
        out[i] = d if v == v else v


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


# --------------------------------------------- leaky_relu (prelu, rrelu) without the contract
# slope·x in float64, rounded once, as the NumPy path; a nonzero slope gives the limits at
# ±∞ by itself (±∞·slope) and NaN stays NaN, so only these two selects remain per element.
# (slope 0 would make −∞·0 = NaN where the limit is −0.0: the dispatch keeps it elsewhere.)


@njit(**PARALLEL)
def leaky_relu_native_f(x, out, slope):
    for i in prange(x.shape[0]):
        v = x[i]
        s = slope * np.float64(v)
        out[i] = v if v > 0 else s


@njit(**PARALLEL)
def leaky_relu_grad_native_vjp(x, g, out, slope):
    for i in prange(x.shape[0]):
        v = x[i]
        gv = np.float64(g[i])
        d = gv if v > 0 else slope * gv
        out[i] = d if v == v else v
