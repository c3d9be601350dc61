"""Vector-Jacobian products of the elementwise activations: dx = g·f′(x), rounded once.

``NAME_vjp(x, g, *, out=None, **params)`` exists for every elementwise registry entry; it is
made here from the entry's derivative, so the registry stays the one list of activations.
The product is taken in the working dtype before the single rounding (on the compiled tier
in the same loop as f′). ``sigmoid_vjp_from_output`` and ``tanh_vjp_from_output`` take the
saved forward output y instead of x: no exp at all, so they run at memory speed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _xp
from ..kernels import dispatch
from ..kernels.outputs import check_out, deliver
from ..registry import Elementwise
from ._elementwise import cotangent

__all__ = ["make_vjp", "sigmoid_vjp_from_output", "tanh_vjp_from_output"]


def make_vjp(entry: Elementwise) -> Callable[..., Any]:
    """The function ``NAME_vjp(x, g, *, out=None, **params)`` = g·f′(x) for ``entry``."""
    grad = entry.grad
    name = f"{entry.name}_vjp"
    grad_sig = inspect.signature(grad)
    takes_out = "out" in grad_sig.parameters
    known = set(grad_sig.parameters) | {"x"}

    def vjp(x: Any, g: Any, *, out: Any = None, **params: Any) -> Any:
        if g is None:
            raise TypeError(f"{name}: g (the cotangent) is required")
        if not params.keys() <= known:
            unknown = set(params) - known
            raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(unknown)}")
        with cotangent(g):
            if takes_out:
                return grad(x, out=out, **params)
            return deliver(name, grad(x, **params), out)

    vjp.__name__ = vjp.__qualname__ = name
    vjp.__module__ = __name__
    vjp.__doc__ = (
        f"g·{entry.name}′(x), elementwise, rounded once to x's dtype (g broadcasts to x).\n\n"
        f"Keyword parameters as for ``{grad.__name__}``; ``out`` (NumPy) receives the result."
    )
    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in list(grad_sig.parameters.values())[1:]
        if p.name != "out"
    ]
    pos = inspect.Parameter.POSITIONAL_OR_KEYWORD
    kw = inspect.Parameter.KEYWORD_ONLY
    vjp.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("x", pos),
            inspect.Parameter("g", pos),
            *params,
            inspect.Parameter("out", kw, default=None),
        ]
    )
    return vjp


def _from_output(func: str, y: Any, g: Any, out: Any, formula: Callable[..., Any]) -> Any:
    xp, ya, was_scalar = _xp.as_float_array(y, func, "y")
    _, ga, _ = _xp.as_float_array(_xp.to_namespace(g, xp, ya), func, "g")
    try:
        ga = xp.broadcast_to(ga, tuple(ya.shape))
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{func}: g of shape {tuple(ga.shape)} does not broadcast to y's shape "
            f"{tuple(ya.shape)}"
        ) from exc
    if out is not None:
        if not isinstance(ya, np.ndarray):
            raise TypeError(f"{func}: out= is supported for NumPy input only")
        check_out(func, out, ya.shape, ya.dtype)
    if _xp.is_chunked(ya):  # each chunk on its own backend, as the elementwise functions
        return _xp.map_chunks(
            lambda yc, gc: _from_output(func, yc, gc, None, formula), ya.dtype, ya, ga
        )
    if isinstance(ya, np.ndarray) and ya.size > 0:
        result = out if out is not None and out.flags.c_contiguous else np.empty(ya.shape, ya.dtype)
        if dispatch.from_output(func.split("_vjp")[0], ya, np.asarray(ga), result):
            if out is not None and result is not out:
                np.copyto(out, result)
                return out
            return result[()] if was_scalar and out is None else result
    wide = _xp.working_dtype(xp, ya.dtype, _xp.device(ya))
    with _xp.quiet_underflow():
        derivative = formula(xp.astype(ya, wide))
        r = _xp.times_cotangent(xp, derivative, xp.astype(ga, wide), ya.dtype)
    if out is not None:
        np.copyto(out, r)
        return out
    return r[()] if was_scalar and isinstance(r, np.ndarray) else r


def sigmoid_vjp_from_output(y: Any, g: Any, *, out: Any = None) -> Any:
    """g·σ′ from the saved output y = σ(x): g·y·(1 − y), no exp; within an ULP of the exact
    product for this y (compiled tier: y − y² by one FMA in y's dtype, then ·g)."""
    return _from_output("sigmoid_vjp_from_output", y, g, out, lambda yw: yw * (1.0 - yw))


def tanh_vjp_from_output(y: Any, g: Any, *, out: Any = None) -> Any:
    """g·tanh′ from the saved output y = tanh(x): g·(1 − y²), no exp; within an ULP of the
    exact product for this y (compiled tier: 1 − y² by one FMA in y's dtype, then ·g)."""
    return _from_output("tanh_vjp_from_output", y, g, out, lambda yw: (1.0 - yw) * (1.0 + yw))
