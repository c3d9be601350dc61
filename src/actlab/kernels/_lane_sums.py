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

``exp_sums_from`` is the same lanes fed by the row kernels' exp in the same loop, with the
next row's max beside them (``rows64.exp_sum_row``).
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


def _emit_exp_sums(context, builder, signature, args):
    """The IR of ``exp_sums_from``: per group of LANES entries, the exponentials (stored to
    e), their Fast2Sum into the lanes, and the next row's keys folded into a running max."""
    from ._exp_rows64 import exp_neg_lanes
    from ._order_keys import flip
    from ._vecmap import Lanes

    i64 = ir.IntType(64)
    double = ir.DoubleType()
    half = LANES // 2  # one 64-byte vector of doubles
    vector = ir.VectorType(double, half)
    keys = ir.VectorType(i64, half)
    row, e, nxt, s, c = (
        context.make_array(ty)(context, builder, value).data
        for ty, value in zip(
            (signature.args[i] for i in (0, 2, 3, 4, 5)),
            (args[i] for i in (0, 2, 3, 4, 5)),
            strict=True,
        )
    )
    shape = context.make_array(signature.args[0])(context, builder, args[0]).shape
    n = builder.extract_value(shape, 0)
    groups = builder.sdiv(n, ir.Constant(i64, LANES))
    neg_m = Lanes(builder, splat(builder, args[1], vector))
    sums = [cgutils.alloca_once(builder, vector) for _ in range(2)]
    errors = [cgutils.alloca_once(builder, vector) for _ in range(2)]
    maxima = [cgutils.alloca_once(builder, keys) for _ in range(2)]
    lowest = ir.Constant(keys, [ir.Constant(i64, -(1 << 63))] * half)
    for u in range(2):
        builder.store(splat(builder, args[6], vector), sums[u])
        builder.store(ir.Constant(vector, [ir.Constant(double, 0.0)] * half), errors[u])
        builder.store(lowest, maxima[u])

    def at(pointer, index, kind):
        return builder.bitcast(builder.gep(pointer, [index]), kind.as_pointer())

    def group(base):
        """One group of LANES entries from row[base] on; the two halves' exps first, so
        that their chains overlap, then the sums and keys in lane order."""
        indices = [builder.add(base, ir.Constant(i64, u * half)) for u in range(2)]
        exps = []
        for index in indices:
            x = Lanes(builder, builder.load(at(row, index, vector), align=8))
            h = exp_neg_lanes(x, neg_m)
            builder.store(h.v, at(e, index, vector), align=8)
            exps.append(h)
        for u, (index, h) in enumerate(zip(indices, exps, strict=True)):
            total = builder.load(sums[u])
            t = builder.fadd(total, h.v)
            builder.store(t, sums[u])
            err = builder.fsub(h.v, builder.fsub(t, total))
            builder.store(builder.fadd(builder.load(errors[u]), err), errors[u])
            bits = builder.load(at(builder.bitcast(nxt, i64.as_pointer()), index, keys), align=8)
            key = flip(builder, bits)  # ``order_key`` of each lane
            top = builder.load(maxima[u])
            builder.store(builder.select(builder.icmp_signed(">", key, top), key, top), maxima[u])

    # Two groups per iteration (four exps in flight), then the odd group, if any.
    pairs = builder.sdiv(groups, ir.Constant(i64, 2))
    with cgutils.for_range(builder, pairs) as loop:
        base = builder.mul(loop.index, ir.Constant(i64, 2 * LANES))
        group(base)
        group(builder.add(base, ir.Constant(i64, LANES)))
    odd = builder.icmp_signed("!=", builder.mul(pairs, ir.Constant(i64, 2)), groups)
    with builder.if_then(odd):
        group(builder.mul(builder.sub(groups, ir.Constant(i64, 1)), ir.Constant(i64, LANES)))
    for u in range(2):
        offset = ir.Constant(i64, u * half)
        builder.store(builder.load(sums[u]), at(s, offset, vector), align=8)
        builder.store(builder.load(errors[u]), at(c, offset, vector), align=8)
    top = builder.load(maxima[0])
    other = builder.load(maxima[1])
    top = builder.select(builder.icmp_signed(">", other, top), other, top)
    best = builder.extract_element(top, ir.Constant(ir.IntType(32), 0))
    for lane in range(1, half):
        value = builder.extract_element(top, ir.Constant(ir.IntType(32), lane))
        best = builder.select(builder.icmp_signed(">", value, best), value, best)
    return best


@intrinsic
def exp_sums_from(typingctx, row, neg_m, e, nxt, s, c, top):
    """One pass of the float64 row kernels over LANES·⌊n/LANES⌋ entries of ``row``:
    e_j = ``exp_neg_d``(row_j, neg_m) (the same bits: ``exp_neg_lanes``), their
    ``lane_sums_from`` into s and c (the same lanes, the same additions), and the largest
    ``order_key`` of those entries of ``nxt`` (the next row), returned. One loop instead of
    an exp loop and a sum loop over e (a row of 8192 doubles does not stay in L1)."""
    if not (_float64_rows(row, e, nxt, s, c) and neg_m == types.float64 and top == types.float64):
        return None
    return types.int64(row, neg_m, e, nxt, s, c, top), _emit_exp_sums
