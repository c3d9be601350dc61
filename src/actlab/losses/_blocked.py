"""Cross-entropy of large NumPy arrays off the fused kernels, a block of rows at a time.

Off the fused kernels (the NumPy tier, class weights, ``where`` masks, probability targets,
float16 and extended logits) the loss and its gradient come from the Array API code of
``cross_entropy.py``, which makes about thirty temporaries the size of the logits in the
working dtype (float64, or the 16-byte extended type for float64 logits). On a whole
65536×1000 array those are gigabytes that go through memory again and again. Here the rows
go through the very same code in blocks of about ``blocked.ROW_BLOCK_ELEMENTS`` entries, so
the temporaries stay in the cache, and each block's gradient is written into the result:

* the per-row losses are kept in the working dtype and reduced as the whole-array call
  reduces them (one rounding at the end);
* a mean's denominator (Σ weight[target] over the rows that count, or their number for
  probability targets) is found first, from the targets and a pass that finds the empty rows
  (every entry −∞ or masked), so that each block's gradient is scaled once, by the same
  upstream/denominator factor as in the whole-array call.

So the results are those of the whole-array call: per row the same operations on the same
values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _xp
from ..functions._rows import finish, mask_of, single_axis
from ..kernels import blocked
from ..kernels.outputs import check_out
from ._common import check_fraction, check_reduction, reduce, upstream
from ._targets import class_index_vector, class_weights


def large_numpy_call(x: Any, target: Any, target_kinds: str) -> bool:
    """NumPy floats of more than one block of rows, with a NumPy target of one of the dtype
    kinds ``target_kinds`` (other inputs take the whole-array path and its checks)."""
    return (
        isinstance(x, np.ndarray)
        and x.dtype.kind == "f"
        and x.ndim >= 1
        and x.size > blocked.ROW_BLOCK_ELEMENTS
        and isinstance(target, np.ndarray)
        and target.dtype.kind in target_kinds
    )


def applicable(logits: Any, target: Any, where: Any) -> bool:
    """Large NumPy logits with class-index or probability targets, and a NumPy mask if any."""
    return large_numpy_call(logits, target, "iuf") and (
        where is None or isinstance(where, np.ndarray)
    )


def run(
    func: str,
    logits: np.ndarray,
    target: np.ndarray,
    *,
    options: dict[str, Any],
    grad_output: Any,
    want_loss: bool,
    want_grad: bool,
    out: Any,
) -> tuple[Any, Any]:
    """(loss or None, gradient or None) of ``cross_entropy`` with ``options`` (axis, weight,
    ignore_index, label_smoothing, reduction, where); ``out`` receives the gradient."""
    from .cross_entropy import _grad_of, _prepare, _row_losses  # the Array API code

    reduction = check_reduction(func, options["reduction"])
    check_fraction(func, "label_smoothing", options["label_smoothing"])
    ax = single_axis(func, options["axis"], logits.ndim)
    n = logits.shape[ax]
    batch = logits.shape[:ax] + logits.shape[ax + 1 :]
    wide = np.dtype(_xp.working_dtype(np, logits.dtype))
    x2 = _rows_of(logits, ax)
    valid = mask_of(func, options["where"], np, logits)
    v2 = None if valid is None else _rows_of(valid, ax)
    classes = target.dtype.kind in "iu"
    ignore_index = int(options["ignore_index"])
    t2 = class_index_vector(func, target, batch, ax, n, ignore_index) if classes else None
    if not classes:
        if target.shape != logits.shape:
            raise ValueError(
                f"{func}: probability target must have the logits' shape {logits.shape}, "
                f"got {target.shape}"
            )
        t2 = _rows_of(target, ax)
    if want_grad and out is not None:
        check_out(func, out, logits.shape, logits.dtype)
    rows = x2.shape[0]
    pieces = blocked.blocks(rows, max(1, blocked.ROW_BLOCK_ELEMENTS // max(n, 1)))
    den = _denominator(func, x2, v2, t2, classes, logits, ax, wide, options, pieces)
    scale = _scales(func, grad_output, reduction, den, logits, batch, wide)
    losses = np.empty(rows, dtype=wide)
    grad2 = np.empty(x2.shape, dtype=logits.dtype) if want_grad else None
    block_options = {
        "axis": -1, "weight": options["weight"], "ignore_index": options["ignore_index"],
        "label_smoothing": options["label_smoothing"], "reduction": "none",
    }  # fmt: skip

    def work(s: slice) -> None:
        with _xp.quiet_underflow():  # a worker thread does not see the caller's error state
            where = None if v2 is None else v2[s]
            p = _prepare(func, x2[s], t2[s], where=where, **block_options)
            if want_loss:
                losses[s] = _row_losses(p).reshape(-1)
            if grad2 is not None:
                grad2[s] = _grad_of(func, p, scale[s])

    blocked.run_blocks(work, pieces)
    loss = None
    if want_loss:
        total = reduce(np, losses, reduction, den)
        total = total.reshape(batch) if reduction == "none" else total
        loss = finish(np, total, logits.dtype, False)
    grad = None
    if grad2 is not None:
        grad = np.moveaxis(grad2.reshape((*batch, n)), -1, ax)
        if out is not None:
            np.copyto(out, grad)
            grad = out
    return loss, grad


def _rows_of(a: np.ndarray, ax: int) -> np.ndarray:
    """``a`` with axis ``ax`` moved last, as 2-D rows (a view where it can be one)."""
    moved = np.moveaxis(a, ax, -1)
    return moved.reshape(-1, moved.shape[-1])


def _denominator(
    func: str, x2: np.ndarray, v2: Any, t2: np.ndarray, classes: bool, logits: np.ndarray,
    ax: int, wide: Any, options: dict[str, Any], pieces: list[slice],
) -> Any:  # fmt: skip
    """Σ over the rows that count (not ignored, not empty) of weight[target] (class targets)
    or 1 (probability targets), in the working dtype: the mean's denominator."""
    empty = np.empty(x2.shape[0], dtype=bool)

    def find_empty(s: slice) -> None:
        gone = x2[s] == -math.inf
        empty[s] = np.all(gone if v2 is None else gone | ~v2[s], axis=1)

    blocked.run_blocks(find_empty, pieces)
    if classes:
        wc = class_weights(func, options["weight"], np, logits, ax, wide).reshape(-1)
        ignored = t2 == int(options["ignore_index"])
        per_row = np.where(ignored | empty, wide.type(0), wc[np.where(ignored, 0, t2)])
    else:
        if options["weight"] is not None:  # checked as the whole-array call checks it
            class_weights(func, options["weight"], np, logits, ax, wide)
        per_row = np.where(empty, wide.type(0), wide.type(1))
    return np.sum(per_row)


def _scales(
    func: str, grad_output: Any, reduction: str, den: Any, logits: np.ndarray, batch: tuple,
    wide: Any,
) -> np.ndarray:  # fmt: skip
    """Each row's gradient factor in the working dtype: the upstream gradient, over the
    mean's denominator (a mean over nothing: 0), as the whole-array call forms it."""
    go = upstream(func, grad_output, np, logits, reduction, batch, wide)
    if reduction == "mean":
        go = np.where(den == 0.0, wide.type(0), go / np.where(den == 0.0, 1.0 + den, den))
    return np.broadcast_to(go, batch).reshape(-1)
