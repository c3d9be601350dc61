"""tanh: the zero-centred sigmoid, tanh(x) = 2σ(2x) − 1."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Elementwise, Formulas, register
from . import _stable
from ._elementwise import evaluate, limits_of


def _tanh(xp: Any, x: Any) -> Any:
    return xp.tanh(x)


def _tanh_grad2(xp: Any, x: Any) -> Any:
    return -2.0 * xp.tanh(x) * _stable.sech2(xp, x)


def _tanh_limits(order: int) -> tuple[float, float]:
    return [(-1.0, 1.0), (0.0, 0.0), (0.0, -0.0)][order]


def tanh(x: Any, *, out: Any = None) -> Any:
    """Hyperbolic tangent."""
    return evaluate("tanh", _tanh, limits_of(_tanh_limits, 0), x, out=out)


def tanh_grad(x: Any, *, out: Any = None) -> Any:
    """tanh′(x) = sech²(x), without the cancellation of 1 − tanh²(x) (0 beyond |x| ≈ 19)."""
    return evaluate("tanh_grad", _stable.sech2, limits_of(_tanh_limits, 1), x, out=out)


def tanh_grad2(x: Any, *, out: Any = None) -> Any:
    """tanh″(x) = −2·tanh(x)·sech²(x)."""
    return evaluate("tanh_grad2", _tanh_grad2, limits_of(_tanh_limits, 2), x, out=out)


register(
    Elementwise(
        name="tanh",
        kind="elementwise",
        family="hyperbolic",
        summary="Hyperbolic tangent: a zero-centred sigmoid onto (−1, 1); saturates on both sides.",
        formulas=Formulas(
            f=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
            grad=r"\tanh'(x) = \operatorname{sech}^2(x)",
            grad2=r"\tanh''(x) = -2\tanh(x)\operatorname{sech}^2(x)",
        ),
        fn=tanh,
        grad=tanh_grad,
        grad2=tanh_grad2,
        range=(-1.0, 1.0),
        range_latex="(-1, 1)",
        properties=frozenset(
            {
                "monotonic",
                "bounded_below",
                "bounded_above",
                "zero_centred",
                "odd",
                "smooth",
                "saturates_left",
                "saturates_right",
            }
        ),
        limits=_tanh_limits,
        reference={
            0: lambda mp, x: mp.tanh(x),
            1: lambda mp, x: mp.sech(x) ** 2,
            2: lambda mp, x: -2 * mp.tanh(x) * mp.sech(x) ** 2,
        },
        naive=lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
        zeros=lambda order: (0.0,) if order == 2 else (),
        float64_ulp=(1.0, 4.0, 8.0),
    )
)

__all__ = ["tanh", "tanh_grad", "tanh_grad2"]
