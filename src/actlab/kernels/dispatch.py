"""Where a call runs: the compiled loops (numba tier) or the NumPy path.

This module imports no numba. It decides, for a NumPy array, whether a compiled loop
exists and is exact for that dtype and those parameters, imports the numba modules on first
use, sets the thread count, and returns None when the NumPy path must run instead.

Exactness decides the table below. A float32 loop computes in float64 and rounds once,
which makes its results as exact as the NumPy path (float32 is computed in float64 there
too). float64 input takes the piecewise-linear loops (one multiplication in float64, as on the
NumPy path) and the double-double loops of ``elementwise64`` (plain float64 arithmetic does
not meet the float64 bars); anything else stays on the NumPy path.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import blocked, config

# evaluate()'s function name -> (scalar kernel name, also exact for float64 input)
ELEMENTWISE: dict[str, tuple[str, bool]] = {
    "sigmoid": ("sigmoid", False),
    "sigmoid_grad": ("sigmoid_grad", False),
    "log_sigmoid": ("log_sigmoid", False),
    "log_sigmoid_grad": ("sigmoid_complement", False),
    "softplus": ("softplus", False),
    "softplus_grad": ("softplus_grad", False),
    "tanh": ("tanh", False),
    "tanh_grad": ("tanh_grad", False),
    "relu": ("relu", True),
    "relu_grad": ("relu_grad", True),
    "relu6": ("relu6", True),
    "relu6_grad": ("relu6_grad", True),
    "leaky_relu": ("leaky_relu", True),
    "leaky_relu_grad": ("leaky_relu_grad", True),
    # prelu with one weight and rrelu in eval mode are leaky_relu with that slope (a weight
    # per channel, or rrelu's drawn slopes, are arrays: those calls take the NumPy path).
    "prelu": ("leaky_relu", True),
    "prelu_grad": ("leaky_relu_grad", True),
    "rrelu": ("leaky_relu", True),
    "rrelu_grad": ("leaky_relu_grad", True),
    "elu": ("elu", False),
    "elu_grad": ("elu_grad", False),
    "swish": ("swish", False),
    "swish_grad": ("swish_grad", False),
    "silu": ("swish", False),
    "silu_grad": ("swish_grad", False),
    "mish": ("mish", False),
    "mish_grad": ("mish_grad", False),
}

# float32 and float64 loops with the parameter folded away, used when it is 1 (silu is swish
# with β = 1, softplus′ with β = 1 is σ): no βx pair to form.
_UNIT_PARAM = {"swish": "silu", "swish_grad": "silu_grad", "softplus_grad": "sigmoid"}
# float64 only (float32's softplus computes βx in float64 exactly either way): softplus
# with β = 1 takes |x| as it is and divides by no β.
_UNIT_PARAM_64 = {"softplus": "softplus_unit"}

# The memory-bound loops (``streamed.py``): a choice between x, 0, 1 and 6, or one product,
# exact in the input dtype (relu′ itself, 0 or 1, is as cheap either way; its product with g
# is the memory-bound one). leaky_relu with slope 0 is relu's contract loop instead: its
# limit at −∞ is −0.0, which −∞·0 would not give.
_STREAMED_F = {"relu", "relu6"}
_STREAMED_VJP = {"relu_grad", "relu6_grad"}

# The float32 loops of the exp-based functions with a speed bar (``lean32.py``): line maps
# like the memory-bound ones, with a lean float64 exp.
_LEAN32_F = {
    "sigmoid",
    "sigmoid_complement",
    "sigmoid_grad",
    "silu",
    "silu_grad",
    "swish",
    "swish_grad",
    "softplus",
    "softplus_grad",
    "elu_grad",
    "tanh",
}
_LEAN32_VJP = {
    "sigmoid",
    "sigmoid_complement",
    "sigmoid_grad",
    "silu_grad",
    "swish_grad",
    "softplus_grad",
    "elu_grad",
}

# float64 σ, silu, silu′, tanh and the products g·σ, g·silu′ as line maps (``lines64.py``)
# where numba compiles with AVX-512 (``lines64.IN_USE``): σ, silu and silu′ the same bits as
# the loops of ``elementwise64``, with the memory of a large array in flight as for the
# float32 maps; tanh from the lean exp instead of double-double.
_LINES64_F = {"sigmoid", "silu", "silu_grad", "tanh"}
_LINES64_VJP = {"sigmoid", "silu_grad"}

# Outputs from this size on are written with streaming stores: they cannot stay in the cache
# for the caller anyway (half of a usual last-level cache), and a streamed store does not
# read the destination line first (2 array-sizes moved instead of 3). Smaller outputs take
# ordinary stores and stay cached for whatever reads them next.
STREAM_BYTES = 16 << 20

# float64 loops in double-double or on the lean pair exp of kernels/_exp64.py
# (kernels/elementwise64.py), within the float64 bars.
DOUBLE_DOUBLE = {
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_complement",
    "tanh",
    "tanh_grad",
    "elu",
    "elu_grad",
    "swish",
    "swish_grad",
    "softplus",
    "softplus_grad",
    "log_sigmoid",
    "mish",
    "mish_grad",
}

# float64's smallest normal number: products g·f′ whose f′ lies below it may be redone
# (``_double_double_products``).
_NORMAL_MIN = float(np.finfo(np.float64).smallest_normal)

# A parameter outside this range goes to the NumPy path: the compiled exp returns 0 below
# e^−708 (2^−1021), which only stays invisible in float32 while |parameter| is moderate.
_PARAM_LIMIT = 1.0e4


def use_numba() -> bool:
    return config.get_backend_tier() == "numba"


# An elementwise call over at most this many elements runs on the calling thread alone.
# Waking numba's pool costs more than such work, above all where the pool sleeps between
# calls (OMP_WAIT_POLICY=PASSIVE, or the pause between the layers of a model): sigmoid of
# 10 float32 took about 75 µs per call that way, now 8.4 (`python
# benchmarks/small_calls.py` with c2a9ac2's package and now).
SERIAL_MAX = 1 << 14


def _numba_threads(parallel: bool = True) -> None:
    """Give numba the thread count for the coming call where the calling thread (numba's
    count is thread-local) has another one: the configured count, or 1 where the call is
    not ``parallel`` (a small array, or one chunk of a kernel's parallel loop). Asking is
    cheaper than setting, which a kernel over a small array paid on every call."""
    import numba

    want = min(config.get_num_threads(), numba.config.NUMBA_NUM_THREADS) if parallel else 1
    if numba.get_num_threads() != want:
        numba.set_num_threads(want)


def _kernel_module(name: str) -> Any:
    """The kernel module ``name`` of this package, imported (and numba with it) on first
    use, then looked up (not an import statement on every call)."""
    module = _loaded.get(name)
    if module is None:
        module = _loaded[name] = importlib.import_module(f"{__package__}.{name}")
    return module


_loaded: dict[str, Any] = {}


def _modules(size: int) -> Any:
    """The elementwise kernel module, numba's threads set for ``size`` elements."""
    module = _kernel_module("elementwise")
    _numba_threads(size > SERIAL_MAX)
    return module


def _contiguous(a: np.ndarray) -> np.ndarray:
    """``a``, or a C-contiguous copy of it. A cotangent given as a number or a row broadcast
    to x's shape (stride 0), or any strided input, is copied once, as a strided x is
    (``blocked.contiguous_into``): on the NumPy path that it took before, g·silu′ with a
    number as g took 60–80× (float64) and 8–11× (float32) the time it takes now
    (``python benchmarks/ab.py 35aebcd --cases silu_vjp_number``)."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _flat(a: np.ndarray) -> np.ndarray | None:
    """A contiguous 1-D view of ``a``, or None if ``a`` is not C-contiguous."""
    return a.reshape(-1) if a.flags.c_contiguous else None


def elementwise(
    func: str,
    x: np.ndarray,
    params: dict[str, Any],
    lim: tuple[Any, Any],
    out: Any,
    g: Any,
    numpy_path: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray | None:
    """f(x) (or g·f′(x) when ``g`` is given) by the compiled loop, into ``out`` if given.

    Returns None when no exact compiled loop applies; the caller then runs the NumPy path.
    ``lim`` are the limits at (−∞, +∞) for these parameters. ``numpy_path(x, g)`` is the
    caller's g·f′ on the NumPy path, for the few float64 products the loops cannot give
    (``_double_double_products``).
    """
    spec = ELEMENTWISE.get(func)
    if spec is None or not use_numba() or x.size == 0:
        return None
    name, f64_exact = spec
    dd = x.dtype == np.float64 and not f64_exact and name in DOUBLE_DOUBLE
    if not (x.dtype == np.float32 or (x.dtype == np.float64 and f64_exact) or dd):
        return None
    values = list(params.values())
    # The exp-based loops need a moderate parameter; a slope is only multiplied (exact).
    ok = (lambda v: isinstance(v, float) and math.isfinite(v)) if f64_exact else _moderate
    if len(values) > 1 or not all(ok(v) for v in values):
        return None
    p = float(values[0]) if values else 0.0
    if p == 1.0 and (x.dtype == np.float32 or dd):
        name = _UNIT_PARAM.get(name, name)
        name = _UNIT_PARAM_64.get(name, name) if dd else name
    lo, hi = (float(v) for v in lim)
    if g is not None:
        if not (isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype.kind == "f"):
            return None
        if g.dtype.itemsize > 8:
            return None
        g = _contiguous(g)
    result = out if out is not None and out.flags.c_contiguous else np.empty_like(x, order="C")
    src = blocked.contiguous_into(x, result, keep=g)  # strided x: copied, then in place
    mod = _modules(x.size)
    flat, stream = result.reshape(-1), result.nbytes >= STREAM_BYTES
    same = g is None or g.dtype == x.dtype
    if dd:
        mod = _kernel_module("elementwise64")
    if name in (_STREAMED_F if g is None else _STREAMED_VJP) and same:
        kernel = getattr(_streamed(x.size), f"{name}_f" if g is None else f"{name}_vjp")
        kernel(src, *_gs(g), flat, stream)
    elif name == "leaky_relu" and g is None and p != 0.0:
        _streamed(x.size).leaky_relu_f(src, flat, stream, p)
    elif name == "leaky_relu_grad" and g is not None and p != 0.0:
        _streamed(x.size).leaky_relu_grad_vjp(src, _wide(_flat(g)), flat, stream, p)
    elif x.dtype == np.float32 and name in (_LEAN32_F if g is None else _LEAN32_VJP):
        kernels = _lean32()
        if g is None:
            getattr(kernels, f"{name}_f")(src, flat, stream, p, lo, hi)
        else:
            getattr(kernels, f"{name}_vjp")(src, _wide(_flat(g)), flat, stream, p, lo, hi)
    elif g is None and dd and name in _LINES64_F and _lines64().IN_USE:
        getattr(_lines64(), f"{name}_f")(src, flat, stream)
    elif g is None:
        getattr(mod, f"{name}_f")(src, flat, p, lo, hi)
    elif dd and name in _LINES64_VJP and _lines64().IN_USE:
        kernel = getattr(_lines64(), f"{name}_vjp")
        g = _wide(_flat(g))
        _double_double_products(kernel, src, g, flat, (stream,), numpy_path)
    elif dd:
        kernel = getattr(mod, f"{name}_vjp")
        _double_double_products(kernel, src, _flat(g), flat, (p, lo, hi), numpy_path)
    else:
        getattr(mod, f"{name}_vjp")(src, _flat(g), flat, p, lo, hi)
    if out is not None and result is not out:
        np.copyto(out, result)
        return out
    return result


def _double_double_products(
    kernel: Callable[..., int],
    x: np.ndarray,
    g: np.ndarray,
    result: np.ndarray,
    params: tuple[Any, ...],
    numpy_path: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """g·f′ by a float64 loop of ``elementwise64`` or ``lines64`` (``kernel(x, g, result,
    *params)``) into ``result`` (all flat), and from the NumPy path the products the loop
    cannot give: f′ below float64's normal range with |g| > 1 (the loop counts the f′
    below it, see ``elementwise64._NORMAL_MIN``). Those are found after the loop as |g·f′|
    ≤ 2^−1022·|g| (rounding is monotonic, so none escapes), and need x and g then: where
    ``result`` overlaps either (in place, or x copied into it), the loop writes a temporary
    first."""
    target = result
    if np.may_share_memory(result, x) or np.may_share_memory(result, g):
        target = np.empty_like(result)
    if kernel(x, g, target, *params):
        g64 = np.abs(g.astype(np.float64, copy=False))
        with np.errstate(under="ignore"):
            lifted = (g64 > 1.0) & (g64 < math.inf) & (np.abs(target) <= _NORMAL_MIN * g64)
        where = np.flatnonzero(lifted)
        target[where] = numpy_path(x[where], g[where])
    if target is not result:
        np.copyto(result, target)


def _streamed(size: int) -> Any:
    """The streamed kernel module, numba's threads set for ``size`` elements."""
    module = _kernel_module("streamed")
    _numba_threads(size > SERIAL_MAX)
    return module


