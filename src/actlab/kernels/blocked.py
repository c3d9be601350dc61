"""The pure-NumPy tier: large arrays in cache-sized blocks, written into the output in place.

The NumPy formulas allocate several temporaries the size of their input (and, for float64,
in the 16-byte extended type). Run on blocks of BLOCK elements, those temporaries stay in
the cache and peak memory stays at the output plus a few blocks; ``get_num_threads()``
threads work on different blocks (NumPy releases the GIL inside its loops). Each block runs
the very same code as a whole-array call, so the results are identical.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import config

__all__ = ["BLOCK", "ROW_BLOCK_ELEMENTS", "blocks", "run_blocks"]

# Elements per block: 64K float32 is 256 KiB in, and each extended-precision temporary
# 1 MiB; large enough that the per-block Python overhead (~50 µs) is a few per cent.
BLOCK = 1 << 16
# Rows are grouped into blocks of about this many elements (at least one row per block).
ROW_BLOCK_ELEMENTS = 1 << 16

_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def _pool(n: int) -> ThreadPoolExecutor:
    with _pool_lock:
        if n not in _pools:
            _pools[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="actlab")
        return _pools[n]


def blocks(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering range(n)."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def run_blocks(work: Callable[[slice], Any], pieces: list[slice]) -> None:
    """Run ``work`` on every piece, on ``get_num_threads()`` threads when there are several."""
    threads = min(config.get_num_threads(), len(pieces))
    if threads <= 1:
        for s in pieces:
            work(s)
        return
    # list() re-raises the first exception of any block here, in the caller's thread.
    list(_pool(threads).map(work, pieces))


def contiguous_into(x: np.ndarray, result: np.ndarray, keep: Any = None) -> np.ndarray:
    """A C-contiguous 1-D view of x's values: x itself, or x copied into ``result``, unless
    ``result`` may share memory with ``keep`` (an input still to be read, such as g of
    ``silu_vjp(x, g, out=g)``): then a copy of its own."""
    if x.flags.c_contiguous:
        return x.reshape(-1)
    if keep is not None and np.may_share_memory(result, keep):
        return np.ascontiguousarray(x).reshape(-1)
    np.copyto(result, x)
    return result.reshape(-1)
