"""Integers that order like floats, so that a row max vectorises (numba intrinsics).

A float max written with selects does not vectorise without fast-math flags, which the
exact arithmetic around it must not get; an integer max does. The key of a float is its
bits with the magnitude bits flipped when the sign is set: keys then order as the floats
do, −0.0 just below +0.0 and a positive NaN above +∞. The map is its own inverse.
"""

from __future__ import annotations

from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import KERNEL

_KEY_OF = {types.float32: types.int32, types.float64: types.int64}
_FLOAT_OF = {key: value for value, key in _KEY_OF.items()}


def flip(builder, bits):
    """bits ^ ((bits >> (w − 1)) & (2^(w−1) − 1)) for an integer or a vector of integers of
    w bits (an arithmetic shift by w − 1 is a compare with 0 on AVX2)."""
    from llvmlite import ir

    kind = bits.type
    element = kind.element if isinstance(kind, ir.VectorType) else kind

    def constant(value: int) -> ir.Constant:
        if kind is element:
            return ir.Constant(kind, value)
        return ir.Constant(kind, [ir.Constant(element, value)] * kind.count)

    sign = builder.ashr(bits, constant(element.width - 1))
    return builder.xor(bits, builder.and_(sign, constant((1 << (element.width - 1)) - 1)))


@intrinsic
def order_key(typingctx, v):
    """The int32 (int64) key of the float32 (float64) v."""
    if v not in _KEY_OF:
        return None
    key = _KEY_OF[v]

    def gen(context, builder, signature, args):
        return flip(builder, builder.bitcast(args[0], context.get_value_type(key)))

    return key(v), gen


@intrinsic
def from_key(typingctx, k):
    """The float32 (float64) whose ``order_key`` is the int32 (int64) k."""
    if k not in _FLOAT_OF:
        return None
    value = _FLOAT_OF[k]

    def gen(context, builder, signature, args):
        return builder.bitcast(flip(builder, args[0]), context.get_value_type(value))

    return value(k), gen


@intrinsic
def lowest_key(typingctx, row):
    """The smallest key of ``row``'s dtype (that of the NaN with every bit set)."""
    if not isinstance(row, types.Array) or row.dtype not in _KEY_OF:
        return None
    key = _KEY_OF[row.dtype]

    def gen(context, builder, signature, args):
        from llvmlite import ir

        return ir.Constant(context.get_value_type(key), -(1 << (key.bitwidth - 1)))

    return key(row), gen


@njit(**KERNEL)
def max_key(row):
    """The largest key in ``row`` (an integer max: it vectorises)."""
    k = lowest_key(row)
    for j in range(row.shape[0]):
        v = order_key(row[j])
        k = v if v > k else k
    return k


@njit(**KERNEL)
def first_max(x, r0):
    """The max of row r0 of x, which starts a chunk (later rows get theirs from the row
    before, inside its exp loop). Meaningless for a row holding NaN (it is flagged)."""
    return from_key(max_key(x[r0]))
