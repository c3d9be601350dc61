"""Elementwise maps written as LLVM IR, one cache line per store, optionally streamed.

The memory-bound loops (relu-like functions, their products with g, the products from a
saved output) cost what their bytes cost. An ordinary store first reads the destination's
line (a read-for-ownership), so such a loop moves three array-sizes where a large
``memcpy`` moves two. A non-temporal store skips that read, but numba cannot emit one and
LLVM's loop vectoriser refuses a loop whose stores carry ``!nontemporal`` at element
alignment. So a map here is a formula over whole vectors (``Lanes``), built into an IR loop
by ``span_map``:

* the elements up to ``dst``'s first 64-byte boundary, one lane at a time;
* the body, one 64-byte line per evaluation of the formula (or two, ``lines=2``): load
  each input's lanes, evaluate the formula, store the line, non-temporal and aligned when
  the caller asks to stream, else ordinary (a streamed body also prefetches its inputs
  ``PREFETCH_AHEAD`` bytes ahead, and takes two bodies per iteration, one from each half
  of the span: twice the streams in flight for the hardware prefetchers, which one core
  needs to approach a copy's speed on Intel's server cores: relu of 2^25 elements
  0.86–0.89x the time, the products of two inputs 0.97–0.99x, float32 tanh 0.91x, `python
  benchmarks/ab.py c0a72c3 --cases relu,relu_vjp,sigmoid_vjp_from_output,tanh`);
* with ``lines=2``, a spare line after the last whole block, with the one-line body;
* the tail, one lane at a time; an SFENCE after a streamed span (unless its caller fences).

The same formula gives the single lanes and the lines, so the edges cannot disagree with
the body. Formulas use only IEEE operations without fast-math flags (LLVM folds none of
them), so a map gives exactly what the scalar loop it replaces gave; the one exception is
``reciprocal_near`` with its estimate, whose bound its docstring gives.
"""

from __future__ import annotations

from collections.abc import Callable

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._stream import LINE, elements_to_line, fence_ir, splat, vector_fma  # LINE: line bytes

# A streamed body asks for each input's line this many bytes ahead (a prefetch per line and
# input): the hardware prefetcher alone left float64 g·relu′ over 2^25 elements 10% slower
# at 1 and 2 threads (`python benchmarks/ab.py f208fbe --cases relu_vjp`: 0.90×), and no
# streamed map measured slower with it. 2048 bytes ahead took 1.01–1.08× the time of g·relu′
# and g·σ′ from y; 512 took 0.92–1.04× over three runs, no clear change (`python
# benchmarks/ab.py 8bd3c67 --cases sigmoid_vjp_from_output,relu_vjp`, the constant edited).
# The prefetch is prefetcht0 (into every level), not prefetchnta: on an Intel Emerald Rapids
# prefetchnta fills L1 only, past the L2 streamer (relu, g·relu′, g·σ′ from y at 1 and 2
# threads: prefetcht0 took 0.46–0.73x the time, `python benchmarks/ab.py d63a7e8 --cases
# relu,relu_vjp,sigmoid_vjp_from_output,leaky_relu_vjp,silu_vjp`).
PREFETCH_AHEAD = 1024


class Mask:
    """A lane mask (``i1`` vector); ``&`` and ``|`` combine masks."""

    def __init__(self, builder: ir.IRBuilder, value: ir.Value):
        self.b, self.v = builder, value

    def __and__(self, other: Mask) -> Mask:
        return Mask(self.b, self.b.and_(self.v, other.v))

    def __or__(self, other: Mask) -> Mask:
        return Mask(self.b, self.b.or_(self.v, other.v))


