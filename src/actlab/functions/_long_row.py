"""logsumexp with a mask or weights, and its VJP, and softmax, softmin and log_softmax with
a mask, over one row longer than a block (logsumexp over every axis, scipy's default; the
others over every axis, or an array of one row), in passes over blocks of the row.

The whole-array code keeps some twenty temporaries of the row's size in the working dtype
(23.5× x's bytes for a float32 row, ``benchmarks/peak_memory.py``), and a single row has no
other rows to block over. Here the row is read a block at a time, twice for logsumexp and
three times for its VJP and for softmax and its kin (four where the row has +∞ entries,
whose count softmax needs):

1. the row's class (a NaN, a +∞ entry, a bad weight, an entry taking part) and its max m;
2. each block's analysis (``_rows.analyse``) shifted by m, or by the caller's logsumexp y:
   the count of the entries at the max and the sum of the exponentials below it, or the
   weighted sums;
3. (the VJP, and softmax and its kin) each block's analysis again, its derivative or
   probabilities from the row's totals (``_lse_core.vjp_of``, ``_softmax_core``'s
   ``probabilities`` and ``log_probabilities``), rounded once into the result.

Per element these are the whole-array code's operations, so its exponentials' bits; the
row's sums add up the blocks' sums in order, one more rounding per block in the working
dtype, far below the result's rounding. (The compiled kernels take logsumexp without a mask
or weights; this is the NumPy path of the calls they do not take.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _xp
from ..kernels import blocked
from ._lse_core import Totals, analysis, inputs, logsumexp_of, totals, vjp_of
from ._rows import finish
from ._softmax_core import Call, log_probabilities, probabilities


def _per_block(work: Callable[[slice], Any], n: int) -> list[Any]:
    """``work(span)`` for the blocks of a row of n entries (on the library's threads), the
    results in the row's order."""
    spans = blocked.blocks(n, blocked.ROW_BLOCK_ELEMENTS)
    results: dict[int, Any] = {}

    def run(span: slice) -> None:
        with np.errstate(under="ignore"):  # a worker thread has its own error state
            results[span.start] = work(span)

    blocked.run_blocks(run, spans)
    return [results[span.start] for span in spans]


def _cut(a: Any, span: slice) -> Any:
    return None if a is None else a[span]


def _scan(func: str, x: np.ndarray, mask: Any, b: Any, span: slice) -> tuple:
    """Pass 1 on a block: (a NaN, a +∞, a bad weight, the max of the finite entries or
    None), each over the entries taking part."""
    given = inputs(func, x[span], 0, _cut(mask, span), _cut(b, span))
    xw, valid = given.xw, given.valid
    finite, nan, pinf = np.isfinite(xw), np.isnan(xw), xw == np.inf
    if valid is not None:
        finite, nan, pinf = finite & valid, nan & valid, pinf & valid
    top = np.max(xw, where=finite, initial=-np.inf) if finite.any() else None
    bad = given.bad_b is not None and bool(given.bad_b.any())
    return bool(nan.any()), bool(pinf.any()), bad, top


def _sums(func: str, x: np.ndarray, mask: Any, b: Any, shift: np.ndarray, span: slice) -> tuple:
    """Pass 2 on a block: (the count of entries at the shift, the sum of the exponentials
    below it), or with weights (Σ b e, Σ b over the +∞ entries)."""
    given, rows = analysis(func, x[span], 0, _cut(mask, span), _cut(b, span), shift=shift)
    if given.bw is None:
        return rows.n_top, rows.below
    t = totals(given, rows)
    return t.s, t.s_inf


def _row_totals(
    func: str, x: np.ndarray, mask: Any, b: Any, shift: np.ndarray | None
) -> Totals:  # fmt: skip
    """The Totals of the whole row (passes 1 and 2); ``shift``: the caller's logsumexp as a
    one-entry array in the working dtype (None: the max)."""
    n = x.size
    scans = _per_block(lambda span: _scan(func, x, mask, b, span), n)
    nan = any(s[0] for s in scans)
    pinf = any(s[1] for s in scans) and not nan
    tops = [s[3] for s in scans if s[3] is not None]
    live = bool(tops)
    if shift is None:
        wide = _xp.working_dtype(np, x.dtype, _xp.device(x))
        shift = np.array([max(tops) if live else 0.0], dtype=wide)
    parts = _per_block(lambda span: _sums(func, x, mask, b, shift, span), n)
    first, second = sum(p[0] for p in parts), sum(p[1] for p in parts)
    if b is None:  # τ = below + (the maxima but one), 0 where nothing is counted
        counted = live and bool(np.isfinite(shift[0]))
        tau = second + (first - 1.0) if counted else np.zeros_like(shift)
        s = s_inf = bad_b = None
    else:
        tau, s, s_inf = np.zeros_like(shift), first, second
        bad_b = np.array([any(sc[2] for sc in scans)])
    empty = not (live or pinf or nan)
    flags = (np.array([nan]), np.array([pinf]), np.array([empty]))
    return Totals(shift, tau, s, s_inf, *flags, bad_b)


def logsumexp(x: np.ndarray, mask: Any, b: Any, part: int | None = None) -> np.ndarray:
    """log Σ b_j e^{x_j} over the 1-D ``x`` (the entries where ``mask``; b None: 1) as a
    0-d array of x's dtype, the whole-array code's contract; ``part`` 0 or 1: that part of
    ``return_sign``'s (log |Σ|, sign) instead."""
    t = _row_totals("logsumexp", x, mask, b, None)
    result = logsumexp_of(np, t, part is not None)[part or 0]
    return finish(np, result.reshape(()), x.dtype, False)


def logsumexp_vjp(x: np.ndarray, g: np.ndarray, y: Any, mask: Any, b: Any) -> np.ndarray:
    """g · ∂logsumexp/∂x over the 1-D ``x``, in x's dtype; ``g`` and the caller's logsumexp
    ``y`` (None: not given; not used with weights, as in the whole-array code) one-entry
    arrays."""
    func = "logsumexp_vjp"
    wide = _xp.working_dtype(np, x.dtype, _xp.device(x))
    shift = None if y is None or b is not None else y.astype(wide)
    t = _row_totals(func, x, mask, b, shift)
    g = g.astype(wide)
    result = np.empty(x.shape, dtype=x.dtype)

    def derivative(span: slice) -> None:
        given, rows = analysis(func, x[span], 0, _cut(mask, span), _cut(b, span), shift=t.m)
        result[span] = finish(np, vjp_of(np, t, rows.e, given.bw, g), x.dtype, False)

    _per_block(derivative, x.size)
    return result


def vector(func: str, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """softmax, softmin or log_softmax (``func``, T = 1) over the 1-D ``x``, the entries
    where ``mask`` taking part, in x's dtype: the row's totals (passes 1 and 2; softmin's of
    −x), then each block analysed again, shifted by the row's max, and finished by the
    whole-array code's ``probabilities`` or ``log_probabilities`` with the row's τ and class
    in place of the block's."""
    xs = np.negative(x) if func == "softmin" else x  # softmin(x) = softmax(−x), exactly
    t = _row_totals(func, xs, mask, None, None)
    k = np.zeros_like(t.tau)  # the count of +∞ entries: a pass of its own where there are
    if bool(t.inf_row[0]):
        counts = _per_block(
            lambda span: np.count_nonzero((xs[span] == np.inf) & mask[span]), x.size
        )
        k[0] = sum(counts)
    row_level = dict(tau=t.tau, m=t.m, k=k, nan_row=t.nan_row, inf_row=t.inf_row)
    done = log_probabilities if func == "log_softmax" else probabilities
    result = np.empty(x.shape, dtype=x.dtype)

    def block(span: slice) -> None:
        _, rows = analysis(func, xs[span], 0, mask[span], None, shift=t.m)
        rows = dataclasses.replace(rows, empty_row=t.empty_row, **row_level)
        call = Call(np, x.dtype, False, (0,), 1.0, rows, (span.stop - span.start,))
        result[span] = finish(np, done(call), x.dtype, False)

    _per_block(block, x.size)
    return result
