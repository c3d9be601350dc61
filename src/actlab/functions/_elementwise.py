"""How every elementwise function runs: validate, widen, compute, apply the contract, round once.

A kernel is written against the Array API and sees only finite inputs in the working dtype
(see ``actlab._xp.working_dtype``). The special-value contract is applied here, the same way
for every function: f(±∞) is the declared limit, NaN propagates, and the result is rounded
once to the input's dtype. Because the kernels never see ±∞ or NaN, they never perform an
invalid operation, so no floating-point warning can arise from them.
"""

from __future__ import annotations

import contextvars
import math
import numbers
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from .. import _xp
from .._xp import is_backend_array
from ..kernels import blocked, dispatch
from ..kernels.outputs import check_out
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
    One that cannot be read yet (a JAX tracer under jit, a Dask array) becomes NaN where it
    is outside the domain, so the result is NaN rather than a finite wrong answer.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _in_domain(func, name, float(value), domain)
    if isinstance(value, np.ndarray) or is_backend_array(value):
        if value.ndim != 0:
            raise ValueError(f"{func}: {name} must be a scalar, got shape {tuple(value.shape)}")
        if isinstance(value, np.ndarray):
            return _in_domain(func, name, float(value), domain)
        if _xp.is_concrete(value):
            _in_domain(func, name, _xp.scalar_value(value), domain)
            return value
        xp = _xp.namespace(value)
        return xp.where(domain.holds(xp, value), value, xp.full_like(value, math.nan))
    raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__} {value!r}")


def _in_domain(func: str, name: str, value: float, domain: Domain) -> float:
    if not domain.contains(value):
        raise ValueError(f"{func}: {name} must be in {domain.describe()}, got {value!r}")
    return value


def limits_of(limits: Callable[..., tuple[Any, Any]], order: int) -> Limits:
    """Adapt a registry ``limits(order, **params)`` to what ``evaluate`` calls."""
    return lambda xp, **params: limits(order, **params)


def full_like(xp: Any, x: Any, value: Any) -> Any:
    """An array shaped and typed like ``x`` holding ``value`` (a scalar or a 0-d array)."""
    return xp.zeros_like(x) + value


# The cotangent g of a vector-Jacobian product g·f′(x): set by ``cotangent`` around a call
# of a derivative function (see functions/vjp.py), read once by ``evaluate``.
_COTANGENT: contextvars.ContextVar[Any] = contextvars.ContextVar("actlab_cotangent", default=None)


class cotangent:
    """Within this block (``with cotangent(g):``), the next ``evaluate`` returns g·(its
    function), rounded once.

    A class, not a ``contextlib.contextmanager`` generator, which costs more to enter and
    leave on every VJP call."""

    __slots__ = ("_g", "_token")

    def __init__(self, g: Any) -> None:
        self._g = g

    def __enter__(self) -> None:
        self._token = _COTANGENT.set(self._g)

    def __exit__(self, *exc: object) -> None:
        _COTANGENT.reset(self._token)


def pending_cotangent() -> Any:
    """The g set by ``cotangent`` for the next evaluation, or None (for the code paths that
    compute a product g·f′ themselves, e.g. the compiled array-slope loops of prelu/rrelu)."""
    return _COTANGENT.get()


