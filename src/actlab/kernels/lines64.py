"""float64 σ and silu as line maps (``_vecmap``): the formulas of ``_exp64``,
``_scalars64.sigmoid_rest`` and ``_gated64.silu_rest`` written over whole vectors, for the
CPUs where the one-loop shape runs (``elementwise64.SPLIT_LOOPS`` false: AVX-512).

The numba loops of the same formulas wait on memory once x and the output stream from DRAM:
σ over 2^24 elements took 1.4× its time over 2^14 (in cache) at 1 thread. A line map
prefetches its input, keeps two read streams in flight and writes a large output with
non-temporal stores (no read of the destination first), as the float32 maps of ``lean32``
do. Every operation is the scalar code's, with the FMAs that its ``contract`` flag lets
LLVM form (a product added to something, the product used once), so the results are the
numba loops' bit for bit (``tests/test_kernels_split64.py``).
"""

from __future__ import annotations

from numba import njit, prange

from ._exp64 import (
    _BIASED_SHIFTER,
    _Q0,
    _Q1,
    _Q2,
    _Q3,
    _Q4,
    _Q5,
    _Q6,
    _Q7,
    _Q8,
    _Q9,
    EXP_CLAMP,
    SCALE_DOWN,
)
from ._numba_math import INV_LN2, LN2_HI, LN2_LO, PARALLEL
from ._vecmap import Lanes, power_of_two, span_map, where

CHUNK = 1 << 16


def _reduce(a: Lanes) -> tuple[Lanes, Lanes]:
    """(t, r) of ``_exp64.reduce`` for a low part of −0.0: a = k·ln2 + r, and t holds
    k + 1223 in its low bits."""
    x = where(a > EXP_CLAMP, a, EXP_CLAMP)  # max(a, EXP_CLAMP); a NaN becomes the clamp
    t = x.fma(INV_LN2, _BIASED_SHIFTER)
    kf = t - _BIASED_SHIFTER
    return t, (-kf).fma(LN2_LO, (-kf).fma(LN2_HI, x))


def _expm1_lean(r: Lanes) -> Lanes:
    """``_exp64.expm1_lean``: r + r²·Q(r), Q by Estrin's scheme."""
    r2 = r * r
    r4 = r2 * r2
    s0 = r2.fma(r.fma(_Q3, _Q2), r.fma(_Q1, _Q0))
    s1 = r2.fma(r.fma(_Q7, _Q6), r.fma(_Q5, _Q4))
    q = r4.fma(r4.fma(r.fma(_Q9, _Q8), s1), s0)
    return (r * r).fma(q, r)


def _up_pow2(t: Lanes) -> Lanes:
    """2^(k+200) from t (``_exp64.up_pow2``)."""
    return power_of_two(t, 0)


def _ratio(nh: Lanes, nl: Lanes, dh: Lanes, dl: Lanes) -> Lanes:
    """``_exp64.ratio``: (nh + nl)/(dh + dl) by one division and an FMA residual."""
    inv = 1.0 / dh
    y0 = nh * inv
    rem = (-y0).fma(dh, nh) + (-y0).fma(dl, nl)
    return rem.fma(inv, y0)


def _sigmoid(x: Lanes) -> Lanes:
    """σ(x) = N/(1 + e), e = e^−|x| as s·(1 + p), N = e for x < 0 and 1 beyond
    (``_scalars64.sigmoid_rest``); a NaN input is returned as it is."""
    t, r = _reduce(-abs(x))
    s = _up_pow2(t) * SCALE_DOWN
    p = _expm1_lean(r)
    neg = x < 0.0
    eh = s.fma(p, s)
    el = s.fma(p, s - eh)
    dh = s.fma(p, s + 1.0)
    dl = ((-dh + 1.0) + eh) + el  # (1 − dh) + eh
    value = _ratio(where(neg, eh, 1.0), where(neg, el, 0.0), dh, dl)
    return where(x == x, value, x)


def _silu(x: Lanes) -> Lanes:
    """x·σ(x) (``_gated64.silu_rest``): for x < 0 the numerator x·e as an exact product of
    e·2^200, the ratio scaled back once; NaN and +∞ give themselves, −∞ gives −0.0."""
    t, r = _reduce(-abs(x))
    st = _up_pow2(t)
    p = _expm1_lean(r)
    neg = x < 0.0
    nh = st.fma(p, st)
    nl = st.fma(p, st - nh)
    s = st * SCALE_DOWN
    dh = s.fma(p, s + 1.0)
    dl = s.fma(p, (-dh + 1.0) + s)  # fma(s, p, (1 − dh) + s)
    xc = where(x > -1.0e8, x, -1.0e8)  # max(x, −1e8): x·e rounds to 0 where e is clamped
    ph = xc * nh
    pl = xc.fma(nl, xc.fma(nh, -ph))
    back = where(neg, x.splat(SCALE_DOWN), 1.0)
    y = _ratio(where(neg, ph, x), where(neg, pl, 0.0), dh, dl) * back
    return where(x < float("inf"), y.copysign(x), x)


sigmoid_span = span_map(_sigmoid, inputs=1, scalars=0)
silu_span = span_map(_silu, inputs=1, scalars=0)


@njit(**PARALLEL)
def sigmoid_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def silu_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        silu_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)
