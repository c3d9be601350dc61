"""The only module that knows about array backends.

Everything else in actlab is written against the Array API standard; this module turns
user input into a standard array, picks the namespace, and decides the *working dtype*:
the wider floating type in which a result is computed before it is rounded once to the
input's dtype. That single rounding is what makes float16/bfloat16/float32 results
correctly rounded in practice, and on NumPy the x87 extended type plays the same role
for float64.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "as_float_array",
    "device",
    "from_numpy",
    "is_backend_array",
    "is_chunked",
    "is_concrete",
    "is_lazy_value",
    "map_chunks",
    "namespace",
    "quiet_product",
    "quiet_underflow",
    "scalar_value",
    "to_namespace",
    "working_dtype",
]

ACCEPTED_DTYPES = (
    "float16, float32, float64 (bfloat16 where the backend has it); bool and integer input "
    "is promoted to the default floating type"
)


# The namespace array_api_compat gives NumPy arrays. The NumPy fast paths below return it
# without asking array_api_compat each time (three to five questions per call on a small
# array, a visible part of its fixed cost: `benchmarks/small_calls.py`).
_NUMPY_XP = array_api_compat.array_namespace(np.empty(0))


def _is_plain_ndarray(x: Any) -> bool:
    """Whether ``x`` is exactly a NumPy ndarray (not a subclass, whose namespace may differ)."""
    return type(x) is np.ndarray


def namespace(*arrays: Any) -> Any:
    """The Array API namespace of ``arrays`` (NumPy for Python scalars and lists)."""
    real = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if all(_is_plain_ndarray(a) for a in real):
        return _NUMPY_XP
    return array_api_compat.array_namespace(*real)


def is_backend_array(x: Any) -> bool:
    """Whether ``x`` is an array of some backend (not a Python or NumPy scalar, not a list)."""
    return array_api_compat.is_array_api_obj(x) and not isinstance(x, np.generic)


def as_float_array(x: Any, func: str, arg: str = "x") -> tuple[Any, Any, bool]:
    """Return ``(xp, array, was_python_scalar)`` for a floating-point view of ``x``.

    Real floating arrays pass through unchanged (never copied, never modified). Bool and
    integer input is promoted to the backend's default floating type. Anything else
    (complex, strings, objects) is a ``TypeError`` naming the function and argument.
    """
    if _is_plain_ndarray(x) and x.dtype.kind == "f":
        return _NUMPY_XP, x, False
    was_scalar = isinstance(x, (int, float, np.generic)) and not isinstance(x, complex)
    if not is_backend_array(x):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{func}: {arg} must be a real array or number, got {type(x).__name__}"
            ) from exc
    xp = array_api_compat.array_namespace(x)
    dtype = x.dtype
    if _is_real_floating(xp, dtype):
        return xp, x, was_scalar
    if xp.isdtype(dtype, "bool") or xp.isdtype(dtype, "integral"):
        default = xp.__array_namespace_info__().default_dtypes(device=device(x))["real floating"]
        return xp, xp.astype(x, default), was_scalar
    raise TypeError(f"{func}: {arg} has dtype {dtype}; accepted dtypes are {ACCEPTED_DTYPES}")


def _is_real_floating(xp: Any, dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        # NumPy's compat layer does not list longdouble among the standard dtypes.
        return dtype.kind == "f"
    try:
        return bool(xp.isdtype(dtype, "real floating"))
    except (TypeError, ValueError):
        return False


def device(x: Any) -> Any:
    """The device of ``x`` (None where the backend has no notion of one)."""
    try:
        return array_api_compat.device(x)
    except (TypeError, AttributeError):
        return None


# x87 extended precision has a 64-bit significand (11 bits more than binary64); IEEE quad
# has 113. Either makes a float64 result correctly rounded in all but rare ties. Where
# np.longdouble is just binary64 (Windows, macOS on Apple silicon), float64 is computed in
# float64 and the accuracy is that of the stable formulas alone (documented in docs/accuracy.md).
_NUMPY_EXTENDED = np.dtype(np.longdouble) if np.finfo(np.longdouble).nmant >= 63 else None


def working_dtype(xp: Any, dtype: Any, device: Any = None, extended: bool = True) -> Any:
    """The dtype in which actlab computes results that are returned as ``dtype``.

    ``extended=False`` stops at float64: a piecewise-linear function is one multiplication,
    correctly rounded when done in float64 itself, and rounding it first to the extended
    type and then to float64 would round twice (off by 2^-11 ULP in rare cases).
    """
    if isinstance(dtype, np.dtype) and array_api_compat.is_numpy_namespace(xp):
        if dtype == np.float64 and _NUMPY_EXTENDED is not None and extended:
            return _NUMPY_EXTENDED
        if dtype in (np.float16, np.float32):
            return np.dtype(np.float64)
        return dtype
    if _has_float64(xp, device) and _is_narrower_than_float64(xp, dtype):
        return xp.float64
    return dtype


def _is_narrower_than_float64(xp: Any, dtype: Any) -> bool:
    try:
        return xp.finfo(dtype).bits < 64
    except (TypeError, ValueError):
        return False


def _has_float64(xp: Any, device: Any) -> bool:
    if array_api_compat.is_jax_namespace(xp):
        import jax

        return bool(jax.config.read("jax_enable_x64"))
    if array_api_compat.is_torch_namespace(xp):
        # Apple's MPS backend has no float64.
        return getattr(device, "type", None) != "mps"
    return hasattr(xp, "float64")


def is_concrete(x: Any) -> bool:
    """Whether the values of ``x`` can be read now (False for JAX tracers, Dask graphs).

    array-api-compat calls every JAX array lazy; an eager one (not a tracer) holds its values
    and is read, as a PyTorch tensor is, so that bad input raises where it can."""
    if array_api_compat.is_jax_array(x):
        from jax.core import Tracer

        return not isinstance(x, Tracer)
    return not array_api_compat.is_lazy_array(x)


def is_chunked(x: Any) -> bool:
    """Whether ``x`` is a Dask array: the elementwise functions (and softmax, softmin,
    log_softmax and logsumexp without a mask) then run chunk by chunk on the chunks' own
    backend (``map_chunks``), so that NumPy chunks get the NumPy path."""
    return not _is_plain_ndarray(x) and bool(array_api_compat.is_dask_array(x))


def map_chunks(
    fn: Any, dtype: Any, x: Any, *others: Any, drop_axis: Any = (), chunks: Any = None
) -> Any:
    """A Dask array of ``dtype``: ``fn`` over each chunk of ``x`` and the matching chunks of
    ``others`` (Dask arrays of x's shape, cut like x; numbers and 0-d arrays), still lazy.
    A reducing ``fn`` names the axes it removes (``drop_axis``) or, keeping them with length
    1, the chunks of its result (``chunks``); each such axis is whole within x's chunks.

    Through Dask's Array API the formulas would run in float64 alone, outside actlab's error
    state (its graph computes after the call). On its NumPy chunks the NumPy path computes
    in the extended type, with the compiled kernels, under ``quiet_underflow``: NumPy's
    results (its bits where a chunk takes the same kernel tier as the whole array would)."""
    from dask.array import Array, map_blocks
    from dask.array.utils import meta_from_array

    # Arrays of x's shape are cut like x; numbers and 0-d arrays go whole to every chunk.
    aligned = [o.rechunk(x.chunks) if isinstance(o, Array) and o.ndim else o for o in others]
    meta = meta_from_array(x, ndim=x.ndim - len(drop_axis), dtype=dtype)
    return map_blocks(fn, x, *aligned, dtype=dtype, meta=meta, drop_axis=drop_axis, chunks=chunks)


def is_lazy_value(x: Any) -> bool:
    """Whether ``x`` (a parameter: a number or an array) is a backend array whose values
    cannot be read yet; numbers and NumPy arrays always can."""
    return is_backend_array(x) and not is_concrete(x)


def scalar_value(x: Any) -> float:
    """The value of a concrete 0-d array as a float, read off any autograd tape (float() of a
    torch tensor that requires grad warns)."""
    return float(x.detach() if array_api_compat.is_torch_array(x) else x)


def to_namespace(value: Any, xp: Any, like: Any) -> Any:
    """``value`` (an array of any backend, a list or a number) as an array of ``xp`` on the
    device of ``like``, its dtype unchanged. Used for the arrays that come with x: weights,
    slopes, masks, cotangents, targets."""
    if _is_plain_ndarray(value) and (xp is _NUMPY_XP or xp is np):
        return value
    if is_backend_array(value):
        if array_api_compat.array_namespace(value) is xp:
            return value
    else:
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and array_api_compat.is_numpy_namespace(xp):
        return value
    return xp.asarray(value, device=device(like))


def broadcast_to(xp: Any, value: Any, shape: tuple[int, ...]) -> Any:
    """``xp.broadcast_to(value, shape)``; a NumPy array already of that shape is returned as
    it is (np.broadcast_to of it would only add a read-only view's cost)."""
    if _is_plain_ndarray(value) and value.shape == shape:
        return value
    return xp.broadcast_to(value, shape)


def from_numpy(xp: Any, values: np.ndarray, like: Any) -> Any:
    """Move NumPy ``values`` to the namespace and device of ``like``."""
    if array_api_compat.is_numpy_namespace(xp):
        return values
    return xp.asarray(values, device=device(like))


@contextlib.contextmanager
def quiet_underflow() -> Iterator[None]:
    """Treat underflow as what it is: the correctly rounded result of a tiny value.

    Overflow, invalid operations and division by zero keep the caller's error state, so a
    test running under ``np.errstate(all="raise")`` still catches any of those.
    """
    with np.errstate(under="ignore"):
        yield


def quiet_product(a: Any, b: Any) -> Any:
    """a·b where an underflow is the correctly rounded result, not an error: inside
    ``quiet_underflow``, and for a Dask array ``a`` inside each chunk's computation (its graph
    runs after the call, outside any error state set here). ``b``: a number or an array."""
    if is_chunked(a):
        dtype = np.result_type(a.dtype, getattr(b, "dtype", b))
        return map_chunks(_quiet_times, dtype, a, b)
    return _quiet_times(a, b)


def _quiet_times(a: Any, b: Any) -> Any:
    with quiet_underflow():
        return a * b


def times_cotangent(xp: Any, derivative: Any, g: Any, dtype: Any) -> Any:
    """derivative·g (both in a working dtype) rounded to ``dtype``, as IEEE defines it and
    without a warning: a zero derivative times an infinite cotangent g is NaN (as in PyTorch
    and JAX), and a product beyond ``dtype``'s range rounds to ±∞. Both are the answer for
    that input, not an error of ours. Only this product and its rounding are quiet."""
    with np.errstate(invalid="ignore", over="ignore"):
        return xp.astype(derivative * g, dtype)
