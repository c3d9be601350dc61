"""Streaming (non-temporal) stores for the last pass of the row kernels.

A kernel's output is written once and not read again by the kernel. An ordinary store
first reads the destination's cache line from memory (a read-for-ownership), so a softmax
over a large array moves three array-sizes through memory (read x, read and write out).
A non-temporal store writes the line without reading it: two array-sizes, as a copy.

numba cannot mark a store non-temporal, and LLVM only emits the AVX store (vmovntps) for an
aligned 8-wide vector, so these intrinsics build that vector in LLVM IR directly: load
8 values, compute in float64, round to float32, store 32-byte-aligned with !nontemporal.
The kernels store a row's first and last few elements with ordinary stores
(``head``/``body`` below) so that every vector store is aligned.
"""

from __future__ import annotations

import platform

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import KERNEL

LANES = 8


def _llvm():
    from llvmlite import ir

    return ir


def _splat(builder, value, vector_type):
    ir = _llvm()
    out = ir.Constant(vector_type, ir.Undefined)
    for i in range(vector_type.count):
        out = builder.insert_element(out, value, ir.Constant(ir.IntType(32), i))
    return out


def _load8(context, builder, array_type, array, index, element):
    ir = _llvm()
    data = context.make_array(array_type)(context, builder, array).data
    vector = ir.VectorType(element, LANES).as_pointer()
    return builder.load(builder.bitcast(builder.gep(data, [index]), vector), align=4)


def _store_nt(context, builder, array_type, array, index, value):
    ir = _llvm()
    data = context.make_array(array_type)(context, builder, array).data
    pointer = builder.bitcast(builder.gep(data, [index]), value.type.as_pointer())
    store = builder.store(value, pointer, align=32)
    store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))


@intrinsic
def head(typingctx, dst):
    """How many elements from ``dst``'s start to its first 32-byte boundary; for an array
    not aligned to its element size (a NumPy view into a byte buffer can be), 2^62: the
    callers then store every element the ordinary way."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        i64 = ir.IntType(64)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        address = builder.ptrtoint(data, i64)
        gap = builder.and_(builder.sub(ir.Constant(i64, 0), address), ir.Constant(i64, 31))
        size = signature.args[0].dtype.bitwidth // 8
        odd = builder.icmp_unsigned(
            "!=", builder.and_(address, ir.Constant(i64, size - 1)), ir.Constant(i64, 0)
        )
        return builder.select(
            odd, ir.Constant(i64, 2**62), builder.udiv(gap, ir.Constant(i64, size))
        )

    return types.int64(dst), gen


def _pair_scaled(context, builder, signature, args):
    """(eh + el)[j:j+8]·c in float64, from arguments (dst, j, eh, el, c, ...)."""
    ir = _llvm()
    d8 = ir.VectorType(ir.DoubleType(), LANES)
    f32 = ir.FloatType()
    hi = builder.fpext(_load8(context, builder, signature.args[2], args[2], args[1], f32), d8)
    lo = builder.fpext(_load8(context, builder, signature.args[3], args[3], args[1], f32), d8)
    return builder.fmul(builder.fadd(hi, lo), _splat(builder, args[4], d8))


@intrinsic
def pair_scaled8(typingctx, dst, j, eh, el, c):
    """dst[j:j+8] = float32((eh + el)[j:j+8]·c), the pair added and scaled in float64;
    dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        y = _pair_scaled(context, builder, signature, args)
        y32 = builder.fptrunc(y, ir.VectorType(ir.FloatType(), LANES))
        _store_nt(context, builder, signature.args[0], args[0], args[1], y32)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, c), gen