class Lanes:
    """A vector of float or double lanes with IEEE arithmetic and ordered comparisons.

    Python numbers become constants of the operand's type. ``==`` is the ordered IEEE
    comparison (false for NaN), so ``x == x`` tests "not NaN"."""

    def __init__(self, builder: ir.IRBuilder, value: ir.Value):
        self.b, self.v = builder, value

    @property
    def width(self) -> int:
        return self.v.type.count

    @property
    def element(self) -> ir.Type:
        return self.v.type.element

    def _other(self, other: Lanes | float) -> ir.Value:
        if isinstance(other, Lanes):
            if other.v.type != self.v.type:
                raise TypeError(f"lane types differ: {self.v.type} and {other.v.type}")
            return other.v
        return ir.Constant(self.v.type, [ir.Constant(self.element, float(other))] * self.width)

    def _new(self, value: ir.Value) -> Lanes:
        return Lanes(self.b, value)

    def splat(self, value: float) -> Lanes:
        """``value`` in every lane, of this vector's type."""
        return self._new(self._other(value))

    def __add__(self, other: Lanes | float) -> Lanes:
        return self._new(self.b.fadd(self.v, self._other(other)))

    __radd__ = __add__

    def __sub__(self, other: Lanes | float) -> Lanes:
        return self._new(self.b.fsub(self.v, self._other(other)))

    def __mul__(self, other: Lanes | float) -> Lanes:
        return self._new(self.b.fmul(self.v, self._other(other)))

    __rmul__ = __mul__

    def __truediv__(self, other: Lanes | float) -> Lanes:
        return self._new(self.b.fdiv(self.v, self._other(other)))

    def __rtruediv__(self, other: float) -> Lanes:
        return self._new(self.b.fdiv(self._other(other), self.v))

    def __neg__(self) -> Lanes:
        return self._new(self.b.fneg(self.v))

    def __abs__(self) -> Lanes:
        kind = "f64" if self.element == ir.DoubleType() else "f32"
        name = f"llvm.fabs.v{self.width}{kind}"  # llvmlite names no vector intrinsics
        fabs = self.b.module.globals.get(name)
        if fabs is None:
            fabs = ir.Function(self.b.module, ir.FunctionType(self.v.type, [self.v.type]), name)
        return self._new(self.b.call(fabs, [self.v]))

    def copysign(self, sign: Lanes) -> Lanes:
        """|self| with the sign bit of ``sign`` (of NaN and −0.0 as well)."""
        kind = "f64" if self.element == ir.DoubleType() else "f32"
        name = f"llvm.copysign.v{self.width}{kind}"
        function = self.b.module.globals.get(name)
        if function is None:
            signature = ir.FunctionType(self.v.type, [self.v.type, self.v.type])
            function = ir.Function(self.b.module, signature, name)
        return self._new(self.b.call(function, [self.v, self._other(sign)]))

    def _compare(self, op: str, other: Lanes | float) -> Mask:
        return Mask(self.b, self.b.fcmp_ordered(op, self.v, self._other(other)))

    def __gt__(self, other: Lanes | float) -> Mask:  # type: ignore[override]
        return self._compare(">", other)

    def __lt__(self, other: Lanes | float) -> Mask:  # type: ignore[override]
        return self._compare("<", other)

    def __eq__(self, other: Lanes | float) -> Mask:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: Lanes | float) -> Mask:  # type: ignore[override]
        """Ordered, as the others: false where either side is NaN."""
        return self._compare("!=", other)

    __hash__ = None  # type: ignore[assignment]

    def wide(self) -> Lanes:
        """The lanes in double precision (exact)."""
        double = ir.VectorType(ir.DoubleType(), self.width)
        return self if self.v.type == double else self._new(self.b.fpext(self.v, double))

    def to(self, element: ir.Type) -> Lanes:
        """The lanes rounded (once) to ``element``, or unchanged if already of that type."""
        if self.element == element:
            return self
        target = ir.VectorType(element, self.width)
        return self._new(self.b.fptrunc(self.v, target))

    def fma(self, b: Lanes | float, c: Lanes | float) -> Lanes:
        """self·b + c, rounded once."""
        return self._new(vector_fma(self.b, self.v, self._other(b), self._other(c)))


def power_of_two(t: Lanes, offset: int) -> Lanes:
    """2^(k + s) in every lane, where t holds the integer k in the low bits of its
    significand (t = x/ln2 + 1.5·2^p, the exps' rounding shift) and ``offset`` is the
    shift's bits less the exponent bias and s: t's bits minus ``offset``, moved into the
    exponent field (one integer subtraction, one shift)."""
    fraction = 52 if t.element == ir.DoubleType() else 23
    ints = ir.VectorType(ir.IntType(64 if fraction == 52 else 32), t.width)

    def splat(value: int) -> ir.Constant:
        return ir.Constant(ints, [ir.Constant(ints.element, value)] * t.width)

    biased = t.b.sub(t.b.bitcast(t.v, ints), splat(offset))
    return Lanes(t.b, t.b.bitcast(t.b.shl(biased, splat(fraction)), t.v.type))


