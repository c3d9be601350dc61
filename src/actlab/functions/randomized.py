"""rrelu: leaky relu with a random slope per element in training, the mean slope in eval.

In training, each element draws its slope a ~ U(lower, upper) (Xu et al., 2015). The draws
come from a NumPy Generator (or a seed), so a run is reproducible, and they can be returned
so that the backward pass uses the very slopes the forward pass used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _xp
from ..registry import NON_NEGATIVE, Elementwise, Formulas, Kink, Param, register
from ._elementwise import check_scalar, evaluate, full_like
from .rectifiers import (
    _leaky,
    _leaky_grad,
    _leaky_grad_slope,
    _leaky_limits,
    _leaky_limits_xp,
    _zero,
    compiled_array_slope,
)

_LOWER = Param("lower", 1 / 8, NON_NEGATIVE, "smallest slope drawn for x ≤ 0")
_UPPER = Param("upper", 1 / 3, NON_NEGATIVE, "largest slope drawn for x ≤ 0")


def _bounds(func: str, lower: Any, upper: Any) -> tuple[Any, Any]:
    lower = check_scalar(func, "lower", lower, _LOWER.domain)
    upper = check_scalar(func, "upper", upper, _UPPER.domain)
    lazy = _lazy(lower, upper)
    if not lazy:
        if lower > upper:
            raise ValueError(f"{func}: lower must be ≤ upper, got lower={lower!r}, upper={upper!r}")
        return lower, upper
    # A bound that cannot be read yet (a JAX tracer under jit, a Dask array) cannot be
    # compared here: lower > upper makes both bounds NaN, so the result is NaN (the lazy
    # contract, docs/contract.md), never a finite wrong answer.
    xp = _xp.namespace(lazy[0])
    disordered = lower > upper
    return (
        xp.where(disordered, math.nan, lower),
        xp.where(disordered, math.nan, upper),
    )


def _lazy(*values: Any) -> list[Any]:
    """The values that are backend arrays whose values cannot be read yet."""
    return [v for v in values if _xp.is_lazy_value(v)]


def _readable(func: str, lower: Any, upper: Any) -> None:
    """Training draws its slopes with NumPy, which needs the bounds' values now."""
    for name, bound in (("lower", lower), ("upper", upper)):
        if _lazy(bound):
            raise TypeError(
                f"{func}: training mode draws the slopes with NumPy, so {name} must have a "
                f"value now, not be traced or lazy ({type(bound).__name__}); pass it as a "
                "number, or use eval mode (training=False)"
            )


def _generator(func: str, rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"{func}: rng must be a numpy.random.Generator, an int seed or None, got {rng!r}"
    )


def _slopes_like(func: str, xp: Any, x: Any, slopes: Any) -> Any:
    s = _xp.to_namespace(slopes, xp, x)
    if tuple(s.shape) != tuple(x.shape):
        raise ValueError(
            f"{func}: slopes must have the shape of x {tuple(x.shape)}, got {tuple(s.shape)}"
        )
    return s


