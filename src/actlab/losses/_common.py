"""What every loss shares: argument checks, reductions and the upstream gradient."""

from __future__ import annotations

import math
from typing import Any

from .. import _xp
from ..functions._rows import as_array_like, broadcast_to_shape

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(func: str, reduction: Any) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{func}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_fraction(func: str, name: str, value: Any) -> float:
    try:
        if isinstance(value, (str, bytes)):  # float("0.1") would take a string
            raise TypeError
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a real number, got {value!r}") from None
    if isinstance(value, bool) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{func}: {name} must be in [0, 1], got {value!r}")
    return v


def float_operand(
    func: str, arg: str, value: Any, xp: Any, like: Any, shape: tuple | None = None
) -> Any:
    """A floating operand (weight, target, pos_weight), broadcast to ``shape`` if given."""
    _, a, _ = _xp.as_float_array(as_array_like(func, arg, value, xp, like), func, arg)
    return a if shape is None else broadcast_to_shape(func, arg, xp, a, shape)


def invalid_entries(func: str, xp: Any, ok: Any, message: str) -> Any:
    """Where the check ``ok`` (a boolean array) fails, when that cannot be known yet.

    A concrete ``ok`` is read now: any failure is a ValueError ``f"{func}: {message}"``, and
    the result is None (nothing to mark). A lazy one (a JAX tracer under jit, a Dask graph)
    cannot be read without computing it, so the failures are returned as a mask for the
    caller to turn into NaN results there: a wrong input never becomes a finite answer.
    """
    if _xp.is_concrete(ok):
        if not bool(xp.all(ok)):
            raise ValueError(f"{func}: {message}")
        return None
    return ~ok


def reduce(xp: Any, losses: Any, reduction: str, denominator: Any) -> Any:
    """Reduce per-row losses (working dtype). A mean over nothing (every row ignored or
    empty) is 0, not NaN: there is no loss to average, and a NaN would poison training."""
    if reduction == "none":
        return losses
    total = xp.sum(losses)
    if reduction == "sum":
        return total
    safe = xp.where(denominator == 0.0, xp.ones_like(denominator), denominator)
    return xp.where(denominator == 0.0, xp.zeros_like(total), total / safe)


def upstream(
    func: str, grad_output: Any, xp: Any, like: Any, reduction: str, shape: tuple, wide: Any
) -> Any:
    """The upstream gradient in the working dtype: per row (``shape``) when reduction is
    "none", a scalar otherwise; 1 when not given."""
    if grad_output is None:
        return xp.ones(shape if reduction == "none" else (), dtype=wide, device=_xp.device(like))
    go = float_operand(func, "grad_output", grad_output, xp, like)
    if reduction == "none":
        go = broadcast_to_shape(func, "grad_output", xp, go, shape)
    elif go.ndim != 0:
        raise ValueError(
            f"{func}: grad_output must be a scalar when reduction={reduction!r}, "
            f"got shape {tuple(go.shape)}"
        )
    return xp.astype(go, wide)


def nan_like(xp: Any, a: Any) -> Any:
    return xp.full_like(a, math.nan)
