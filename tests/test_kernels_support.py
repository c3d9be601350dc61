"""Running a test on each kernel tier: the compiled (numba) one and the pure-NumPy one.

``on_tier(tier)`` selects the tier for the duration of a block and sends arrays of every
size to the compiled row kernels (by default small ones take the NumPy path), so that the
oracle tests audit the compiled code on their small samples too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

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


# How far the compiled float64 row kernels may be from the exact value, in ULP. Their exp
# is rounded once before the division (relative error ≤ 0.70·2^−52, ``_exp_rows64``), and
# the sum's error may have the other sign: |δ_e − δ_S| ≤ 1.40·2^−52 relative, up to 2.80
# ULP where y's significand is near 2, plus the quotient's half ULP (docs/softmax.md).
# log_softmax: τ's relative error enters x − M scaled by τ/((1 + τ)·log1p(τ)) ≤ 1: at most
# 1.40 ULP plus the rounding. The NumPy path is within half an ULP of the exact value, so
# the two tiers may differ by these plus 0.5.
FLOAT64_KERNEL_ULPS = {"softmax": 3.3, "log_softmax": 1.9}


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple]:
    """The positional arguments of every call of ``owner.name`` from now on (it still runs):
    which path a call took, for the tests of that path."""
    calls: list[tuple] = []
    original = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def product_blocks(monkeypatch: pytest.MonkeyPatch, elements: int):
    """Blocks of ``elements`` entries from now on; a function that lists (func, kernel) of
    every ``rowpath.run_product`` call since: the blocked NumPy path is the one with kernel
    None."""
    from actlab.kernels import blocked, rowpath

    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", elements)
    calls = record_calls(monkeypatch, rowpath, "run_product")
    return lambda: [(call[0], call[1]) for call in calls]