def rrelu(
    x: Any,
    lower: float = 1 / 8,
    upper: float = 1 / 3,
    training: bool = False,
    rng: Any = None,
    return_slopes: bool = False,
    *,
    out: Any = None,
) -> Any:
    """Randomized leaky relu.

    In eval mode (``training=False``) this is leaky_relu with slope (lower + upper)/2. In
    training mode every element draws a slope from U(lower, upper) using ``rng`` (a NumPy
    Generator, a seed, or None for fresh entropy). With ``return_slopes=True`` the result is
    ``(y, slopes)``; pass ``slopes`` to ``rrelu_grad`` for the matching backward pass.
    ``out`` (NumPy) receives y.
    """
    lower, upper = _bounds("rrelu", lower, upper)
    xp, xa, was_scalar = _xp.as_float_array(x, "rrelu")
    if training:
        _readable("rrelu", lower, upper)
        drawn = _generator("rrelu", rng).uniform(lower, upper, size=tuple(xa.shape))
        # The slopes are kept in x's dtype: those are the slopes applied and returned.
        slopes = xp.astype(_xp.from_numpy(xp, drawn, xa), xa.dtype)
        slope: Any = slopes
    else:
        slope = (lower + upper) / 2
        # Not xp.full_like: the bounds may be 0-d tensors on the autograd tape, which
        # full_like rejects as a fill value. Built only when asked for (a full-size pass).
        slopes = full_like(xp, xa, slope) if return_slopes else None
    y = None
    if training and isinstance(slopes, np.ndarray):
        y = compiled_array_slope("rrelu", 0, xa, slopes, None, out)
    if y is None:
        y = evaluate("rrelu", _leaky, _leaky_limits_xp(0), xa, slope=slope, extended=False, out=out)
    if was_scalar and out is None and isinstance(y, np.ndarray):
        y = y[()]
    return (y, slopes) if return_slopes else y


def _slope_for_backward(
    func: str, xp: Any, x: Any, lower: float, upper: float, training: bool, slopes: Any
) -> Any:
    if slopes is not None:
        return _slopes_like(func, xp, x, slopes)
    if training:
        raise ValueError(
            f"{func}: in training mode pass the slopes the forward pass drew "
            "(rrelu(..., return_slopes=True))"
        )
    return (lower + upper) / 2


def rrelu_grad(
    x: Any,
    lower: float = 1 / 8,
    upper: float = 1 / 3,
    training: bool = False,
    slopes: Any = None,
    *,
    out: Any = None,
) -> Any:
    """1 for x > 0, the element's slope for x ≤ 0 (the mean slope in eval mode)."""
    lower, upper = _bounds("rrelu_grad", lower, upper)
    xp, xa, was_scalar = _xp.as_float_array(x, "rrelu_grad")
    a = _slope_for_backward("rrelu_grad", xp, xa, lower, upper, training, slopes)
    y = None
    if isinstance(a, np.ndarray):  # the drawn slopes, inside rrelu_vjp: compiled g·rrelu′
        y = compiled_array_slope("rrelu_grad", 1, xa, a, None, out)
    if y is None:
        y = evaluate(
            "rrelu_grad", _leaky_grad, _leaky_limits_xp(1), xa, slope=a, extended=False, out=out
        )
    return y if out is not None else _scalar_if(was_scalar, y)


def _scalar_if(was_scalar: bool, y: Any) -> Any:
    """A NumPy scalar for scalar input and an array for array input (0-d included), as every
    other function returns. NumPy turns 0-d-array arithmetic into scalars, hence both ways."""
    if was_scalar and isinstance(y, np.ndarray):
        return y[()]
    if not was_scalar and isinstance(y, np.generic):
        return np.asarray(y)
    return y


def rrelu_grad2(
    x: Any, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False, slopes: Any = None
) -> Any:
    """0."""
    lower, upper = _bounds("rrelu_grad2", lower, upper)
    return evaluate(
        "rrelu_grad2", _zero, _leaky_limits_xp(2), x, slope=(lower + upper) / 2, extended=False
    )