def reciprocal_near(d: Lanes, estimate: bool) -> Lanes:
    """1/d for double lanes of finite nonzero normal d, to within 2^−27 relative: for
    quotients that are rounded to float32 afterwards (the error adds at most 2^−4 ULP).

    With ``estimate`` (AVX-512F only): VRCP14PD's estimate (2^−14) and one Newton step, off
    the divider. A float64 division takes 16 cycles per 8 lanes on Intel's server cores,
    twice per 64-byte line of float32, while the rest of a short formula takes less. Else
    the division itself. Lanes not a multiple of 8 wide (a span's edges) are padded to 8
    with copies of their first lane, so every element gets the same bits wherever it
    lies."""
    if not estimate:
        return 1.0 / d
    builder, width = d.b, d.width
    octet = ir.VectorType(ir.DoubleType(), 8)
    name = "llvm.x86.avx512.rcp14.pd.512"  # (a, passthrough, mask): 1/a to 2^−14
    rcp14 = builder.module.globals.get(name)
    if rcp14 is None:
        signature = ir.FunctionType(octet, [octet, octet, ir.IntType(8)])
        rcp14 = ir.Function(builder.module, signature, name)

    def estimate_of(lanes: list[int]) -> ir.Value:
        part = builder.shuffle_vector(d.v, d.v, _picks(lanes))
        return builder.call(rcp14, [part, part, ir.Constant(ir.IntType(8), -1)])

    if width % 8:
        padded = estimate_of(list(range(width)) + [0] * (8 - width))
        r0 = builder.shuffle_vector(padded, padded, _picks(range(width)))
    else:
        parts = [estimate_of(list(range(k, k + 8))) for k in range(0, width, 8)]
        while len(parts) > 1:  # concatenated pairwise
            both = _picks(range(2 * parts[0].type.count))
            pairs = zip(parts[::2], parts[1::2], strict=True)  # widths are 8·2^j
            parts = [builder.shuffle_vector(a, b, both) for a, b in pairs]
        r0 = parts[0]
    r = Lanes(builder, r0)
    return r.fma((-d).fma(r, 1.0), r)  # r(1 + ε), ε = 1 − d·r: the error squared


def _picks(lanes) -> ir.Constant:
    """A shuffle's mask: the lanes to take, in order."""
    chosen = list(lanes)
    return ir.Constant(ir.VectorType(ir.IntType(32), len(chosen)), chosen)


def where(mask: Mask, a: Lanes | float, b: Lanes | float) -> Lanes:
    """a where the mask is set, else b (at least one of them Lanes)."""
    lanes = a if isinstance(a, Lanes) else b
    assert isinstance(lanes, Lanes)
    pick = lanes.b.select(mask.v, lanes._other(a), lanes._other(b))
    return Lanes(lanes.b, pick)


