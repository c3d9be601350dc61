"""Self-gated activations x·g(x): swish x·σ(βx), silu (β = 1) and mish x·tanh(softplus(x)).

Their products are where the peers fail: x·σ(x) underflows in the middle for x ≈ −710 when
σ(x) is already subnormal, and −∞·0 gives NaN at x = −∞. Computing in the working dtype keeps
σ(x) normal there; the limits at ±∞ come from the contract, never from −∞·0.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import _xp
from ..registry import REAL, Elementwise, Formulas, Param, register
from . import _stable
from ._elementwise import check_scalar, evaluate, limits_of

# ------------------------------------------------------------------------------- swish/silu

_BETA = Param("beta", 1.0, REAL, "gate sharpness: swish(x; β) = x·σ(βx); β = 1 is silu")
_SILU_DERIVATIVE_ROOT = -1.2784645427610738  # βx where swish′ = 0 (and f = (x + 1)/β there)
_SILU_CURVATURE_ROOT = 2.3993572805154677  # ±βx where swish″ = 0


# z = βx with its rounding error dz where float64 has no wider type (``_stable.scale_pair``):
# the exponentials take z + dz.
def _swish(xp: Any, x: Any, beta: Any) -> Any:
    z, dz = _stable.scale_pair(xp, beta, x)
    return x * _stable.sigmoid(xp, z, dz)


def _swish_grad(xp: Any, x: Any, beta: Any) -> Any:
    # σ(z)·(1 + z·σ(−z)), z = βx: the textbook σ + x·σ(1−σ) loses σ(1−σ) to cancellation.
    z, dz = _stable.scale_pair(xp, beta, x)
    return _stable.sigmoid(xp, z, dz) * (1.0 + z * _stable.sigmoid_complement(xp, z, dz))


def _swish_grad2(xp: Any, x: Any, beta: Any) -> Any:
    z, dz = _stable.scale_pair(xp, beta, x)
    half = 2.0 + z * _stable.one_minus_two_sigmoid(xp, z, dz)
    return beta * _stable.sigmoid_grad(xp, z, dz) * half


def _swish_grad_beta(xp: Any, x: Any, beta: Any) -> Any:
    # x²·σ′(βx), multiplied as x·(x·σ′) so that x² never overflows before σ′ shrinks it.
    z, dz = _stable.scale_pair(xp, beta, x)
    return x * (x * _stable.sigmoid_grad(xp, z, dz))


def _swish_limits(order: int, beta: Any = 1.0) -> tuple[float, float]:
    """(f(−∞), f(+∞)) of order 0, 1, 2; order 3 is ∂f/∂β. The signed zeros say from which
    side the limit is approached (silu(−∞) = −0.0). A β that is an array (a learnable β
    under jit, whose sign cannot be read) selects them elementwise; a NaN β gives NaN."""
    positive = [(-0.0, math.inf), (-0.0, 1.0), (-0.0, -0.0), (0.0, 0.0)][order]
    negative = [(-math.inf, 0.0), (1.0, -0.0), (0.0, 0.0), (0.0, 0.0)][order]
    zero = [(-math.inf, math.inf), (0.5, 0.5), (0.0, 0.0), (math.inf, math.inf)][order]
    if isinstance(beta, (int, float)):
        return positive if beta > 0 else negative if beta < 0 else zero
    xp = _xp.namespace(beta)

    def pick(end: int) -> Any:
        def const(value: float) -> Any:
            return xp.full_like(beta, value)

        by_sign = xp.where(
            beta > 0,
            const(positive[end]),
            xp.where(beta < 0, const(negative[end]), const(zero[end])),
        )
        return xp.where(xp.isnan(beta), beta, by_sign)

    return pick(0), pick(1)


def _swish_zeros(order: int, beta: Any = 1.0) -> tuple[float, ...]:
    if beta == 0:
        return ()
    if order == 1:
        return (_SILU_DERIVATIVE_ROOT / beta,)
    if order == 2:
        return (-_SILU_CURVATURE_ROOT / beta, _SILU_CURVATURE_ROOT / beta)
    return ()


def swish(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """swish(x; β) = x·σ(βx) (Ramachandran et al., 2017); β = 1 is silu."""
    beta = check_scalar("swish", "beta", beta, _BETA.domain)
    return evaluate("swish", _swish, limits_of(_swish_limits, 0), x, beta=beta, out=out)


def swish_grad(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """swish′(x; β) = σ(βx)·(1 + βx·σ(−βx))."""
    beta = check_scalar("swish_grad", "beta", beta, _BETA.domain)
    return evaluate("swish_grad", _swish_grad, limits_of(_swish_limits, 1), x, beta=beta, out=out)


def swish_grad2(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """swish″(x; β) = β·σ′(βx)·(2 + βx·(1 − 2σ(βx)))."""
    beta = check_scalar("swish_grad2", "beta", beta, _BETA.domain)
    return evaluate("swish_grad2", _swish_grad2, limits_of(_swish_limits, 2), x, beta=beta, out=out)


def swish_grad_beta(x: Any, beta: float = 1.0, *, out: Any = None) -> Any:
    """∂swish/∂β = x²·σ(βx)·σ(−βx), elementwise."""
    beta = check_scalar("swish_grad_beta", "beta", beta, _BETA.domain)
    return evaluate(
        "swish_grad_beta", _swish_grad_beta, limits_of(_swish_limits, 3), x, beta=beta, out=out
    )


def silu(x: Any, *, out: Any = None) -> Any:
    """silu(x) = x·σ(x), the sigmoid-weighted linear unit (swish with β = 1)."""
    return evaluate("silu", _swish, limits_of(_swish_limits, 0), x, beta=1.0, out=out)


def silu_grad(x: Any, *, out: Any = None) -> Any:
    """silu′(x) = σ(x)·(1 + x·σ(−x))."""
    return evaluate("silu_grad", _swish_grad, limits_of(_swish_limits, 1), x, beta=1.0, out=out)


def silu_grad2(x: Any, *, out: Any = None) -> Any:
    """silu″(x) = σ′(x)·(2 + x·(1 − 2σ(x)))."""
    return evaluate("silu_grad2", _swish_grad2, limits_of(_swish_limits, 2), x, beta=1.0, out=out)


def _ref_sigmoid(mp: Any, z: Any) -> Any:
    return 1 / (1 + mp.exp(-z))


def _ref_sigmoid_grad(mp: Any, z: Any) -> Any:
    e = mp.exp(-abs(z))
    return e / (1 + e) ** 2


_SWISH_REFERENCE = {
    0: lambda mp, x, beta=1.0: x * _ref_sigmoid(mp, beta * x),
    1: lambda mp, x, beta=1.0: (
        _ref_sigmoid(mp, beta * x) * (1 + beta * x * _ref_sigmoid(mp, -beta * x))
    ),
    2: lambda mp, x, beta=1.0: (
        beta * _ref_sigmoid_grad(mp, beta * x) * (2 - beta * x * mp.tanh(beta * x / 2))
    ),
}
_SWISH_FORMULAS = Formulas(
    f=r"\operatorname{swish}(x;\beta) = x\,\sigma(\beta x)",
    grad=r"\sigma(\beta x)\,\bigl(1 + \beta x\,\sigma(-\beta x)\bigr)",
    grad2=r"\beta\,\sigma(\beta x)\,\sigma(-\beta x)\,\bigl(2 + \beta x\,(1 - 2\sigma(\beta x))\bigr)",
)
_SILU_MINIMUM = _SILU_DERIVATIVE_ROOT + 1.0

register(
    Elementwise(
        name="silu",
        kind="elementwise",
        family="gated",
        summary="Sigmoid-weighted linear unit x·σ(x): smooth, non-monotonic, with a small negative dip.",
        formulas=Formulas(
            f=r"\operatorname{silu}(x) = x\,\sigma(x)",
            grad=r"\sigma(x)\,\bigl(1 + x\,\sigma(-x)\bigr)",
            grad2=r"\sigma(x)\,\sigma(-x)\,\bigl(2 + x\,(1 - 2\sigma(x))\bigr)",
        ),
        fn=silu,
        grad=silu_grad,
        grad2=silu_grad2,
        range=(_SILU_MINIMUM, math.inf),
        range_latex=r"[-0.2785, \infty)",
        properties=frozenset({"bounded_below", "smooth", "saturates_left"}),
        limits=lambda order: _swish_limits(order, 1.0),
        reference={k: functools.partial(r, beta=1.0) for k, r in _SWISH_REFERENCE.items()},
        naive=lambda x: x / (1 + np.exp(-x)),
        zeros=lambda order: _swish_zeros(order, 1.0),
        float64_ulp=(2.0, 4.0, 8.0),
    )
)

register(
    Elementwise(
        name="swish",
        kind="elementwise",
        family="gated",
        summary="x·σ(βx): interpolates between x/2 (β = 0) and relu (β → ∞); β can be learned.",
        formulas=_SWISH_FORMULAS,
        params=(_BETA,),
        fn=swish,
        grad=swish_grad,
        grad2=swish_grad2,
        param_grads={"beta": swish_grad_beta},
        range=(_SILU_MINIMUM, math.inf),
        range_latex=r"[-0.2785/\beta, \infty)",
        properties=frozenset({"bounded_below", "smooth", "saturates_left"}),
        limits=_swish_limits,
        reference=_SWISH_REFERENCE,
        reference_param_grads={
            "beta": lambda mp, x, beta=1.0: x * x * _ref_sigmoid_grad(mp, beta * x)
        },
        naive=lambda x: x / (1 + np.exp(-x)),
        zeros=_swish_zeros,
        float64_ulp=(4.0, 4.0, 8.0),
        audit_params=({"beta": 0.1}, {"beta": 10.0}),
    )
)

# ------------------------------------------------------------------------------------- mish


def _mish_parts(xp: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """(t, sech²(softplus(x)), σ(x), σ(−x)) with t = tanh(softplus(x)), all from e = e^{−|x|}.

    For x ≥ 0: t = (1 + 2e)/(1 + 2e + 2e²) and 1 − t² = 4e²(1+e)²/(1 + 2e + 2e²)².
    For x < 0, with n = e(e + 2): t = n/(n + 2) and 1 − t² = 4(1+e)²/(n + 2)².
    Every term is positive: no cancellation, and nothing overflows.
    """
    e = _stable.exp_neg_abs(xp, x)
    one_e = 1.0 + e
    positive = x >= 0
    d_pos = 1.0 + 2.0 * e + 2.0 * e * e
    n = e * (e + 2.0)
    t = xp.where(positive, (1.0 + 2.0 * e) / d_pos, n / (n + 2.0))
    s2 = xp.where(
        positive,
        4.0 * (e * one_e / d_pos) * (e * one_e / d_pos),
        4.0 * (one_e / (n + 2.0)) * (one_e / (n + 2.0)),
    )
    sig = xp.where(positive, 1.0 / one_e, e / one_e)
    sig_c = xp.where(positive, e / one_e, 1.0 / one_e)
    return t, s2, sig, sig_c


def _mish(xp: Any, x: Any) -> Any:
    return x * _mish_parts(xp, x)[0]


def _mish_grad(xp: Any, x: Any) -> Any:
    t, s2, sig, _ = _mish_parts(xp, x)
    product = x * sig * s2
    # Far left both terms underflow: t is +0.0 and the product −0.0, whose sum would be +0.0,
    # but mish′ < 0 there (its limit is −0.0); the product alone has the right sign.
    return xp.where(t == 0, product, t + product)


def _mish_grad2(xp: Any, x: Any) -> Any:
    # (x·t)″ = 2t′ + x·t″ with t′ = (1 − t²)σ(x) and t″ = (1 − t²)(σ(x)σ(−x) − 2tσ(x)²).
    t, s2, sig, sig_c = _mish_parts(xp, x)
    # x·(σ(−x) − 2tσ(x)) → −2x overflows for x ≳ 9e307 in plain float64 (array-api-strict,
    # PyTorch, JAX: no wider type), and inf·0 is NaN. Where |x| > EXP_ARG_LIMIT the factor
    # s2·σ(x) is already exactly 0, so clamping x there changes no value.
    xc = _stable.clamp_exponent(xp, x)
    return s2 * sig * (2.0 + xc * (sig_c - 2.0 * t * sig))


def _mish_limits(order: int) -> tuple[float, float]:
    return [(-0.0, math.inf), (-0.0, 1.0), (-0.0, -0.0)][order]


def mish(x: Any, *, out: Any = None) -> Any:
    """mish(x) = x·tanh(softplus(x)) (Misra, 2019)."""
    return evaluate("mish", _mish, limits_of(_mish_limits, 0), x, out=out)


def mish_grad(x: Any, *, out: Any = None) -> Any:
    """mish′(x) = t + x·σ(x)·(1 − t²), t = tanh(softplus(x))."""
    return evaluate("mish_grad", _mish_grad, limits_of(_mish_limits, 1), x, out=out)


def mish_grad2(x: Any, *, out: Any = None) -> Any:
    """mish″(x) = (1 − t²)·σ(x)·(2 + x·(σ(−x) − 2t·σ(x)))."""
    return evaluate("mish_grad2", _mish_grad2, limits_of(_mish_limits, 2), x, out=out)


def _ref_mish_parts(mp: Any, x: Any) -> tuple[Any, Any]:
    sp = mp.log1p(mp.exp(x))
    return mp.tanh(sp), mp.sech(sp) ** 2


def _ref_mish_grad(mp: Any, x: Any) -> Any:
    t, s2 = _ref_mish_parts(mp, x)
    return t + x * _ref_sigmoid(mp, x) * s2


def _ref_mish_grad2(mp: Any, x: Any) -> Any:
    t, s2 = _ref_mish_parts(mp, x)
    sig, sig_c = _ref_sigmoid(mp, x), _ref_sigmoid(mp, -x)
    return s2 * sig * (2 + x * (sig_c - 2 * t * sig))


register(
    Elementwise(
        name="mish",
        kind="elementwise",
        family="gated",
        summary="x·tanh(softplus(x)): smooth and non-monotonic like silu, with a deeper dip.",
        formulas=Formulas(
            f=r"\operatorname{mish}(x) = x\tanh\bigl(\operatorname{softplus}(x)\bigr)",
            grad=r"t + x\,\sigma(x)\,(1 - t^2),\quad t = \tanh(\operatorname{softplus}(x))",
            grad2=r"(1 - t^2)\,\sigma(x)\,\bigl(2 + x\,(\sigma(-x) - 2t\,\sigma(x))\bigr)",
        ),
        fn=mish,
        grad=mish_grad,
        grad2=mish_grad2,
        # mish(−1.1924312145154952…), at the root of mish′ (mpmath, 40 digits); the value
        # written before, −0.30884303…, was off in the 7th digit and mish went below it.
        range=(-0.30884341301725043, math.inf),
        range_latex=r"[-0.3088, \infty)",
        properties=frozenset({"bounded_below", "smooth", "saturates_left"}),
        limits=_mish_limits,
        reference={
            0: lambda mp, x: x * _ref_mish_parts(mp, x)[0],
            1: _ref_mish_grad,
            2: _ref_mish_grad2,
        },
        naive=lambda x: x * np.tanh(np.log(1 + np.exp(x))),
        zeros=lambda order: {
            1: (-1.1924312145154952,),
            2: (-2.2563763963607931, 1.4905711794854285),
        }.get(order, ()),
        float64_ulp=(2.0, 4.0, 8.0),
    )
)

__all__ = [
    "mish",
    "mish_grad",
    "mish_grad2",
    "silu",
    "silu_grad",
    "silu_grad2",
    "swish",
    "swish_grad",
    "swish_grad2",
    "swish_grad_beta",
]