def _grad_bound(
    func: str, which: str, x: Any, lower: Any, upper: Any, training: bool, slopes: Any
) -> Any:
    # In eval the slope is (l + u)/2, so ∂a/∂l = ∂a/∂u = 1/2. In training a = l + (u − l)·U
    # with U ~ U(0, 1), so ∂a/∂l = 1 − U = (u − a)/(u − l) and ∂a/∂u = U = (a − l)/(u − l).
    lower, upper = _bounds(func, lower, upper)
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    lazy = _lazy(lower, upper)
    if slopes is None and not training:
        weight: Any = 0.5
        if lazy:  # disordered lazy bounds are NaN (``_bounds``): so is the gradient
            bxp = _xp.namespace(*lazy)
            weight = bxp.where(bxp.isnan(lower + upper), math.nan, weight)
    elif not lazy and upper == lower:
        weight = 0.5
    else:
        a = xp.astype(_slope_for_backward(func, xp, xa, lower, upper, training, slopes), xa.dtype)
        span = upper - lower
        if lazy:  # equal bounds, known only when the graph runs: 1/2 there, not 0/0
            bxp = _xp.namespace(*lazy)
            equal = span == 0
            span = bxp.where(equal, 1.0, span)
        weight = (upper - a) / span if which == "lower" else (a - lower) / span
        if lazy:
            weight = bxp.where(equal, 0.5, weight)
    y = evaluate(func, _leaky_grad_slope, _leaky_limits_xp(3), xa, slope=0.0, extended=False)
    # x·weight underflows for subnormal x: that is the correctly rounded result, not an error
    # (under np.errstate(all="raise") it would otherwise raise).
    return _scalar_if(was_scalar, _xp.quiet_product(y, weight))


def rrelu_grad_lower(
    x: Any, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False, slopes: Any = None
) -> Any:
    """∂rrelu/∂lower: 0 for x > 0; x·∂a/∂lower for x ≤ 0 (x/2 in eval mode)."""
    return _grad_bound("rrelu_grad_lower", "lower", x, lower, upper, training, slopes)


def rrelu_grad_upper(
    x: Any, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False, slopes: Any = None
) -> Any:
    """∂rrelu/∂upper: 0 for x > 0; x·∂a/∂upper for x ≤ 0 (x/2 in eval mode)."""
    return _grad_bound("rrelu_grad_upper", "upper", x, lower, upper, training, slopes)


def _mean_slope(lower: float = 1 / 8, upper: float = 1 / 3) -> float:
    return (lower + upper) / 2


register(
    Elementwise(
        name="rrelu",
        kind="elementwise",
        family="rectifiers",
        summary="Randomized leaky relu: a random slope per element in training, the mean in eval.",
        formulas=Formulas(
            f=r"\operatorname{rrelu}(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases},"
            r"\quad a \sim U(l, u) \text{ (train)},\ a = \tfrac{l+u}{2} \text{ (eval)}",
            grad=r"\begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
            grad2=r"0",
        ),
        params=(_LOWER, _UPPER),
        options=("training", "rng", "return_slopes"),
        fn=rrelu,
        grad=rrelu_grad,
        grad2=rrelu_grad2,
        param_grads={"lower": rrelu_grad_lower, "upper": rrelu_grad_upper},
        properties=frozenset({"monotonic", "piecewise_linear"}),
        kinks=(
            Kink(
                0.0,
                _mean_slope,
                lambda lower=1 / 8, upper=1 / 3: 0.0,
                "rrelu′(0) = the element's slope (the mean slope in eval), as leaky_relu",
            ),
        ),
        limits=lambda order, lower=1 / 8, upper=1 / 3: _leaky_limits(
            order, _mean_slope(lower, upper)
        ),
        reference={
            0: lambda mp, x, lower=1 / 8, upper=1 / 3: (
                x if x > 0 else (mp.mpf(lower) + upper) / 2 * x
            ),
            1: lambda mp, x, lower=1 / 8, upper=1 / 3: (
                mp.mpf(1) if x > 0 else (mp.mpf(lower) + upper) / 2
            ),
            2: lambda mp, x, lower=1 / 8, upper=1 / 3: mp.mpf(0),
        },
        reference_param_grads={
            "lower": lambda mp, x, **p: mp.mpf(0) if x > 0 else x / 2,
            "upper": lambda mp, x, **p: mp.mpf(0) if x > 0 else x / 2,
        },
        naive=lambda x: np.where(x > 0, x, (1 / 8 + 1 / 3) / 2 * x),
        float64_ulp=(0.5, 0.5, 0.0),
    )
)

__all__ = ["rrelu", "rrelu_grad", "rrelu_grad2", "rrelu_grad_lower", "rrelu_grad_upper"]
