"""The workloads of issue 6, their sizes, their bars, and the data each table runs on.

W1 softmax and W2 log_softmax over the last axis of 8192×8192; W3 softmax (the issue's) and
log_softmax (ours: the common case of 10 classes) of 4,000,000 rows of 10; W4 every
elementwise activation forward on 2^25 elements; W5 the products dx = g·f′(x), and for
sigmoid and tanh from the saved output y; W6 cross-entropy loss and
gradient of 65,536×1,000 logits with integer targets; W7 the cost of layout (softmax over
the first axis, sigmoid of a strided view), float32 only, shown once. The elementwise
tables come from the registry: every entry of kind "elementwise", with its default
parameters; the piecewise-linear ones carry the memory-copy bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..registry import entries
from .ratios import Bar

__all__ = [
    "FROM_OUTPUT",
    "SIZES",
    "WORKLOADS",
    "Data",
    "TableSpec",
    "make_data",
    "tables",
]

WORKLOADS = {
    "W1": "softmax over the last axis",
    "W2": "log_softmax over the last axis",
    "W3": "softmax and log_softmax of rows of 10",
    "W4": "elementwise activation, forward",
    "W5": "dx = g·f′ from x (and, for sigmoid/tanh, from the saved output y)",
    "W6": "cross-entropy loss + gradient, integer targets, mean reduction",
    "W7": "layout cost: softmax over axis 0, sigmoid of a strided view (float32, once)",
}

# The sizes; "quick" is a smoke run (partly cache-resident: its ratios are not the
# anchors), "tiny" exists for the tests of the suite itself.
SIZES: dict[str, dict[str, Any]] = {
    "full": {"rows": (8192, 8192), "narrow": (4_000_000, 10), "n": 2**25, "ce": (65_536, 1_000)},
    "quick": {"rows": (1024, 2048), "narrow": (100_000, 10), "n": 2**20, "ce": (4_096, 1_000)},
    "tiny": {"rows": (16, 64), "narrow": (200, 10), "n": 1_000, "ce": (32, 40)},
}

# The issue asks for the product from the saved output for these two.
FROM_OUTPUT = ("sigmoid", "tanh")

ROW_BAR = Bar(peer=0.85, floor=1.5)


@dataclass(frozen=True)
class TableSpec:
    """One table of the report: a workload, a function, a dtype."""

    workload: str
    kind: str  # rows | elementwise | vjp | vjp_y | ce | axis0 | strided
    name: str
    dtype: str
    shape: tuple[int, ...]
    bar: Bar
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        suffix = "_y" if self.kind == "vjp_y" else ""
        return f"{self.workload}:{self.name}{suffix}:{self.dtype}"

    @property
    def title(self) -> str:
        size = "×".join(str(s) for s in self.shape)
        what = {
            "rows": f"{self.name} {size}",
            "elementwise": f"{self.name} forward, n={size}",
            "vjp": f"d{self.name} (dx = g·f′(x)), n={size}",
            "vjp_y": f"d{self.name}_y (dx = g·f′ from y), n={size}",
            "ce": f"cross-entropy loss+grad {size}",
            "axis0": f"softmax over axis 0 of {size}",
            "strided": f"sigmoid of x[::2], n={size}",
        }[self.kind]
        return f"{self.workload} {what} {self.dtype}"


def _elementwise_bar(entry: Any, from_output: bool = False) -> Bar:
    if "piecewise_linear" in entry.properties:
        return Bar(peer=1.0, copy=1.3)
    return Bar(peer=1.0, copy=1.2 if from_output else None)


def _parse_only(only: Sequence[str] | None) -> dict[str, set[str] | None]:
    """``["W1", "W4:sigmoid"]`` → {"W1": None (all), "W4": {"sigmoid"}}."""
    if not only:
        return dict.fromkeys(WORKLOADS)
    chosen: dict[str, set[str] | None] = {}
    for token in only:
        wid, _, name = token.strip().partition(":")
        wid = wid.upper()
        if wid not in WORKLOADS:
            raise ValueError(
                f"--only: unknown workload {token!r} (workloads: {', '.join(WORKLOADS)}; "
                "W4 and W5 also take W4:NAME)"
            )
        if not name:
            chosen[wid] = None
        elif chosen.get(wid, set()) is not None:
            chosen.setdefault(wid, set()).add(name)  # type: ignore[union-attr]
    return chosen


def tables(
    only: Sequence[str] | None, dtypes: Sequence[str], size: str = "full"
) -> list[TableSpec]:
    """The tables to run, in report order."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {tuple(SIZES)}, got {size!r}")
    sz = SIZES[size]
    chosen = _parse_only(only)
    elementwise = entries("elementwise")
    known = {e.name for e in elementwise}
    for wid in ("W4", "W5"):
        unknown = (chosen.get(wid) or set()) - known
        if unknown:
            raise ValueError(
                f"--only: {wid} has no function {sorted(unknown)[0]!r} "
                f"(elementwise functions: {', '.join(sorted(known))})"
            )

    def wanted(wid: str, name: str) -> bool:
        return wid in chosen and (chosen[wid] is None or name in chosen[wid])  # type: ignore[operator]

    out: list[TableSpec] = []
    for dtype in dtypes:
        if wanted("W1", "softmax"):
            out.append(TableSpec("W1", "rows", "softmax", dtype, sz["rows"], ROW_BAR))
        if wanted("W2", "log_softmax"):
            out.append(TableSpec("W2", "rows", "log_softmax", dtype, sz["rows"], ROW_BAR))
        for name in ("softmax", "log_softmax"):
            if wanted("W3", name):
                out.append(TableSpec("W3", "rows", name, dtype, sz["narrow"], ROW_BAR))
        for e in elementwise:
            if wanted("W4", e.name):
                params = tuple(e.defaults.items())
                out.append(
                    TableSpec(
                        "W4", "elementwise", e.name, dtype, (sz["n"],), _elementwise_bar(e), params
                    )
                )
        for e in elementwise:
            if wanted("W5", e.name):
                params = tuple(e.defaults.items())
                out.append(
                    TableSpec("W5", "vjp", e.name, dtype, (sz["n"],), _elementwise_bar(e), params)
                )
                if e.name in FROM_OUTPUT:
                    out.append(
                        TableSpec(
                            "W5",
                            "vjp_y",
                            e.name,
                            dtype,
                            (sz["n"],),
                            _elementwise_bar(e, from_output=True),
                            params,
                        )
                    )
        if wanted("W6", "cross_entropy"):
            out.append(TableSpec("W6", "ce", "cross_entropy", dtype, sz["ce"], ROW_BAR))
    if "W7" in chosen:  # float32 whatever --dtype says: the layout cost is shown once
        out.append(TableSpec("W7", "axis0", "softmax", "float32", sz["rows"], Bar()))
        out.append(TableSpec("W7", "strided", "sigmoid", "float32", (sz["n"],), Bar()))
    return out


