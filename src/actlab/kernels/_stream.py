"""The pieces of streaming (non-temporal) stores, in LLVM IR, for the compiled kernels.

A kernel's output is written once and not read again by the kernel. An ordinary store
first reads the destination's cache line from memory (a read-for-ownership), so a softmax
over a large array moves three array-sizes through memory (read x, read and write out).
A non-temporal store writes the line without reading it: two array-sizes, as a copy.

numba cannot mark a store non-temporal, and LLVM only emits the AVX store (vmovntps,
vmovntpd) for an aligned vector, so the kernels build that vector in LLVM IR: the line maps
of ``_vecmap`` (the elementwise loops and the row kernels' output passes,
``_row_stores``) and the short-row copy of ``_lane_transpose``. Here: the aligned
non-temporal store, the range of an array's whole lines (``streamed_range``: only whole
lines are streamed), the fence that makes streamed stores visible, and vector helpers.
"""

from __future__ import annotations

import platform

from numba import njit, types
from numba.extending import intrinsic

from ._numba_math import SCALAR


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


def _store_nt(context, builder, array_type, array, index, value):
    """array[index:index + lanes] = value (a vector), non-temporal and 32-byte aligned."""
    ir = _llvm()
    data = context.make_array(array_type)(context, builder, array).data
    pointer = builder.bitcast(builder.gep(data, [index]), value.type.as_pointer())
    store = builder.store(value, pointer, align=32)
    store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))


LINE = 64  # bytes in a cache line: the unit that a streamed store must fill whole


def elements_to_line(builder, address, size, unaligned):
    """IR: how many elements of ``size`` bytes lie from ``address`` (an i64) to the next
    64-byte boundary; ``unaligned`` (an i64) where the address is not a multiple of the
    element size (a NumPy view into a byte buffer can be): then no element starts a line."""
    ir = _llvm()
    i64 = ir.IntType(64)
    gap = builder.and_(builder.sub(ir.Constant(i64, 0), address), ir.Constant(i64, LINE - 1))
    odd = builder.icmp_unsigned(
        "!=", builder.and_(address, ir.Constant(i64, size - 1)), ir.Constant(i64, 0)
    )
    return builder.select(odd, unaligned, builder.udiv(gap, ir.Constant(i64, size)))


@intrinsic
def head(typingctx, dst):
    """How many elements from ``dst``'s start to its first 64-byte (cache-line) boundary;
    for an array not aligned to its element size, 2^62: the callers then store every
    element the ordinary way."""

    def gen(context, builder, signature, args):
        ir = _llvm()
        i64 = ir.IntType(64)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        size = signature.args[0].dtype.bitwidth // 8
        address = builder.ptrtoint(data, i64)
        return elements_to_line(builder, address, size, ir.Constant(i64, 2**62))

    return types.int64(dst), gen


@njit(**SCALAR)
def streamed_range(dst):
    """(start, stop): the elements of ``dst`` that fill whole cache lines, to be streamed;
    those before ``start`` and from ``stop`` on are stored the ordinary way.

    A line must be streamed whole or not at all: a line that gets both streamed and
    ordinary stores (the rows of a 2-D output share the lines at their ends) is flushed
    from the write-combining buffer half-written and read back, which made the stores of
    short rows several times slower than ordinary ones."""
    n = dst.shape[0]
    per_line = LINE // dst.itemsize
    start = min(head(dst), n)
    return start, start + (n - start) // per_line * per_line


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


_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def fence_ir(builder) -> None:
    """Streaming stores are weakly ordered: make them visible before the work is reported
    done. SFENCE on x86-64, where it is the instruction for exactly this (an MFENCE costs
    ~3× more per row); elsewhere a full fence in portable LLVM IR."""
    if _X86_64:
        ir = _llvm()
        fnty = ir.FunctionType(ir.VoidType(), [])
        builder.call(builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=fnty), [])
    else:
        builder.fence("seq_cst")


@intrinsic
def fence(typingctx):
    """``fence_ir`` for the kernels, once per chunk of rows (a fence per row waits for the
    write-combining buffers to drain each time)."""

    def gen(context, builder, signature, args):
        fence_ir(builder)
        return context.get_dummy_value()

    return types.none(), gen
