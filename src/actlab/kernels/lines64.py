"""float64 σ, silu, silu′, tanh and the products g·σ and g·silu′ as line maps (``_vecmap``):
the formulas of ``_exp64``, ``_scalars64.sigmoid_rest`` and ``_gated64.silu_rest``/
``silu_grad_rest`` written over whole vectors, and a tanh of its own (``_tanh``). The
dispatch runs them instead of the loops of ``elementwise64`` where numba compiles with
AVX-512 (``IN_USE``). The products return how many f′ fell below float64's normal range,
as those loops do (``elementwise64._NORMAL_MIN``).

On an Intel Emerald Rapids (AVX-512) the loops, split in two per block for the AMD Zen 3
machine they were tuned on, waited on memory once x and the output came from DRAM: σ took
2.13 ns per element from DRAM and 1.55 in cache at 1 thread (``python
benchmarks/in_cache.py`` with 4d1ab13's package). One loop over the whole formula took
0.78–0.85× the split's time over 2^25 (σ, silu, g·silu′, g·σ at 1 and 2 threads,
``python benchmarks/ab.py 4d1ab13 --cases sigmoid,silu,silu_vjp,softplus_vjp`` at
1d2628e), and these maps 0.68–0.89× that again: a
line map prefetches its input, keeps two read streams in flight and writes a large output
with non-temporal stores (no read of the destination first), as the float32 maps of
``lean32`` do. Every operation is the scalar code's, with the FMAs that its ``contract``
flag lets LLVM form (a product added to something, the product used once), so the results
are the numba loops' bit for bit (``tests/test_kernels_split64.py``).

Each map evaluates its formula over two lines (16 lanes) at once (``span_map``'s
``lines=2``). These formulas wait on their dependency chains, not on the FMA ports: in
cache, a chain of 60 dependent FMAs per element took 21.2 ns per line where 63 independent
operations took 11.7, 30 FMAs 7.2 and 15 FMAs 3.2 (``python
benchmarks/dependency_chains.py``: the scheduler holds only a few lines' chains at a time).
Issued for two lines, each step has a twin to overlap with: over 2^25
elements, σ 0.95×, silu 0.94–0.95×, g·silu′ 0.93×, g·swish′ 0.91–0.97×, g·σ (g·softplus′)
0.92× and tanh (with its new formula) 0.80× the time at 1 and 2 threads (``python
benchmarks/ab.py 9164cf3 --cases sigmoid,silu,silu_vjp,swish_vjp,softplus_vjp,tanh``).
The results do not change (the same operations per lane, ``tests/test_vecmap_lines.py``).
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
    SCALE_UP,
)
from ._gated64 import _SILU_E0_HI, _SILU_NEAR, _SILU_ROOT_HI, _SILU_ROOT_LO_E0
from ._lane_log1p import two_sum
from ._numba_math import INV_LN2, LN2_HI, LN2_LO, PARALLEL, wide_vectors
from ._vecmap import Lanes, Mask, power_of_two, span_map, where

# Whether the dispatch runs these maps (with 256-bit vectors the split loops of
# ``elementwise64`` were faster: their dependency chains, not memory, bound them there).
IN_USE = wide_vectors()
CHUNK = 1 << 16
_NORMAL_MIN = 2.2250738585072014e-308  # float64's smallest normal number


def _reduce(a: Lanes) -> tuple[Lanes, Lanes]:
    """(t, r) of ``_exp64.reduce`` for a low part of −0.0: a = k·ln2 + r, and t holds
    k + 1223 in its low bits."""
    x = where(a > EXP_CLAMP, a, EXP_CLAMP)  # max(a, EXP_CLAMP); a NaN becomes the clamp
    t = x.fma(INV_LN2, _BIASED_SHIFTER)
    kf = t - _BIASED_SHIFTER
    return t, (-kf).fma(LN2_LO, (-kf).fma(LN2_HI, x))


def _estrin9(r: Lanes, r2: Lanes, c: tuple[float, ...]) -> Lanes:
    """c[0] + c[1]·r + … + c[9]·r⁹ by Estrin's scheme (r2 = r·r; ``_exp64._cheb_tail``'s
    order of operations)."""
    r4 = r2 * r2
    s0 = r2.fma(r.fma(c[3], c[2]), r.fma(c[1], c[0]))
    s1 = r2.fma(r.fma(c[7], c[6]), r.fma(c[5], c[4]))
    return r4.fma(r4.fma(r.fma(c[9], c[8]), s1), s0)


_Q = (_Q0, _Q1, _Q2, _Q3, _Q4, _Q5, _Q6, _Q7, _Q8, _Q9)


def _expm1_lean(r: Lanes) -> Lanes:
    """``_exp64.expm1_lean``: r + r²·Q(r)."""
    r2 = r * r
    return r2.fma(_estrin9(r, r2, _Q), r)


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


def _silu_grad(x: Lanes) -> Lanes:
    """silu′ = A·w/d² (``_gated64.silu_grad``), e reduced around the root x0 within
    |x − x0| < 0.34; a NaN input is returned as it is."""
    t, r = _reduce(-abs(x))
    hh = x - _SILU_ROOT_HI
    near = abs(hh) < _SILU_NEAR
    p = _expm1_lean(where(near, hh - _SILU_ROOT_LO_E0, r))
    st = where(near, x.splat(_SILU_E0_HI * SCALE_UP), _up_pow2(t))
    low = where(x > -1.0e4, x, -1.0e4)
    z = where(low < 1.0e4, low, 1.0e4)  # min(max(x, −1e4), 1e4)
    neg = x < 0.0
    nh = st.fma(p, st)
    nl = st.fma(p, st - nh)
    eh = nh * SCALE_DOWN
    el = nl * SCALE_DOWN
    dh = eh + 1.0
    dl = ((-dh + 1.0) + eh) + el  # ``_dd64.one_plus``
    wh, wl = two_sum(dh, z * where(neg, x.splat(1.0), eh))
    wl = wl + z.fma(where(neg, x.splat(0.0), el), dl)
    ah = where(neg, nh, SCALE_UP)
    al = where(neg, nl, 0.0)
    xh = ah * wh
    xl = ah.fma(wh, -xh) + ah.fma(wl, al * wh)
    qh = dh * dh
    ql = (dh + dh).fma(dl, dh.fma(dh, -qh))
    value = _ratio(xh, xl, qh, ql) * SCALE_DOWN
    return where(x == x, value, x)


# tanh(20) rounds to 1 in float64 (1 − tanh 20 ≈ 8.5e−18 < 2^−54): beyond it |x| is clamped.
TANH_BIG = 20.0
# (Q(r) − 1/2)/r for Q = (e^r − 1 − r)/r², |r| ≤ ln2/2: degree 9 (mpmath's chebyfit, 10
# coefficients, rounded to double). With Q = 1/2 + r·P(r) (1/2 exact), r + r²·Q is within
# 2.5e−18 (0.022u) of e^r − 1 relative to e^r − 1 itself, in exact arithmetic.
_P = (
    0.16666666666666669,
    0.041666666666666664,
    0.008333333333330065,
    0.0013888888888886554,
    0.00019841269863040545,
    2.4801587317135164e-05,
    2.7557268480310024e-06,
    2.755728298405588e-07,
    2.5100375832561234e-08,
    2.091122972975856e-09,
)


def _tanh(x: Lanes) -> Lanes:
    """tanh|x| = −m/(2 + m), m = e^a − 1 with a = −2|x|, the sign copied from x; a NaN
    input is returned as it is.

    m as a pair: e^a = 2^k·e^(r + δ) (r rounded, δ what its rounding dropped), e^r − 1 =
    r + τ with τ = r²/2 + r³·P(r) from the exact square of r (``_P``, ``_cubic_part``,
    rounded once); m = (2^k − 1) + 2^k·r exactly (two Fast2Sums: 2^k − 1 ≥ 2^k·|r| in
    magnitude, or 0) plus 2^k·(τ + δ). For k = 0 (|x| < 0.17) m = r + τ, τ's rounding ≤
    0.09u of m; for k ≤ −1, |m| ≥ 0.29 and the small terms' roundings are below 0.1u. The
    ratio adds half an ULP and a hair: y0 = −mh·(1/d) corrected once by the exact residual
    over 2 + m as a pair, 1/d taken from 1 + e^a rounded (good to 2^−52, so the correction
    leaves 2^−104), which the divider can start before m's pair is done.

    This loop waits on its dependency chain (the reduction, the polynomial, the pair, the
    division, the correction), not on its ports: the reduction works on −|x| (a = −2|x|
    never formed), the polynomial's last Estrin level is merged with the product by r³, and
    the division starts early: with the two-line map, 0.80× the time of the formula before
    over one line, 2^25 elements at 1 and 2 threads (``python benchmarks/ab.py 9164cf3
    --cases tanh``). Within 0.75 ULP on a dense sample where the error peaks (|x| ≈ 0.18,
    ``tests/test_kernels.py``, 0.70 there; 0.76 before)."""
    u = where(abs(x) < TANH_BIG, abs(x), TANH_BIG)  # a NaN takes the clamp
    t = u.fma(-2.0 * INV_LN2, _BIASED_SHIFTER)
    kf = t - _BIASED_SHIFTER
    r_half = (-kf).fma(LN2_HI * 0.5, -u)  # (a − k·LN2_HI)/2, exact
    r = r_half.fma(2.0, kf * -LN2_LO)
    delta = -kf.fma(LN2_LO, r_half.fma(-2.0, r))  # r − 2·r_half is exact
    r2 = r * r
    r2_low = r.fma(r, -r2)  # r² = r2 + r2_low exactly
    tail = r2.fma(0.5, _cubic_part(r, r2, r2_low.fma(0.5, delta)))
    s = power_of_two(t, 200)  # 2^k: t's low bits hold k + 1223
    one_less = s - 1.0  # exact down to k = −53; below, its error (|x| > 18.5):
    one_less_low = (-one_less - 1.0) + s  # Fast2Sum, 1 ≥ s
    hi, lo = _fast_two_sum(one_less, s * r)
    mh, ml = _fast_two_sum(hi, s.fma(tail, lo + one_less_low))
    dh = mh + 2.0
    dl = ((-dh + 2.0) + mh) + ml  # Fast2Sum: |mh| < 2
    inv = 1.0 / s.fma(r + tail, s + 1.0)
    y0 = -mh * inv
    residual = (-y0).fma(dh, -mh) + (-y0).fma(dl, -ml)
    return where(x == x, residual.fma(inv, y0).copysign(x), x)


def _cubic_part(r: Lanes, r2: Lanes, small: Lanes) -> Lanes:
    """r³·P(r) + small, the part of τ + δ beyond r2/2 (τ = r²/2 + r³·P(r), P = ``_P``;
    ``small``: r2_low/2 + δ): P by Estrin's scheme with its last level multiplied out by r³,
    so that the product by r³ takes no step of its own after the polynomial (r2 = r·r
    rounded)."""
    c = _P
    r3 = r2 * r
    r4 = r2 * r2
    s0 = r2.fma(r.fma(c[3], c[2]), r.fma(c[1], c[0]))
    s1 = r2.fma(r.fma(c[7], c[6]), r.fma(c[5], c[4]))
    upper = r4.fma(r.fma(c[9], c[8]), s1)
    return (r3 * r4).fma(upper, r3.fma(s0, small))


def _fast_two_sum(a: Lanes, b: Lanes) -> tuple[Lanes, Lanes]:
    """a + b = s + e exactly, for |a| ≥ |b|."""
    total = a + b
    return total, (a - total) + b


def _counted_product(derivative):
    """g·f′ (f′ rounded first, as the numba loops do), flagging each f′ below the normal
    range."""

    def product(x: Lanes, g: Lanes) -> tuple[Lanes, Mask]:
        f = derivative(x)
        return f * g.wide(), abs(f) < _NORMAL_MIN

    return product


def _two_line_map(formula, inputs: int = 1, counted: bool = False):
    """``span_map`` of ``formula`` over two lines per evaluation (the module's docstring)."""
    return span_map(formula, inputs=inputs, scalars=0, counted=counted, lines=2)


sigmoid_span = _two_line_map(_sigmoid)
silu_span = _two_line_map(_silu)
silu_grad_span = _two_line_map(_silu_grad)
tanh_span = _two_line_map(_tanh)
sigmoid_times_span = _two_line_map(_counted_product(_sigmoid), inputs=2, counted=True)
silu_grad_times_span = _two_line_map(_counted_product(_silu_grad), inputs=2, counted=True)


# The kernels, one per map, written out (numba's disk cache needs module-level functions):
# ``NAME_f(x, out, stream)``, and the products ``NAME_vjp(x, g, out, stream)`` returning the
# count of f′ below the normal range. Each splits the array into chunks of ``CHUNK``.


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


@njit(**PARALLEL)
def silu_grad_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        silu_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def tanh_f(x, out, stream):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        tanh_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def sigmoid_vjp(x, g, out, stream):
    n = out.shape[0]
    lost = 0
    for c in prange((n + CHUNK - 1) // CHUNK):
        lost += sigmoid_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)
    return lost


@njit(**PARALLEL)
def silu_grad_vjp(x, g, out, stream):
    n = out.shape[0]
    lost = 0
    for c in prange((n + CHUNK - 1) // CHUNK):
        lost += silu_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)
    return lost
