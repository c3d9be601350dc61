"""ELU: the identity for x > 0 and α(eˣ − 1) below, smooth at 0 when α = 1."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import NON_NEGATIVE, Elementwise, Formulas, Kink, Param, register
from ._elementwise import check_scalar, evaluate, limits_of

_ALPHA = Param("alpha", 1.0, NON_NEGATIVE, "the value −α that elu approaches as x → −∞")


def _negative_part(xp: Any, x: Any) -> Any:
    # Only x ≤ 0 reaches exp/expm1, so nothing can overflow; expm1 keeps elu(−1e−20) = −1e−20
    # where exp(x) − 1 gives 0. where(), not minimum(x, 0): minimum's choice between −0.0 and
    # +0.0 differs between NumPy's float64 and longdouble loops, and elu(−0.0) must be −0.0 in
    # every dtype.
    return xp.where(x > 0, xp.zeros_like(x), x)


def _elu(xp: Any, x: Any, alpha: Any) -> Any:
    return xp.where(x > 0, x, alpha * xp.expm1(_negative_part(xp, x)))


def _elu_grad(xp: Any, x: Any, alpha: Any) -> Any:
    return xp.where(x > 0, xp.ones_like(x), alpha * xp.exp(_negative_part(xp, x)))


def _elu_grad2(xp: Any, x: Any, alpha: Any) -> Any:
    return xp.where(x > 0, xp.zeros_like(x), alpha * xp.exp(_negative_part(xp, x)))


def _elu_grad_alpha(xp: Any, x: Any, alpha: Any) -> Any:
    return xp.where(x > 0, xp.zeros_like(x), xp.expm1(_negative_part(xp, x)))


def _elu_limits(order: int, alpha: Any = 1.0) -> tuple[Any, Any]:
    if order == 0:
        return (-alpha, math.inf)  # −0.0 for α = 0; no branch on α (it may be a traced array)
    return [(0.0, 1.0), (0.0, 0.0), (-1.0, 0.0)][order - 1]


def _grad_alpha_limits(order: int, alpha: Any = 1.0) -> tuple[float, float]:
    return (-1.0, 0.0)


def elu(x: Any, alpha: float = 1.0, *, out: Any = None) -> Any:
    """ELU: x for x > 0, α·(eˣ − 1) otherwise (computed with expm1)."""
    alpha = check_scalar("elu", "alpha", alpha, _ALPHA.domain)
    return evaluate("elu", _elu, limits_of(_elu_limits, 0), x, alpha=alpha, out=out)


def elu_grad(x: Any, alpha: float = 1.0, *, out: Any = None) -> Any:
    """elu′(x) = 1 for x > 0, α·eˣ for x ≤ 0 (so elu′(0) = α)."""
    alpha = check_scalar("elu_grad", "alpha", alpha, _ALPHA.domain)
    return evaluate("elu_grad", _elu_grad, limits_of(_elu_limits, 1), x, alpha=alpha, out=out)


def elu_grad2(x: Any, alpha: float = 1.0, *, out: Any = None) -> Any:
    """elu″(x) = 0 for x > 0, α·eˣ for x ≤ 0."""
    alpha = check_scalar("elu_grad2", "alpha", alpha, _ALPHA.domain)
    return evaluate("elu_grad2", _elu_grad2, limits_of(_elu_limits, 2), x, alpha=alpha, out=out)


def elu_grad_alpha(x: Any, alpha: float = 1.0, *, out: Any = None) -> Any:
    """∂elu/∂α = 0 for x > 0, eˣ − 1 for x ≤ 0."""
    alpha = check_scalar("elu_grad_alpha", "alpha", alpha, _ALPHA.domain)
    return evaluate(
        "elu_grad_alpha", _elu_grad_alpha, limits_of(_grad_alpha_limits, 0), x, alpha=alpha, out=out
    )


register(
    Elementwise(
        name="elu",
        kind="elementwise",
        family="exponential",
        summary="Exponential linear unit: identity above 0, a smooth exponential floor at −α below.",
        formulas=Formulas(
            f=r"\operatorname{elu}(x;\alpha) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}",
            grad=r"\begin{cases} 1 & x > 0 \\ \alpha\,e^{x} & x \le 0 \end{cases}",
            grad2=r"\begin{cases} 0 & x > 0 \\ \alpha\,e^{x} & x \le 0 \end{cases}",
        ),
        params=(_ALPHA,),
        fn=elu,
        grad=elu_grad,
        grad2=elu_grad2,
        param_grads={"alpha": elu_grad_alpha},
        range=(-1.0, math.inf),
        range_latex=r"(-\alpha, \infty)",
        properties=frozenset({"monotonic", "bounded_below", "saturates_left"}),
        kinks=(
            Kink(
                0.0,
                grad=lambda alpha=1.0: alpha,
                grad2=lambda alpha=1.0: alpha,
                rule="x = 0 belongs to the exponential piece: elu′(0) = α, elu″(0) = α "
                "(as PyTorch); for α = 1, f′ is continuous and only f″ jumps",
            ),
        ),
        limits=_elu_limits,
        reference={
            0: lambda mp, x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x),
            1: lambda mp, x, alpha=1.0: mp.mpf(1) if x > 0 else alpha * mp.exp(x),
            2: lambda mp, x, alpha=1.0: mp.mpf(0) if x > 0 else alpha * mp.exp(x),
        },
        reference_param_grads={
            "alpha": lambda mp, x, alpha=1.0: mp.mpf(0) if x > 0 else mp.expm1(x)
        },
        naive=lambda x: np.where(x > 0, x, np.exp(x) - 1),
        float64_ulp=(1.0, 2.0, 8.0),
        audit_params=({"alpha": 0.5},),
    )
)

__all__ = ["elu", "elu_grad", "elu_grad2", "elu_grad_alpha"]
