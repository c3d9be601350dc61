"""Test options (``--full`` runs the whole-float-range audit, the ``full`` marker) and the
fixtures of the optional backends: JAX with float64 enabled, and lazy evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The generic tests are many small cases; hypothesis's deadline would flake on a loaded CI box.
settings.register_profile(
    "actlab", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("actlab")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help="run the slow whole-float-range accuracy audit (tests marked 'full')",
    )


def _full_requested(config: pytest.Config) -> bool:
    # `-m full` selects the full tests on purpose, so it enables them as --full does.
    markexpr = config.getoption("markexpr", default="") or ""
    return config.getoption("--full") or ("full" in markexpr and "not full" not in markexpr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _full_requested(config):
        return
    skip = pytest.mark.skip(reason="the full audit is slow; run it with --full (or -m full)")
    for item in items:
        if item.get_closest_marker("full") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def jax_x64():
    """JAX with float64 enabled for the module's tests (skipped when JAX is absent)."""
    jax = pytest.importorskip("jax", reason="JAX is optional; its checks need it")
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture(params=["jax.jit", "dask"])
def lazily(request):
    """``run(fn, *arrays, **options)``: fn over NumPy ``arrays`` given as lazy arrays (JAX
    tracers under jit, or Dask graphs in chunks of 2), computed, back as NumPy."""
    if request.param == "jax.jit":
        jax = request.getfixturevalue("jax_x64")

        def run(fn, *arrays, **options):
            jitted = jax.jit(lambda *a: fn(*a, **options))
            return np.asarray(jitted(*(jax.numpy.asarray(a) for a in arrays)))

        return run
    da = pytest.importorskip("dask.array", reason="Dask is optional; its checks need it")

    def run(fn, *arrays, **options):
        lazy = [da.from_array(np.asarray(a), chunks=2) for a in arrays]
        # One thread: NumPy's error state is per thread, and the tests raise on errors.
        return np.asarray(fn(*lazy, **options).compute(scheduler="synchronous"))

    return run
