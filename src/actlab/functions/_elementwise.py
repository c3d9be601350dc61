"""How every elementwise function runs: validate, widen, compute, apply the contract, round once.

A kernel is written against the Array API and sees only finite inputs in the working dtype
(see ``actlab._xp.working_dtype``). The special-value contract is applied here, the same way
for every function: f(±∞) is the declared limit, NaN propagates, and the result is rounded
once to the input's dtype. Because the kernels never see ±∞ or NaN, they never perform an
invalid operation, so no floating-point warning can arise from them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _xp
from ..registry import Domain

Kernel = Callable[..., Any]
Limits = Callable[..., tuple[Any, Any]]

# An exponent argument beyond this is saturated in every dtype we compute in: exp(-1e4) is
# below float64's smallest subnormal, and times any finite float64 it still rounds to zero.
# Clamping there keeps 2|x| and beta*x finite, so no product overflows into inf*0 = NaN.
EXP_ARG_LIMIT = 1.0e4


def check_scalar(func: str, name: str, value: Any, domain: Domain) -> Any:
    """Validate a scalar parameter; return it as a Python float (or a 0-d array, kept as is).

    A 0-d array of a backend stays an array so that the framework can differentiate through
    it (a learnable Swish β as a torch tensor); its value is checked whenever it can be read.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _in_domain(func, name, float(value), domain)
    if isinstance(value, np.ndarray) or _is_array(value):
        if value.ndim != 0:
            raise ValueError(f"{func}: {name} must be a scalar, got shape {tuple(value.shape)}")
        if _xp.is_concrete(value):
            _in_domain(func, name, _xp.scalar_value(value), domain)
        return float(value) if isinstance(value, np.ndarray) else value
    raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__} {value!r}")


def _in_domain(func: str, name: str, value: float, domain: Domain) -> float:
    if not domain.contains(value):
        raise ValueError(f"{func}: {name} must be in {domain.describe()}, got {value!r}")
    return value


def _is_array(value: Any) -> bool:
    return hasattr(value, "__array_namespace__") or hasattr(value, "__dlpack__")


def limits_of(limits: Callable[..., tuple[Any, Any]], order: int) -> Limits:
    """Adapt a registry ``limits(order, **params)`` to what ``evaluate`` calls."""
    return lambda xp, **params: limits(order, **params)


def full_like(xp: Any, x: Any, value: Any) -> Any:
    """An array shaped and typed like ``x`` holding ``value`` (a scalar or a 0-d array)."""
    return xp.zeros_like(x) + value


def evaluate(
    func: str, kernel: Kernel, limits: Limits, x: Any, *, extended: bool = True, **params: Any
) -> Any:
    """Run ``kernel`` on ``x`` under the contract; ``params`` are already validated.

    ``extended`` allows NumPy's extended precision for float64 (see ``_xp.working_dtype``).
    """
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    out_dtype = xa.dtype
    wide = _xp.working_dtype(xp, out_dtype, _xp.device(xa), extended)
    xw = xp.astype(xa, wide)
    wparams = {k: _widen(xp, v, wide) for k, v in params.items()}
    finite = xp.isfinite(xw)
    with _xp.quiet_underflow():
        y = kernel(xp, xp.where(finite, xw, xp.zeros_like(xw)), **wparams)
        at_minus_inf, at_plus_inf = limits(xp, **wparams)
        y = xp.where(xw == -math.inf, _as(xp, at_minus_inf, y), y)
        y = xp.where(xw == math.inf, _as(xp, at_plus_inf, y), y)
        y = xp.where(xp.isnan(xw), xw, y)
        out = xp.astype(y, out_dtype)
    if was_scalar and isinstance(out, np.ndarray):
        return out[()]
    return out


def _as(xp: Any, value: Any, like: Any) -> Any:
    if isinstance(value, (int, float)):
        return xp.asarray(value, dtype=like.dtype, device=_xp.device(like))
    return xp.astype(value, like.dtype)


def _widen(xp: Any, value: Any, wide: Any) -> Any:
    if isinstance(value, float) or value is None or isinstance(value, (bool, str)):
        return value
    return xp.astype(value, wide)
