"""Figure creation, saving by suffix and inline encoding, with no pyplot state."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
ORDER_LABELS = ("f", "f′", "f″")
DEAD_COLOUR = "#d9d9d9"
SATURATED_COLOUR = "#fde3c8"


def new_figure(
    nrows: int = 1, ncols: int = 1, *, width: float = 7.0, row_height: float = 2.8, **kw: Any
) -> tuple[Figure, list[Any]]:
    """A figure and its axes as a flat list (row-major)."""
    fig = Figure(figsize=(width, row_height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, [ax for row in axes for ax in row]


def style_axes(ax: Any, *, xlabel: str = "x", ylabel: str = "") -> None:
    ax.grid(True, alpha=0.3)
    ax.axhline(0, color="0.75", linewidth=0.8, zorder=1)
    ax.axvline(0, color="0.75", linewidth=0.8, zorder=1)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)


def save(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG, SVG or PDF, chosen by the suffix of ``path``."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"output: {str(path)!r} has suffix {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed date and creator keep SVG/PDF output reproducible byte for byte.
    metadata = {"png": {"Software": "actlab"}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata[fmt])
    return path


def png_base64(fig: Figure, *, dpi: int = 96) -> str:
    """The figure as base64 PNG, for a ``data:`` URI in a self-contained HTML page."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "actlab"})
    return base64.b64encode(buf.getvalue()).decode("ascii")
