"""Compiled leaky_relu loops whose slope is an array: rrelu's drawn slopes (one per element)
and prelu's weight per channel (imports numba; loaded on first use by ``dispatch``).

As on the NumPy path, the slope times x is taken in float64 and rounded once; the limits at
±∞ come from the formula (±∞·slope), except −∞ with a zero slope, whose limit is −0.0 (not
−∞·0 = NaN); NaN stays NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._numba_math import PARALLEL, SCALAR


@njit(**SCALAR)
def _leaky(v, a):
    s = a * np.float64(v)
    s = -0.0 if (v == -np.inf) & (a == 0) else s
    return v if v > 0 else s


@njit(**SCALAR)
def _leaky_grad_times(v, a, g):
    gv = np.float64(g)
    d = gv if v > 0 else a * gv
    return d if v == v else v


@njit(**PARALLEL)
def slopes_f(x, slopes, out):
    """rrelu in training: x if x > 0 else slope·x, one slope per element."""
    for i in prange(x.shape[0]):
        out[i] = _leaky(x[i], np.float64(slopes[i]))


@njit(**PARALLEL)
def slopes_vjp(x, slopes, g, out):
    """g·rrelu′ with the slopes of the forward pass."""
    for i in prange(x.shape[0]):
        out[i] = _leaky_grad_times(x[i], np.float64(slopes[i]), g[i])


@njit(**PARALLEL)
def channels_f(x, w, out):
    """prelu over x viewed as (outer, channels, inner), C-contiguous: one slope per channel."""
    rows = x.shape[0] * x.shape[1]
    channels = x.shape[1]
    for row in prange(rows):
        o = row // channels
        c = row - o * channels
        a = w[c]
        for j in range(x.shape[2]):
            out[o, c, j] = _leaky(x[o, c, j], a)


@njit(**PARALLEL)
def channels_vjp(x, w, g, out):
    rows = x.shape[0] * x.shape[1]
    channels = x.shape[1]
    for row in prange(rows):
        o = row // channels
        c = row - o * channels
        a = w[c]
        for j in range(x.shape[2]):
            out[o, c, j] = _leaky_grad_times(x[o, c, j], a, g[o, c, j])
