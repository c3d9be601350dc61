"""The fused cross-entropy path on NumPy: loss and gradient from one pass over the logits.

Taken for the common case (numba tier, float32/float64 logits, integer class targets, no
``weight`` or ``where``; any ``label_smoothing``); everything else, and every row holding
NaN or ±∞ (with label smoothing also −∞), goes through the Array API implementation in
``cross_entropy.py``, whose conventions this path reproduces (ignored rows contribute 0 and
leave the mean's denominator; a mean over nothing is 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..functions._rows import single_axis
from ..kernels import config, dispatch, rowpath
from ..kernels.outputs import check_out
from ._common import check_fraction, check_reduction
from ._targets import class_index_vector

_CHUNK_ELEMENTS = 1 << 18  # as kernels/rowpath.py: the float32 kernel pipelines rows within a chunk


def applicable(logits: Any, target: Any, weight: Any, where: Any) -> bool:
    return (
        config.get_backend_tier() == "numba"
        and isinstance(logits, np.ndarray)
        and logits.dtype in (np.float32, np.float64)
        and logits.ndim >= 1
        and logits.size > 0
        and logits.size >= config.get_row_kernel_min_size()
        and isinstance(target, np.ndarray)
        and target.dtype.kind in "iu"
        and weight is None
        and where is None
    )


def run(
    func: str,
    logits: np.ndarray,
    target: np.ndarray,
    *,
    axis: int,
    ignore_index: int,
    label_smoothing: Any,
    reduction: str,
    grad_output: Any,
    want_grad: bool,
    out: Any,
    slow_loss: Any,
    slow_grad: Any,
) -> tuple[Any, Any]:
    """(loss, gradient or None). ``slow_loss``/``slow_grad`` are the Array API functions,
    called on the flagged rows with reduction="none"."""
    reduction = check_reduction(func, reduction)
    eps = check_fraction(func, "label_smoothing", label_smoothing)
    ax = single_axis(func, axis, logits.ndim)
    n = logits.shape[ax]
    batch = logits.shape[:ax] + logits.shape[ax + 1 :]
    t = class_index_vector(func, target, batch, ax, n, ignore_index).astype(np.int64)
    ignored = t == ignore_index
    t = np.where(ignored, -1, t)
    if want_grad and out is not None:
        check_out(func, out, logits.shape, logits.dtype)
    last = ax == logits.ndim - 1  # np.moveaxis has a cost even when it moves nothing
    x2 = np.ascontiguousarray(logits if last else np.moveaxis(logits, ax, -1)).reshape(-1, n)
    rows = x2.shape[0]
    counted = float(rows - np.count_nonzero(ignored))
    scale = _scales(func, grad_output, reduction, rows, counted, batch)
    losses = np.empty(rows, dtype=np.float64)
    if want_grad:
        direct = out is not None and ax == logits.ndim - 1 and out.flags.c_contiguous
        grad2 = out.reshape(-1, n) if direct else np.empty_like(x2)
    else:
        grad2 = np.empty((1, n), dtype=logits.dtype)
    flags = np.zeros(rows, dtype=np.int8)
    chunk = rowpath.parallel_chunk(rows, n, _CHUNK_ELEMENTS)  # numba's threads set too
    kern = dispatch._kernel_module("cross_entropy")  # numba is imported on its first use
    kernel = kern.cross_entropy_w if logits.dtype == np.float32 else kern.cross_entropy_d
    kernel(x2, t, scale, eps, losses, grad2, want_grad, flags, chunk)
    bad = np.flatnonzero(flags) if flags.any() else ()
    if len(bad):
        tb = np.where(ignored[bad], ignore_index, t[bad])
        options = {"reduction": "none", "ignore_index": ignore_index, "label_smoothing": eps}
        losses[bad] = slow_loss(x2[bad], tb, **options)
        empty = np.all(x2[bad] == -math.inf, axis=1) & ~ignored[bad]
        if want_grad:
            grad2[bad] = slow_grad(x2[bad], tb, grad_output=scale[bad], **options)
        if reduction == "mean" and empty.any():
            # Empty rows leave the mean's denominator; the others were scaled by 1/counted.
            new = counted - float(np.count_nonzero(empty))
            if want_grad:
                with np.errstate(under="ignore"):  # a gradient may round to a subnormal or 0
                    grad2 *= logits.dtype.type(counted / new if new > 0 else 0.0)
            counted = new
    loss = _reduce(losses, reduction, counted, logits.dtype, batch)
    grad = None
    if want_grad:
        grad = grad2.reshape((*batch, n))
        grad = grad if last else np.moveaxis(grad, -1, ax)
        if out is not None and not np.shares_memory(grad, out):
            np.copyto(out, grad)
            grad = out
        elif out is not None:
            grad = out
    return loss, grad


def _scales(
    func: str, grad_output: Any, reduction: str, rows: int, counted: float, batch: tuple
) -> np.ndarray:
    """The per-row gradient factor: upstream gradient over the mean's denominator."""
    if grad_output is None:
        go = np.ones(rows)
    else:
        g = np.asarray(grad_output, dtype=np.float64)
        if reduction == "none":
            try:
                go = np.broadcast_to(g, batch).reshape(-1)
            except ValueError:
                raise ValueError(
                    f"{func}: grad_output of shape {g.shape} does not broadcast to shape {batch}"
                ) from None
        elif g.ndim != 0:
            raise ValueError(
                f"{func}: grad_output must be a scalar when reduction={reduction!r}, "
                f"got shape {g.shape}"
            )
        else:
            go = np.full(rows, float(g))
    if reduction == "mean":
        go = go / counted if counted > 0 else np.zeros(rows)
    return np.ascontiguousarray(go, dtype=np.float64)


def _reduce(losses: np.ndarray, reduction: str, counted: float, dtype: Any, batch: tuple) -> Any:
    if reduction == "none":
        return losses.astype(dtype).reshape(batch)
    if dtype == np.float64 and np.all(np.isfinite(losses)):
        # compensated: the float64 mean keeps its bar
        total = dispatch._kernel_module("cross_entropy").fsum(losses)
    else:
        total = float(np.sum(losses))
    if reduction == "mean":
        total = total / counted if counted > 0 else 0.0
    return np.asarray(total, dtype=np.float64).astype(dtype)
