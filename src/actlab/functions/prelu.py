"""prelu: leaky_relu with a learned slope, one number or one per channel along ``axis``."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _xp
from ..registry import REAL, Elementwise, Formulas, Kink, Param, register
from ._elementwise import check_scalar, evaluate
from .rectifiers import (
    _LEAKY_FORMULAS,
    _leaky,
    _leaky_grad,
    _leaky_grad_slope,
    _leaky_limits,
    _leaky_limits_xp,
    _leaky_reference,
    _zero,
    compiled_array_slope,
)

__all__ = ["prelu", "prelu_grad", "prelu_grad2", "prelu_grad_weight"]


_WEIGHT = Param(
    "weight",
    0.25,
    REAL,
    "the learnable slope for x ≤ 0: a number, or one per channel along `axis`",
    shape="array",
)


def _channel_weight(func: str, xp: Any, x: Any, weight: Any, axis: int) -> Any:
    """The weight as a float, or as an array that broadcasts against x along ``axis``."""
    if isinstance(weight, numbers.Real) and not isinstance(weight, bool):
        return check_scalar(func, "weight", weight, _WEIGHT.domain)
    w = _xp.to_namespace(weight, xp, x)
    if not xp.isdtype(w.dtype, ("real floating", "integral")):
        raise TypeError(f"{func}: weight must hold real numbers, got dtype {w.dtype}")
    if _xp.is_concrete(w):
        if not bool(xp.all(xp.isfinite(w))):
            raise ValueError(f"{func}: weight must be finite")
    elif xp.isdtype(w.dtype, "real floating"):  # lazy: a non-finite slope gives NaN
        w = xp.where(xp.isfinite(w), w, xp.full_like(w, math.nan))
    if w.ndim == 0 or (w.ndim == 1 and w.shape[0] == 1):
        return xp.reshape(w, ())
    if w.ndim != 1:
        raise ValueError(
            f"{func}: weight must be a number or a 1-D array of per-channel slopes, "
            f"got shape {tuple(w.shape)}"
        )
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"{func}: axis {axis} is out of range for x with {x.ndim} dimension(s), so "
            f"weight of shape {tuple(w.shape)} cannot broadcast along it"
        )
    axis %= x.ndim
    if x.shape[axis] != w.shape[0]:
        raise ValueError(
            f"{func}: weight has {w.shape[0]} slopes but x has {x.shape[axis]} channels "
            f"along axis {axis}"
        )
    return xp.reshape(w, tuple(w.shape[0] if i == axis else 1 for i in range(x.ndim)))


def _prelu_call(
    func: str, kernel: Any, order: int, x: Any, weight: Any, axis: int, out: Any
) -> Any:
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    w = _channel_weight(func, xp, xa, weight, axis)
    result = None
    if isinstance(w, np.ndarray) and w.ndim == xa.ndim and order < 2:
        result = compiled_array_slope(func, order, xa, w.reshape(-1), axis % xa.ndim, out)
    if result is None:
        result = evaluate(
            func, kernel, _leaky_limits_xp(order), xa, slope=w, extended=False, out=out
        )
    # Only a Python/NumPy scalar comes back as a scalar; a 0-d array stays a 0-d array, as
    # for every other function (np.ndim(x) == 0 would turn 0-d arrays into scalars too).
    return result[()] if was_scalar and isinstance(result, np.ndarray) else result


def prelu(x: Any, weight: Any = 0.25, axis: int = 1, *, out: Any = None) -> Any:
    """Parametric relu: x for x > 0, weight·x otherwise, weight per channel along ``axis``."""
    return _prelu_call("prelu", _leaky, 0, x, weight, axis, out)


def prelu_grad(x: Any, weight: Any = 0.25, axis: int = 1, *, out: Any = None) -> Any:
    """1 for x > 0, the channel's weight for x ≤ 0."""
    return _prelu_call("prelu_grad", _leaky_grad, 1, x, weight, axis, out)


def prelu_grad2(x: Any, weight: Any = 0.25, axis: int = 1, *, out: Any = None) -> Any:
    """0."""
    return _prelu_call("prelu_grad2", _zero, 2, x, weight, axis, out)


def prelu_grad_weight(x: Any, weight: Any = 0.25, axis: int = 1, *, out: Any = None) -> Any:
    """∂prelu/∂weight elementwise: 0 for x > 0, x for x ≤ 0.

    The gradient of a per-channel weight is this, times the upstream gradient, summed over
    every axis but ``axis``.
    """
    return _prelu_call("prelu_grad_weight", _leaky_grad_slope, 3, x, weight, axis, out)


register(
    Elementwise(
        name="prelu",
        kind="elementwise",
        family="rectifiers",
        summary="leaky relu whose slope is learned, one per channel (He et al., 2015).",
        formulas=Formulas(
            f=r"\operatorname{prelu}(x;a_c) = \begin{cases} x & x > 0 \\ a_c x & x \le 0 \end{cases}",
            **_LEAKY_FORMULAS,
        ),
        params=(_WEIGHT,),
        options=("axis",),
        fn=prelu,
        grad=prelu_grad,
        grad2=prelu_grad2,
        param_grads={"weight": prelu_grad_weight},
        range=(-math.inf, math.inf),
        properties=frozenset({"monotonic", "piecewise_linear"}),
        kinks=(
            Kink(
                0.0,
                lambda weight=0.25: weight,
                lambda weight=0.25: 0.0,
                "prelu′(0) = the channel's weight, as leaky_relu",
            ),
        ),
        limits=lambda order, weight=0.25: _leaky_limits(order, weight),
        reference=_leaky_reference(lambda weight=0.25: weight),
        reference_param_grads={"weight": lambda mp, x, **p: mp.mpf(0) if x > 0 else x},
        naive=lambda x: np.where(x > 0, x, 0.25 * x),
        float64_ulp=(0.5, 0.0, 0.0),
    )
)
