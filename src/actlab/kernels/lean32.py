"""The float32 loops of the exp-based functions with a speed bar, as line maps (``_vecmap``).

sigmoid, its complement and σ′, silu/swish and their f′, softplus and softplus′, elu′, the
products g·f′ of those, and tanh. Their float32 input is clamped in float32 (NaN passes
through), widened, and every formula runs in float64 with a lean exp (below), rounded once
at the store. No sign split (tanh too works on x itself; it copies x's sign only so that
−0.0 stays −0.0) and no contract: the clamped argument already gives the limits at ±∞.

Why line maps and not numba loops: these loops are about as much memory as arithmetic. As
``span_map`` loops they store whole 64-byte lines and, for outputs larger than the cache,
stream them (no read of the destination first), and their constants stay in registers
(numba's loop reloaded six of them from memory per iteration). sigmoid of 2^25 float32
(`actlab bench --only W4:sigmoid --dtype float32`): 41.0 → 27.2 ms on 1 thread, 22.9 →
14.2 ms on 2. The results are those of the numba loops these replaced, bit for bit on
200,000 random values and the special values (checked when they were replaced; the oracle
tests and the full audit hold them to the bars since).

The exp is a degree-6 minimax polynomial (relative error < 3.1e−9, about 0.05 float32 ULP)
in Estrin form (a short dependency chain), scaled by 2^k built from the bits of the
reduction's shifted value.

The quotients (``_over``) multiply by the denominator's reciprocal, which with AVX-512 is
VRCP14PD's estimate and one Newton step (2^−27, ≤ 2^−4 float32 ULP: the full audit's
largest error stayed 0.58 ULP): a float64 division takes 16
cycles per 8 lanes on Intel's server cores, twice per line of float32, and these formulas
waited on it. σ 0.89×, silu 0.91×, tanh 0.93–0.99×, the products 0.94–0.99× the time over
2^25 at 1 and 2 threads (`python benchmarks/ab.py 5482ca9 --cases
sigmoid,silu,tanh,silu_vjp,swish_vjp,sigmoid_vjp,softplus_vjp --rounds 7`). An earlier
try with two Newton steps measured slower and was dropped (not kept).

The maps evaluate their formulas over two lines of float32 at once (``span_map``'s
``lines=2``, 32 lanes in four registers of doubles), as ``lines64`` does and for its
reason (the formulas wait on their dependency chains): over 2^25 elements at 1 and 2
threads σ 0.95–0.96×, silu 0.92×, g·σ′ 0.86×, g·silu′ 0.87–0.88×, g·swish′ 0.88×,
g·softplus′ 0.91–0.92×, g·elu′ 0.94–0.95×, tanh (with the changes of ``_tanh``) 0.91–0.92×
the time (``python benchmarks/ab.py 9164cf3 --cases sigmoid,silu,sigmoid_vjp,silu_vjp,
swish_vjp,softplus_vjp,elu_vjp,tanh``). Except softplus, whose exp, logarithm and division
over four registers took 1.07× the time: it keeps one line.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, prange

from ._numba_math import INV_LN2, LN2, PARALLEL, wide_vectors
from ._vecmap import Lanes, reciprocal_near, span_map, where

CHUNK = 1 << 16

# |argument| beyond which every result here is saturated in float32: e^−200 ≈ 1.4e−87, and
# even 3.4e38·e^−200 rounds to 0 in float32. e^200 ≈ 7e86: (1 + e^200)² stays finite.
BIG = 200.0
# 1.5·2^52 + 1023: x/ln2 + this rounds to an integer k and holds k + 1023 in the low bits.
_BIASED_SHIFTER = 6755399441056767.0

# Minimax (Lawson iteration, mpmath) for (e^r − 1 − r)/r² on |r| ≤ ln2/2, relative error of
# e^r < 3.06e−9.
_E0 = 0.49999993451472624
_E1 = 0.16666520687563108
_E2 = 0.04166838740854697
_E3 = 0.00836871003530828
_E4 = 0.0013814611001066852

# exp_lean's polynomial minus e^r − 1 at r0 = −1.2784645427610738 + 2 ln2 (mpmath).
_E_ROOT = -1.8890675063880148e-09

# Minimax (Lawson iteration, mpmath) for (e^r − 1 − r)/r² on |r| ≤ ln2/2 with the error
# relative to e^r − 1 itself (not to e^r, as _E0.._E4): r + r²·Q(r) is then e^r − 1 to
# 2.4e−10 relative even as r → 0, where tanh needs it.
_Q0 = 0.5000000044091575
_Q1 = 0.1666666637192743
_Q2 = 0.04166636127667151
_Q3 = 0.00833338912548088
_Q4 = 0.001394059662734338
_Q5 = 0.00019845953219594856

# The same in h = r/2: 2·Q(2h) = Σ 2^(i+1)·Q_i·h^i.
_Q_HALVED = tuple(q * 2.0 ** (i + 1) for i, q in enumerate((_Q0, _Q1, _Q2, _Q3, _Q4, _Q5)))

# tanh(20) rounds to 1 in float32 (1 − tanh 20 ≈ 8.5e−18): beyond it |x| is clamped.
TANH_BIG = 20.0
# The quotients by VRCP14PD and a Newton step where numba compiles with AVX-512F
# (``_over``); read when a kernel compiles.
ESTIMATE = wide_vectors()

# Minimax for (atanh(s)/s − 1)/z, z = s² ∈ [0, 1/9]: log1p(u) = 2s(1 + z·R(z)), s = u/(2+u),
# relative error < 1.1e−10 for u ∈ [0, 1].
_L0 = 0.3333333775021206
_L1 = 0.19999444175641037
_L2 = 0.14308298407433817
_L3 = 0.10715370057246337
_L4 = 0.1214477999650615


# ------------------------------------------------------------------ building blocks


def clamp(x: Lanes, bound: float = BIG) -> Lanes:
    """x limited to [−bound, bound] in its own precision; NaN stays NaN."""
    low = where(x < -bound, -bound, x)
    return where(low > bound, bound, low)


def _pow2_of_shifted(t: Lanes) -> Lanes:
    """2^k for double lanes t whose low bits hold k + 1023 (one shift of the bits)."""
    b, count = t.b, t.width
    i64 = ir.VectorType(ir.IntType(64), count)
    bits = b.bitcast(t.v, i64)
    shifted = b.shl(bits, ir.Constant(i64, [ir.Constant(ir.IntType(64), 52)] * count))
    return Lanes(b, b.bitcast(shifted, t.v.type))


def _reduce(x: Lanes) -> tuple[Lanes, Lanes, Lanes]:
    """(r, r²·P(r), 2^k) with x = k·ln2 + r, |r| ≤ ln2/2, e^r ≈ 1 + r + r²·P(r)."""
    t = x.fma(INV_LN2, _BIASED_SHIFTER)
    k = t - _BIASED_SHIFTER
    r = k.fma(-LN2, x)
    r2 = r * r
    p = r2.fma(r2.fma(_E4, r.fma(_E3, _E2)), r.fma(_E1, _E0))
    return r, r2 * p, _pow2_of_shifted(t)


def exp_lean(x: Lanes) -> Lanes:
    """e^x for double lanes, |x| ≤ 700, relative error < 3.1e−9: for float32 results."""
    r, tail, scale = _reduce(x)
    return (tail + r).fma(scale, scale)


def exp_silu_root(x: Lanes) -> Lanes:
    """``exp_lean`` with its error at silu′'s root removed: there x = −1.2785 reduces to
    r0 = 0.10783, where the polynomial is off by E_ROOT (−1.9e−9 of e^r), and silu′ =
    e^x(e^x + 1 + x)/(1 + e^x)² cancels, which turned that into 100s of ULP. Subtracting it
    leaves an error of 3.5e−8·|r − r0| near the root (the bar needs < 4e−7·|r − r0|) and
    < 6e−9 elsewhere. One addition, off the critical path (a Taylor-7 exp was 25% slower)."""
    r, tail, scale = _reduce(x)
    return (tail + (r - _E_ROOT)).fma(scale, scale)


def expm1_twice_parts(w: Lanes) -> tuple[Lanes, Lanes]:
    """(u, s2) with e^(2w) − 1 = s2·u + (s2/2 − 1), s2 = 2^(k+1), for double lanes
    |w| ≤ 350. With r = 2w − k·ln2 (rounded) and h = r/2, u = (e^r − 1)/2 = h + h²·Q′(h),
    Q′(h) = 2·Q(2h) (the coefficients scaled by powers of two: every step is the unhalved
    one's, halved, with the same roundings), to 2.4e−10 relative. s2/2 − 1 is exact for
    |k| ≤ 53 (beyond, within 2^−54 of the result), so e^(2w) − 1 keeps that accuracy with
    no cancellation (for k = 0 it is 2u itself; elsewhere s2·u and s2/2 − 1 have one sign).
    Taking w, not 2w, spares tanh the product 2·x, and the shifter's bias one more than
    the exponent's makes 2^(k+1) in the shift that makes 2^k, sparing the doubling."""
    t = w.fma(2.0 * INV_LN2, _BIASED_SHIFTER + 1.0)
    h = (t - (_BIASED_SHIFTER + 1.0)).fma(-LN2 * 0.5, w)
    h2 = h * h
    c = _Q_HALVED
    q = h2.fma(h2.fma(h.fma(c[5], c[4]), h.fma(c[3], c[2])), h.fma(c[1], c[0]))
    return h2.fma(q, h), _pow2_of_shifted(t)


def log1p_lean(u: Lanes) -> Lanes:
    """log(1 + u) for double lanes u ∈ [0, 1], relative error < 2e−10."""
    s = u / (u + 2.0)
    z = s * s
    z2 = z * z
    r = z2.fma(z2.fma(_L4, z.fma(_L3, _L2)), z.fma(_L1, _L0))
    return (s * 2.0).fma(z * r, s * 2.0)


# ------------------------------------------------------------------ the formulas
#
# The derivatives take ``times``, the upstream gradient g (double lanes) of a product
# g·f′(x), or None for f′ alone. A quotient multiplies g into its numerator, in parallel
# with the denominator, instead of into the result: the loops are bound by the length of
# their dependency chain, and a product after the division lengthens it. g·silu′ of 2^25
# float32 took 0.89–0.95× its earlier time on 1 thread (`python benchmarks/ab.py f6824f3
# --cases silu_vjp`, three runs). The roundings are float64 ones either way (the result is
# rounded once, at the float32 store).


def _over(numerator: Lanes | float, denominator: Lanes) -> Lanes:
    """numerator/denominator for a result rounded to float32: by ``reciprocal_near`` (2^−27
    relative; a denominator here is ≥ 1 and finite)."""
    return reciprocal_near(denominator, ESTIMATE) * numerator


def _scaled(value: Lanes, times: Lanes | None) -> Lanes:
    return value if times is None else value * times


def _sigmoid(x: Lanes, times: Lanes | None = None) -> Lanes:
    # σ(x) = e^x/(1 + e^x): no sign split (e^200 is finite in float64), and the relative
    # error of the exp passes to σ damped by 1/(1 + e^x) ≤ 1. No operation negates the
    # argument, so a NaN keeps its sign bit, as on the NumPy path.
    e = exp_lean(clamp(x).wide())
    return _over(_scaled(e, times), e + 1.0)


def _sigmoid_complement(x: Lanes, times: Lanes | None = None) -> Lanes:
    numerator = 1.0 if times is None else times
    return _over(numerator, exp_lean(clamp(x).wide()) + 1.0)


def _sigmoid_grad(x: Lanes, times: Lanes | None = None) -> Lanes:
    e = exp_lean(clamp(x).wide())
    d = e + 1.0
    return _over(_scaled(e, times), d * d)


def _silu(x: Lanes) -> Lanes:
    # c·e^c/(1 + e^c) with c = x clamped (−∞ gives −0.0, not −∞·0), and x itself beyond BIG
    # (silu(x) = x there in float32): one widening of the input instead of two.
    c = clamp(x).wide()
    e = exp_lean(c)
    return where(x > BIG, x, _over(c * e, e + 1.0).to(x.element))


def _swish_grad_of_clamped(c: Lanes, times: Lanes | None) -> Lanes:
    # σ(c)(1 + c·σ(−c)) = e^c(e^c + 1 + c)/(1 + e^c)²: one division. e^c + (1 + c) cancels
    # near the root of silu′ (c ≈ −1.2785): there the exp must be good to ~1e−11, which
    # exp_silu_root is at that point; 1 + c is exact.
    e = exp_silu_root(c)
    d = e + 1.0
    return _over((e + (c + 1.0)) * _scaled(e, times), d * d)


def _silu_grad(x: Lanes, times: Lanes | None = None) -> Lanes:
    return _swish_grad_of_clamped(clamp(x).wide(), times)


def _at_infinity(x: Lanes, r: Lanes, lo: Lanes, hi: Lanes, times: Lanes | None) -> Lanes:
    """r, or the limit lo/hi (times g) where x is −∞/+∞: for the β loops, whose
    βx·(something) cannot give the limits for every β. NaN has already propagated through
    the formula."""
    infinite = (x == float("inf")) | (x == float("-inf"))
    return where(infinite, _scaled(where(x > 0, hi, lo), times), r)


def _swish(x: Lanes, beta: Lanes, lo: Lanes, hi: Lanes) -> Lanes:
    w = x.wide()
    e = exp_lean(clamp(beta * w))
    return _at_infinity(x, _over(w * e, e + 1.0), lo, hi, None)


def _swish_grad(x: Lanes, beta: Lanes, lo: Lanes, hi: Lanes, times: Lanes | None = None) -> Lanes:
    r = _swish_grad_of_clamped(clamp(beta * x.wide()), times)
    return _at_infinity(x, r, lo, hi, times)


def _softplus(x: Lanes, beta: Lanes, inv_beta: Lanes) -> Lanes:
    # max(x, 0) + log1p(e^−|βx|)/β. The formula negates βx, which would flip a NaN's sign
    # bit: a NaN input is returned as it is, as on the NumPy path.
    w = x.wide()
    u = exp_lean(clamp(-abs(beta * w)))
    value = where(w > 0, w, 0.0) + log1p_lean(u) * inv_beta
    return where(x == x, value.to(x.element), x)


def _softplus_grad(x: Lanes, beta: Lanes, times: Lanes | None = None) -> Lanes:
    e = exp_lean(clamp(beta * x.wide()))
    return _over(_scaled(e, times), e + 1.0)


def _tanh(x: Lanes) -> Lanes:
    # tanh x = m/(m + 2), m = e^(2x) − 1: a ratio without cancellation on either side (m
    # keeps its relative accuracy as x → 0; m + 2 ≥ 1), so no sign split: no |x| and no
    # copy of the sign, 0.94–0.99× the time of the split over 2^25 (`python
    # benchmarks/ab.py a15fe21 --cases tanh --rounds 11`). The formula gives +0.0 for both
    # zeros: the sign is x's, copied (one operation where a comparison and a selection
    # were: with the product 2·x folded into the reduction and 2^(k+1) from the shift,
    # 0.92× the time in cache, `python benchmarks/dependency_chains.py` before and after;
    # 0.96× over 2^25, `python benchmarks/ab.py 297d3fb --cases tanh`). A NaN stays NaN.
    w = clamp(x, TANH_BIG).wide()
    u, s2 = expm1_twice_parts(w)
    m = s2.fma(u, s2.fma(0.5, -1.0))
    return _over(m, m + 2.0).to(x.element).copysign(x)


def _elu_grad(x: Lanes, alpha: Lanes, times: Lanes | None = None) -> Lanes:
    # e^min(x, 0) is 1 for x > 0, so the select only picks the factor (1 or α).
    e = exp_lean(clamp(where(x > 0, 0.0, x)).wide())
    return _scaled(where(x > 0, e, alpha * e), times)


def _times(derivative):
    """The product g·f′(x) of a derivative formula (g widened and folded in by the formula,
    one rounding at the store)."""

    def product(x: Lanes, g: Lanes, *params: Lanes) -> Lanes:
        return derivative(x, *params, times=g.wide())

    return product


sigmoid_span = span_map(_sigmoid, inputs=1, scalars=0, lines=2)
sigmoid_complement_span = span_map(_sigmoid_complement, inputs=1, scalars=0, lines=2)
sigmoid_grad_span = span_map(_sigmoid_grad, inputs=1, scalars=0, lines=2)
silu_span = span_map(_silu, inputs=1, scalars=0, lines=2)
silu_grad_span = span_map(_silu_grad, inputs=1, scalars=0, lines=2)
swish_span = span_map(_swish, inputs=1, scalars=3, lines=2)
swish_grad_span = span_map(_swish_grad, inputs=1, scalars=3, lines=2)
softplus_span = span_map(_softplus, inputs=1, scalars=2)
softplus_grad_span = span_map(_softplus_grad, inputs=1, scalars=1, lines=2)
elu_grad_span = span_map(_elu_grad, inputs=1, scalars=1, lines=2)
tanh_span = span_map(_tanh, inputs=1, scalars=0, lines=2)
sigmoid_times_span = span_map(_times(_sigmoid), inputs=2, scalars=0, lines=2)
sigmoid_complement_times_span = span_map(_times(_sigmoid_complement), inputs=2, scalars=0, lines=2)
sigmoid_grad_times_span = span_map(_times(_sigmoid_grad), inputs=2, scalars=0, lines=2)
silu_grad_times_span = span_map(_times(_silu_grad), inputs=2, scalars=0, lines=2)
swish_grad_times_span = span_map(_times(_swish_grad), inputs=2, scalars=3, lines=2)
softplus_grad_times_span = span_map(_times(_softplus_grad), inputs=2, scalars=1, lines=2)
elu_grad_times_span = span_map(_times(_elu_grad), inputs=2, scalars=1, lines=2)


# The kernels, one per map, written out (numba's disk cache needs module-level functions):
# f(x) is ``NAME_f(x, out, stream, p, lo, hi)``, g·f′(x) ``NAME_vjp(x, g, out, stream, p,
# lo, hi)``, as the dispatch calls them; p is the parameter (β or α), lo/hi the limits at
# ∓∞. Each splits the array into chunks of ``CHUNK`` elements over the threads.


@njit(**PARALLEL)
def sigmoid_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def sigmoid_complement_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_complement_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def sigmoid_grad_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def silu_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        silu_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def silu_grad_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        silu_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def swish_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        swish_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, p, lo, hi)


@njit(**PARALLEL)
def swish_grad_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        swish_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, p, lo, hi)


@njit(**PARALLEL)
def softplus_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    inv = 1.0 / p
    for c in prange((n + CHUNK - 1) // CHUNK):
        softplus_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, p, inv)


@njit(**PARALLEL)
def softplus_grad_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        softplus_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, p)


@njit(**PARALLEL)
def elu_grad_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        elu_grad_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, p)


@njit(**PARALLEL)
def tanh_f(x, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        tanh_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x)


@njit(**PARALLEL)
def sigmoid_vjp(x, g, out, stream, p, lo, hi):
    """g·σ(x): softplus′ with β = 1."""
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def sigmoid_complement_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_complement_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def sigmoid_grad_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        sigmoid_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def silu_grad_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        silu_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g)


@njit(**PARALLEL)
def swish_grad_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        swish_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g, p, lo, hi)


@njit(**PARALLEL)
def softplus_grad_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        softplus_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g, p)


@njit(**PARALLEL)
def elu_grad_vjp(x, g, out, stream, p, lo, hi):
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        elu_grad_times_span(out, c * CHUNK, min(n, c * CHUNK + CHUNK), stream, x, g, p)
