"""softmax, log_softmax and softmin along an axis, with their Jacobian products.

The numerics live in ``_rows``: an exact x − max, the row sum kept without its dominant 1, and
the hard-row contract (docs/softmax.md). Here each function picks what it needs from that
analysis and rounds once to the input dtype. The derivatives (``softmax_derivatives``) are
re-exported here, next to the registry records that name them.
"""

from __future__ import annotations

import math
from typing import Any

from . import _rowcall
from ._rows import finish, quiet
from ._softmax_core import log_probabilities, prepare, probabilities
from .softmax_derivatives import (
    log_softmax_jacobian,
    log_softmax_jvp,
    log_softmax_vjp,
    softmax_jacobian,
    softmax_jvp,
    softmax_vjp,
    softmin_jacobian,
    softmin_jvp,
    softmin_vjp,
)

__all__ = [
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_jvp",
    "log_softmax_vjp",
    "softmax",
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "softmin",
    "softmin_jacobian",
    "softmin_jvp",
    "softmin_vjp",
]


@quiet
def _softmax(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``softmax`` (every backend and option)."""
    c = prepare("softmax", x, axis, where, temperature, negate=False)
    return finish(c.xp, probabilities(c), c.dtype, c.was_scalar)


def softmax(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """softmax(x/T) along ``axis`` (an int or a tuple): e^{x_i/T} / Σ_j e^{x_j/T}.

    ``where`` (a boolean mask broadcasting to x) leaves entries out: they get 0. Rows that are
    empty (all −∞ or masked) give zeros, rows with +∞ entries the limit (k of them share
    1/k), rows with a NaN are all NaN. Every element is within a few ULP, tiny ones included.
    """
    return _rowcall.vector("softmax", _softmax, x, axis, where, temperature, out, "softmax")


@quiet
def _softmin(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``softmin`` (every backend and option)."""
    c = prepare("softmin", x, axis, where, temperature, negate=True)
    return finish(c.xp, probabilities(c), c.dtype, c.was_scalar)


def softmin(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """softmin(x) = softmax(−x), with the same options and contract."""
    return _rowcall.vector("softmin", _softmin, x, axis, where, temperature, out, None)


@quiet
def _log_softmax(x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0) -> Any:
    """The NumPy-path body of ``log_softmax`` (every backend and option)."""
    c = prepare("log_softmax", x, axis, where, temperature, negate=False)
    return finish(c.xp, log_probabilities(c), c.dtype, c.was_scalar)


def log_softmax(
    x: Any, axis: Any = -1, *, where: Any = None, temperature: Any = 1.0, out: Any = None
) -> Any:
    """log softmax(x/T) = x_i/T − logsumexp(x/T), exact at the dominant entry too.

    Masked and −∞ entries give −∞; empty rows all −∞; k entries of +∞ give −log k there.
    """
    return _rowcall.vector(
        "log_softmax", _log_softmax, x, axis, where, temperature, out, "log_softmax"
    )


# ---------------------------------------------------------------------------------- records

_INF, _NAN = math.inf, math.nan
_LN2 = math.log(2.0)


def _naive_softmax(x: Any, axis: int = -1) -> Any:
    """The textbook formula without max subtraction (overflows beyond x ≈ 709.8)."""
    import numpy as np

    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _naive_softmin(x: Any, axis: int = -1) -> Any:
    return _naive_softmax(-x, axis)


def _naive_log_softmax(x: Any, axis: int = -1) -> Any:
    """The seed's max-subtracted formula: (x − max) − log Σ exp(x − max)."""
    import numpy as np

    x_max = np.max(x, axis=axis, keepdims=True)
    return (x - x_max) - np.log(np.sum(np.exp(x - x_max), axis=axis, keepdims=True))


def _hard_rows(log: bool) -> tuple:
    from ..registry import HardRow

    def row(label: str, x: tuple, p: tuple, where: tuple | None = None) -> HardRow:
        if log:
            p = tuple(
                -_INF if v == 0 else (_NAN if v != v else (0.0 if v == 1 else math.log(v)))
                for v in p
            )
        return HardRow(label, x, p, where=where)

    return (
        row("every entry −∞", (-_INF, -_INF, -_INF), (0.0, 0.0, 0.0)),
        row("every entry masked", (1.0, 2.0, 3.0), (0.0, 0.0, 0.0), (False, False, False)),
        row("partly masked", (0.0, 5.0, 0.0), (0.5, 0.0, 0.5), (True, False, True)),
        row("−∞ entries", (-_INF, 0.0, -_INF, 0.0), (0.0, 0.5, 0.0, 0.5)),
        row("one +∞", (0.5, _INF, -1.0, 2.0), (0.0, 1.0, 0.0, 0.0)),
        row("two +∞ share", (_INF, _INF, 0.0, 1.0), (0.5, 0.5, 0.0, 0.0)),
        row("+∞ and −∞", (_INF, -_INF, 0.0, 1.0), (1.0, 0.0, 0.0, 0.0)),
        row("a NaN", (0.5, _NAN, -1.0, 2.0), (_NAN,) * 4),
        row("±1e308 (x − max overflows float64)", (1e308, -1e308), (1.0, 0.0)),
        row("a tie", (2.0, 2.0), (0.5, 0.5)),
        row("one entry", (7.0,), (1.0,)),
    )


def _register() -> None:
    from .. import oracle_vector as ov
    from ..registry import Formulas, VectorFunction, register

    options = ("axis", "where", "temperature")
    register(
        VectorFunction(
            name="softmax",
            aliases=("softargmax",),
            kind="vector",
            family="softmax",
            summary="Turns a row of scores into probabilities; the output layer of "
            "multi-class networks.",
            formulas=Formulas(
                f=r"\operatorname{softmax}(x)_i = \frac{e^{x_i/T}}{\sum_j e^{x_j/T}}",
                grad=r"J_{ij} = \frac{\partial y_i}{\partial x_j} = \tfrac{1}{T}\,y_i"
                r"(\delta_{ij} - y_j)",
                grad2=r"(J^\top w)_i = \tfrac{y_i}{T}\Bigl((w_i - w_k) + \sum_{j\ne k} y_j"
                r"(w_k - w_j)\Bigr),\ k = \arg\max x",
            ),
            options=options,
            fn=softmax,
            vjp=softmax_vjp,
            jvp=softmax_jvp,
            jacobian=softmax_jacobian,
            reference=ov.softmax_ref,
            reference_vjp=ov.softmax_vjp_ref,
            reference_jvp=ov.softmax_vjp_ref,
            naive=_naive_softmax,
            hard_rows=_hard_rows(log=False),
        )
    )
    register(
        VectorFunction(
            name="softmin",
            kind="vector",
            family="softmax",
            summary="softmax(−x): probabilities that favour the smallest scores.",
            formulas=Formulas(
                f=r"\operatorname{softmin}(x)_i = \frac{e^{-x_i/T}}{\sum_j e^{-x_j/T}}",
                grad=r"J_{ij} = -\tfrac{1}{T}\,y_i(\delta_{ij} - y_j)",
                grad2=r"(J^\top w)_i = -\tfrac{y_i}{T}\Bigl((w_i - w_k) + \sum_{j\ne k} y_j"
                r"(w_k - w_j)\Bigr),\ k = \arg\min x",
            ),
            options=options,
            fn=softmin,
            vjp=softmin_vjp,
            jvp=softmin_jvp,
            jacobian=softmin_jacobian,
            reference=ov.softmin_ref,
            reference_vjp=ov.softmin_vjp_ref,
            reference_jvp=ov.softmin_vjp_ref,
            naive=_naive_softmin,
        )
    )
    register(
        VectorFunction(
            name="log_softmax",
            kind="vector",
            family="softmax",
            summary="The logarithm of softmax, computed directly: the input of the "
            "negative log-likelihood.",
            formulas=Formulas(
                f=r"\operatorname{log\_softmax}(x)_i = \frac{x_i - m}{T} - "
                r"\log\!\Bigl(1 + \sum_{j\ne k} e^{(x_j - m)/T}\Bigr),\ m = x_k = \max x",
                grad=r"J_{ij} = \tfrac{1}{T}(\delta_{ij} - y_j)",
                grad2=r"(J^\top g)_j = \tfrac{1}{T}\Bigl(g_j - y_j \sum_i g_i\Bigr)",
            ),
            options=options,
            fn=log_softmax,
            vjp=log_softmax_vjp,
            jvp=log_softmax_jvp,
            jacobian=log_softmax_jacobian,
            reference=ov.log_softmax_ref,
            reference_vjp=ov.log_softmax_vjp_ref,
            reference_jvp=ov.log_softmax_jvp_ref,
            naive=_naive_log_softmax,
            ulp={"float64": 2.0, "float32": 2.0, "float16": 1.0, "bfloat16": 1.0},
            hard_rows=_hard_rows(log=True),
        )
    )


_register()
