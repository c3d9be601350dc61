"""Class-index targets and class weights, as cross_entropy and nll_loss read them: the
checks that name the argument, and the one-hot and ignored-row masks."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _xp
from ..functions._rows import as_array_like
from ._common import float_operand, invalid_entries


def class_weights(func: str, weight: Any, xp: Any, like: Any, ax: int, wide: Any) -> Any:
    """The class weights (ones if ``weight`` is None) in the working dtype, shaped to
    broadcast along the class axis ``ax``; a weight of the wrong length names ``weight``."""
    n = like.shape[ax]
    shape = [1] * like.ndim
    shape[ax] = n
    if weight is None:
        return xp.ones(tuple(shape), dtype=wide, device=_xp.device(like))
    w = float_operand(func, "weight", weight, xp, like)
    if tuple(w.shape) != (n,):
        raise ValueError(f"{func}: weight must have shape ({n},), got {tuple(w.shape)}")
    return xp.reshape(xp.astype(w, wide), tuple(shape))


def class_index_rows(
    func: str, target: Any, xp: Any, like: Any, ax: int, ignore_index: int
) -> tuple[Any, Any, Any]:
    """(one-hot mask of the target class, ignored-row mask, invalid-row mask) for integer
    targets. A class index outside [0, C) that is not ``ignore_index`` is a ValueError when
    the target can be read; in a lazy target it marks its row invalid (None: none can be)."""
    batch = tuple(s for i, s in enumerate(like.shape) if i != ax)
    if tuple(target.shape) != batch:
        raise ValueError(
            f"{func}: class-index target must have shape {batch} (the logits without axis "
            f"{ax}), got {tuple(target.shape)}"
        )
    n = like.shape[ax]
    t = xp.expand_dims(target, axis=ax)
    ignored = t == ignore_index
    invalid = invalid_entries(
        func,
        xp,
        ((t >= 0) & (t < n)) | ignored,
        f"target holds class indices outside [0, {n}) that are not ignore_index={ignore_index}",
    )
    shape = [1] * like.ndim
    shape[ax] = n
    classes = xp.reshape(xp.arange(n, dtype=target.dtype, device=_xp.device(like)), tuple(shape))
    return (classes == t) & ~ignored, ignored, invalid


def integer_target(func: str, target: Any, xp: Any, like: Any) -> Any:
    """``target`` as an integer array in ``like``'s namespace; other dtypes are a TypeError."""
    ta = as_array_like(func, "target", target, xp, like)
    if ta.dtype == xp.bool or not xp.isdtype(ta.dtype, "integral"):
        raise TypeError(f"{func}: target must hold integer class indices, got dtype {ta.dtype}")
    return ta


def class_index_vector(
    func: str, target: np.ndarray, batch: tuple, ax: int, n: int, ignore_index: int
) -> np.ndarray:
    """A NumPy class-index target as one index per row (flattened), checked as
    ``class_index_rows`` checks it, without its one-hot mask the size of the input."""
    if target.shape != batch:
        raise ValueError(
            f"{func}: class-index target must have shape {batch} (the logits without axis "
            f"{ax}), got {target.shape}"
        )
    t = target.reshape(-1)
    if not np.all((t == ignore_index) | ((t >= 0) & (t < n))):
        raise ValueError(
            f"{func}: target holds class indices outside [0, {n}) that are not "
            f"ignore_index={ignore_index}"
        )
    return t
