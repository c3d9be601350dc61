"""The output passes of the row kernels: one formula per pass, as line maps (``_vecmap``)
whose whole cache lines are streamed.

A row kernel writes its output once and never reads it back, so the body of each row goes
out with non-temporal stores (no read of the destination lines first); the elements of the
lines a row shares with the rows beside it get ordinary stores. The inputs are the row
itself or the per-thread scratch rows of its exponentials, already in cache, so the maps do
not prefetch; and they do not fence: the kernels call ``_stream.fence`` once per chunk of
rows, before the chunk's work is reported done.

Each pass computes in float64 and rounds once to the output's dtype:

* ``store_pair_scaled``: y = (eh + el)·c (float32 softmax and cross-entropy gradient from
  the exponentials as float32 pairs);
* ``store_pair_offset_top``: y = (eh + el)·c + d (one FMA), with ``top`` where the row
  equals its max m (the float32 cross-entropy gradient s·(y_j − ε/C): d = −s·ε/C with
  label smoothing ε over C classes, −0.0 without, which leaves every product's bits);
* ``store_pair_offset_at``: the same, with a given value at one index (the cross-entropy
  gradient's target entry, stored in the pass);
* ``store_offset_top``, ``store_offset_at``: the last two for float64 exponentials, one
  number each (the float64 cross-entropy gradient);
* ``store_quotient``: y = e/(sh + sl), a float64 exponential over a pair, to about half an
  ULP: y0 = e/sh by a product with 1/sh, then one correction with the exact residual (an
  FMA);
* ``store_shifted``: z = (x − m) − big (float32 log_softmax; x − m exact in float64);
* ``store_shifted_pair``: z = x − (Mh + Ml), x − Mh an exact TwoSum with Ml added to its
  error (float64 log_softmax, M = m + log1p(τ) as a pair); an x − Mh of −∞ stays −∞.
"""

from __future__ import annotations

from numba import njit

from ._numba_math import KERNEL, SCALAR
from ._vecmap import Lanes, span_map, where


def _pair_scaled(eh: Lanes, el: Lanes, c: Lanes) -> Lanes:
    return (eh.wide() + el.wide()) * c


def _pair_offset(eh: Lanes, el: Lanes, c: Lanes, d: Lanes) -> Lanes:
    return (eh.wide() + el.wide()).fma(c, d)


def _pair_offset_top(
    eh: Lanes, el: Lanes, row: Lanes, c: Lanes, d: Lanes, m: Lanes, top: Lanes
) -> Lanes:
    return where(row.wide() == m, top, _pair_offset(eh, el, c, d))


def _offset(e: Lanes, c: Lanes, d: Lanes) -> Lanes:
    return e.fma(c, d)


def _offset_top(e: Lanes, row: Lanes, c: Lanes, d: Lanes, m: Lanes, top: Lanes) -> Lanes:
    return where(row == m, top, e.fma(c, d))


def quotient(e: Lanes, sh: Lanes, sl: Lanes, inv: Lanes) -> Lanes:
    """e/(sh + sl) with inv = 1/sh (also the float64 short rows' quotient, ``_lane_softmax``)."""
    y0 = e * inv
    return y0 + ((-y0).fma(sh, e) - y0 * sl) * inv


def _shifted(x: Lanes, m: Lanes, big: Lanes) -> Lanes:
    return (x.wide() - m) - big


def shifted_pair(x: Lanes, neg_mh: Lanes, neg_ml: Lanes) -> Lanes:
    s = x + neg_mh
    bv = s - x
    err = (x - (s - bv)) + (neg_mh - bv)
    return where(s > float("-inf"), s + (err + neg_ml), s)


_ROWS = {"fence": False, "prefetch": False}

# The stores are inlined into the row loops (SCALAR), as are ``tau_lean_w``/``tau_lean_d``
# and float32's ``_exp_row``: called once per row, the separate functions made the
# cross-entropy and log_softmax over rows of 1000 slower (float32 cross-entropy 0.93×,
# log_softmax 0.84–0.88×, float64 0.90–0.95× once inlined: `python benchmarks/ab.py
# b865cd1 --cases ce,log_softmax1000`). Not float64's quotient (inlined, softmax over rows
# of 1000 measured no faster), nor the float64 exp and sums (``rows64.exp_sum_row``: its
# two loops, inlined, made float64 softmax slower).
_pair_scaled_span = span_map(_pair_scaled, inputs=2, scalars=1, **_ROWS)
_pair_offset_top_span = span_map(_pair_offset_top, inputs=3, scalars=4, **_ROWS)
_pair_offset_at_span = span_map(_pair_offset, inputs=2, scalars=2, one_entry=True, **_ROWS)
_offset_top_span = span_map(_offset_top, inputs=2, scalars=4, **_ROWS)
_offset_at_span = span_map(_offset, inputs=1, scalars=2, one_entry=True, **_ROWS)
_quotient_span = span_map(quotient, inputs=1, scalars=3, **_ROWS)
_shifted_span = span_map(_shifted, inputs=1, scalars=2, **_ROWS)
_shifted_pair_span = span_map(shifted_pair, inputs=1, scalars=2, **_ROWS)


@njit(**SCALAR)
def store_pair_scaled(eh, el, c, dst):
    _pair_scaled_span(dst, 0, dst.shape[0], True, eh, el, c)


@njit(**SCALAR)
def store_pair_offset_top(eh, el, c, d, row, m, top, dst):
    _pair_offset_top_span(dst, 0, dst.shape[0], True, eh, el, row, c, d, m, top)


@njit(**SCALAR)
def store_pair_offset_at(eh, el, c, d, t, value, dst):
    _pair_offset_at_span(dst, 0, dst.shape[0], True, eh, el, c, d, t, value)


@njit(**SCALAR)
def store_offset_top(e, c, d, row, m, top, dst):
    _offset_top_span(dst, 0, dst.shape[0], True, e, row, c, d, m, top)


@njit(**SCALAR)
def store_offset_at(e, c, d, t, value, dst):
    _offset_at_span(dst, 0, dst.shape[0], True, e, c, d, t, value)


@njit(**KERNEL)
def store_quotient(e, sh, sl, dst):
    _quotient_span(dst, 0, dst.shape[0], True, e, sh, sl, 1.0 / sh)


@njit(**SCALAR)
def store_shifted(x, m, big, dst):
    _shifted_span(dst, 0, dst.shape[0], True, x, m, big)


@njit(**SCALAR)
def store_shifted_pair(x, neg_mh, neg_ml, dst):
    _shifted_pair_span(dst, 0, dst.shape[0], True, x, neg_mh, neg_ml)
