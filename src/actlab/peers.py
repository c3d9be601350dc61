"""The peers' accuracy beside ours: PyTorch, JAX, SciPy and the seeds' NumPy formulas,
measured with the same oracle, the same points and the same bars as our audit.

A peer is audited only where it has the function natively (PyTorch has no Swish with a β,
SciPy has no derivatives, JAX has no PReLU); its derivatives come from its own autograd,
which is what its users get. Peers that are not installed are reported as skipped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accuracy import (
    DTYPES,
    ORDER_NAMES,
    ORDERS,
    audit_one,
    parameter_sets,
    sample_points,
    scale_of,
)
from .registry import Elementwise, entries, get

PEERS = ("torch", "jax", "scipy", "seed")
_MODULE = {"torch": "torch", "jax": "jax", "scipy": "scipy", "seed": "numpy"}
Implementation = Callable[..., np.ndarray]


def available(peer: str) -> bool:
    return importlib.util.find_spec(_MODULE[peer]) is not None


def check_peers(peers: Sequence[str]) -> list[str]:
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ValueError(f"peers: unknown {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    return list(dict.fromkeys(peers))


# ---------------------------------------------------------------- PyTorch (autograd)
def _torch_forward(name: str, params: Mapping[str, float]) -> Callable[[Any], Any] | None:
    import torch
    import torch.nn.functional as F

    p = dict(params)
    table: dict[str, Callable[[Any], Any]] = {
        "sigmoid": torch.sigmoid,
        "log_sigmoid": F.logsigmoid,
        "softplus": lambda t: F.softplus(t, beta=p.get("beta", 1.0)),
        "tanh": torch.tanh,
        "relu": torch.relu,
        "relu6": F.relu6,
        "leaky_relu": lambda t: F.leaky_relu(t, p.get("negative_slope", 0.01)),
        "prelu": lambda t: F.prelu(t, torch.full((1,), p.get("weight", 0.25), dtype=t.dtype)),
        "rrelu": lambda t: F.rrelu(t, p.get("lower", 1 / 8), p.get("upper", 1 / 3), False),
        "elu": lambda t: F.elu(t, p.get("alpha", 1.0)),
        "silu": F.silu,
        "mish": F.mish,
    }
    return table.get(name)


def _torch(name: str, order: int, params: Mapping[str, float]) -> Implementation | None:
    f = _torch_forward(name, params)
    if f is None:
        return None

    def run(xs: np.ndarray, **_: Any) -> np.ndarray:
        import torch

        t = torch.from_numpy(np.array(xs)).requires_grad_(order > 0)
        y = f(t)
        for _k in range(order):
            (y,) = torch.autograd.grad(y.sum(), t, create_graph=True, allow_unused=True)
            y = torch.zeros_like(t) if y is None else y
        return y.detach().numpy()

    return run


# ---------------------------------------------------------------- JAX (grad)
def jax_forward(name: str, params: Mapping[str, float]) -> Callable[[Any], Any] | None:
    """JAX's own function for ``name`` at ``params``, or None where JAX has none."""
    import jax
    import jax.numpy as jnp

    p = dict(params)
    table: dict[str, Callable[[Any], Any]] = {
        "sigmoid": jax.nn.sigmoid,
        "log_sigmoid": jax.nn.log_sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "relu6": jax.nn.relu6,
        "leaky_relu": lambda x: jax.nn.leaky_relu(x, p.get("negative_slope", 0.01)),
        "elu": lambda x: jax.nn.elu(x, p.get("alpha", 1.0)),
        "silu": jax.nn.silu,
        "mish": jax.nn.mish,
    }
    if p.get("beta", 1.0) == 1.0:  # jax.nn.softplus has no β
        table["softplus"] = jax.nn.softplus
    return table.get(name)


def _jax(name: str, order: int, params: Mapping[str, float]) -> Implementation | None:
    f = jax_forward(name, params)
    if f is None:
        return None

    def run(xs: np.ndarray, **_: Any) -> np.ndarray:
        import jax

        # float64 needs x64 mode; the context manager leaves the caller's setting alone.
        with jax.enable_x64(xs.dtype == np.float64):
            g = f
            for _k in range(order):
                g = jax.grad(lambda x, h=g: h(x).sum())  # elementwise: d/dx Σ h = h′
            return np.asarray(g(jax.numpy.asarray(xs)))

    return run


# ---------------------------------------------------------------- SciPy and the seeds
def _scipy(name: str, order: int, params: Mapping[str, float]) -> Implementation | None:
    if order != 0 or name not in ("sigmoid", "log_sigmoid"):
        return None  # SciPy has no derivatives and no other activation

    def run(xs: np.ndarray, **_: Any) -> np.ndarray:
        from scipy import special

        return (special.expit if name == "sigmoid" else special.log_expit)(xs)

    return run


