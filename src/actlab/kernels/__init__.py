"""Kernel tiers: fused compiled loops (numba) and the blocked NumPy path.

``import actlab`` imports this package but not numba: the compiled modules
(``elementwise``, ``rows``, ``cross_entropy``) are imported on first use and their machine
code is cached on disk (``config.cache_dir``). See docs/performance.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import (
    TIERS,
    get_backend_tier,
    get_num_threads,
    get_row_kernel_min_size,
    numba_available,
    set_backend_tier,
    set_num_threads,
    set_row_kernel_min_size,
)
from .outputs import check_out

__all__ = [
    "TIERS",
    "exp_floor",
    "get_backend_tier",
    "get_num_threads",
    "get_row_kernel_min_size",
    "numba_available",
    "set_backend_tier",
    "set_num_threads",
    "set_row_kernel_min_size",
]


def exp_floor(x: Any, out: Any) -> Any:
    """out = exp(x) for x ≤ 0 with the same exp code the row kernels use: the speed floor of
    a workload that needs one exp per element (the benchmark's "exp-only floor").

    ``x`` and ``out`` are float32 or float64 NumPy arrays of one shape and dtype. On the
    numba tier this is the exp of the row kernels (softmax, log_softmax, cross-entropy),
    which only ever exponentiate x − max ≤ 0: float32, the lean float32 exp returning an
    exact pair, added in float64 and rounded once (x > 0 is taken as 0); float64, the lean
    float64 exp (``_exp_rows64``, rounded once; x > 0 likewise). On the
    NumPy tier it is ``np.exp``. The benchmark times it on its
    data shifted by the maximum.
    """
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError("exp_floor: x must be a float32 or float64 NumPy array")
    check_out("exp_floor", out, x.shape, x.dtype)
    if get_backend_tier() == "numba" and x.flags.c_contiguous and out.flags.c_contiguous:
        from . import dispatch

        dispatch.exp_floor(x, out)
    else:
        np.exp(x, out=out)
    return out
