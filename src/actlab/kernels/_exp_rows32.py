"""The float32 exp of the row kernels: e^(x − m) for x ≤ m, lean, as an exact float32 pair.

The row kernels (softmax, log_softmax, logsumexp, cross-entropy) only ever exponentiate
d = x − m ≤ 0, so this exp needs no overflow handling. NaN propagates (the kernels flag a
row whose sum is NaN). Per element:

* the exact difference hi + lo = x − m (a float32 TwoSum: x − m itself can be off by
  |d|·2^−24 relative, i.e. up to ~50 ULP of the result for d ≈ −100);
* a Cody-Waite reduction hi = k·ln2 + r (k·LN2_HI exact), lo folded into r;
* Cephes' degree-5 minimax polynomial for (e^r − 1 − r)/r², |r| ≤ ln2/2;
* e^r = 1 + r + r²P(r) kept as a pair: 1 + r by Fast2Sum, with the small tail added to its
  error term (one rounding, at the scale of the tail: ~2^−29 relative). Rounding
  1 + r + tail to one float32 would cost half an ULP that the final rounding cannot afford;
* the result scaled by 2^(k+32), a normal float32 for every k in [−150, 0] (q·2^(k+32) ≥
  0.7·2^−118), so the high part is exact; the caller removes the 2^32 in float64.

About 27 float32 operations, 8 lanes per AVX2 register. The pair is good to ~0.27 ULP of
float32 (the rounding of r and the polynomial; ``exp_floor`` rounds it once: ≤ 0.77 ULP
measured); softmax rounds once more when it scales (≤ 0.85 ULP measured, bar 2:
tests/test_softmax_accuracy.py and the full audit).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import SCALAR

F = np.float32
_INV_LN2 = F(1.4426950408889634)
_SHIFT = F(12582912.0)  # 1.5·2^23: t = d/ln2 + SHIFT holds round(d/ln2) in its low bits
_SHIFT_BITS = 0x4B400000  # _SHIFT's bits
_LN2_HI = F(0.693145751953125)  # 8 trailing zero bits: k·_LN2_HI is exact for |k| < 2^8
_LN2_LO = F(1.428606765330187e-06)
LOW = F(-104.0)  # below: e^d < 2^−150, 0 in float32
# The lowest floor of the lane exp: to −109.5, k ≥ −158 and 2^(k + 32) stays normal.
FLOOR_LIMIT = -109.5
# The far entries' argument under a floor: its k = −159 makes 2^(k + 32) of bits 0
# (``power_of_two``: (k + 159) shifted into the exponent field), +0, so that e = q·0 = 0
# with no selection of its own (a selection per entry took float32 log_softmax of rows of
# 10 1.03× the time).
_ZERO_AT = -110.25
_ONE = F(1.0)
_ZERO = F(0.0)
_P0 = F(1.9875691500e-4)
_P1 = F(1.3981999507e-3)
_P2 = F(8.3334519073e-3)
_P3 = F(4.1665795894e-2)
_P4 = F(1.6666665459e-1)
_P5 = F(5.0000001201e-1)

# What the pair is scaled by: e^d·2^32 = (q + q_lo)·2^(k+32).
SCALE_BITS = 32
UNSCALE = 2.0**-SCALE_BITS


@intrinsic
def _pow2_scaled(typingctx, t):
    """2^(k + 32) for the k ∈ [−150, 0] held in the shifted value t (one integer add, one
    shift: the exponent field is k + 32 + 127)."""

    def gen(context, builder, signature, args):
        from llvmlite import ir

        i32 = ir.IntType(32)
        bits = builder.bitcast(args[0], i32)
        biased = builder.sub(bits, ir.Constant(i32, _SHIFT_BITS - 127 - SCALE_BITS))
        return builder.bitcast(builder.shl(biased, ir.Constant(i32, 23)), ir.FloatType())

    return types.float32(types.float32), gen


@njit(**SCALAR)
def exp_neg_pair(x, neg_m):
    """(eh, el) with eh + el = e^(x − m)·2^32 for float32 x ≤ m (``neg_m`` = −m), finite.

    Differences below −104 (and −∞) give e^−104·2^32, which is 0 once unscaled and rounded
    to float32 (callers that sum such entries into τ zero them); NaN gives NaN.
    """
    hi = x + neg_m
    bv = hi - x
    av = hi - bv
    lo = (x - av) + (neg_m - bv)
    far = hi < LOW
    h = LOW if far else hi
    # Beyond LOW, lo is not small (x − m's rounding error is −m itself where |x| ≫ |m|): the
    # polynomial would take r ≈ −m and the result could turn negative. It is dropped there.
    lo = _ZERO if far else lo
    t = h * _INV_LN2 + _SHIFT
    kf = t - _SHIFT
    r1 = h - kf * _LN2_HI  # exact
    r = r1 + (lo - kf * _LN2_LO)
    p = _P0
    p = p * r + _P1
    p = p * r + _P2
    p = p * r + _P3
    p = p * r + _P4
    p = p * r + _P5
    # e^r = 1 + r + tail as the pair (q, q_lo): 1 + r rounds, its error is recovered exactly
    # (Fast2Sum, 1 ≥ |r|) and the tail (≤ 0.06) joins it in the low part with one rounding.
    tail = (r * r) * p
    q = _ONE + r
    q_lo = ((_ONE - q) + r) + tail
    a = _pow2_scaled(t)
    return q * a, q_lo * a


def exp_neg_pair_lanes(x, neg_m, floor=None):
    """``exp_neg_pair`` on a vector of float32 lanes (``_vecmap.Lanes``), for kernels written
    in LLVM IR (``_lane_softmax``): the same operations in the same order, with an FMA
    wherever LLVM fuses exp_neg_pair's products into its sums, so the pairs agree bit for
    bit (``tests/test_rows_short.py``). With ``floor`` (down to ``FLOOR_LIMIT``) the entries
    below ``floor`` instead of ``LOW`` are far, and give exactly 0 (``_ZERO_AT``)."""
    from ._vecmap import power_of_two, where

    hi = x + neg_m
    bv = hi - x
    av = hi - bv
    lo = (x - av) + (neg_m - bv)
    far = hi < (float(LOW) if floor is None else floor)
    h = where(far, float(LOW) if floor is None else _ZERO_AT, hi)
    lo = where(far, 0.0, lo)
    t = h.fma(float(_INV_LN2), float(_SHIFT))
    neg_kf = -(t - float(_SHIFT))
    r = neg_kf.fma(float(_LN2_HI), h) + neg_kf.fma(float(_LN2_LO), lo)
    p = r.fma(float(_P0), float(_P1))
    for c in (_P2, _P3, _P4, _P5):
        p = p.fma(r, float(c))
    q = r + 1.0
    q_lo = (r * r).fma(p, (-q + 1.0) + r)
    a = power_of_two(t, _SHIFT_BITS - 127 - SCALE_BITS)
    return q * a, q_lo * a
