"""The memory-bound elementwise loops, as line maps (``_vecmap``) that can stream their output.

relu, relu6 and leaky_relu (prelu, rrelu), their products with g, and the products from a
saved output (sigmoid, tanh) do one or two operations per element: their time is their
bytes. The formulas below are exactly those of the NumPy path and the contract:

* relu, relu6 choose between x, 0 and 6 in x's dtype: NaN stays NaN, −0.0 and −∞ give +0.0;
* leaky_relu takes slope·x in float64 and rounds once; a zero slope at x = −∞ gives −0.0
  (the limit), not −∞·0 = NaN; one formula serves a scalar slope (leaky_relu, prelu with
  one weight, rrelu in eval mode), a slope per channel (prelu) and per element (rrelu);
* the products are g or 0·g (0·∞ = NaN, 0·(−1) = −0.0 as IEEE says), NaN where x is NaN;
* from a saved output: g·(y − y²) and g·(1 − y²), the FMA rounding once, in y's dtype
  (−∞ at y = ±∞, as y·(1 − y) and 1 − y² give).

Each kernel splits the array into chunks of ``CHUNK`` elements over the threads; ``stream``
(chosen by the dispatch for outputs larger than the cache) makes the stores non-temporal.
"""

from __future__ import annotations

from numba import njit, prange

from ._numba_math import PARALLEL
from ._vecmap import Lanes, span_map, where

CHUNK = 1 << 16


def _relu(x: Lanes) -> Lanes:
    return where(x > 0, x, where(x == x, 0.0, x))


def _relu6(x: Lanes) -> Lanes:
    return where(x > 0, where(x < 6, x, 6.0), where(x == x, 0.0, x))


def _leaky(x: Lanes, slope: Lanes) -> Lanes:
    a = slope.wide()
    product = where((x == float("-inf")) & (a == 0), -0.0, a * x.wide())
    return where(x > 0, x.wide(), product)


def _relu_times(x: Lanes, g: Lanes) -> Lanes:
    return where(x == x, where(x > 0, g, g * 0.0), x)


def _relu6_times(x: Lanes, g: Lanes) -> Lanes:
    return where(x == x, where((x > 0) & (x < 6), g, g * 0.0), x)


def _leaky_times(x: Lanes, g: Lanes, slope: Lanes) -> Lanes:
    gw = g.wide()
    return where(x == x, where(x > 0, gw, slope.wide() * gw), x.wide())


def _sigmoid_from_output(y: Lanes, g: Lanes) -> Lanes:
    # y − y² at y = ±∞ (not an output of σ, but an input all the same) is −∞, as y·(1 − y)
    # gives on the NumPy path; the FMA alone would give −∞ + ∞ = NaN.
    infinite = (y == float("inf")) | (y == float("-inf"))
    return where(infinite, float("-inf"), (-y).fma(y, y)) * g


def _tanh_from_output(y: Lanes, g: Lanes) -> Lanes:
    return (-y).fma(y, 1.0) * g


relu_span = span_map(_relu, inputs=1, scalars=0)
relu6_span = span_map(_relu6, inputs=1, scalars=0)
leaky_span = span_map(_leaky, inputs=1, scalars=1)
leaky_each_span = span_map(_leaky, inputs=2, scalars=0)
relu_times_span = span_map(_relu_times, inputs=2, scalars=0)
relu6_times_span = span_map(_relu6_times, inputs=2, scalars=0)
leaky_times_span = span_map(_leaky_times, inputs=2, scalars=1)
leaky_each_times_span = span_map(_leaky_times, inputs=3, scalars=0)
sigmoid_from_output_span = span_map(_sigmoid_from_output, inputs=2, scalars=0)
tanh_from_output_span = span_map(_tanh_from_output, inputs=2, scalars=0)


# The kernels: one per map, written out (numba's disk cache needs module-level functions).


@njit(**PARALLEL)
def relu_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        relu_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def relu6_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        relu6_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def leaky_relu_f(x, out, stream, slope):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        leaky_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, slope)


@njit(**PARALLEL)
def leaky_each_f(x, slopes, out, stream):
    """rrelu in training: one slope per element."""
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        leaky_each_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, slopes)


@njit(**PARALLEL)
def relu_grad_vjp(x, g, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        relu_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def relu6_grad_vjp(x, g, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        relu6_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def leaky_relu_grad_vjp(x, g, out, stream, slope):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        leaky_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g, slope)


@njit(**PARALLEL)
def leaky_each_vjp(x, g, slopes, out, stream):
    """g·rrelu′ with the slopes of the forward pass."""
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        leaky_each_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g, slopes)


@njit(**PARALLEL)
def sigmoid_from_output_vjp(y, g, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_from_output_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, y, g)


@njit(**PARALLEL)
def tanh_from_output_vjp(y, g, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        tanh_from_output_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, y, g)


@njit(**PARALLEL)
def leaky_channels_f(x, w, out, stream):
    """prelu over x viewed as (outer, channels, inner), C-contiguous: one slope per channel."""
    channels = x.shape[1]
    for row in prange(x.shape[0] * channels):
        o = row // channels
        c = row - o * channels
        leaky_span(out[o, c], 0, x.shape[2], stream, x[o, c], w[c])


@njit(**PARALLEL)
def leaky_channels_vjp(x, g, w, out, stream):
    channels = x.shape[1]
    for row in prange(x.shape[0] * channels):
        o = row // channels
        c = row - o * channels
        leaky_times_span(out[o, c], 0, x.shape[2], stream, x[o, c], g[o, c], w[c])