@dataclass
class Data:
    """The arrays of one table. ``out`` is shared by the candidates that accept ``out=``
    (the harness checks each result before the next candidate overwrites it)."""

    x: np.ndarray
    out: np.ndarray
    copy_src: np.ndarray
    copy_dst: np.ndarray
    bytes_moved: int
    g: np.ndarray | None = None
    y: np.ndarray | None = None
    target: np.ndarray | None = None
    axis: int = -1
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def copy_scale(self) -> float:
        """Bytes the operation moves ÷ bytes the memcpy candidates move."""
        return self.bytes_moved / (2 * self.copy_src.nbytes)


# Standard-normal data scaled so that the elementwise inputs reach the saturated tails
# (|x| up to about 25) without overflowing the textbook formulas; logits at the spread of
# a trained classifier.
ELEMENTWISE_SCALE = 4.0
LOGIT_SCALE = 2.0


def _normal(shape: tuple[int, ...], dtype: str, scale: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32 if dtype == "float32" else np.float64)
    x *= x.dtype.type(scale)
    return x


def make_data(spec: TableSpec, cache: dict[Any, np.ndarray] | None = None) -> Data:
    """The table's arrays; ``cache`` keeps the inputs shared by consecutive tables (the
    elementwise tables all run on the same x and g)."""
    cache = {} if cache is None else cache

    def normal(shape: tuple[int, ...], scale: float, seed: int) -> np.ndarray:
        key = (shape, spec.dtype, scale, seed)
        if key not in cache:
            cache[key] = _normal(shape, spec.dtype, scale, seed)
        return cache[key]

    params = dict(spec.params)
    if spec.kind == "strided":
        base = normal((2 * spec.shape[0],), ELEMENTWISE_SCALE, 7)
        x = base[::2]
    elif spec.kind in ("elementwise", "vjp", "vjp_y"):
        x = normal(spec.shape, ELEMENTWISE_SCALE, 1)
    else:
        x = normal(spec.shape, LOGIT_SCALE, 3)
    out = np.empty(x.shape, dtype=x.dtype)
    copy_src = x if x.flags.c_contiguous else normal(spec.shape, ELEMENTWISE_SCALE, 1)
    data = Data(
        x=x,
        out=out,
        copy_src=copy_src,
        copy_dst=np.empty_like(copy_src),
        bytes_moved=x.nbytes + out.nbytes,
        params=params,
        axis=0 if spec.kind == "axis0" else -1,
    )
    if spec.kind in ("vjp", "vjp_y"):
        data.g = normal(spec.shape, 1.0, 2)
        data.bytes_moved += data.g.nbytes
    if spec.kind == "vjp_y":
        from .. import registry

        # The candidates read y (and g), not x; the references still use x.
        data.y = np.asarray(registry.get(spec.name).fn(x))
    if spec.kind == "ce":
        rng = np.random.default_rng(4)
        data.target = rng.integers(0, spec.shape[1], size=spec.shape[0], dtype=np.int64)
        data.bytes_moved += data.target.nbytes
    return data