def _lean32() -> Any:
    return _kernel_module("lean32")  # the threads were set by ``_modules``


def _lines64() -> Any:
    return _kernel_module("lines64")  # the threads were set by ``_modules``


def _gs(g: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """g's flat view as an argument list: empty for f, one array for g·f′."""
    return () if g is None else (g.reshape(-1),)


def _wide(a: np.ndarray) -> np.ndarray:
    """``a`` as float32 or float64 for the streamed loops: float16 is widened (exactly)."""
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _moderate(v: Any) -> bool:
    if not isinstance(v, float):
        return False
    return v == 0.0 or (math.isfinite(v) and 1.0 / _PARAM_LIMIT <= abs(v) <= _PARAM_LIMIT)


def from_output(func: str, y: np.ndarray, g: np.ndarray, out: np.ndarray) -> bool:
    """g·f′ from a saved output y by the compiled loop into ``out``; False if not applicable."""
    if not use_numba() or y.size == 0 or y.dtype not in (np.float32, np.float64):
        return False
    if not out.flags.c_contiguous or g.dtype != y.dtype:  # the loop runs in y's dtype
        return False
    y, g = _contiguous(y), _contiguous(g)
    kernel = getattr(_streamed(y.size), f"{func}_from_output_vjp")
    kernel(_flat(y), _flat(g), out.reshape(-1), out.nbytes >= STREAM_BYTES)
    return True


def exp_floor(x: np.ndarray, out: np.ndarray) -> None:
    """The exp-only loop with the kernels' own exp (see ``actlab.kernels.exp_floor``)."""
    _numba_threads()
    if x.dtype == np.float32:
        from . import rows32

        rows32.exp_floor_w(x.reshape(-1), out.reshape(-1))
    else:
        from . import rows64

        rows64.exp_floor_d(x.reshape(-1), out.reshape(-1))


def leaky_array(x: Any, slopes: Any, axis: int | None, g: Any, out: Any) -> np.ndarray | None:
    """leaky_relu (or g·leaky_relu′ when ``g`` is given) with an array slope, by the loops of
    ``kernels/streamed.py``: one slope per element (``axis`` None: rrelu's draws) or one per
    channel along ``axis`` (prelu's weight, 1-D). None where the NumPy path must run."""
    if not use_numba() or not isinstance(x, np.ndarray) or x.size == 0:
        return None
    if x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous:
        return None
    if not isinstance(slopes, np.ndarray) or slopes.dtype.kind != "f" or slopes.itemsize > 8:
        return None
    want = x.shape if axis is None else (x.shape[axis],)
    if slopes.shape != want or not slopes.flags.c_contiguous:
        return None
    if g is not None and not (
        isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype.kind == "f"
    ):
        return None
    if g is not None and (g.dtype.itemsize > 8 or not g.flags.c_contiguous):
        return None
    kernels = _streamed(x.size)
    result = out if out is not None and out.flags.c_contiguous else np.empty_like(x, order="C")
    stream = result.nbytes >= STREAM_BYTES
    gs = () if g is None else (_wide(g),)
    if axis is None:
        flat = (a.reshape(-1) for a in (x, *gs, _wide(slopes), result))
        (kernels.leaky_each_f if g is None else kernels.leaky_each_vjp)(*flat, stream)
    else:
        shape3 = (math.prod(x.shape[:axis]), x.shape[axis], math.prod(x.shape[axis + 1 :]))
        views = (a.reshape(shape3) for a in (x, *gs))
        channels = kernels.leaky_channels_f if g is None else kernels.leaky_channels_vjp
        channels(*views, slopes.astype(np.float64), result.reshape(shape3), stream)
    if out is not None and result is not out:
        np.copyto(out, result)
        return out
    return result
