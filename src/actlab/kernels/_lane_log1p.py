"""log1p of vectors of double lanes (``_vecmap.Lanes``), for the short-row log_softmax
(``_lane_softmax``): log1p(τ) with τ = Σ_{j≠k} e^(x_j − m) in [0, 32), one per row.

u = 1 + τ = 2^k·w with w in [√2/2, √2), k and w from u's bits (``_split``); then
log w = 2·atanh(s) with s = f/(2 + f), f = w − 1 (exact by Sterbenz), |s| ≤ 0.172, and the
odd series of atanh: log1p(τ) = k·ln 2 + 2s + 2s·(s²/3 + s⁴/5 + …).

``log1p_lanes`` (float32's z = (x − m) − log1p(τ) needs 2^−30 relative) takes f = τ itself
where k = 0, else w − 1 (1 + τ's rounding error left out: below 2^−52 of log1p(τ) ≥ log √2
there), and the series to s^10: about 2^−34 relative, rounded once. ``log1p_pair_lanes``
keeps 1 + τ, f, s and k·ln 2 as pairs, the series to s^20 and its tail (at most 1% of 2s)
in plain float64: about 2^−56 relative (its Horner sum's rounding, where |s| is near its
largest), for float64's z.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

from llvmlite import ir

from ._numba_math import LN2_HI, LN2_LO
from ._vecmap import Lanes, where

_SQRT_HALF_BITS = struct.unpack("<q", struct.pack("<d", math.sqrt(0.5)))[0]
_SQRT2 = 2.0 * math.sqrt(0.5)  # where _split's k turns 1
_ONE_BITS = 0x3FF0000000000000
_TWO52_BITS = 0x4330000000000000
_SIGNIFICAND = (1 << 52) - 1
_LN2 = math.log(2.0)
# atanh(s)/s − 1 = Σ_{i≥1} s^(2i)/(2i + 1): the coefficients 1/3 … 1/21
_ATANH = [1.0 / (2 * i + 1) for i in range(1, 11)]
# log1p_lanes' terms (to s^10): the first left out, s^12/13 < 2^−35 at |s| ≤ 0.172
_SHORT_TERMS = 5


def two_sum(a: Lanes, b: Lanes) -> tuple[Lanes, Lanes]:
    """(s, err) with s + err = a + b exactly."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def sum_pair(terms: list[Lanes]) -> tuple[Lanes, Lanes]:
    """Σ terms as a pair (hi, lo), each addition's error recovered by TwoSum."""
    s, c = terms[0], terms[0].splat(0.0)
    for t in terms[1:]:
        s, err = two_sum(s, t)
        c = c + err
    return two_sum(s, c)


def _int_lanes(u: Lanes) -> tuple[ir.VectorType, Callable[[int], ir.Constant]]:
    """The int64 vector type of u's lanes, and a maker of its constants."""
    ints = ir.VectorType(ir.IntType(64), u.width)
    return ints, lambda value: ir.Constant(ints, [ir.Constant(ints.element, value)] * u.width)


def _split(u: Lanes) -> tuple[Lanes, Lanes, Lanes]:
    """(k, w, 2^−k) with u = 2^k·w, w in [√2/2, √2), for double lanes u ≥ √2/2 (normal),
    from u's bits: u's bits less √2/2's carry the exponent k in their top bits (a borrow
    where u's significand is below √2's), and the significand bits put back on √2/2 are w."""
    b = u.b
    ints, const = _int_lanes(u)
    shifted = b.sub(b.bitcast(u.v, ints), const(_SQRT_HALF_BITS))
    w = b.bitcast(b.add(b.and_(shifted, const(_SIGNIFICAND)), const(_SQRT_HALF_BITS)), u.v.type)
    scale = b.sub(const(_ONE_BITS), b.and_(shifted, const(~_SIGNIFICAND)))  # 2^−k's bits
    # k ≥ 0 as a double: its bits in 2^52's significand, less 2^52
    k_bits = b.or_(b.lshr(shifted, const(52)), const(_TWO52_BITS))
    k = Lanes(b, b.bitcast(k_bits, u.v.type)) - 2.0**52
    return k, Lanes(b, w), Lanes(b, b.bitcast(scale, u.v.type))


def _reduced(u: Lanes, du: Lanes, tl: Lanes) -> tuple[Lanes, Lanes, Lanes]:
    """(k, f as a pair) with u + du + tl = 2^k·(1 + f), for u ≥ 1 (tl: below du, or du = 0)."""
    k, w, scale = _split(u)
    fh, fl = two_sum(w - 1.0, du * scale)  # w − 1 exact (Sterbenz), du·2^−k exact
    return k, fh, tl.fma(scale, fl)


def _atanh_tail(s: Lanes, terms: int = len(_ATANH)) -> tuple[Lanes, Lanes]:
    """(s², atanh(s)/s − 1) for |s| ≤ 0.172, the series' first ``terms`` terms."""
    z = s * s
    p = z.splat(_ATANH[terms - 1])
    for c in reversed(_ATANH[: terms - 1]):
        p = p.fma(z, c)
    return z, z * p


def log1p_lanes(tau: Lanes) -> Lanes:
    """log(1 + τ) for finite τ ≥ 0 (callers pass 0 for the rows they flag: a NaN would not
    carry through ``_split``) to about 2^−34 relative, τ subnormal included."""
    u = tau + 1.0
    k, w, _ = _split(u)
    # f = u·2^−k − 1 + (1 + τ − u)·2^−k: where k = 0 that is τ itself; above, the rounding
    # error (≤ 2^−53 absolute) is below 2^−52 of log(1 + τ) ≥ log √2, and f = w − 1
    f = where(u < _SQRT2, tau, w - 1.0)
    two_s = (f + f) / (f + 2.0)  # 2s, not s + s: a subnormal f's s would round
    _, tail = _atanh_tail(two_s * 0.5, _SHORT_TERMS)
    return k.fma(_LN2, two_s.fma(tail, two_s))


def log1p_pair_lanes(th: Lanes, tl: Lanes) -> tuple[Lanes, Lanes]:
    """log(1 + τ) for τ = th + tl (a normalised pair, 0 ≤ τ < 63) as a pair (hi, lo)."""
    u, du = two_sum(th.splat(1.0), th)
    k, fh, fl = _reduced(u, du, tl)
    # 2 + f as a pair (2 ≥ |fh|: Fast2Sum); 2s = 2f/(2 + f) as a pair (one residual step;
    # 2s, not s doubled: a subnormal f's s would round)
    dh = fh + 2.0
    dl = (((-dh) + 2.0) + fh) + fl
    th2, tl2 = fh + fh, fl + fl
    sh = th2 / dh
    sl = ((-sh).fma(dh, th2) + (tl2 - sh * dl)) / dh
    _, tail = _atanh_tail(sh * 0.5)
    # k·ln 2 + 2s: k·LN2_HI exact, and |k·ln 2| ≥ |2s| where k ≠ 0 (Fast2Sum)
    a = k * LN2_HI
    hi = a + sh
    lo = (sh - (hi - a)) + (k.fma(LN2_LO, sl) + sh * tail)
    return two_sum(hi, lo)
