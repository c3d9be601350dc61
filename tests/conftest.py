"""Test options: ``--full`` runs the whole-float-range audit (the ``full`` marker)."""

from __future__ import annotations

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
