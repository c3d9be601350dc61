"""The float64 exp of the row kernels: e^(x − m) for x ≤ m, lean, rounded once to float64
(within 0.95 ULP, 0.70·2^−52 relative).

The row kernels (softmax, log_softmax, cross-entropy) only ever exponentiate d = x − m ≤ 0,
so this exp needs no overflow handling, and its result is returned scaled by 2^64: then it
is a normal number for every d it keeps (≥ −746), one power of two serves as the scale, and
the rounding to a subnormal (where y = e/S is one) happens in the caller's final
division by S·2^64. NaN propagates (the kernels flag a row whose sum is NaN). Per element:

* the exact difference hi + lo = x − m (TwoSum: x − m itself can be off by half an ULP of
  d, i.e. |d|·2^−53 relative to e^d, ~370 ULP for d ≈ −745);
* a Cody-Waite reduction hi = k·ln2 + r (k·LN2_HI exact), lo folded into r;
* a degree-10 polynomial for (e^r − 1 − r)/r², |r| ≤ ln2/2 (Chebyshev-fitted: 3e−19
  relative), e^r = 1 + (r + r²·P(r)), scaled by 2^(k+64) with one integer add and shift.

About 32 float64 operations. The loops that call it are bound by how many operations the
core holds in flight (each element's chain of dependent operations is long), so their
count sets the speed: an earlier version kept e^r as an exact pair (its rounding errors
recovered, 0.12 ULP as a pair, about 44 operations and a second store per element), and
float64 softmax, log_softmax and the cross-entropy took 1.3–1.5× their time now
(docs/performance.md). The relative error is at most 0.70·2^−52 (``tests/test_rows64.py``
holds it there, the ends of the reduction included), largest where e^r ≈ 0.71: there the
final rounding costs up to 0.35·2^−52, the roundings of r + r²·P and of r up to 0.18 and
0.13·2^−52, the polynomial the rest (near e^r = 1 the final rounding's 0.5·2^−52 is nearly
all). It bounds softmax to 3.3 ULP and log_softmax and the cross-entropy to 1.9 ULP
(docs/softmax.md), within their bars of 4 and 2.
"""

from __future__ import annotations

from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import LN2_HI, LN2_LO, SCALAR

_INV_LN2 = 1.4426950408889634
_SHIFT = 6755399441055744.0  # 1.5·2^52: t = d/ln2 + SHIFT holds round(d/ln2) in its low bits
_SHIFT_BITS = 0x4338000000000000
# Below: e^d < 2^−1076, which rounds to 0 in every output (scaled by at most 2^−64·2^64).
LOW = -746.0
# The lowest floor of the lane exp: to −752.5, k ≥ −1086 and 2^(k + 64) stays normal.
FLOOR_LIMIT = -752.5
# The far entries' argument under a floor: its k = −1087 makes 2^(k + 64) of bits 0, +0
# (as float32's ``_ZERO_AT``).
_ZERO_AT = -753.5
# (e^r − 1 − r)/r² interpolated at the 11 Chebyshev nodes of [−ln2/2, ln2/2] (mpmath, 50
# digits), rounded to float64: 3.4e−19 relative error in 1 + r + r²P(r), measured.
_P = (
    0.5,
    0.1666666666666667,
    0.04166666666666667,
    0.008333333333326141,
    0.0013888888888883752,
    0.00019841269874800493,
    2.4801587325533363e-05,
    2.7557255425746435e-06,
    2.7557273661348637e-07,
    2.510520637395701e-08,
    2.0914679376583935e-09,
)

# What the pair is scaled by: e^d·2^64 = (q + q_lo)·2^(k+64).
SCALE_BITS = 64
UNSCALE = 2.0**-SCALE_BITS


@intrinsic
def _pow2_scaled(typingctx, t):
    """2^(k + 64) for the k ∈ [−1077, 0] held in the shifted value t (one integer add, one
    shift: the exponent field is k + 64 + 1023)."""

    def gen(context, builder, signature, args):
        from llvmlite import ir

        i64 = ir.IntType(64)
        bits = builder.bitcast(args[0], i64)
        biased = builder.sub(bits, ir.Constant(i64, _SHIFT_BITS - 1023 - SCALE_BITS))
        return builder.bitcast(builder.shl(biased, ir.Constant(i64, 52)), ir.DoubleType())

    return types.float64(types.float64), gen


@njit(**SCALAR)
def exp_neg_d(x, neg_m):
    """e^(x − m)·2^64 for float64 x ≤ m (``neg_m`` = −m), finite, within 0.70·2^−52 relative.

    Differences below −746 (and −∞) give e^−746·2^64, which rounds to 0 in every output
    (callers that sum such entries into τ zero them); x = m gives exactly 2^64; NaN gives
    NaN, and so does +∞ − ∞.
    """
    hi = x + neg_m
    bv = hi - x
    av = hi - bv
    lo = (x - av) + (neg_m - bv)
    far = hi < LOW
    h = LOW if far else hi
    lo = 0.0 if far else lo  # −∞ entries: lo would be NaN (−∞ − −∞)
    t = h * _INV_LN2 + _SHIFT
    kf = t - _SHIFT
    r = (h - kf * LN2_HI) + (lo - kf * LN2_LO)  # the first term exact, the second < 2.1e−7
    # The polynomial's terms from r³ on by Estrin's scheme, the last three by Horner's: a
    # shorter chain of dependent FMAs than Horner's throughout, with Horner's rounding in
    # the last steps (which dominate it).
    r2 = r * r
    r4 = r2 * r2
    high = ((_P[3] + _P[4] * r) + (_P[5] + _P[6] * r) * r2) + (
        (_P[7] + _P[8] * r) + (_P[9] + _P[10] * r) * r2
    ) * r4
    p = _P[2] + r * high
    p = _P[1] + r * p
    p = _P[0] + r * p
    return (1.0 + (r + r2 * p)) * _pow2_scaled(t)


def exp_neg_lanes(x, neg_m, floor=None):
    """``exp_neg_d`` on a vector of lanes (``_vecmap.Lanes``), for kernels written in LLVM IR
    (``_lane_softmax``): the same operations in the same order, with an FMA wherever LLVM
    fuses exp_neg_d's products into its sums, so the results agree bit for bit
    (``tests/test_rows_short.py``). With ``floor`` (down to ``FLOOR_LIMIT``) the entries
    below ``floor`` instead of ``LOW`` are far, and give exactly 0 (``_ZERO_AT``)."""
    from ._vecmap import power_of_two, where

    hi = x + neg_m
    bv = hi - x
    av = hi - bv
    lo = (x - av) + (neg_m - bv)
    far = hi < (LOW if floor is None else floor)
    h = where(far, LOW if floor is None else _ZERO_AT, hi)
    lo = where(far, 0.0, lo)
    t = h.fma(_INV_LN2, _SHIFT)
    neg_kf = -(t - _SHIFT)
    r = neg_kf.fma(LN2_HI, h) + neg_kf.fma(LN2_LO, lo)
    r2 = r * r
    r4 = r2 * r2
    low_pair = r.fma(_P[6], _P[5]).fma(r2, r.fma(_P[4], _P[3]))
    high_pair = r.fma(_P[10], _P[9]).fma(r2, r.fma(_P[8], _P[7]))
    p = r.fma(high_pair.fma(r4, low_pair), _P[2])
    p = r.fma(p, _P[1])
    p = r.fma(p, _P[0])
    return (r2.fma(p, r) + 1.0) * power_of_two(t, _SHIFT_BITS - 1023 - SCALE_BITS)