@intrinsic
def shifted8(typingctx, dst, j, x, m, big):
    """dst[j:j+8] = float32((x[j:j+8] − m) − big) in float64 (x − m exact: two float32);
    dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        d8 = ir.VectorType(ir.DoubleType(), LANES)
        f32 = ir.FloatType()
        v = builder.fpext(_load8(context, builder, signature.args[2], args[2], args[1], f32), d8)
        z = builder.fsub(v, _splat(builder, args[3], d8))
        z = builder.fsub(z, _splat(builder, args[4], d8))
        z32 = builder.fptrunc(z, ir.VectorType(f32, LANES))
        _store_nt(context, builder, signature.args[0], args[0], args[1], z32)
        return context.get_dummy_value()

    return types.none(dst, j, x, m, big), gen


@intrinsic
def pair_scaled_top8(typingctx, dst, j, eh, el, c, row, m, top):
    """``pair_scaled8`` where row[j] == m takes the value ``top`` instead (the row's maxima,
    whose exponentials the τ pass left at 0)."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        f32 = ir.FloatType()
        y = _pair_scaled(context, builder, signature, args)
        v = _load8(context, builder, signature.args[5], args[5], args[1], f32)
        is_top = builder.fcmp_ordered("==", v, _splat(builder, args[6], ir.VectorType(f32, LANES)))
        y = builder.select(is_top, _splat(builder, args[7], y.type), y)
        y32 = builder.fptrunc(y, ir.VectorType(f32, LANES))
        _store_nt(context, builder, signature.args[0], args[0], args[1], y32)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, c, row, m, top), gen


_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def fence_ir(builder) -> None:
    """Streaming stores are weakly ordered: make them visible before the work is reported
    done (and before an ordinary store to the same lines). SFENCE on x86-64, where it is the
    instruction for exactly this (an MFENCE costs ~3× more per row); elsewhere a full
    fence in portable LLVM IR."""
    if _X86_64:
        ir = _llvm()
        fnty = ir.FunctionType(ir.VoidType(), [])
        builder.call(builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=fnty), [])
    else:
        builder.fence("seq_cst")


@intrinsic
def fence(typingctx):
    """``fence_ir`` for the row kernels."""

    def gen(context, builder, signature, args):
        fence_ir(builder)
        return context.get_dummy_value()

    return types.none(), gen


@njit(**KERNEL)
def store_pair_scaled(eh, el, c, dst):
    """dst = float32((eh + el)·c) (float64 arithmetic), streamed to memory."""
    n = dst.shape[0]
    start = min(head(dst), n)
    body = (n - start) // LANES
    for j in range(start):
        dst[j] = (np.float64(eh[j]) + np.float64(el[j])) * c
    for i in range(body):
        pair_scaled8(dst, start + LANES * i, eh, el, c)
    for j in range(start + LANES * body, n):
        dst[j] = (np.float64(eh[j]) + np.float64(el[j])) * c
    fence()


@njit(**KERNEL)
def store_pair_scaled_top(eh, el, c, row, m, top, dst):
    """dst = float32(top if row == m else (eh + el)·c) (float64 arithmetic), streamed."""
    n = dst.shape[0]
    start = min(head(dst), n)
    body = (n - start) // LANES
    for j in range(start):
        dst[j] = top if row[j] == m else (np.float64(eh[j]) + np.float64(el[j])) * c
    for i in range(body):
        pair_scaled_top8(dst, start + LANES * i, eh, el, c, row, m, top)
    for j in range(start + LANES * body, n):
        dst[j] = top if row[j] == m else (np.float64(eh[j]) + np.float64(el[j])) * c
    fence()


@njit(**KERNEL)
def store_shifted(x, m, big, dst):
    """dst = float32((x − m) − big) (float64 arithmetic), streamed to memory."""
    n = dst.shape[0]
    start = min(head(dst), n)
    body = (n - start) // LANES
    for j in range(start):
        dst[j] = (np.float64(x[j]) - m) - big
    for i in range(body):
        shifted8(dst, start + LANES * i, x, m, big)
    for j in range(start + LANES * body, n):
        dst[j] = (np.float64(x[j]) - m) - big
    fence()
