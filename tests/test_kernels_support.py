"""Running a test on each kernel tier: the compiled (numba) one and the pure-NumPy one.

``on_tier(tier)`` selects the tier for the duration of a block and sends arrays of every
size to the compiled row kernels (by default small ones take the NumPy path), so that the
oracle tests audit the compiled code on their small samples too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from actlab import kernels
from actlab.kernels import config

TIERS = [
    pytest.param(
        "numba",
        marks=pytest.mark.skipif(not config.numba_available(), reason="numba is not installed"),
    ),
    "numpy",
]


@contextlib.contextmanager
def on_tier(tier: str) -> Iterator[None]:
    previous = kernels.set_backend_tier(tier)
    previous_min = config.set_row_kernel_min_size(0)
    try:
        yield
    finally:
        kernels.set_backend_tier(previous)
        config.set_row_kernel_min_size(previous_min)
