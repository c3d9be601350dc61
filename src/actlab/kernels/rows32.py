"""Compiled float32 row kernels: softmax, log_softmax, logsumexp over the last axis (numba),
and the τ passes that the fused float32 cross-entropy shares.

Per row: the exponentials e_j = e^(x_j − m) as exact float32 pairs from the lean exp of
``_exp_rows32`` (8 lanes per register), in two per-thread scratch rows; their sum, the
scaling and the logarithms in float64; one rounding at a streaming store (``_row_stores``).

The row max is the one pass that waits on memory (a row arrives from DRAM), and the exp pass
is the one that waits on arithmetic. So they are pipelined: the exp loop of row r also finds
the max of row r + 1, and the core works while the next row streams in. That max is taken
over integer keys that order like the floats (``order_key``): an integer max vectorises
without fast-math flags, which the exact arithmetic around it must not get.

NaN propagates through the exp (an entry NaN, or +∞ making x − m NaN, or a row of −∞ whose
x − m is NaN), so a NaN sum flags the row for the NumPy path and its hard-row contract; −∞
entries of other rows are exact here (their exponential is 0).

The three row loops below repeat one shape on purpose: numba's disk cache only holds
functions defined at module level, so a loop cannot be made by a factory or take its body
as an argument (docs/performance.md, numba pitfalls).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._exp_rows32 import LOW, UNSCALE, exp_neg_pair
from ._numba_math import KERNEL, PARALLEL, REDUCE, SCALAR
from ._order_keys import first_max, from_key, lowest_key, max_key, order_key
from ._row_stores import store_pair_scaled, store_shifted
from ._stream import fence
from .rows import TINY_TAU_W, visible_far

_Z32 = np.float32(0.0)


@njit(**SCALAR)
def _exp_row(row, m, eh, el, nxt):
    """eh_j + el_j = e^(x_j − m)·2^32; returns the max key of ``nxt`` (the next row).

    Entries more than 104 below m give e^−104·2^32 instead of 0: it rounds to 0 in every
    output, and a sum that holds the max (2^32) does not see it.
    """
    neg_m = -m
    k = lowest_key(nxt)
    for j in range(row.shape[0]):
        h, low = exp_neg_pair(row[j], neg_m)
        eh[j] = h
        el[j] = low
        v = order_key(nxt[j])
        k = v if v > k else k
    return k


@njit(**KERNEL)
def _exp_row_tau(row, m, eh, el, nxt):
    """``_exp_row`` for τ = Σ_{x_j ≠ m} e^(x_j − m): the maxima and the entries below −104
    give exactly 0 (where τ is tiny, e^−104 would count; and the cross-entropy gradient
    scales these pairs by a factor that may exceed 1). No counter of the maxima here: one,
    even an int32 one, keeps this loop scalar (as does `or`, which branches); ``_tau_exact``
    counts them in its own pass."""
    neg_m = -m
    k = lowest_key(nxt)
    for j in range(row.shape[0]):
        v = row[j]
        h, low = exp_neg_pair(v, neg_m)
        drop = (v == m) | (v + neg_m < LOW)
        eh[j] = _Z32 if drop else h
        el[j] = _Z32 if drop else low
        key = order_key(nxt[j])
        k = key if key > k else k
    return k


@njit(**REDUCE)
def _sum_w(eh, el):
    s = 0.0
    for j in range(eh.shape[0]):
        s += np.float64(eh[j]) + np.float64(el[j])
    return s


@njit(**REDUCE)
def _tau_exact(eh, el, row, m):
    """Σ_{x_j ≠ m} e_j (2^32-scaled, the entries below −104 left out) and the number of
    maxima, from the pairs of ``_exp_row``: the drop of ``_exp_row_tau``, as a reduction."""
    neg_m = -m
    s = 0.0
    c = 0.0
    for j in range(eh.shape[0]):
        v = row[j]
        top = v == m
        drop = top | (v + neg_m < LOW)
        s += 0.0 if drop else np.float64(eh[j]) + np.float64(el[j])
        c += 1.0 if top else 0.0
    return s, c


@njit(**SCALAR)
def tau_lean_w(row, m, eh, el, nxt):
    """(τ, the next row's max key, whether τ was summed again) for log_softmax, logsumexp
    and the cross-entropy loss, which need no count of the maxima.

    The exp pass is softmax's (no drop): the sum then holds every maximum's e^0 = 1, and
    τ = Σ e_j − 1 is the same τ (the other maxima add their 1 each). Its rounding error is
    absolute, about n·2^−53; where τ < n·2^−23 (one entry far above the rest, e.g. a
    confident classifier's logits) that would show in −log1p(τ) ≈ −τ, the top entry's
    log-probability, so there τ is summed again without the maxima (``_tau_exact``), and
    below ``rows.TINY_TAU_W`` a row with entries just below −104 is flagged.
    τ is NaN for a row holding NaN or +∞, or only −∞ (the caller flags it)."""
    if not abs(m) < math.inf:  # +∞ or a positive NaN is the max, or every entry is −∞
        return math.nan, max_key(nxt), False
    key = _exp_row(row, m, eh, el, nxt)
    tau = _sum_w(eh, el) * UNSCALE - 1.0
    exact = tau < row.shape[0] * 2.0**-23
    if exact:
        total, count = _tau_exact(eh, el, row, m)
        tau = total * UNSCALE + (count - 1.0)
        if tau < TINY_TAU_W and visible_far(row, m, LOW, row.shape[0]) > 0.0:
            tau = math.nan  # entries below −104 would count: the NumPy path
    return tau, key, exact


@njit(**PARALLEL)
def softmax_w(x, out, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            key = _exp_row(x[r], m, eh, el, nxt)
            total = _sum_w(eh, el)  # (1 + τ)·2^32, the maxima included: no τ alone is needed
            if total != total:
                flags[r] = 1
            else:
                store_pair_scaled(eh, el, 1.0 / total, out[r])
            m = from_key(key)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def log_softmax_w(x, out, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            tau, key, _ = tau_lean_w(x[r], m, eh, el, nxt)
            if tau != tau:
                flags[r] = 1
            else:
                store_shifted(x[r], np.float64(m), math.log1p(tau), out[r])
            m = from_key(key)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def logsumexp_w(x, out, flags, chunk):
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            nxt = x[r + 1] if r + 1 < r1 else x[r]
            tau, key, _ = tau_lean_w(x[r], m, eh, el, nxt)
            if tau != tau:
                flags[r] = 1
            else:
                out[r] = np.float64(m) + math.log1p(tau)
            m = from_key(key)


@njit(**PARALLEL)
def exp_floor_w(x, out):
    """The exp-only floor of these kernels: the same exp (``exp_neg_pair``), its pair added
    and unscaled in float64, over x ≤ 0 (larger x are taken as 0: the kernels only
    exponentiate x − max ≤ 0)."""
    zero = np.float32(0.0)
    for i in prange(x.shape[0]):
        v = x[i]
        h, low = exp_neg_pair(v if v < zero else zero, zero)
        out[i] = (np.float64(h) + np.float64(low)) * UNSCALE