def evaluate(
    func: str,
    kernel: Kernel,
    limits: Limits,
    x: Any,
    *,
    out: Any = None,
    extended: bool = True,
    **params: Any,
) -> Any:
    """Run ``kernel`` on ``x`` under the contract; ``params`` are already validated.

    ``extended`` allows NumPy's extended precision for float64 (see ``_xp.working_dtype``).
    ``out`` (NumPy only) receives the result. Large NumPy arrays run through a compiled loop
    (numba tier, where one is exact for the dtype) or in cache-sized blocks.
    """
    g = _COTANGENT.get()
    if g is not None:
        _COTANGENT.set(None)  # only this call is the product; cotangent() restores it
    xp, xa, was_scalar = _xp.as_float_array(x, func)
    numpy_in = isinstance(xa, np.ndarray)
    if out is not None:
        if not numpy_in:
            raise TypeError(f"{func}: out= is supported for NumPy input only")
        check_out(func, out, xa.shape, xa.dtype)
    ga = None if g is None else _cotangent_array(func, xp, xa, g)
    # Scalar parameters only: an array parameter (prelu's weight, rrelu's slopes) would have
    # to be cut into the same blocks; such calls run on the whole array.
    scalar_params = all(isinstance(v, float) for v in params.values())
    if _xp.is_chunked(xa) and scalar_params:
        return _xp.map_chunks(
            lambda xc, gc=None: _chunk(func, kernel, limits, xc, gc, extended, params),
            xa.dtype,
            xa,
            *(() if ga is None else (ga,)),
        )
    if numpy_in and xa.size > 0 and scalar_params:
        fast = dispatch.elementwise(
            func,
            xa,
            params,
            limits(xp, **params),
            out,
            ga,
            lambda xs, gs: _compute(func, kernel, limits, xp, xs, gs, extended, params),
        )
        if fast is not None:
            return fast[()] if was_scalar and out is None else fast
        if xa.size > blocked.BLOCK:
            return _evaluate_blocked(func, kernel, limits, xa, ga, out, extended, params)
    result = _compute(func, kernel, limits, xp, xa, ga, extended, params)
    if out is not None:
        np.copyto(out, result)
        return out
    if was_scalar and isinstance(result, np.ndarray):
        return result[()]
    return result


def _chunk(
    func: str, kernel: Kernel, limits: Limits, xc: Any, gc: Any, extended: bool,
    params: dict[str, Any],
) -> Any:  # fmt: skip
    """One chunk of a Dask array (and of its cotangent), as an array of the chunk's backend."""
    with cotangent(gc):
        return evaluate(func, kernel, limits, xc, extended=extended, **params)


def _cotangent_array(func: str, xp: Any, xa: Any, g: Any) -> Any:
    if is_backend_array(g) or not isinstance(g, np.ndarray):
        g = _xp.to_namespace(g, xp, xa)
    _, ga, _ = _xp.as_float_array(g, func, "g")
    try:
        return _xp.broadcast_to(xp, ga, tuple(xa.shape))
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{func}: g of shape {tuple(ga.shape)} does not broadcast to x's shape "
            f"{tuple(xa.shape)}"
        ) from exc


def _compute(
    func: str, kernel: Kernel, limits: Limits, xp: Any, xa: Any, ga: Any, extended: bool,
    params: dict[str, Any],
) -> Any:  # fmt: skip
    """The Array API path: widen, kernel on finite values, contract, (times g), round once."""
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
        for value in wparams.values():
            # A lazy parameter is NaN where check_scalar found it outside its domain (a
            # readable one raised): the whole result is NaN then, not only where it enters.
            if _xp.is_lazy_value(value):
                y = xp.where(xp.isnan(value), xp.full_like(y, math.nan), y)
        if ga is not None:
            return _xp.times_cotangent(xp, y, xp.astype(ga, wide), out_dtype)
        return xp.astype(y, out_dtype)


def _evaluate_blocked(
    func: str, kernel: Kernel, limits: Limits, xa: np.ndarray, ga: Any, out: Any,
    extended: bool, params: dict[str, Any],
) -> np.ndarray:  # fmt: skip
    """The NumPy path on blocks of the flattened array, written into the result in place."""
    result = out if out is not None and out.flags.c_contiguous else np.empty_like(xa, order="C")
    src = blocked.contiguous_into(xa, result, keep=ga)
    gflat = None if ga is None else np.ascontiguousarray(ga).reshape(-1)
    dst = result.reshape(-1)
    ns = array_api_compat.numpy

    def work(s: slice) -> None:
        gs = None if gflat is None else gflat[s]
        dst[s] = _compute(func, kernel, limits, ns, src[s], gs, extended, params)

    blocked.run_blocks(work, blocked.blocks(src.size, blocked.BLOCK))
    if out is not None and result is not out:
        np.copyto(out, result)
        return out
    return result


def _as(xp: Any, value: Any, like: Any) -> Any:
    if isinstance(value, (int, float)):
        return xp.asarray(value, dtype=like.dtype, device=_xp.device(like))
    return xp.astype(value, like.dtype)


def _widen(xp: Any, value: Any, wide: Any) -> Any:
    if isinstance(value, float) or value is None or isinstance(value, (bool, str)):
        return value
    return xp.astype(value, wide)
