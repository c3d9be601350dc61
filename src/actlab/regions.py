"""Where an activation saturates (|f′| small) or is dead (f′ = 0), measured from its f′.

The plots shade these regions and the report's overview states them. They are computed from
the registry's exact f′ on a fine grid, not written by hand, so a changed function or parameter
moves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .registry import Elementwise

# |f′| below this counts as saturated: a unit passes on less than 1 % of its input gradient.
SATURATION_THRESHOLD = 0.01


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    def describe(self) -> str:
        if self.lo == -np.inf and self.hi == np.inf:
            return "everywhere"
        if self.lo == -np.inf:
            return f"x < {self.hi:.3g}"
        if self.hi == np.inf:
            return f"x > {self.lo:.3g}"
        return f"{self.lo:.3g} < x < {self.hi:.3g}"


@dataclass(frozen=True)
class Regions:
    dead: tuple[Interval, ...]  # f′ = 0 exactly
    saturated: tuple[Interval, ...]  # 0 < |f′| < SATURATION_THRESHOLD

    def describe(self) -> str:
        parts = []
        if self.dead:
            parts.append("f′ = 0 for " + " and ".join(i.describe() for i in self.dead))
        if self.saturated:
            parts.append(
                f"|f′| < {SATURATION_THRESHOLD:g} for "
                + " and ".join(i.describe() for i in self.saturated)
            )
        return "; ".join(parts) or "nowhere"


def masks(
    entry: Elementwise, x: np.ndarray, params: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (dead, saturated) of the points ``x``."""
    g = np.abs(np.asarray(entry.grad(x, **dict(params or {})), dtype=np.float64))
    return g == 0, (g > 0) & (g < SATURATION_THRESHOLD)


def regions(
    entry: Elementwise,
    params: Mapping[str, Any] | None = None,
    span: tuple[float, float] = (-50.0, 50.0),
    points: int = 100_001,
) -> Regions:
    """The dead and saturated intervals of ``entry`` within ``span``.

    An interval that reaches the end of the span is reported as reaching ±∞; that is what
    the limits of f′ at ±∞ in the registry say for every entry whose f′ tends to a constant.
    """
    x = np.linspace(span[0], span[1], points)
    dead, saturated = masks(entry, x, params)
    return Regions(_intervals(x, dead, span), _intervals(x, saturated, span))


def _intervals(x: np.ndarray, mask: np.ndarray, span: tuple[float, float]) -> tuple[Interval, ...]:
    if not mask.any():
        return ()
    edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
    if mask[0]:
        starts = [0, *(edges[1::2] + 1)]
        stops = list(edges[0::2])
    else:
        starts = list(edges[0::2] + 1)
        stops = list(edges[1::2])
    if len(stops) < len(starts):
        stops.append(len(x) - 1)
    out = []
    for a, b in zip(starts, stops, strict=True):
        lo = -np.inf if a == 0 else float(x[a])
        hi = np.inf if b == len(x) - 1 else float(x[b])
        out.append(Interval(lo, hi))
    return tuple(out)