def _seed(name: str, order: int, params: Mapping[str, float]) -> Implementation | None:
    entry = get(name)
    defaults = {p.name: p.default for p in entry.params}
    if order != 0 or entry.naive is None or dict(params) != defaults:
        return None  # the seeds write f only, at the default parameters

    def run(xs: np.ndarray, **_: Any) -> np.ndarray:
        # The textbook formulas overflow and divide by zero by design; that is what is
        # measured, so their warnings are silenced here and only here.
        with np.errstate(all="ignore"):
            return np.asarray(entry.naive(xs), dtype=xs.dtype)

    return run


_FACTORIES = {"torch": _torch, "jax": _jax, "scipy": _scipy, "seed": _seed}


def implementation(peer: str, name: str, order: int, params: Mapping[str, float]):
    """The peer's f (order 0), f′ or f″ of ``name`` as ``fn(xs) -> ndarray``, or None."""
    return _FACTORIES[peer](name, order, params)


# ---------------------------------------------------------------- the table
@dataclass
class PeerCell:
    max_ulp: float | None  # None: the peer does not have it
    nonfinite: int = 0
    error: str = ""  # the peer raised (e.g. no float16 kernel)


@dataclass
class PeerRow:
    label: str
    dtype: str
    order: int
    bar: float
    cells: dict[str, PeerCell] = field(default_factory=dict)


@dataclass
class PeerTable:
    peers: list[str]
    skipped: list[str]
    rows: list[PeerRow] = field(default_factory=list)

    def to_markdown(self) -> str:
        cols = ["ours", *self.peers]
        lines = [
            "| function | dtype | order | bar | " + " | ".join(cols) + " |",
            "|---|---|---|---|" + "---|" * len(cols),
        ]
        for r in self.rows:
            cells = [format_cell(r.cells.get(c), r.bar) for c in cols]
            lines.append(
                f"| {r.label} | {r.dtype} | {ORDER_NAMES[r.order]} | {r.bar:g} | "
                + " | ".join(cells)
                + " |"
            )
        if self.skipped:
            lines += ["", "Skipped (not installed): " + ", ".join(self.skipped) + "."]
        return "\n".join(lines)


def format_cell(cell: PeerCell | None, bar: float) -> str:
    if cell is None or (cell.max_ulp is None and not cell.error):
        return "—"
    if cell.error:
        return "error"
    text = f"{cell.max_ulp:.3g}" if cell.max_ulp < 1e6 else f"{cell.max_ulp:.1e}"
    if cell.nonfinite:
        text += f" ({cell.nonfinite} non-finite)"
    return text if cell.max_ulp <= bar and not cell.nonfinite else f"**{text}**"


def peer_audit(
    names: Sequence[str] | None = None,
    peers: Sequence[str] = PEERS,
    dtypes: Sequence[str] = DTYPES,
    orders: Sequence[int] = ORDERS,
    full: bool = False,
) -> PeerTable:
    """Max ULP of ours and of each installed peer, cell by cell (function, dtype, order)."""
    wanted = check_peers(peers)
    present = [p for p in wanted if available(p)]
    table = PeerTable(peers=present, skipped=[p for p in wanted if p not in present])
    selected = [get(n) for n in names] if names else list(entries("elementwise"))
    for entry in selected:
        if not isinstance(entry, Elementwise):
            raise ValueError(f"names: {entry.name} is a {entry.kind} function (elementwise only)")
        for params in parameter_sets(entry):
            for dtype in dtypes:
                for order in orders:
                    table.rows.append(_row(entry, params, dtype, order, present, full))
    return table


def _row(entry, params, dtype, order, peers, full) -> PeerRow:
    roots = entry.zeros(order, **params)
    xs = sample_points(dtype, full, scale_of(params), roots)
    ours = audit_one(entry, dtype, order, params, xs=xs)
    row = PeerRow(ours.label, dtype, order, ours.bar)
    row.cells["ours"] = PeerCell(ours.max_ulp, ours.nonfinite)
    for peer in peers:
        fn = implementation(peer, entry.name, order, params)
        if fn is None:
            row.cells[peer] = PeerCell(None)
            continue
        try:
            r = audit_one(entry, dtype, order, params, xs=xs, implementation=fn)
        except (RuntimeError, TypeError, ValueError, NotImplementedError) as exc:
            row.cells[peer] = PeerCell(None, error=f"{type(exc).__name__}: {exc}"[:200])
            continue
        row.cells[peer] = PeerCell(r.max_ulp, r.nonfinite)
    return row
