"""Compiled Jacobian products of softmax and log_softmax over the last axis (numba): the
backward passes that a network takes through these layers, from x and the cotangent g.

Per row, after the exponentials e_j = e^(x_j − m) of the forward kernels (``rows32``,
``rows64``: lean exp, per-thread scratch, the next row's max found in this row's exp pass):

* softmax (``softmax_product_w``/``_d``): a = g at the max (the mean over tied maxima),
  s = Σ_j y_j (a − g_j), and per entry t_j = (g_j − a) + s, the form of
  ``functions/softmax_derivatives._shifted_product`` that does not cancel at the dominant
  entry. At a unique max its own term is 0; tied maxima's terms sum to a's rounding
  times their y, which t must take back (with g nearly equal at the ties, that rounding
  is most of g − a); out = y ⊙ t (softmax's VJP and JVP), or t itself (log_softmax's JVP);
  ``softmax_product_given_y_*`` read the caller's y instead (no exp);
* log_softmax (``log_softmax_vjp_w``/``_d``): out_j = g_j − y_j Σ g, and at a unique max
  (g_k τ − Σ_{i≠k} g_i)/(1 + τ), where g_k − y_k Σ g would cancel (float64: its numerator's
  terms exact). Where g is nearly proportional to y, g − y Σ g cancels below y's own
  rounding: such float32 rows are computed again from float64 exponentials, such float64
  rows flagged (``CANCEL_W``/``_D``).

float32 rows compute in float64 (the exponentials as exact float32 pairs) and round once;
float64 rows take compensated sums (``rows64.lane_total``: 16 Fast2Sum lanes started at a power
of two above twice the terms' size) and g − a as an exact pair.

Entries whose exponential the forward kernels clamp (x − m below −104 in float32, −746 in
float64) are left out of the sums and give y = 0. Their exact y is below half the smallest
subnormal, so that is exact unless a large factor makes it visible: a row where it could be
(``_far_visible``, ``_far_g_visible``: tested in logarithms, so masks at −1e9 pass) is
flagged. So are rows with NaN or ±∞ in x or g and rows
whose g is too large for the float64 arithmetic here. Flagged rows are computed by the NumPy
path and its contract (``rowpath.run_product``).

The four kernels repeat the row loop of ``rows32``/``rows64`` on purpose: numba's disk cache
only holds functions defined at module level, so the loop cannot be made by a factory.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._dd64 import div_dd_pair
from ._exp_rows32 import LOW as LOW_W
from ._exp_rows32 import UNSCALE as UNSCALE_W
from ._exp_rows64 import LOW as LOW_D
from ._exp_rows64 import UNSCALE as UNSCALE_D
from ._numba_math import KERNEL, PARALLEL, REDUCE, SCALAR, fma
from ._order_keys import first_max, from_key, max_key
from ._row_stores import quotient
from ._stream import fence
from ._vecmap import Lanes, span_map, where
from .rows import _two_sum
from .rows32 import _exp_row as _exp_row_w
from .rows32 import _sum_w, tau_lean_w
from .rows64 import exp_sum_row, lane_total, new_lanes, pow2_above, tau_lean_d

# A row's |g| summed must stay below this: then g − a, s, Σ g and the lanes' start (below
# 2^64·4(n|a| + Σ|g|)) are finite in float64.
G_LIMIT = 2.0**900
# Half the smallest subnormal is 2^HALF_TINY_LOG2: a product below it rounds to ±0. The exp
# clamps beyond x − m = −104 (−746), where e^(x − m) is already below that.
HALF_TINY_LOG2_W = -150.0
HALF_TINY_LOG2_D = -1075.0
_LN2 = math.log(2.0)
# log_softmax's VJP g − y Σ g cancels where g is nearly proportional to y (a model's
# gradient near its target distribution). Its error is then y's relative error times
# F = max_j y_j |Σ g| / max|out| (j below the max): y's error is ~2^−25 in float32 rows (the
# exp pair) and ~2^−52 in float64 ones (the exp's 0.7 ULP; Σ g/(1 + τ) is a pair), while
# the NumPy path carries y one type wider. A row whose F exceeds CANCEL is computed again
# (float32, from float64 exponentials) or flagged (float64); below it the kernel's normwise
# error is about 0.5 + 0.2·F eps (float32), 0.5 + 0.7·F (float64), well within the bar of
# 4 (tests/test_row_products.py, the rows g = y·(1 + 2^−p r)).
CANCEL_W = 8.0
CANCEL_D = 3.0
# A float32 row beyond CANCEL_W is computed again from float64 exponentials, whose error
# shows as F·2^−29 eps of float32: up to this F it stays below 1/32 eps.
CANCEL_WIDE = 2.0**24


# ------------------------------------------------------------------------ the row reductions


@njit(**REDUCE)
def _top_g(row, g, m):
    """(Σ g over the maxima, their count)."""
    top_g = 0.0
    n_top = 0.0
    for j in range(row.shape[0]):
        top_g += np.float64(g[j]) if row[j] == m else 0.0
        n_top += 1.0 if row[j] == m else 0.0
    return top_g, n_top


@njit(**REDUCE)
def _g_size(row, g, m, low):
    """(Σ|g|, the number of far entries): the finite ones with x − m < ``low`` (x − m as the
    exp computes it). −∞ entries take no part in the products (their output is 0). A pass of
    its own: with ``_top_g``'s sums in the same loop, LLVM left the loop scalar (several
    times slower than the two vectorised passes, timed in a scratch loop)."""
    neg_m = -m
    g_abs = 0.0
    n_far = 0.0
    for j in range(row.shape[0]):
        v = row[j]
        g_abs += abs(np.float64(g[j]))
        n_far += 1.0 if (v + neg_m < low) & (v > -math.inf) else 0.0
    return g_abs, n_far


@njit(**REDUCE)
def _shifted_dot_w(eh, el, row, g, m, a):
    """Σ e_j (a − g_j) over the entries that are not far (2^32-scaled; the module docstring
    says why the maxima are in)."""
    neg_m = -m
    p = 0.0
    for j in range(row.shape[0]):
        v = row[j]
        keep = v + neg_m >= LOW_W
        p += (np.float64(eh[j]) + np.float64(el[j])) * (a - np.float64(g[j])) if keep else 0.0
    return p


@njit(**KERNEL)
def _dot_terms_d(e, row, g, m, a, terms):
    """terms_j = e_j (a − g_j), 0 at a far entry or a −∞ entry (a vectorised map; their sum
    is ``lane_total``'s)."""
    neg_m = -m
    for j in range(row.shape[0]):
        v = row[j]
        keep = v + neg_m >= LOW_D
        terms[j] = e[j] * (a - g[j]) if keep else 0.0


@njit(**KERNEL)
def _usable_g(row, g, terms):
    """terms_j = g_j, 0 at a −∞ entry."""
    for j in range(row.shape[0]):
        terms[j] = g[j] if row[j] > -math.inf else 0.0


@njit(**REDUCE)
def _sums_w(row, g, m):
    """(Σ g, Σ g over the entries below the max m), −∞ entries left out, in float64 (for
    float32 rows, its rounding is far below theirs)."""
    total = 0.0
    others = 0.0
    for j in range(row.shape[0]):
        v = row[j]
        gv = np.float64(g[j]) if v > -math.inf else 0.0
        total += gv
        others += 0.0 if v == m else gv
    return total, others


@njit(**KERNEL)
def _y_below_top(tau, unique):
    """A bound on y_j over the entries that g − y Σ g computes: below a unique max,
    e_j ≤ min(1, τ); with tied maxima, every entry (e_j ≤ 1)."""
    return (min(1.0, tau) if unique else 1.0) / (1.0 + tau)


@njit(**REDUCE)
def _cancel_sizes_w(eh, el, row, g, c, neg_m, k):
    """(max_j |g_j − y_j Σ g|, max_j e_j) over the entries that take part, but k (float32
    rows: e_j = eh_j + el_j, y_j Σ g = e_j·c, ``_minus_scaled_pair``'s arithmetic)."""
    size = 0.0
    e_max = 0.0
    for j in range(row.shape[0]):
        v = row[j]
        near = (v + neg_m >= LOW_W) & (j != k)
        e = np.float64(eh[j]) + np.float64(el[j]) if near else 0.0
        out = abs(np.float64(g[j]) - e * c) if (v > -math.inf) & (j != k) else 0.0
        size = out if out > size else size
        e_max = e if e > e_max else e_max
    return size, e_max


@njit(**REDUCE)
def _cancel_sizes_d(e, row, g, ch, cl, neg_m, k):
    """``_cancel_sizes_w`` for float64 rows (``_minus_scaled_d``'s arithmetic)."""
    size = 0.0
    e_max = 0.0
    for j in range(row.shape[0]):
        v = row[j]
        near = (v + neg_m >= LOW_D) & (j != k)
        ej = e[j] if near else 0.0
        out = abs(fma(-ej, cl, fma(-ej, ch, g[j]))) if (v > -math.inf) & (j != k) else 0.0
        size = out if out > size else size
        e_max = ej if ej > e_max else e_max
    return size, e_max


@njit(**KERNEL)
def _top_d(gk, th, tl, gh, gl, inv):
    """(g_k τ − Σ_{i≠k} g_i)/(1 + τ) with the numerator's terms exact (τ = th + tl,
    Σ g = gh + gl): where g_k τ and the others' sum cancel, only the last roundings show."""
    ph = gk * th
    pl = fma(gk, th, -ph) + gk * tl
    oh, ol = _two_sum(gh, -gk)  # Σ_{i≠k} g_i = oh + ol + gl
    nh, nl = _two_sum(ph, -oh)
    return (nh + ((nl + pl) - (ol + gl))) * inv


@njit(**KERNEL)
def _index_of(row, m):
    for j in range(row.shape[0]):
        if row[j] == m:
            return j
    return -1


@njit(**KERNEL)
def _far_visible(row, g, m, a, s, g_abs, times_y, low, half_tiny_log2, bits):
    """Whether a far entry, left out of the sums with y = 0, could show in softmax's product
    (a scalar pass over a row that has far entries). In logarithms, so that nothing
    underflows: an entry's exact |y·t| < e^(x−m)·|t| (1 + τ ≥ 1) reaching half the smallest
    subnormal, with |t| ≤ |a − g| + |s| (``times_y``); or the far part of s,
    δ < Σ e^(x−m)|a − g|, beyond 2^−bits of s and itself that large. Entries more than
    ln(n·(|a| + Σ|g| + |s|)) below that are skipped by one comparison (masks at −1e9 cost no
    more)."""
    neg_m = -m
    floor = half_tiny_log2 * _LN2 - 1e-6  # the margin covers the rounding of d + ln t
    cut = floor - math.log(row.shape[0] * (abs(a) + g_abs + abs(s)) + 1.0)
    scaled = 0.0  # Σ e^(x−m−low)|a − g| over the far entries above the cut
    for j in range(row.shape[0]):
        d = row[j] + neg_m
        if not (d < low and d >= cut):
            continue
        w = abs(a - np.float64(g[j]))
        t = w + abs(s)
        if times_y and t > 0.0 and d + math.log(t) >= floor:
            return True
        scaled += math.exp(np.float64(d) - low) * w  # float64: no underflow for float32 rows
    if scaled == 0.0:
        return False
    log_delta = math.log(scaled) + low
    return log_delta >= floor and (s == 0.0 or log_delta > math.log(abs(s)) - bits * _LN2)


@njit(**KERNEL)
def _far_g_visible(row, g, m, c, low, half_tiny_log2, bits):
    """Whether y_j Σ g at a far entry (its exact size below e^(x−m)·c, c = |Σ g|/(1 + τ))
    could change out_j = g_j − y_j Σ g after rounding (a scalar pass over a row that has far
    entries): where that size reaches half the smallest subnormal and 2^−bits |g_j|."""
    neg_m = -m
    floor = half_tiny_log2 * _LN2 - 1e-6  # the margin covers the rounding of d + ln t
    log_c = math.log(c) if c > 0.0 else -math.inf
    for j in range(row.shape[0]):
        d = row[j] + neg_m
        size = d + log_c
        if not (d < low and size >= floor):
            continue
        gv = abs(np.float64(g[j]))
        if gv == 0.0 or math.log(gv) - bits * _LN2 <= size:
            return True
    return False


@njit(**KERNEL)
def _given_terms(row, y, g, m, a, terms):
    """terms_j = y_j (a − g_j), 0 at a −∞ entry (the caller's y: no exp)."""
    for j in range(row.shape[0]):
        v = row[j]
        keep = v > -math.inf
        terms[j] = np.float64(y[j]) * (a - np.float64(g[j])) if keep else 0.0


@njit(**REDUCE)
def _given_sizes(row, y, terms):
    """(Σ terms, Σ|terms| + Σ|y|, the number of NaN in the row): a row with NaN in x, or
    with NaN or ±∞ in y or the terms, has a non-finite second sum or NaN (it is flagged)."""
    total = 0.0
    size = 0.0
    nan = 0.0
    for j in range(row.shape[0]):
        total += terms[j]
        size += abs(terms[j]) + abs(np.float64(y[j]))
        nan += 1.0 if row[j] != row[j] else 0.0
    return total, size, nan


# ------------------------------------------------------------------------ the output passes
# Each is a line map (``_vecmap``), streamed as the forward kernels' stores (``_row_stores``).
# −∞ entries give +0 (they take no part, as on the NumPy path); far entries y = 0, so their
# product y·t is ±0 with t's sign, as the NumPy path's rounded y·t.


def _product_pair(eh: Lanes, el: Lanes, row: Lanes, g: Lanes, inv, neg_m, a, s) -> Lanes:
    """y·((g − a) + s), y = (eh + el)·inv, 0 at a far entry (float32 rows)."""
    far = (row + neg_m.to(row.element)) < LOW_W
    y = where(far, 0.0, (eh.wide() + el.wide()) * inv)
    return where(row > -math.inf, y * ((g.wide() - a) + s), 0.0)


def _shifted(g: Lanes, a: Lanes, s: Lanes) -> Lanes:
    """(g − a) + s with g − a an exact pair (exact already for float32 g)."""
    gw = g.wide()
    hi = gw - a
    bv = hi - gw
    lo = (gw - (hi - bv)) + ((-a) - bv)
    return hi + (lo + s)


def _shifted_only(row: Lanes, g: Lanes, a, s) -> Lanes:
    """(g − a) + s (log_softmax's JVP)."""
    return where(row > -math.inf, _shifted(g, a, s), 0.0)


def _product_d(e: Lanes, row: Lanes, g: Lanes, sh, sl, inv, neg_m, a, s) -> Lanes:
    """y·((g − a) + s), y = e/(sh + sl) to half an ULP, 0 at a far entry (float64 rows)."""
    y = where(row + neg_m < LOW_D, 0.0, quotient(e, sh, sl, inv))
    return where(row > -math.inf, y * _shifted(g, a, s), 0.0)


def _minus_scaled_pair(eh: Lanes, el: Lanes, row: Lanes, g: Lanes, c, neg_m) -> Lanes:
    """g − (eh + el)·c, only g at a far entry (float32 rows)."""
    far = (row + neg_m.to(row.element)) < LOW_W
    value = g.wide() - where(far, 0.0, (eh.wide() + el.wide()) * c)
    return where(row > -math.inf, value, 0.0)


def _minus_scaled_d(e: Lanes, row: Lanes, g: Lanes, ch, cl, neg_m) -> Lanes:
    """g − e·(ch + cl) by two FMAs (within an ULP of the result however far g − e·ch
    cancels), only g at a far entry (float64 rows)."""
    ne = where(row + neg_m < LOW_D, 0.0, -e)
    return where(row > -math.inf, ne.fma(cl, ne.fma(ch, g)), 0.0)


def _given_product(y: Lanes, row: Lanes, g: Lanes, a, s) -> Lanes:
    """y·((g − a) + s) from the caller's y (g − a an exact pair)."""
    return where(row > -math.inf, y.wide() * _shifted(g, a, s), 0.0)


_ROWS = {"fence": False, "prefetch": False}
_product_pair_span = span_map(_product_pair, inputs=4, scalars=4, **_ROWS)
_product_d_span = span_map(_product_d, inputs=3, scalars=6, **_ROWS)
_shifted_span = span_map(_shifted_only, inputs=2, scalars=2, **_ROWS)
_minus_pair_span = span_map(_minus_scaled_pair, inputs=4, scalars=2, one_entry=True, **_ROWS)
_minus_d_span = span_map(_minus_scaled_d, inputs=3, scalars=3, one_entry=True, **_ROWS)
_given_span = span_map(_given_product, inputs=3, scalars=2, **_ROWS)


# ------------------------------------------------------------------------------- the kernels


@njit(**PARALLEL)
def softmax_product_w(x, g, out, flags, chunk, times_y):
    """float32 rows: y ⊙ ((g − a) + s) (``times_y``: softmax's VJP/JVP) or (g − a) + s
    (log_softmax's JVP); g float32 or float64."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            row, gr = x[r], g[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            key = _exp_row_w(row, m, eh, el, nxt)
            m_row = m
            m = from_key(key)
            total = _sum_w(eh, el)  # (1 + τ)·2^32, the maxima included
            top_g, n_top = _top_g(row, gr, m_row)
            g_abs, n_far = _g_size(row, gr, m_row, LOW_W)
            if not (total == total and g_abs < G_LIMIT):  # NaN or ±∞ in x or g
                flags[r] = 1
                continue
            a = top_g / n_top
            inv = 1.0 / total
            s = _shifted_dot_w(eh, el, row, gr, m_row, a) * inv
            if n_far and _far_visible(
                row, gr, m_row, a, s, g_abs, times_y, LOW_W, HALF_TINY_LOG2_W, 30
            ):
                flags[r] = 1
                continue
            m64 = np.float64(m_row)
            if times_y:
                _product_pair_span(out[r], 0, n, True, eh, el, row, gr, inv, -m64, a, s)
            else:
                _shifted_span(out[r], 0, n, True, row, gr, a, s)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def softmax_product_d(x, g, out, flags, chunk, times_y):
    """float64 rows: ``softmax_product_w``'s products."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        terms = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            row, gr = x[r], g[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            key, sh, sl = exp_sum_row(row, m, e, nxt, lane_s, lane_c)  # the maxima included
            m_row = m
            m = from_key(key)
            top_g, n_top = _top_g(row, gr, m_row)
            g_abs, n_far = _g_size(row, gr, m_row, LOW_D)
            if not (sh == sh and abs(m_row) < math.inf and g_abs < G_LIMIT):
                flags[r] = 1
                continue
            a = top_g / n_top
            _dot_terms_d(e, row, gr, m_row, a, terms)
            top = pow2_above(2.0 * (n * abs(a) + g_abs) * 2.0**64)  # ≥ 2·Σ|terms|
            ph, pl = lane_total(terms, lane_s, lane_c, top)
            s = (ph + pl) / sh
            if n_far and _far_visible(
                row, gr, m_row, a, s, g_abs, times_y, LOW_D, HALF_TINY_LOG2_D, 60
            ):
                flags[r] = 1
                continue
            if times_y:
                _product_d_span(out[r], 0, n, True, e, row, gr, sh, sl, 1.0 / sh, -m_row, a, s)
            else:
                _shifted_span(out[r], 0, n, True, row, gr, a, s)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def log_softmax_vjp_w(x, g, out, flags, chunk):
    """float32 rows: g − y Σ g, at a unique max (g_k τ − Σ_{i≠k} g_i)/(1 + τ); a row where
    that cancels is computed again in float64 (``_log_softmax_vjp_wide``)."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        eh = np.empty(n, dtype=np.float32)
        el = np.empty(n, dtype=np.float32)
        ls, lc = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            row, gr = x[r], g[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            tau, key, _ = tau_lean_w(row, m, eh, el, nxt)
            m_row = m
            m = from_key(key)
            _, n_top = _top_g(row, gr, m_row)
            g_abs, n_far = _g_size(row, gr, m_row, LOW_W)
            if not (tau == tau and g_abs < G_LIMIT):
                flags[r] = 1
                continue
            total, others = _sums_w(row, gr, m_row)
            inv = 1.0 / (1.0 + tau)
            c_far = abs(total) * inv
            if n_far and _far_g_visible(row, gr, m_row, c_far, LOW_W, HALF_TINY_LOG2_W, 26):
                flags[r] = 1
                continue
            k = _index_of(row, m_row) if n_top == 1.0 else -1
            top = (np.float64(gr[k]) * tau - others) * inv if k >= 0 else 0.0
            c_y = total * inv * UNSCALE_W
            neg_m = -np.float64(m_row)
            risk = abs(total) * _y_below_top(tau, k >= 0)  # ≥ y_j |Σ g|: y's error times it
            if risk > CANCEL_W * abs(top):  # the product may be far below y Σ g: measure it
                size, e_max = _cancel_sizes_w(eh, el, row, gr, c_y, np.float32(neg_m), k)
                risk = abs(c_y) * e_max + (abs(total) * tau * inv * inv if k >= 0 else 0.0)
                if risk > CANCEL_W * max(size, abs(top)):  # y's pair is too coarse here
                    wide = _log_softmax_vjp_wide(row, gr, out[r], m_row, ls, lc)
                    flags[r] = 1 if wide else 0
                    continue
            _minus_pair_span(out[r], 0, n, True, eh, el, row, gr, c_y, neg_m, k, top)
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**KERNEL)
def _log_softmax_vjp_row_d(row, gr, out_r, m_row, th, tl, e, terms, lane_s, lane_c, cancel):
    """log_softmax's VJP of one float64 row after its exp pass (e, τ = th + tl), into out_r
    (float64; float32 for the redo of a float32 row, ``_log_softmax_vjp_wide``): Σ g
    compensated, Σ g/(1 + τ) a pair, the top entry's numerator exact. True where the row
    must be flagged instead (``cancel``: the largest F it computes)."""
    _, n_top = _top_g(row, gr, m_row)
    g_abs, n_far = _g_size(row, gr, m_row, LOW_D)
    if not (th == th and g_abs < G_LIMIT):
        return True
    _usable_g(row, gr, terms)
    gh, gl = lane_total(terms, lane_s, lane_c, pow2_above(2.0 * g_abs))
    total = gh + gl
    one_h, one_l = _two_sum(1.0, th)
    inv = 1.0 / one_h
    inv = inv - inv * (fma(one_h, inv, -1.0) + (one_l + tl) * inv)  # 1/(1 + τ), refined
    c_far = abs(total) * inv
    if n_far and _far_g_visible(row, gr, m_row, c_far, LOW_D, HALF_TINY_LOG2_D, 55):
        return True
    k = _index_of(row, m_row) if n_top == 1.0 else -1
    top = _top_d(gr[k], th, tl, gh, gl, inv) if k >= 0 else 0.0
    ch, cl = div_dd_pair(gh, gl, one_h, one_l + tl)  # Σ g/(1 + τ) as a pair
    ch, cl = ch * UNSCALE_D, cl * UNSCALE_D
    tau = th + tl
    risk = abs(total) * _y_below_top(tau, k >= 0)  # as in log_softmax_vjp_w
    if risk > cancel * abs(top):
        size, e_max = _cancel_sizes_d(e, row, gr, ch, cl, -m_row, k)
        risk = abs(ch) * e_max + (abs(total) * tau * inv * inv if k >= 0 else 0.0)
        if risk > cancel * max(size, abs(top)):
            return True
    _minus_d_span(out_r, 0, row.shape[0], True, e, row, gr, ch, cl, -m_row, k, top)
    return False


@njit(**KERNEL)
def _log_softmax_vjp_wide(row, gr, out_r, m_row, lane_s, lane_c):
    """A float32 row whose g − y Σ g cancelled beyond ``CANCEL_W``, again from float64
    exponentials (0.7·2^−52, as good as the NumPy path's float64 y): the float64 row on the
    row's exact float64 copy (xw, gw). True where that too must be flagged.

    Its scratch (8× the row's bytes) is made here, for the rare row that needs it: made per
    chunk, it took 8× x's bytes of memory over one long row (and made on first need inside
    the kernel's loop, it was made on every call: numba's parfor pass hoists allocations
    out of the loop)."""
    n = row.shape[0]
    xw, gw = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    e, terms = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    for j in range(n):
        xw[j] = row[j]
        gw[j] = gr[j]
    m = np.float64(m_row)
    th, tl, _, _ = tau_lean_d(xw, m, e, xw, lane_s, lane_c)
    return _log_softmax_vjp_row_d(xw, gw, out_r, m, th, tl, e, terms, lane_s, lane_c, CANCEL_WIDE)


@njit(**PARALLEL)
def log_softmax_vjp_d(x, g, out, flags, chunk):
    """float64 rows: ``_log_softmax_vjp_row_d`` after each row's exp pass."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        e = np.empty(n, dtype=np.float64)
        terms = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
        m = first_max(x, r0)
        for r in range(r0, r1):
            row, gr = x[r], g[r]
            nxt = x[r + 1] if r + 1 < r1 else row
            th, tl, key, _ = tau_lean_d(row, m, e, nxt, lane_s, lane_c)
            m_row = m
            m = from_key(key)
            if _log_softmax_vjp_row_d(
                row, gr, out[r], m_row, th, tl, e, terms, lane_s, lane_c, CANCEL_D
            ):
                flags[r] = 1
        fence()  # the streamed stores of the chunk, visible before it is reported done


@njit(**PARALLEL)
def softmax_product_given_y_w(x, y, g, out, flags, chunk):
    """float32 rows, the caller's y: y ⊙ ((g − a) + s), s = Σ y_j (a − g_j) in float64."""
    _given_y_rows(x, y, g, out, flags, chunk)


@njit(**PARALLEL)
def softmax_product_given_y_d(x, y, g, out, flags, chunk):
    """float64 rows, the caller's y: s compensated (``rows64.lane_total``)."""
    _given_y_rows(x, y, g, out, flags, chunk)


@njit(**SCALAR)
def _given_y_rows(x, y, g, out, flags, chunk):
    """The rows of the given-y kernels (no exp: x gives the max, the maxima and the special
    rows; s as a compensated sum, exact enough for float32 rows too)."""
    n_rows, n = x.shape
    for c in prange((n_rows + chunk - 1) // chunk):
        terms = np.empty(n, dtype=np.float64)
        lane_s, lane_c = new_lanes()
        for r in range(c * chunk, min(n_rows, (c + 1) * chunk)):
            row, yr, gr = x[r], y[r], g[r]
            m = from_key(max_key(row))
            top_g, n_top = _top_g(row, gr, m)
            g_abs, _ = _g_size(row, gr, m, -math.inf)
            if not (abs(m) < math.inf and g_abs < G_LIMIT):  # +∞, all −∞, or g not finite
                flags[r] = 1
                continue
            a = top_g / n_top
            _given_terms(row, yr, gr, m, a, terms)
            _, size, nan = _given_sizes(row, yr, terms)
            if not (nan == 0.0 and size < G_LIMIT):
                flags[r] = 1
                continue
            sh, sl = lane_total(terms, lane_s, lane_c, pow2_above(2.0 * size))
            _given_span(out[r], 0, n, True, yr, row, gr, a, sh + sl)
        fence()  # the streamed stores of the chunk, visible before it is reported done
