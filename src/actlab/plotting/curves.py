"""f, f′ and f″ of elementwise activations: stacked or shared axes, parameter families,
kinks marked, dead (f′ = 0) and saturated (|f′| small) regions shaded.

Every curve is drawn from the registry's own functions, and each line carries a ``gid`` of
the form ``name:order:{json params}`` so a test (or a reader of the SVG) can recompute exactly
what was plotted.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .. import regions
from ..registry import Elementwise, get
from ._figure import DEAD_COLOUR, ORDER_LABELS, SATURATED_COLOUR, new_figure, style_axes

LAYOUTS = ("stacked", "shared")
_ORDER_STYLES = ("-", "--", ":")


def curve_gid(name: str, order: int, params: Mapping[str, Any]) -> str:
    return f"{name}:{order}:{json.dumps(dict(params), sort_keys=True)}"


def parse_gid(gid: str) -> tuple[str, int, dict[str, Any]]:
    name, order, params = gid.split(":", 2)
    return name, int(order), json.loads(params)


def parameter_sets(entry: Elementwise, families: Mapping[str, Sequence[float]]) -> list[dict]:
    """The cartesian product of the family values of ``entry``'s parameters (defaults else)."""
    own = [p.name for p in entry.params]
    axes = [[(k, float(v)) for v in families[k]] for k in own if k in families]
    if not axes:
        return [{}]
    return [dict(combo) for combo in itertools.product(*axes)]


# The seeds write these parameters as Greek letters; legends follow them.
_SYMBOLS = {"alpha": "α", "beta": "β"}


def _label(name: str, params: Mapping[str, Any], with_name: bool) -> str:
    p = ", ".join(f"{_SYMBOLS.get(k, k)}={v:g}" for k, v in params.items())
    if not with_name:
        return p or name
    return f"{name} ({p})" if p else name


def _check(
    names: Sequence[str],
    orders: Sequence[int],
    families: Mapping[str, Sequence[float]],
    x_range: tuple[float, float],
    layout: str,
    points: int,
) -> list[Elementwise]:
    if not names:
        raise ValueError("names: give at least one function")
    selected = [get(n) for n in names]
    for e in selected:
        if not isinstance(e, Elementwise):
            raise ValueError(
                f"names: {e.name} is a {e.kind} function; function_figure draws elementwise "
                "ones (actlab.plotting.rows draws the others)"
            )
    if not orders or any(o not in (0, 1, 2) for o in orders):
        raise ValueError(f"orders: expected a non-empty subset of (0, 1, 2), got {orders!r}")
    lo, hi = (float(v) for v in x_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"x_range: expected finite lo < hi, got {x_range!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    if points < 2:
        raise ValueError(f"points: expected at least 2, got {points}")
    known = {p.name for e in selected for p in e.params}
    for key, values in families.items():
        if key not in known:
            raise ValueError(
                f"families: none of {', '.join(names)} has a parameter {key!r} "
                f"(they have: {', '.join(sorted(known)) or 'none'})"
            )
        if len(values) == 0:
            raise ValueError(f"families: parameter {key!r} has no values")
    return selected


def function_figure(
    names: Sequence[str],
    *,
    orders: Sequence[int] = (0, 1, 2),
    families: Mapping[str, Sequence[float]] | None = None,
    x_range: tuple[float, float] = (-6.0, 6.0),
    layout: str = "stacked",
    points: int = 1201,
    shade: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Draw f (order 0), f′ (1) and f″ (2) of each function in ``names``.

    ``families`` maps a parameter name to several values; each function that has the
    parameter is drawn once per value (a legend tells them apart). ``layout="stacked"`` puts
    each order on its own axes, ``"shared"`` draws all orders on one (f solid, f′ dashed, f″
    dotted). ``shade`` (default: when exactly one curve per order is drawn) shades where f′ = 0
    (dead) and where 0 < |f′| < ``regions.SATURATION_THRESHOLD`` (saturated).
    """
    families = dict(families or {})
    selected = _check(names, orders, families, x_range, layout, points)
    curves = [(e, p) for e in selected for p in parameter_sets(e, families)]
    shade = len(curves) == 1 if shade is None else shade
    x = np.linspace(float(x_range[0]), float(x_range[1]), points)
    if layout == "stacked":
        fig, axes = new_figure(len(orders), 1, sharex=True)
        panel = dict(zip(orders, axes, strict=True))
    else:
        fig, axes = new_figure(1, 1, row_height=4.0)
        panel = dict.fromkeys(orders, axes[0])
    colours = [f"C{i % 10}" for i in range(len(curves))]
    for (entry, params), colour in zip(curves, colours, strict=True):
        label = _label(entry.name, params, with_name=len(selected) > 1 or not params)
        for order in orders:
            y = np.asarray(entry.derivative(order)(x, **params), dtype=np.float64)
            style = _ORDER_STYLES[order] if layout == "shared" else "-"
            text = f"{ORDER_LABELS[order]}: {label}" if layout == "shared" else label
            (line,) = panel[order].plot(x, y, style, color=colour, label=text, zorder=3)
            line.set_gid(curve_gid(entry.name, order, params))
        _mark_kinks(entry, params, x, panel, orders, colour)
    if shade:
        entry, params = curves[0]
        for ax in set(panel.values()):
            _shade_regions(ax, entry, params, x)
    for order, ax in panel.items():
        ylabel = ORDER_LABELS[order] if layout == "stacked" else "f, f′, f″"
        style_axes(ax, xlabel="x" if ax is axes[-1] else "", ylabel=ylabel)
        ax.set_xlim(x[0], x[-1])
    for ax in axes:
        if len(curves) > 1 or layout == "shared" or shade:
            ax.legend(fontsize="small", loc="best")
    fig.suptitle(title or ", ".join(e.name for e in selected))
    return fig


def _mark_kinks(entry, params, x, panel, orders, colour) -> None:
    for kink in entry.kinks:
        if not x[0] <= kink.at <= x[-1]:
            continue
        for order in orders:
            panel[order].axvline(kink.at, color=colour, linestyle=":", linewidth=0.8, zorder=2)
        if 0 in orders:
            y0 = float(entry.fn(np.float64(kink.at), **params))
            panel[0].plot([kink.at], [y0], "o", color=colour, markersize=5, zorder=4)


def _shade_regions(ax, entry, params, x) -> None:
    dead, saturated = regions.masks(entry, x, params)
    for mask, colour, label in (
        (dead, DEAD_COLOUR, "f′ = 0 (dead)"),
        (saturated, SATURATED_COLOUR, f"|f′| < {regions.SATURATION_THRESHOLD:g} (saturated)"),
    ):
        ax.fill_between(
            x, 0, 1, where=mask, transform=ax.get_xaxis_transform(), color=colour,
            linewidth=0, zorder=0, label=label if mask.any() else None,
        )  # fmt: skip
