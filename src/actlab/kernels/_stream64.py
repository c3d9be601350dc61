"""Streamed output passes of the float64 row kernels, as ``_stream``'s vector intrinsics:

* ``store_shifted_pair``: z = x − (Mh + Ml) with M = m + log1p(τ) as a pair made once per
  row: one TwoSum per entry, where (x − m) − (big + corr) needs two;
* ``store_pair_scaled_at``: the cross-entropy gradient with its target entry in the pass.

None of them fences: the kernels call ``fence`` once per chunk of rows, before the chunk's
work is reported done (a fence per row waits each time for the write-combining buffers to
drain: 65536 times for the benchmark's cross-entropy). Only whole lines are streamed
(``streamed_range``): the lines at a row's ends, shared with the rows beside it, get
ordinary stores only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import KERNEL
from ._stream import LANES, _load8_d, _store_nt_d, _two_sum, splat, streamed_range


def _llvm():
    from llvmlite import ir

    return ir


@intrinsic
def shifted_pair8(typingctx, dst, j, x, neg_mh, neg_ml):
    """dst[j:j+8] = x − (Mh + Ml), rounded once: x − Mh an exact TwoSum, Ml added to its
    error (an x − Mh that overflows to −∞, or an x of −∞, gives −∞); dst + j must be
    32-byte aligned."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        v = _load8_d(context, builder, signature.args[2], args[2], args[1])
        s, err = _two_sum(builder, v, splat(builder, args[3], v.type))
        z = builder.fadd(s, builder.fadd(err, splat(builder, args[4], v.type)))
        inf = splat(builder, ir.Constant(ir.DoubleType(), float("-inf")), v.type)
        z = builder.select(builder.fcmp_ordered(">", s, inf), z, s)
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], z)
        return context.get_dummy_value()

    return types.none(dst, j, x, neg_mh, neg_ml), gen


@njit(**KERNEL)
def _shifted_pair(v, neg_mh, neg_ml):
    s = v + neg_mh
    bv = s - v
    z = s + (((v - (s - bv)) + (neg_mh - bv)) + neg_ml)
    return z if s > -math.inf else s


@njit(**KERNEL)
def store_shifted_pair(x, neg_mh, neg_ml, dst):
    """dst = x − (Mh + Ml) (``shifted_pair8``), streamed to memory."""
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    for j in range(start):
        dst[j] = _shifted_pair(x[j], neg_mh, neg_ml)
    for i in range((stop - start) // LANES):
        shifted_pair8(dst, start + LANES * i, x, neg_mh, neg_ml)
    for j in range(stop, n):
        dst[j] = _shifted_pair(x[j], neg_mh, neg_ml)


@intrinsic
def pair_scaled_at8(typingctx, dst, j, eh, el, c, t, value):
    """dst[j:j+8] = (eh + el)[j:j+8]·c in float64, except dst[t] = ``value`` (the
    cross-entropy gradient's target entry, written in the streamed pass: an ordinary store
    after it would read the line back from memory); dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        i64 = ir.IntType(64)
        d8 = ir.VectorType(ir.DoubleType(), LANES)
        hi = _load8_d(context, builder, signature.args[2], args[2], args[1])
        lo = _load8_d(context, builder, signature.args[3], args[3], args[1])
        y = builder.fmul(builder.fadd(hi, lo), splat(builder, args[4], d8))
        i8 = ir.VectorType(i64, LANES)
        index = builder.add(splat(builder, args[1], i8), ir.Constant(i8, list(range(LANES))))
        at = builder.icmp_signed("==", index, splat(builder, args[5], i8))
        y = builder.select(at, splat(builder, args[6], d8), y)
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], y)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, c, t, value), gen


@njit(**KERNEL)
def store_pair_scaled_at(eh, el, c, t, value, dst):
    """dst = (eh + el)·c except dst[t] = value, streamed (``pair_scaled_at8``)."""
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    at = np.int64(t)
    for j in range(start):
        dst[j] = value if j == t else (eh[j] + el[j]) * c
    for i in range((stop - start) // LANES):
        pair_scaled_at8(dst, start + LANES * i, eh, el, c, at, value)
    for j in range(stop, n):
        dst[j] = value if j == t else (eh[j] + el[j]) * c
