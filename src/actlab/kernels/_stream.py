"""Streaming (non-temporal) stores for the last pass of the row kernels.

A kernel's output is written once and not read again by the kernel. An ordinary store
first reads the destination's cache line from memory (a read-for-ownership), so a softmax
over a large array moves three array-sizes through memory (read x, read and write out).
A non-temporal store writes the line without reading it: two array-sizes, as a copy.

numba cannot mark a store non-temporal, and LLVM only emits the AVX store (vmovntps,
vmovntpd) for an aligned vector, so these intrinsics build that vector in LLVM IR directly:
load 8 values, compute in float64, round to the output's dtype (float32 or float64), store
32-byte-aligned with !nontemporal. Only the row's whole 64-byte lines are streamed
(``streamed_range``); its first and last few elements get ordinary stores.

The store passes do not fence: the kernels call ``fence`` once per chunk of rows, before
the chunk's work is reported done (a fence per row waits for the write-combining buffers
to drain each time).
"""

from __future__ import annotations

import platform

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import KERNEL, SCALAR, fma

LANES = 8


def _llvm():
    from llvmlite import ir

    return ir


def splat(builder, value, vector_type):
    """``value`` in every lane of ``vector_type``."""
    ir = _llvm()
    out = ir.Constant(vector_type, ir.Undefined)
    for i in range(vector_type.count):
        out = builder.insert_element(out, value, ir.Constant(ir.IntType(32), i))
    return out


def _load8(context, builder, array_type, array, index):
    """array[index:index+8] as a vector of the array's own dtype."""
    ir = _llvm()
    data = context.make_array(array_type)(context, builder, array).data
    vector = ir.VectorType(data.type.pointee, LANES).as_pointer()
    return builder.load(builder.bitcast(builder.gep(data, [index]), vector), align=4)


def _load8_d(context, builder, array_type, array, index):
    """array[index:index+8] as 8 float64 (float32 values widened, exactly)."""
    ir = _llvm()
    v = _load8(context, builder, array_type, array, index)
    d8 = ir.VectorType(ir.DoubleType(), LANES)
    return v if v.type == d8 else builder.fpext(v, d8)


def _store_nt_d(context, builder, array_type, array, index, y):
    """Streams the 8 float64 y to array[index:index+8], rounded once to the array's dtype."""
    ir = _llvm()
    element = context.make_array(array_type)(context, builder, array).data.type.pointee
    if element != ir.DoubleType():
        y = builder.fptrunc(y, ir.VectorType(element, LANES))
    _store_nt(context, builder, array_type, array, index, y)


def _store_nt(context, builder, array_type, array, index, value):
    ir = _llvm()
    data = context.make_array(array_type)(context, builder, array).data
    pointer = builder.bitcast(builder.gep(data, [index]), value.type.as_pointer())
    store = builder.store(value, pointer, align=32)
    store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))


LINE = 64  # bytes in a cache line: the unit that a streamed store must fill whole


@intrinsic
def head(typingctx, dst):
    """How many elements from ``dst``'s start to its first 64-byte (cache-line) boundary;
    for an array not aligned to its element size (a NumPy view into a byte buffer can be),
    2^62: the callers then store every element the ordinary way."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        i64 = ir.IntType(64)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        address = builder.ptrtoint(data, i64)
        gap = builder.and_(builder.sub(ir.Constant(i64, 0), address), ir.Constant(i64, LINE - 1))
        size = signature.args[0].dtype.bitwidth // 8
        odd = builder.icmp_unsigned(
            "!=", builder.and_(address, ir.Constant(i64, size - 1)), ir.Constant(i64, 0)
        )
        return builder.select(
            odd, ir.Constant(i64, 2**62), builder.udiv(gap, ir.Constant(i64, size))
        )

    return types.int64(dst), gen


@njit(**SCALAR)
def streamed_range(dst):
    """(start, stop): the elements of ``dst`` that fill whole cache lines, to be streamed;
    those before ``start`` and from ``stop`` on are stored the ordinary way.

    A line must be streamed whole or not at all: a line that gets both streamed and
    ordinary stores (the rows of a 2-D output share the lines at their ends) is flushed
    from the write-combining buffer half-written and read back, which made short rows
    several times slower (1 KiB float64 rows: 5× the time of ordinary stores)."""
    n = dst.shape[0]
    per_line = LINE // dst.itemsize
    start = min(head(dst), n)
    return start, start + (n - start) // per_line * per_line


def _pair_scaled(context, builder, signature, args):
    """(eh + el)[j:j+8]·c in float64, from arguments (dst, j, eh, el, c, ...)."""
    ir = _llvm()
    d8 = ir.VectorType(ir.DoubleType(), LANES)
    hi = _load8_d(context, builder, signature.args[2], args[2], args[1])
    lo = _load8_d(context, builder, signature.args[3], args[3], args[1])
    return builder.fmul(builder.fadd(hi, lo), splat(builder, args[4], d8))


@intrinsic
def pair_scaled8(typingctx, dst, j, eh, el, c):
    """dst[j:j+8] = (eh + el)[j:j+8]·c, the pair added and scaled in float64, rounded once to
    dst's dtype; dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        y = _pair_scaled(context, builder, signature, args)
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], y)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, c), gen