def span_map(
    formula: Callable[..., Lanes],
    inputs: int,
    scalars: int,
    *,
    fence: bool = True,
    prefetch: bool = True,
    one_entry: bool = False,
    counted: bool = False,
    lines: int = 1,
) -> Callable:
    """An intrinsic ``map(dst, start, stop, stream, *arrays, *params)`` that writes
    ``dst[i] = formula(arrays[i]..., params...)`` for start ≤ i < stop.

    ``formula`` gets one ``Lanes`` per input array (in that array's dtype) and one per
    float64 parameter (double lanes), and returns Lanes that are rounded to ``dst``'s dtype.
    All arrays are 1-D, C-contiguous, float32 or float64, as long as ``dst``; ``stream``
    (a bool) makes the body's stores non-temporal. ``fence=False`` leaves out the SFENCE
    after a streamed span (the row kernels fence once per chunk of rows);
    ``prefetch=False`` the prefetches of a streamed body (inputs already in cache).
    ``one_entry=True`` takes two more arguments after the params, ``t`` (an integer) and
    ``value``: dst[t] = value instead, written in the same pass (an ordinary store after
    the pass would read back a line just streamed). ``counted=True``: the formula returns
    (Lanes, Mask), and the map returns how many lanes of the span had the mask set (an
    int64; the float64 products count their f′ below the normal range this way).
    ``lines``: cache lines per evaluation of the formula (1 or 2). A formula that waits on
    its own dependency chain runs faster over two lines at once, each operation then issued
    for both (LLVM splits the double-width vectors into register-wide halves, interleaved):
    see ``lines64``. The lines left over (fewer than ``lines``) take the one-line body."""
    if lines not in (1, 2):
        raise ValueError(f"span_map: lines must be 1 or 2, not {lines}")

    @intrinsic
    def span(typingctx, dst, start, stop, stream, *rest):
        arrays, params = rest[:inputs], rest[inputs:]
        if one_entry:
            params, entry = params[:-2], params[-2:]
            if len(entry) != 2 or not isinstance(entry[0], types.Integer):
                return None
            if not isinstance(entry[1], types.Float):
                return None
        if len(arrays) != inputs or len(params) != scalars:
            return None
        for a in (dst, *arrays):
            if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"):
                return None
            if a.dtype not in (types.float32, types.float64):
                return None
        if any(not isinstance(p, types.Float) for p in params):
            return None
        result = types.int64 if counted else types.none
        sig = result(dst, start, stop, stream, types.StarArgTuple.from_types(rest))

        def gen(context, builder, signature, args):
            rest_types = signature.args[4].types
            rest_values = cgutils.unpack_tuple(builder, args[4], len(rest_types))
            tally = _emit_span(
                context,
                builder,
                (signature.args[0], *rest_types),
                (*args[:4], *rest_values),
                formula,
                inputs,
                fence,
                prefetch,
                one_entry,
                counted,
                lines,
            )
            return tally if counted else context.get_dummy_value()

        return sig, gen

    return span


