"""``out=``: checking a caller's output buffer and writing a result into it.

``out`` is supported on NumPy: an ``ndarray`` with exactly the result's shape and dtype (no
broadcasting, no casting: a float64 buffer for a float32 result would hide a second
rounding). It may be the input itself (``sigmoid(x, out=x)``). Other backends have their own
buffers and allocation; ``out=`` there is a ``TypeError`` rather than a silent copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_out", "deliver"]


def check_out(func: str, out: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``out`` validated for a result of ``shape`` and ``dtype``; errors name ``out``."""
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"{func}: out must be a NumPy ndarray (out= is supported for NumPy input only), "
            f"got {type(out).__name__}"
        )
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{func}: out has shape {tuple(out.shape)}, expected {tuple(shape)}")
    if out.dtype != np.dtype(dtype):
        raise TypeError(f"{func}: out has dtype {out.dtype}, expected {np.dtype(dtype)}")
    if not out.flags.writeable:
        raise ValueError(f"{func}: out is read-only")
    return out


def deliver(func: str, result: Any, out: Any) -> Any:
    """Copy ``result`` into ``out`` (checked) and return ``out``; ``result`` when out is None."""
    if out is None:
        return result
    res = np.asarray(result)
    check_out(func, out, res.shape, res.dtype)
    np.copyto(out, res)
    return out
