"""The rectifiers: relu, relu6 and leaky_relu (prelu and rrelu, its relatives, build on it).

All are piecewise linear, so values and derivatives are exact; what needs stating is the
convention at each kink, which lives in the registry record and is tested. The rule is one
for the whole family: a kink point belongs to the lower piece, except that relu6′(6) = 0
(as PyTorch and JAX), so that relu6′ is the indicator of the open interval (0, 6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels import dispatch
from ..kernels.outputs import check_out
from ..registry import NON_NEGATIVE, Elementwise, Formulas, Kink, Param, register
from . import _elementwise
from ._elementwise import check_scalar, evaluate, full_like, limits_of

# ------------------------------------------------------------------------------------- relu


def _relu(xp: Any, x: Any) -> Any:
    # where(), not maximum(x, 0): relu(−0.0) is +0.0 (the output is never negative, sign
    # bit included).
    return xp.where(x > 0, x, xp.zeros_like(x))


def _step(xp: Any, x: Any) -> Any:
    return xp.astype(x > 0, x.dtype)


def _zero(xp: Any, x: Any, **params: Any) -> Any:
    return xp.zeros_like(x)


def _relu_limits(order: int) -> tuple[float, float]:
    return [(0.0, math.inf), (0.0, 1.0), (0.0, 0.0)][order]


def relu(x: Any, *, out: Any = None) -> Any:
    """Rectified linear unit max(x, 0); relu(−0.0) = +0.0."""
    return evaluate("relu", _relu, limits_of(_relu_limits, 0), x, extended=False, out=out)


def relu_grad(x: Any, *, out: Any = None) -> Any:
    """relu′(x) = 1 for x > 0, else 0 (relu′(0) = 0)."""
    return evaluate("relu_grad", _step, limits_of(_relu_limits, 1), x, extended=False, out=out)


def relu_grad2(x: Any, *, out: Any = None) -> Any:
    """relu″(x) = 0 (the Dirac mass at the kink is not represented)."""
    return evaluate("relu_grad2", _zero, limits_of(_relu_limits, 2), x, extended=False, out=out)


def _piecewise_reference(pieces: Any) -> Any:
    return lambda mp, x, **p: mp.mpf(pieces(x, **p))


register(
    Elementwise(
        name="relu",
        kind="elementwise",
        family="rectifiers",
        summary="Rectified linear unit: passes positives, zeroes negatives; cheap and sparse.",
        formulas=Formulas(
            f=r"\operatorname{relu}(x) = \max(x, 0)",
            grad=r"\begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
            grad2=r"0",
        ),
        fn=relu,
        grad=relu_grad,
        grad2=relu_grad2,
        range=(0.0, math.inf),
        range_latex=r"[0, \infty)",
        properties=frozenset(
            {"monotonic", "bounded_below", "non_negative", "piecewise_linear", "saturates_left"}
        ),
        kinks=(
            Kink(
                0.0,
                lambda: 0.0,
                lambda: 0.0,
                "relu′(0) = 0, as PyTorch and JAX: a unit at exactly 0 passes no gradient",
            ),
        ),
        limits=_relu_limits,
        reference={
            0: _piecewise_reference(lambda x: max(x, 0)),
            1: _piecewise_reference(lambda x: 1 if x > 0 else 0),
            2: _piecewise_reference(lambda x: 0),
        },
        naive=lambda x: np.maximum(x, 0),
        float64_ulp=(0.5, 0.0, 0.0),
    )
)

# ------------------------------------------------------------------------------------ relu6


def _relu6(xp: Any, x: Any) -> Any:
    return xp.where(x > 0, xp.minimum(x, full_like(xp, x, 6.0)), xp.zeros_like(x))


def _relu6_grad(xp: Any, x: Any) -> Any:
    return xp.astype((x > 0) & (x < 6), x.dtype)


def _relu6_limits(order: int) -> tuple[float, float]:
    return [(0.0, 6.0), (0.0, 0.0), (0.0, 0.0)][order]


def relu6(x: Any, *, out: Any = None) -> Any:
    """min(max(x, 0), 6)."""
    return evaluate("relu6", _relu6, limits_of(_relu6_limits, 0), x, extended=False, out=out)


def relu6_grad(x: Any, *, out: Any = None) -> Any:
    """relu6′(x) = 1 on the open interval (0, 6), else 0."""
    return evaluate(
        "relu6_grad", _relu6_grad, limits_of(_relu6_limits, 1), x, extended=False, out=out
    )


def relu6_grad2(x: Any, *, out: Any = None) -> Any:
    """relu6″(x) = 0."""
    return evaluate("relu6_grad2", _zero, limits_of(_relu6_limits, 2), x, extended=False, out=out)


register(
    Elementwise(
        name="relu6",
        kind="elementwise",
        family="rectifiers",
        summary="relu capped at 6 (MobileNet): bounded output that survives low-precision arithmetic.",
        formulas=Formulas(
            f=r"\operatorname{relu6}(x) = \min(\max(x, 0), 6)",
            grad=r"\begin{cases} 1 & 0 < x < 6 \\ 0 & \text{otherwise} \end{cases}",
            grad2=r"0",
        ),
        fn=relu6,
        grad=relu6_grad,
        grad2=relu6_grad2,
        range=(0.0, 6.0),
        range_latex="[0, 6]",
        properties=frozenset(
            {
                "monotonic",
                "bounded_below",
                "bounded_above",
                "non_negative",
                "piecewise_linear",
                "saturates_left",
                "saturates_right",
            }
        ),
        kinks=(
            Kink(0.0, lambda: 0.0, lambda: 0.0, "relu6′(0) = 0, as relu"),
            Kink(
                6.0,
                lambda: 0.0,
                lambda: 0.0,
                "relu6′(6) = 0, as PyTorch and JAX: the cap passes no gradient",
            ),
        ),
        limits=_relu6_limits,
        reference={
            0: _piecewise_reference(lambda x: min(max(x, 0), 6)),
            1: _piecewise_reference(lambda x: 1 if 0 < x < 6 else 0),
            2: _piecewise_reference(lambda x: 0),
        },
        naive=lambda x: np.minimum(np.maximum(x, 0), 6),
        float64_ulp=(0.5, 0.0, 0.0),
    )
)

# ------------------------------------------------------------------------------ leaky family
# leaky_relu, prelu and rrelu (in eval mode) are one kernel with a slope that is a number,
# a per-channel array, or one random draw per element.


def _leaky(xp: Any, x: Any, slope: Any) -> Any:
    # A slope times a huge x may exceed the largest float: ±inf is then the correctly rounded
    # result, not an error, so NumPy's overflow warning is silenced (other backends never warn).
    with np.errstate(over="ignore"):
        return xp.where(x > 0, x, slope * x)


def _leaky_grad(xp: Any, x: Any, slope: Any) -> Any:
    return xp.where(x > 0, xp.ones_like(x), full_like(xp, x, slope))


def _leaky_grad_slope(xp: Any, x: Any, slope: Any) -> Any:
    return xp.where(x > 0, xp.zeros_like(x), x)


def _leaky_limits(order: int, slope: Any = 0.01) -> tuple[Any, Any]:
    """(f(−∞), f(+∞)) for a scalar slope; order 3 is the slope gradient ∂f/∂slope."""
    if order == 0:
        return (-math.inf if slope > 0 else math.inf if slope < 0 else -0.0, math.inf)
    return [(slope, 1.0), (0.0, 0.0), (-math.inf, 0.0)][order - 1]


def _leaky_limits_xp(order: int) -> Any:
    """The same limits where the slope may be an array (prelu's weight, rrelu's draws)."""

    def limits(xp: Any, slope: Any) -> tuple[Any, Any]:
        if isinstance(slope, float):
            return _leaky_limits(order, slope)
        if order == 0:
            lo = xp.where(
                slope > 0,
                full_like(xp, slope, -math.inf),
                # −zeros: zeros + (−0.0) would be +0.0, not the −0.0 of a zero slope at −∞
                xp.where(slope < 0, full_like(xp, slope, math.inf), -xp.zeros_like(slope)),
            )
            return (lo, math.inf)
        if order == 1:
            return (slope, 1.0)
        return _leaky_limits(order, 1.0)

    return limits


_NEGATIVE_SLOPE = Param("negative_slope", 0.01, NON_NEGATIVE, "slope of the line for x ≤ 0")


def leaky_relu(x: Any, negative_slope: float = 0.01, *, out: Any = None) -> Any:
    """x for x > 0, negative_slope·x otherwise."""
    a = check_scalar("leaky_relu", "negative_slope", negative_slope, _NEGATIVE_SLOPE.domain)
    return evaluate("leaky_relu", _leaky, _leaky_limits_xp(0), x, slope=a, extended=False, out=out)


def leaky_relu_grad(x: Any, negative_slope: float = 0.01, *, out: Any = None) -> Any:
    """1 for x > 0, negative_slope for x ≤ 0 (leaky_relu′(0) = negative_slope, as PyTorch)."""
    a = check_scalar("leaky_relu_grad", "negative_slope", negative_slope, _NEGATIVE_SLOPE.domain)
    return evaluate(
        "leaky_relu_grad", _leaky_grad, _leaky_limits_xp(1), x, slope=a, extended=False, out=out
    )


def leaky_relu_grad2(x: Any, negative_slope: float = 0.01, *, out: Any = None) -> Any:
    """0."""
    a = check_scalar("leaky_relu_grad2", "negative_slope", negative_slope, _NEGATIVE_SLOPE.domain)
    return evaluate(
        "leaky_relu_grad2", _zero, _leaky_limits_xp(2), x, slope=a, extended=False, out=out
    )


def leaky_relu_grad_negative_slope(x: Any, negative_slope: float = 0.01, *, out: Any = None) -> Any:
    """∂leaky_relu/∂negative_slope = 0 for x > 0, x for x ≤ 0."""
    a = check_scalar(
        "leaky_relu_grad_negative_slope", "negative_slope", negative_slope, _NEGATIVE_SLOPE.domain
    )
    return evaluate(
        "leaky_relu_grad_negative_slope",
        _leaky_grad_slope,
        _leaky_limits_xp(3),
        x,
        slope=a,
        extended=False,
        out=out,
    )


def _leaky_reference(slope_of: Any) -> dict[int, Any]:
    return {
        0: lambda mp, x, **p: x if x > 0 else mp.mpf(slope_of(**p)) * x,
        1: lambda mp, x, **p: mp.mpf(1) if x > 0 else mp.mpf(slope_of(**p)),
        2: lambda mp, x, **p: mp.mpf(0),
    }


_LEAKY_FORMULAS = dict(
    grad=r"\begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
    grad2=r"0",
)

register(
    Elementwise(
        name="leaky_relu",
        kind="elementwise",
        family="rectifiers",
        summary="relu with a small slope below 0, so that no unit is ever completely dead.",
        formulas=Formulas(
            f=r"\operatorname{leaky\_relu}(x;a) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}",
            **_LEAKY_FORMULAS,
        ),
        params=(_NEGATIVE_SLOPE,),
        fn=leaky_relu,
        grad=leaky_relu_grad,
        grad2=leaky_relu_grad2,
        param_grads={"negative_slope": leaky_relu_grad_negative_slope},
        range=(-math.inf, math.inf),
        properties=frozenset({"monotonic", "piecewise_linear"}),
        kinks=(
            Kink(
                0.0,
                lambda negative_slope=0.01: negative_slope,
                lambda negative_slope=0.01: 0.0,
                "leaky_relu′(0) = negative_slope, as PyTorch (JAX uses 1): 0 belongs to the "
                "lower piece, as for relu",
            ),
        ),
        limits=lambda order, negative_slope=0.01: _leaky_limits(order, negative_slope),
        reference=_leaky_reference(lambda negative_slope=0.01: negative_slope),
        reference_param_grads={"negative_slope": lambda mp, x, **p: mp.mpf(0) if x > 0 else x},
        naive=lambda x: np.where(x > 0, x, 0.01 * x),
        float64_ulp=(0.5, 0.0, 0.0),
        audit_params=({"negative_slope": 0.2},),
    )
)


def compiled_array_slope(
    func: str, order: int, xa: Any, slopes: np.ndarray, axis: int | None, out: Any
) -> Any:
    """f (order 0) or, inside a vjp, g·f′ (order 1) of a leaky_relu whose slope is an array
    (one per element when ``axis`` is None, else one per channel) by the compiled loops;
    None where the NumPy path must run (other tier or dtypes, strided input, g broadcast)."""
    g = _elementwise.pending_cotangent()  # the g of NAME_vjp (see _elementwise.cotangent)
    if (order == 1) != (g is not None) or not isinstance(xa, np.ndarray):
        return None
    if out is not None:
        check_out(func, out, xa.shape, xa.dtype)
    return dispatch.leaky_array(xa, slopes, axis, g, out)


__all__ = [
    "leaky_relu",
    "leaky_relu_grad",
    "leaky_relu_grad2",
    "leaky_relu_grad_negative_slope",
    "relu",
    "relu6",
    "relu6_grad",
    "relu6_grad2",
    "relu_grad",
    "relu_grad2",
]
