"""The logistic family: sigmoid, log-sigmoid and softplus (log_sigmoid(x) = −softplus(−x))."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import POSITIVE, Elementwise, Formulas, Param, register
from . import _stable
from ._elementwise import check_scalar, evaluate, limits_of

# ---------------------------------------------------------------------------------- sigmoid


def _sigmoid_limits(order: int) -> tuple[float, float]:
    return [(0.0, 1.0), (0.0, 0.0), (0.0, -0.0)][order]


def _sigmoid_grad2(xp: Any, x: Any) -> Any:
    return _stable.sigmoid_grad(xp, x) * _stable.one_minus_two_sigmoid(xp, x)


def sigmoid(x: Any, *, out: Any = None) -> Any:
    """Logistic sigmoid σ(x) = 1/(1+e^{−x}), without overflow on either side."""
    return evaluate("sigmoid", _stable.sigmoid, limits_of(_sigmoid_limits, 0), x, out=out)


def sigmoid_grad(x: Any, *, out: Any = None) -> Any:
    """σ′(x) = σ(x)·σ(−x), accurate in both tails (not σ(1−σ), which is 0 beyond x ≈ 37)."""
    return evaluate("sigmoid_grad", _stable.sigmoid_grad, limits_of(_sigmoid_limits, 1), x, out=out)


def sigmoid_grad2(x: Any, *, out: Any = None) -> Any:
    """σ″(x) = σ′(x)·(1 − 2σ(x))."""
    return evaluate("sigmoid_grad2", _sigmoid_grad2, limits_of(_sigmoid_limits, 2), x, out=out)


def _ref_sigmoid(mp: Any, x: Any) -> Any:
    return 1 / (1 + mp.exp(-x))


def _ref_sigmoid_grad(mp: Any, x: Any) -> Any:
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


register(
    Elementwise(
        name="sigmoid",
        aliases=("logistic", "expit"),
        kind="elementwise",
        family="logistic",
        summary="The logistic function: squashes the real line into (0, 1); saturates on both sides.",
        formulas=Formulas(
            f=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
            grad=r"\sigma'(x) = \sigma(x)\,\sigma(-x)",
            grad2=r"\sigma''(x) = \sigma'(x)\,\bigl(1 - 2\sigma(x)\bigr)",
        ),
        fn=sigmoid,
        grad=sigmoid_grad,
        grad2=sigmoid_grad2,
        range=(0.0, 1.0),
        range_latex="(0, 1)",
        properties=frozenset(
            {
                "monotonic",
                "bounded_below",
                "bounded_above",
                "non_negative",
                "smooth",
                "saturates_left",
                "saturates_right",
            }
        ),
        limits=_sigmoid_limits,
        reference={
            0: _ref_sigmoid,
            1: _ref_sigmoid_grad,
            2: lambda mp, x: -_ref_sigmoid_grad(mp, x) * mp.tanh(x / 2),
        },
        naive=lambda x: 1 / (1 + np.exp(-x)),
        zeros=lambda order: (0.0,) if order == 2 else (),
        float64_ulp=(2.0, 4.0, 8.0),
    )
)

# ------------------------------------------------------------------------------ log_sigmoid


def _log_sigmoid_limits(order: int) -> tuple[float, float]:
    return [(-math.inf, -0.0), (1.0, 0.0), (-0.0, -0.0)][order]


def _log_sigmoid(xp: Any, x: Any) -> Any:
    return -_stable.softplus(xp, -x)


def _log_sigmoid_grad2(xp: Any, x: Any) -> Any:
    return -_stable.sigmoid_grad(xp, x)


def log_sigmoid(x: Any, *, out: Any = None) -> Any:
    """log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^{−|x|})."""
    return evaluate("log_sigmoid", _log_sigmoid, limits_of(_log_sigmoid_limits, 0), x, out=out)


def log_sigmoid_grad(x: Any, *, out: Any = None) -> Any:
    """(log σ)′(x) = σ(−x)."""
    return evaluate(
        "log_sigmoid_grad",
        _stable.sigmoid_complement,
        limits_of(_log_sigmoid_limits, 1),
        x,
        out=out,
    )


def log_sigmoid_grad2(x: Any, *, out: Any = None) -> Any:
    """(log σ)″(x) = −σ′(x)."""
    return evaluate(
        "log_sigmoid_grad2", _log_sigmoid_grad2, limits_of(_log_sigmoid_limits, 2), x, out=out
    )


register(
    Elementwise(
        name="log_sigmoid",
        aliases=("logsigmoid", "log_expit"),
        kind="elementwise",
        family="logistic",
        summary="The logarithm of the sigmoid, computed without ever forming σ(x).",
        formulas=Formulas(
            f=r"\log\sigma(x) = -\operatorname{softplus}(-x) = \min(x,0) - \log\bigl(1+e^{-|x|}\bigr)",
            grad=r"\sigma(-x)",
            grad2=r"-\sigma(x)\,\sigma(-x)",
        ),
        fn=log_sigmoid,
        grad=log_sigmoid_grad,
        grad2=log_sigmoid_grad2,
        range=(-math.inf, 0.0),
        range_latex=r"(-\infty, 0)",
        properties=frozenset({"monotonic", "bounded_above", "smooth", "saturates_right"}),
        limits=_log_sigmoid_limits,
        reference={
            0: lambda mp, x: -mp.log1p(mp.exp(-x)),
            1: lambda mp, x: 1 / (1 + mp.exp(x)),
            2: lambda mp, x: -_ref_sigmoid_grad(mp, x),
        },
        naive=lambda x: np.log(1 / (1 + np.exp(-x))),
        float64_ulp=(1.0, 2.0, 8.0),
    )
)

# --------------------------------------------------------------------------------- softplus

_BETA = Param(
    "beta", 1.0, POSITIVE, "sharpness: softplus(x; β) = log(1+e^{βx})/β tends to relu as β → ∞"
)


def _softplus(xp: Any, x: Any, beta: Any) -> Any:
    # log1p(e^{βx})/β = max(x, 0) + log1p(exp(−|βx|))/β for β > 0: no βx overflow and no
    # threshold switch (PyTorch's threshold=20 costs 5.8e5 ULP just above 20 in float64).
    # (z = βx with its rounding error dz where float64 has no wider type, here and below:
    # ``_stable.scale_pair``; the exponentials take z + dz.)
    e = _stable.exp_neg_abs(xp, *_stable.scale_pair(xp, beta, x))
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(e) / beta


def _softplus_grad(xp: Any, x: Any, beta: Any) -> Any:
    return _stable.sigmoid(xp, *_stable.scale_pair(xp, beta, x))


def _softplus_grad2(xp: Any, x: Any, beta: Any) -> Any:
    return beta * _stable.sigmoid_grad(xp, *_stable.scale_pair(xp, beta, x))


def _softplus_grad_beta(xp: Any, x: Any, beta: Any) -> Any:
    # ∂/∂β [softplus(βx)/β] = (z·σ(z) − softplus(z))/β² with z = βx. Both terms grow like |z|
    # and cancel; rewritten without cancellation it is −(|z|·σ(−|z|) + log1p(e^{−|z|}))/β².
    z, dz = _stable.scale_pair(xp, beta, x)
    a = xp.abs(z)
    e = _stable.exp_neg_abs(xp, z, dz)
    return -(a * (e / (1.0 + e)) + xp.log1p(e)) / (beta * beta)


def softplus(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """softplus(x; β) = log(1 + e^{βx})/β, exact for every x (no threshold switch)."""
    beta = check_scalar("softplus", "beta", beta, _BETA.domain)
    return evaluate("softplus", _softplus, limits_of(_softplus_limits, 0), x, beta=beta, out=out)


def softplus_grad(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """softplus′(x; β) = σ(βx)."""
    beta = check_scalar("softplus_grad", "beta", beta, _BETA.domain)
    return evaluate(
        "softplus_grad", _softplus_grad, limits_of(_softplus_limits, 1), x, beta=beta, out=out
    )


def softplus_grad2(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """softplus″(x; β) = β·σ′(βx)."""
    beta = check_scalar("softplus_grad2", "beta", beta, _BETA.domain)
    return evaluate(
        "softplus_grad2", _softplus_grad2, limits_of(_softplus_limits, 2), x, beta=beta, out=out
    )


def softplus_grad_beta(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """∂softplus(x; β)/∂β = (βx·σ(βx) − log(1+e^{βx}))/β², elementwise."""
    beta = check_scalar("softplus_grad_beta", "beta", beta, _BETA.domain)
    return evaluate(
        "softplus_grad_beta",
        _softplus_grad_beta,
        lambda xp, beta: (-0.0, -0.0),
        x,
        beta=beta,
        out=out,
    )


def _softplus_limits(order: int, beta: Any = 1.0) -> tuple[float, float]:
    return [(0.0, math.inf), (0.0, 1.0), (0.0, 0.0)][order]


def _ref_softplus_grad_beta(mp: Any, x: Any, beta: Any) -> Any:
    a = abs(beta * x)
    return -(a / (1 + mp.exp(a)) + mp.log1p(mp.exp(-a))) / beta**2


register(
    Elementwise(
        name="softplus",
        kind="elementwise",
        family="logistic",
        summary="A smooth relu: log(1+e^{βx})/β; its derivative is the sigmoid.",
        formulas=Formulas(
            f=r"\operatorname{softplus}(x;\beta) = \tfrac{1}{\beta}\log\bigl(1+e^{\beta x}\bigr)",
            grad=r"\sigma(\beta x)",
            grad2=r"\beta\,\sigma(\beta x)\,\sigma(-\beta x)",
        ),
        params=(_BETA,),
        fn=softplus,
        grad=softplus_grad,
        grad2=softplus_grad2,
        param_grads={"beta": softplus_grad_beta},
        range=(0.0, math.inf),
        range_latex=r"(0, \infty)",
        properties=frozenset(
            {"monotonic", "bounded_below", "non_negative", "smooth", "saturates_left"}
        ),
        limits=_softplus_limits,
        reference={
            0: lambda mp, x, beta=1.0: mp.log1p(mp.exp(beta * x)) / beta,
            1: lambda mp, x, beta=1.0: _ref_sigmoid(mp, beta * x),
            2: lambda mp, x, beta=1.0: beta * _ref_sigmoid_grad(mp, beta * x),
        },
        reference_param_grads={"beta": _ref_softplus_grad_beta},
        naive=lambda x: np.log(1 + np.exp(x)),
        float64_ulp=(1.0, 2.0, 8.0),
        audit_params=({"beta": 0.5}, {"beta": 10.0}),
    )
)

__all__ = [
    "log_sigmoid",
    "log_sigmoid_grad",
    "log_sigmoid_grad2",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_grad2",
    "softplus",
    "softplus_grad",
    "softplus_grad2",
    "softplus_grad_beta",
]
