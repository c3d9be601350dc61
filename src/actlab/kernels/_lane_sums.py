"""The compensated lane sums of the float64 row kernels, as an LLVM IR loop whose lanes stay
in registers.

``lane_sums_from(a, s, c, top)`` sums the float64 row a in ``LANES`` lanes,
LANES·⌊n/LANES⌋ entries, and writes each lane's sum to s and its error to c. Each lane
starts at ``top``, a power of two ≥ 2·Σ|a| (2^64 ≥ every scaled exponential, for softmax's
sum), so a Fast2Sum recovers each addition's error exactly: h = s + v, c += v − (h − s).
The caller (``rows64.lane_total``) takes ``top`` back from each lane (exact), adds the
last entries and combines the lanes.

The same loop in numba kept the lanes in the small arrays s and c and loaded and stored
them for every group of entries (the arrays may alias the rows, so LLVM cannot keep them
in registers); here they are stack slots that LLVM promotes to registers (16 lanes: four
4-wide vectors of sums and four of errors).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._stream import splat

LANES = 16
WIDTH = 4  # doubles per 32-byte register
TOP = 2.0**64


def _emit_lane_sums(context, builder, signature, args, top):
    """The IR of the lane loop; ``top`` (an IR double) starts every lane."""
    i64 = ir.IntType(64)
    double = ir.DoubleType()
    vector = ir.VectorType(double, WIDTH)
    rows = [
        context.make_array(ty)(context, builder, value)
        for ty, value in zip(signature.args[:3], args[:3], strict=True)
    ]
    data = [row.data for row in rows]
    n = builder.extract_value(rows[0].shape, 0)
    groups = builder.sdiv(n, ir.Constant(i64, LANES))
    vectors = LANES // WIDTH
    sums = [cgutils.alloca_once(builder, vector) for _ in range(vectors)]
    errors = [cgutils.alloca_once(builder, vector) for _ in range(vectors)]
    for slot in sums:
        builder.store(splat(builder, top, vector), slot)
    for slot in errors:
        builder.store(ir.Constant(vector, [ir.Constant(double, 0.0)] * WIDTH), slot)

    def load(pointer, index):
        address = builder.bitcast(builder.gep(pointer, [index]), vector.as_pointer())
        return builder.load(address, align=8)

    with cgutils.for_range(builder, groups) as loop:
        base = builder.mul(loop.index, ir.Constant(i64, LANES))
        for u in range(vectors):
            index = builder.add(base, ir.Constant(i64, u * WIDTH))
            v = load(data[0], index)
            total = builder.load(sums[u])
            h = builder.fadd(total, v)
            err = builder.fsub(v, builder.fsub(h, total))
            builder.store(h, sums[u])
            c = builder.fadd(builder.load(errors[u]), err)
            builder.store(c, errors[u])
    for u in range(vectors):
        for target, slot in ((data[1], sums[u]), (data[2], errors[u])):
            address = builder.gep(target, [ir.Constant(i64, u * WIDTH)])
            address = builder.bitcast(address, vector.as_pointer())
            builder.store(builder.load(slot), address, align=8)
    return context.get_dummy_value()


def _float64_rows(*arrays) -> bool:
    return all(
        isinstance(x, types.Array) and x.ndim == 1 and x.dtype == types.float64 for x in arrays
    )


@intrinsic
def lane_sums_from(typingctx, a, s, c, top):
    """``lane_sums`` with every lane started at ``top``, a power of two at least 2·Σ|a|:
    then each lane stays within [top/2, 3·top/2], so its Fast2Sum is exact for terms of
    either sign (|lane| ≥ top/2 ≥ |a_j|) and lane − top is exact (Sterbenz)."""
    if not (_float64_rows(a, s, c) and top == types.float64):
        return None

    def gen(context, builder, signature, args):
        return _emit_lane_sums(context, builder, signature, args, args[3])

    return types.none(a, s, c, top), gen
