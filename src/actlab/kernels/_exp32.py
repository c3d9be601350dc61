"""A float32-arithmetic exp for the float32 row kernels (8 lanes per AVX2 register, twice
the float64 rate), accurate enough for their bars.

e^(x − m) for float32 x and row max m, computed from the exact difference hi + lo (a float32
TwoSum), a Cody-Waite reduction hi = k·ln2 + r whose rounding error is carried in r_lo, and
Cephes' degree-5 minimax polynomial for expm1(r)/r² terms (|r| ≤ ln2/2):

    e^(hi+lo) = 2^k·(1 + r + (r_lo + r²·P(r)))

The result is an unevaluated pair of float32 values (the roundings of the last additions are
recovered by Fast2Sum), good to under a quarter of a float32 ULP (measured in
tests/test_kernels.py): the row kernels add the pair in float64 and round once. Every
constant is a float32 (a Python float would promote the whole expression to float64). 2^k
is built in int32 (two factors, so that subnormal results round once).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import SCALAR

F = np.float32
_INV_LN2 = F(1.4426950408889634)
_SHIFT = F(12582912.0)  # 1.5·2^23: t = x/ln2 + SHIFT holds round(x/ln2) in its low bits
_LN2_HI = F(0.693145751953125)  # 8 trailing zero bits: k·_LN2_HI is exact for |k| < 2^8
_LN2_LO = F(1.428606765330187e-06)
_LOW = F(-104.0)  # below: e^x < 2^−150 rounds to 0 in float32
_ZERO = F(0.0)
_ONE = F(1.0)
_P0 = F(1.9875691500e-4)
_P1 = F(1.3981999507e-3)
_P2 = F(8.3334519073e-3)
_P3 = F(4.1665795894e-2)
_P4 = F(1.6666665459e-1)
_P5 = F(5.0000001201e-1)


def _pow2_codegen(half: bool):
    def gen(context, builder, signature, args):
        from llvmlite import ir

        i32 = ir.IntType(32)
        bits = builder.bitcast(args[0], i32)
        k = builder.sub(bits, ir.Constant(i32, 0x4B400000))  # the bits of _SHIFT
        k1 = builder.ashr(k, ir.Constant(i32, 1))
        kk = k1 if half else builder.sub(k, k1)
        out = builder.shl(builder.add(kk, ir.Constant(i32, 127)), ir.Constant(i32, 23))
        return builder.bitcast(out, ir.FloatType())

    return gen


@intrinsic
def _pow2_a(typingctx, t):
    """2^(k >> 1) for the k held in the shifted value t."""
    return types.float32(types.float32), _pow2_codegen(True)


@intrinsic
def _pow2_b(typingctx, t):
    """2^(k − (k >> 1))."""
    return types.float32(types.float32), _pow2_codegen(False)


@njit(**SCALAR)
def exp_diff_f32(x, m):
    """e^(x − m) for float32 x ≤ m as an unevaluated float32 pair eh + el (NaN, not a value,
    when x − m is NaN or −∞: the row kernels flag such rows).

    The pair is good to < 0.25 float32 ULP, typically 0.005 (subnormal results: within one
    subnormal ULP); the caller adds the two in float64 and rounds once.
    """
    hi = x - m
    bv = hi - x
    av = hi - bv
    lo = (x - av) + (-m - bv)
    h = hi if hi > _LOW else _LOW
    t = h * _INV_LN2 + _SHIFT
    kf = t - _SHIFT
    r1 = h - kf * _LN2_HI  # exact
    small = lo - kf * _LN2_LO
    r = r1 + small
    r_lo = (r1 - r) + small  # Fast2Sum: |r1| ≥ |small|
    p = _P0
    p = p * r + _P1
    p = p * r + _P2
    p = p * r + _P3
    p = p * r + _P4
    p = p * r + _P5
    tail = r_lo + (r * r) * p
    s1 = r + tail
    s1_lo = (r - s1) + tail  # Fast2Sum: |r| ≥ |tail|
    q = _ONE + s1
    q_lo = ((_ONE - q) + s1) + s1_lo  # Fast2Sum: 1 ≥ |s1|
    a = _pow2_a(t)
    b = _pow2_b(t)
    # Far below the max: 0. NaN, ±∞ or an overflowing x − m: hi·0 is NaN, for the caller.
    keep = hi > _LOW
    eh = (q * a) * b
    el = (q_lo * a) * b
    zero = hi * _ZERO
    return (eh if keep else zero), (el if keep else zero)
