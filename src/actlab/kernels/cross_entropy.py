"""Fused cross-entropy on logits with class-index targets: loss and gradient in one pass.

Per row (the class axis last): the max m, the exponentials and τ as in ``rows32`` and
``rows64`` (in per-thread scratch rows, pipelined: the next row's max is found in this row's
exp pass), L = log1p(τ), then

* loss = (L − (x_t − m)): two non-negative parts, nothing cancels (x_t − m exact: float64
  arithmetic for float32 rows, a TwoSum hi + lo for float64 rows);
* grad_j = s·(y_j − [j = t]) with y_j = e_j/(1 + τ), except at a unique max with y > 1/2,
  where 1 − y = τ/(1 + τ) is used: y − 1 would round to 0 for a confident row;

s is the row's gradient scale (1/N for a mean, the upstream gradient, 0 for an ignored row).
Rows with NaN or ±∞ are flagged for the NumPy path and its contract, and so are rows with
|s| > 1 and an entry whose exponential the exp clamps (x − m below −104 in float32, −746 in
float64) but whose exact s·y is still a subnormal (``rows.visible_far``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._exp_rows32 import LOW as LOW_W
from ._exp_rows32 import UNSCALE
from ._exp_rows64 import LOW as LOW_D
from ._exp_rows64 import UNSCALE as UNSCALE_D
from ._numba_math import PARALLEL
from ._order_keys import first_max, from_key, max_key
from ._row_stores import (
    store_pair_scaled_at,
    store_pair_scaled_top,
    store_scaled_at,
    store_scaled_top,
)
from ._stream import fence
from .rows import _sum_compensated, _two_sum, log1p_dd, visible_far
from .rows32 import _exp_row_tau, _sum_and_count, tau_lean_w
from .rows64 import new_lanes, tau_d, tau_lean_d


@njit(**PARALLEL)
def cross_entropy_w(x, target, scale, losses, grad, want_grad, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)  # later rows get their max from the exp pass of the row before
        for r in range(r0, r1):
            row = x[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            t = target[r]
            if t < 0:  # ignored row: no loss, no gradient
                losses[r] = 0.0
                if want_grad:
                    grad[r][:] = 0.0
                m = from_key(max_key(nxt))
                continue
            tau, key, exact = tau_lean_w(row, m, eh, el, nxt)
            m32, m64 = m, np.float64(m)
            m = from_key(key)
            if tau != tau:
                flags[r] = 1
                continue
            big = math.log1p(tau)
            losses[r] = big - (np.float64(row[t]) - m64)
            if not want_grad:
                continue
            s = scale[r]
            inv = 1.0 / (1.0 + tau)
            if not exact and abs(s) <= 1.0:
                # The lean pairs: e = 1 exactly at the maxima, so s·y_j needs no special case
                # there; entries below −104 hold e^−104 (not 0), invisible after rounding
                # since |s·y| ≤ e^−104 < 2^−150. y_t − 1 does not cancel: τ is not small.
                g = (np.float64(eh[t]) + np.float64(el[t])) * (inv * UNSCALE) - 1.0
                store_pair_scaled_at(eh, el, s * inv * UNSCALE, t, s * g, grad[r])
                continue
            if abs(s) > 1.0 and visible_far(row, m32, LOW_W, s):
                flags[r] = 1
                continue
            # A small τ or a large scale: the pairs again with the maxima and the far entries
            # at 0, s·y_j for every entry (streamed), then the target's entry: s·(y_t − 1),
            # or s·(−τ/(1 + τ)) at a unique max, where y_t − 1 would cancel.
            _exp_row_tau(row, m32, eh, el, row)
            _, n_top = _sum_and_count(eh, el, row, m32)
            store_pair_scaled_top(eh, el, s * inv * UNSCALE, row, m32, s * inv, grad[r])
            if np.float64(row[t]) == m64:
                g = -(tau * inv) if n_top == 1 else inv - 1.0
            else:
                g = (np.float64(eh[t]) + np.float64(el[t])) * (inv * UNSCALE) - 1.0
            grad[r][t] = s * g
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def cross_entropy_d(x, target, scale, losses, grad, want_grad, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)  # later rows get their max from the exp pass of the row before
        for r in range(r0, r1):
            row = x[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            t = target[r]
            if t < 0:  # ignored row: no loss, no gradient
                losses[r] = 0.0
                if want_grad:
                    grad[r][:] = 0.0
                m = first_max(x, r + 1 if r + 1 < r1 else r)
                continue
            th, tl, key, exact = tau_lean_d(row, m, e, nxt, lane_s, lane_c)
            m_row = m
            m = from_key(key)
            if th != th:
                flags[r] = 1
                continue
            big, corr, tau = log1p_dd(th, tl)
            hi, lo = _two_sum(row[t], -m_row)  # x_t − m exactly
            losses[r] = (big - hi) + (corr - lo)
            if not want_grad:
                continue
            s = scale[r]
            inv = 1.0 / (1.0 + tau)
            # The target's entry: s·(y_t − 1), or s·(−τ/(1 + τ)) at a max, where y_t − 1
            # would cancel (y_t = 1/(1 + τ) there, any number of maxima).
            if not exact and abs(s) <= 1.0:
                # The lean exponentials: e = 2^64 exactly at the maxima, so s·y_j needs no special
                # case there; entries below −746 hold e^−746·2^64, which rounds to 0 since
                # |s·y| ≤ e^−746 < 2^−1076. The target's entry goes out in the same pass.
                at_max = row[t] == m_row
                g = -(tau * inv) if at_max else e[t] * (inv * UNSCALE_D) - 1.0
                store_scaled_at(e, s * inv * UNSCALE_D, t, s * g, grad[r])
                continue
            if abs(s) > 1.0 and visible_far(row, m_row, LOW_D, s):
                flags[r] = 1
                continue
            # A small τ or a large scale: ``tau_d``'s exponentials (0 at the maxima and the far
            # entries; recomputed here for a large scale), the maxima set apart.
            if not exact:
                tau_d(row, m_row, e, row, lane_s, lane_c, tau)
            store_scaled_top(e, s * inv * UNSCALE_D, row, m_row, s * inv, grad[r])
            at_max = row[t] == m_row
            g = -(tau * inv) if at_max else e[t] * (inv * UNSCALE_D) - 1.0
            grad[r][t] = s * g
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(cache=True)
def fsum(a):
    """A compensated sum of the row losses (float64 results keep their bar)."""
    return _sum_compensated(a)