def vector_fma(builder, a, b, c):
    """a·b + c rounded once, on float or double vectors (llvmlite's builder.fma takes
    scalars only)."""
    ir = _llvm()
    kind = "f64" if a.type.element == ir.DoubleType() else "f32"
    name = f"llvm.fma.v{a.type.count}{kind}"
    module = builder.module
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(a.type, [a.type] * 3), name=name)
    return builder.call(fn, [a, b, c])


@intrinsic
def quotient8(typingctx, dst, j, eh, el, sh, sl, inv):
    """dst[j:j+8] = (eh + el)/(sh + sl) for float64 pairs, to about half an ULP: y0 = eh·inv,
    then one correction with the exact residual eh − y0·sh (an FMA), without a division per
    element (inv = 1/sh); dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        h = _load8_d(context, builder, signature.args[2], args[2], args[1])
        low = _load8_d(context, builder, signature.args[3], args[3], args[1])
        sh, sl, inv = (splat(builder, a, h.type) for a in args[4:7])
        y0 = builder.fmul(h, inv)
        rem = vector_fma(builder, builder.fneg(y0), sh, h)
        fix = builder.fsub(builder.fadd(rem, low), builder.fmul(y0, sl))
        y = builder.fadd(y0, builder.fmul(fix, inv))
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], y)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, sh, sl, inv), gen


@intrinsic
def shifted8(typingctx, dst, j, x, m, big):
    """dst[j:j+8] = float32((x[j:j+8] − m) − big) in float64 (x − m exact: two float32);
    dst + j must be 32-byte aligned."""

    def gen(context, builder, signature, args):
        v = _load8_d(context, builder, signature.args[2], args[2], args[1])
        z = builder.fsub(v, splat(builder, args[3], v.type))
        z = builder.fsub(z, splat(builder, args[4], v.type))
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], z)
        return context.get_dummy_value()

    return types.none(dst, j, x, m, big), gen


def _two_sum(builder, a, b):
    """(s, e) with s + e = a + b exactly (TwoSum, six operations)."""
    s = builder.fadd(a, b)
    bv = builder.fsub(s, a)
    av = builder.fsub(s, bv)
    return s, builder.fadd(builder.fsub(a, av), builder.fsub(b, bv))


@intrinsic
def pair_scaled_top8(typingctx, dst, j, eh, el, c, row, m, top):
    """``pair_scaled8`` where row[j] == m takes the value ``top`` instead (the row's maxima,
    whose exponentials the τ pass left at 0); m has the row's dtype."""

    def gen(context, builder, signature, args):
        y = _pair_scaled(context, builder, signature, args)
        v = _load8(context, builder, signature.args[5], args[5], args[1])
        is_top = builder.fcmp_ordered("==", v, splat(builder, args[6], v.type))
        y = builder.select(is_top, splat(builder, args[7], y.type), y)
        _store_nt_d(context, builder, signature.args[0], args[0], args[1], y)
        return context.get_dummy_value()

    return types.none(dst, j, eh, el, c, row, m, top), gen


_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def fence_ir(builder) -> None:
    """Streaming stores are weakly ordered: make them visible before the work is reported
    done. SFENCE on x86-64, where it is the
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
def _quotient(h, low, sh, sl, inv):
    y0 = h * inv
    return y0 + ((fma(-y0, sh, h) + low) - y0 * sl) * inv


@njit(**KERNEL)
def store_quotient(eh, el, sh, sl, dst):
    """dst = (eh + el)/(sh + sl) for float64 pairs (``quotient8``), streamed to memory."""
    inv = 1.0 / sh
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    for j in range(start):
        dst[j] = _quotient(eh[j], el[j], sh, sl, inv)
    for i in range((stop - start) // LANES):
        quotient8(dst, start + LANES * i, eh, el, sh, sl, inv)
    for j in range(stop, n):
        dst[j] = _quotient(eh[j], el[j], sh, sl, inv)


@njit(**KERNEL)
def store_pair_scaled(eh, el, c, dst):
    """dst = (eh + el)·c in float64, rounded once to dst's dtype, streamed to memory."""
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    for j in range(start):
        dst[j] = (np.float64(eh[j]) + np.float64(el[j])) * c
    for i in range((stop - start) // LANES):
        pair_scaled8(dst, start + LANES * i, eh, el, c)
    for j in range(stop, n):
        dst[j] = (np.float64(eh[j]) + np.float64(el[j])) * c


@njit(**KERNEL)
def store_pair_scaled_top(eh, el, c, row, m, top, dst):
    """dst = top if row == m else (eh + el)·c, in float64 rounded once to dst's dtype,
    streamed."""
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    for j in range(start):
        dst[j] = top if row[j] == m else (np.float64(eh[j]) + np.float64(el[j])) * c
    for i in range((stop - start) // LANES):
        pair_scaled_top8(dst, start + LANES * i, eh, el, c, row, m, top)
    for j in range(stop, n):
        dst[j] = top if row[j] == m else (np.float64(eh[j]) + np.float64(el[j])) * c


@njit(**KERNEL)
def store_shifted(x, m, big, dst):
    """dst = float32((x − m) − big) (float64 arithmetic), streamed to memory."""
    n = dst.shape[0]
    start, stop = streamed_range(dst)
    for j in range(start):
        dst[j] = (np.float64(x[j]) - m) - big
    for i in range((stop - start) // LANES):
        shifted8(dst, start + LANES * i, x, m, big)
    for j in range(stop, n):
        dst[j] = (np.float64(x[j]) - m) - big