def _emit_span(
    context, builder, arg_types, args, formula, inputs, fence, prefetch, one_entry, counted, lines
) -> ir.Value | None:
    """The span's IR; ``arg_types`` are dst's type then those of the arrays and params
    (then of t and value with ``one_entry``); ``lines`` per body. Returns the count with
    ``counted``."""
    i64 = ir.IntType(64)
    tally = cgutils.alloca_once_value(builder, ir.Constant(i64, 0)) if counted else None
    dst_ty, dst_val, start, stop, stream = (arg_types[0], args[0], *args[1:4])
    entry = None
    if one_entry:
        t = context.cast(builder, args[-2], arg_types[-2], types.int64)
        entry = (t, context.cast(builder, args[-1], arg_types[-1], dst_ty.dtype))
        arg_types, args = arg_types[:-2], args[:-2]
    array_tys = arg_types[1 : 1 + inputs]
    pointers = [
        context.make_array(ty)(context, builder, value).data
        for ty, value in zip((dst_ty, *array_tys), (dst_val, *args[4 : 4 + inputs]), strict=True)
    ]
    params = [
        context.cast(builder, value, ty, types.float64)
        for value, ty in zip(args[4 + inputs :], arg_types[1 + inputs :], strict=True)
    ]
    out_element = context.get_value_type(dst_ty.dtype)
    size = dst_ty.dtype.bitwidth // 8
    lanes = LINE // size
    start = builder.sext(start, i64) if start.type != i64 else start
    stop = builder.sext(stop, i64) if stop.type != i64 else stop
    count = builder.sub(stop, start)

    def body(index: ir.Value, width: int, streamed: bool) -> None:
        loaded = []
        for pointer, ty in zip(pointers[1:], array_tys, strict=True):
            vector = ir.VectorType(context.get_value_type(ty.dtype), width).as_pointer()
            address = builder.bitcast(builder.gep(pointer, [index]), vector)
            loaded.append(Lanes(builder, builder.load(address, align=ty.dtype.bitwidth // 8)))
            if streamed and prefetch and PREFETCH_AHEAD:
                for line in range(width // lanes):  # one prefetch per line
                    _prefetch(builder, address, PREFETCH_AHEAD + line * LINE)
        double = ir.VectorType(ir.DoubleType(), width)
        constants = [Lanes(builder, splat(builder, p, double)) for p in params]
        value = formula(*loaded, *constants)
        if counted:
            value, flags = value
            builder.store(builder.add(builder.load(tally), _popcount(builder, flags)), tally)
        value = value.to(out_element).v
        if entry is not None:
            lanes_at = ir.VectorType(i64, width)
            offsets = ir.Constant(lanes_at, [ir.Constant(i64, k) for k in range(width)])
            indices = builder.add(splat(builder, index, lanes_at), offsets)
            hit = builder.icmp_signed("==", indices, splat(builder, entry[0], lanes_at))
            value = builder.select(hit, splat(builder, entry[1], value.type), value)
        target = builder.bitcast(builder.gep(pointers[0], [index]), value.type.as_pointer())
        store = builder.store(value, target, align=LINE if streamed else size)
        if streamed:
            flag = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
            store.set_metadata("nontemporal", flag)

    # Elements before dst's first line boundary (all of them if dst is not even aligned to
    # its element size, which a view into a byte buffer can be: no aligned line exists).
    address = builder.ptrtoint(builder.gep(pointers[0], [start]), i64)
    head = elements_to_line(builder, address, size, count)
    head = builder.select(builder.icmp_signed("<", count, head), count, head)
    with cgutils.for_range(builder, head) as loop:
        body(builder.add(start, loop.index), 1, False)
    first = builder.add(start, head)
    step = lanes * lines  # elements per body
    blocks = builder.sdiv(builder.sub(count, head), _c(step))
    # The lines after the last whole block (fewer than ``lines``), one body each.
    spare_at = builder.add(first, builder.mul(blocks, _c(step)))
    spare = builder.sdiv(builder.sub(stop, spare_at), _c(lanes))
    if stream.type != ir.IntType(1):
        stream = builder.icmp_unsigned("!=", stream, ir.Constant(stream.type, 0))
    with builder.if_else(stream) as (streamed, ordinary):
        with streamed:
            # Two streams at once: block j of each half of the span per iteration.
            half = builder.sdiv(blocks, _c(2))
            second = builder.add(first, builder.mul(half, _c(step)))
            with cgutils.for_range(builder, half) as loop:
                offset = builder.mul(loop.index, _c(step))
                body(builder.add(first, offset), step, True)
                body(builder.add(second, offset), step, True)
            with cgutils.for_range(builder, builder.sub(blocks, builder.mul(half, _c(2)))) as loop:
                last = builder.mul(builder.sub(blocks, _c(1)), _c(step))
                body(builder.add(first, last), step, True)
            with cgutils.for_range(builder, spare) as loop:
                body(builder.add(spare_at, builder.mul(loop.index, _c(lanes))), lanes, True)
            if fence:
                fence_ir(builder)
        with ordinary:
            with cgutils.for_range(builder, blocks) as loop:
                body(builder.add(first, builder.mul(loop.index, _c(step))), step, False)
            with cgutils.for_range(builder, spare) as loop:
                body(builder.add(spare_at, builder.mul(loop.index, _c(lanes))), lanes, False)
    tail = builder.add(spare_at, builder.mul(spare, _c(lanes)))
    with cgutils.for_range(builder, builder.sub(stop, tail)) as loop:
        body(builder.add(tail, loop.index), 1, False)
    return builder.load(tally) if counted else None


def _popcount(builder: ir.IRBuilder, flags: Mask) -> ir.Value:
    """How many lanes of a mask are set, as an int64."""
    width = flags.v.type.count
    bits = builder.bitcast(flags.v, ir.IntType(width))
    name = f"llvm.ctpop.i{width}"
    ctpop = builder.module.globals.get(name)
    if ctpop is None:
        ctpop = ir.Function(builder.module, ir.FunctionType(bits.type, [bits.type]), name)
    total = builder.call(ctpop, [bits])
    return builder.zext(total, ir.IntType(64)) if width < 64 else total


def _prefetch(builder: ir.IRBuilder, address: ir.Value, ahead: int) -> None:
    """A read prefetch of the line ``ahead`` bytes past ``address`` into every cache level
    (locality 3: prefetcht0); it cannot fault, so it may point past the array's end."""
    i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
    name = "llvm.prefetch.p0i8"  # (address, read = 0, locality 3 = keep, data cache = 1)
    prefetch = builder.module.globals.get(name)
    if prefetch is None:
        prefetch = ir.Function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), name
        )
    target = builder.gep(builder.bitcast(address, i8p), [_c(ahead)])
    builder.call(prefetch, [target, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])


def _c(value: int) -> ir.Constant:
    return ir.Constant(ir.IntType(64), value)
