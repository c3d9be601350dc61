"""Fused cross-entropy on logits with class-index targets: loss and gradient in one pass.

Per row (the class axis last): the max m, the exponentials and τ as in ``rows32`` and
``rows64`` (in per-thread scratch rows, pipelined: the next row's max is found in this row's
exp pass), L = log1p(τ), then, with label smoothing ε over the C classes (the target
distribution a_j = ε/C, a_t = 1 − ε + ε/C; ε = 0 without smoothing):

* loss = L + (1 − ε)(m − x_t) + (ε/C)·Σ_j (m − x_j): non-negative parts, nothing cancels
  (m − x_t exact: float64 arithmetic for float32 rows, a TwoSum pair for float64 rows; the
  sum Σ (m − x_j) only where ε > 0, compensated for float64 rows, ``spread_d``);
* grad_j = s·(y_j − a_j) with y_j = e_j/(1 + τ), one FMA per entry; at the target, where
  it is the unique max with y > 1/2, y_t − a_t = (1 − a_t) − τ/(1 + τ) (y − 1 would round
  to 0 for a confident row; 1 − a_t = ε(C − 1)/C);

s is the row's gradient scale (1/N for a mean, the upstream gradient, 0 for an ignored row).
Rows with NaN or ±∞ are flagged for the NumPy path and its contract (with ε > 0 so are rows
with a −∞ entry, or whose Σ (m − x_j) reaches 2^1020 in float64), and so are rows with
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
from ._numba_math import KERNEL, PARALLEL, REDUCE, fma
from ._order_keys import first_max, from_key, max_key
from ._row_stores import (
    store_offset_at,
    store_offset_top,
    store_pair_offset_at,
    store_pair_offset_top,
)
from ._stream import fence
from .rows import _sum_compensated, _two_sum, log1p_dd, visible_far
from .rows32 import _exp_row_tau, tau_lean_w
from .rows64 import lane_total, new_lanes, pow2_above, tau_d, tau_lean_d


@njit(**REDUCE)
def spread_w(row, m):
    """Σ_j (m − x_j) over a float32 row in float64: each difference exact to 2^−53 and
    non-negative, so the (vectorised) sum is good to n·2^−53 of itself."""
    s = 0.0
    for j in range(row.shape[0]):
        s += m - np.float64(row[j])
    return s


@njit(**KERNEL)
def _differences(row, m, dh, dl):
    """dh_j = m − x_j rounded and dl_j its rounding error (TwoSum): a map, vectorised."""
    for j in range(row.shape[0]):
        v = row[j]
        d = m - v
        bv = d - m
        dh[j] = d
        dl[j] = (m - (d - bv)) + (-v - bv)


@njit(**REDUCE)
def _plain_sums(dh, dl):
    """(Σ dh, Σ dl) rounded, in one vectorised pass."""
    sh = 0.0
    sl = 0.0
    for j in range(dh.shape[0]):
        sh += dh[j]
        sl += dl[j]
    return sh, sl


# Above this plain Σ (m − x_j) the lanes' start 2^k ≥ 2·Σ would overflow: such rows (and
# those with a −∞ entry, whose sum is +∞) go to the NumPy path.
_SPREAD_LIMIT = 2.0**1020


@njit(**KERNEL)
def spread_d(row, m, dh, dl, lane_s, lane_c):
    """Σ_j (m − x_j) over a float64 row as a pair (hi, lo), good to about n·2^−105 of
    itself (+∞ where it reaches ``_SPREAD_LIMIT``), in vectorised passes over the row held in
    cache: the differences rounded and their TwoSum errors (``_differences``), both summed
    plainly, then the rounded ones exactly in Fast2Sum lanes (``rows64.lane_total``) started
    at a power of two above twice their plain sum. The errors' plain sum is within n·2^−53 of
    itself, and itself within 2^−53 of the whole (every difference is ≥ 0)."""
    _differences(row, m, dh, dl)
    bound, low = _plain_sums(dh, dl)
    if not bound < _SPREAD_LIMIT:
        return math.inf, 0.0
    # The plain sum may be below the exact one by n·2^−53 of it: 2^−30 of margin.
    h, lo = lane_total(dh, lane_s, lane_c, pow2_above(2.0 * bound * (1.0 + 2.0**-30)))
    return _two_sum(h, lo + low)


@njit(**KERNEL)
def smoothed_loss_d(big, corr, dh, dl, eps, n, sh, sl):
    """L + (1 − ε)·D + (ε/n)·S in double-double, rounded once: L = big + corr, D = dh + dl
    (m − x_t) and S = sh + sl (Σ (m − x_j)), all non-negative. 1 − ε and ε/n are taken as
    pairs too (1 − ε exactly by TwoSum, ε/n with its division residual), so the result is
    within about half an ULP."""
    kh, kl = _two_sum(1.0, -eps)
    ch = eps / n
    cl = fma(-ch, n, eps) / n
    p = kh * dh
    q = ch * sh
    low = fma(kh, dh, -p) + (kh * dl + kl * dh) + fma(ch, sh, -q) + (ch * sl + cl * sh)
    a, ae = _two_sum(big, p)
    b, be = _two_sum(a, q)
    return b + (((ae + be) + corr) + low)


@njit(**PARALLEL)
def cross_entropy_w(x, target, scale, eps, losses, grad, want_grad, flags, chunk):
    """float32 rows; ``eps`` is the label smoothing ε (0 for none)."""
    n_rows, n = x.shape
    smooth = eps / n  # ε/C: the smoothed mass of every class
    keep = 1.0 - eps  # the target's mass before the smoothing
    a_t = keep + smooth  # the target's mass
    rest = eps - smooth if eps > 0.0 else -0.0  # 1 − a_t (−0.0: rest − p is −p, sign and all)
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
            spread = spread_w(row, m64) if eps > 0.0 else 0.0
            if spread == math.inf:  # a −∞ entry takes smoothed mass: the NumPy path
                flags[r] = 1
                continue
            big = math.log1p(tau)
            losses[r] = (big + keep * (m64 - np.float64(row[t]))) + smooth * spread
            if not want_grad:
                continue
            s = scale[r]
            inv = 1.0 / (1.0 + tau)
            d = -(s * smooth) if eps > 0.0 else -0.0  # s·(y_j − ε/C) = (s·y_j) + d
            if not exact and abs(s) <= 1.0:
                # The lean pairs: e = 1 exactly at the maxima, so s·y_j needs no special case
                # there; entries below −104 hold e^−104 (not 0), invisible after rounding
                # since |s·y| ≤ e^−104 < 2^−150. τ is not small here, so y_t is not near 1;
                # y_t − a_t may cancel against the smoothing, but in float64, whose error is
                # far below the float32 gradient's (and the whole-array path's alike).
                g = (np.float64(eh[t]) + np.float64(el[t])) * (inv * UNSCALE) - a_t
                store_pair_offset_at(eh, el, s * inv * UNSCALE, d, t, s * g, grad[r])
                continue
            if abs(s) > 1.0 and visible_far(row, m32, LOW_W, s):
                flags[r] = 1
                continue
            # A small τ or a large scale: the pairs again with the maxima and the far entries
            # at 0, s·(y_j − ε/C) for every entry (streamed), then the target's entry:
            # s·(y_t − a_t), or s·((1 − a_t) − τ/(1 + τ)) at a unique max, where y_t − a_t
            # would cancel.
            _exp_row_tau(row, m32, eh, el, row)
            top = s * (inv - smooth)
            store_pair_offset_top(eh, el, s * inv * UNSCALE, d, row, m32, top, grad[r])
            if np.float64(row[t]) == m64:
                g = rest - tau * inv if tau < 1.0 else inv - a_t  # τ < 1: a unique max
            else:
                g = (np.float64(eh[t]) + np.float64(el[t])) * (inv * UNSCALE) - a_t
            grad[r][t] = s * g
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def cross_entropy_d(x, target, scale, eps, losses, grad, want_grad, flags, chunk):
    """float64 rows; ``eps`` is the label smoothing ε (0 for none)."""
    n_rows, n = x.shape
    smooth = eps / n  # ε/C: the smoothed mass of every class
    a_t = (1.0 - eps) + smooth  # the target's mass
    rest = eps - smooth if eps > 0.0 else -0.0  # 1 − a_t (−0.0: rest − p is −p, sign and all)
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        spread = n if eps > 0.0 else 0  # the differences m − x_j and their errors
        dh, dl = np.empty(spread, dtype=np.float64), np.empty(spread, dtype=np.float64)
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
            if eps > 0.0:
                sh, sl = spread_d(row, m_row, dh, dl, lane_s, lane_c)
                if not sh < math.inf:  # a −∞ entry takes smoothed mass, or S is near overflow
                    flags[r] = 1
                    continue
                losses[r] = smoothed_loss_d(big, corr, -hi, -lo, eps, np.float64(n), sh, sl)
            else:
                losses[r] = (big - hi) + (corr - lo)
            if not want_grad:
                continue
            s = scale[r]
            inv = 1.0 / (1.0 + tau)
            d = -(s * smooth) if eps > 0.0 else -0.0  # s·(y_j − ε/C) = (s·y_j) + d
            # The target's entry: s·(y_t − a_t), or s·((1 − a_t) − τ/(1 + τ)) at the max with
            # τ < 1 (y_t > 1/2, the max is unique), where y_t − a_t would cancel.
            if not exact and abs(s) <= 1.0:
                # The lean exponentials: e = 2^64 exactly at the maxima, so s·y_j needs no special
                # case there; entries below −746 hold e^−746·2^64, which rounds to 0 since
                # |s·y| ≤ e^−746 < 2^−1076. The target's entry goes out in the same pass.
                at_max = row[t] == m_row and tau < 1.0
                g = rest - tau * inv if at_max else e[t] * (inv * UNSCALE_D) - a_t
                store_offset_at(e, s * inv * UNSCALE_D, d, t, s * g, grad[r])
                continue
            if abs(s) > 1.0 and visible_far(row, m_row, LOW_D, s):
                flags[r] = 1
                continue
            # A small τ or a large scale: ``tau_d``'s exponentials (0 at the maxima and the far
            # entries; recomputed here for a large scale), the maxima set apart.
            if not exact:
                tau_d(row, m_row, e, row, lane_s, lane_c, tau)
            top = s * (inv - smooth)
            store_offset_top(e, s * inv * UNSCALE_D, d, row, m_row, top, grad[r])
            at_max = row[t] == m_row
            if at_max and tau < 1.0:
                g = rest - tau * inv
            else:  # at a max e_t is 0 here, and y_t is 1/(1 + τ)
                g = (inv if at_max else e[t] * (inv * UNSCALE_D)) - a_t
            grad[r][t] = s * g
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(cache=True)
def fsum(a):
    """A compensated sum of the row losses (float64 results keep their bar)."""
    return _sum_compensated(a)
