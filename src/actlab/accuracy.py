"""The accuracy audit: every elementwise f, f′, f″ in every dtype against the mpmath oracle.

``audit()`` returns a table (function × parameters × dtype × order → max ULP, worst input,
error near the roots of f′ and f″, non-finite count, the bar, pass/fail). The quick audit runs
in the test suite; ``full=True`` covers the whole float range densely (all 63,488 finite float16
values, and tens of thousands of float32/float64 points).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import oracle
from .registry import Elementwise, entries, get

DTYPES = ("float16", "float32", "float64")
ORDERS = (0, 1, 2)
ORDER_NAMES = ("f", "f′", "f″")
# Near a root of f′ (f″) the bar is an absolute error of this many eps of the dtype.
NEAR_ZERO_EPS = {"float64": (0.0, 4.0, 8.0), "float32": (0.0, 4.0, 4.0), "float16": (0.0, 4.0, 4.0)}
NEAR_ZERO_RADIUS = 0.25  # |x − root| ≤ radius·max(1, |root|) counts as "near"


@dataclass(frozen=True)
class AuditRow:
    name: str
    params: Mapping[str, Any]
    dtype: str
    order: int
    n: int
    max_ulp: float
    worst_x: float
    near_zero_abs_eps: float  # max |error|/eps over points near a root (0 if none)
    nonfinite: int  # outputs NaN or ±inf where the exact value is finite
    bar: float

    @property
    def passed(self) -> bool:
        return (
            self.nonfinite == 0
            and self.max_ulp <= self.bar
            and (self.near_zero_abs_eps <= NEAR_ZERO_EPS[self.dtype][self.order])
        )

    @property
    def label(self) -> str:
        p = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({p})" if p else self.name


@dataclass
class AuditTable:
    rows: list[AuditRow] = field(default_factory=list)

    def failures(self) -> list[AuditRow]:
        return [r for r in self.rows if not r.passed]

    def to_markdown(self) -> str:
        """One line per function and dtype: max ULP of f, f′, f″ and the bars."""
        lines = [
            "| function | dtype | f (ULP) | f′ (ULP) | f″ (ULP) | near roots (eps) "
            "| non-finite | bars | ok |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        grouped: dict[tuple[str, str], list[AuditRow]] = {}
        for r in self.rows:
            grouped.setdefault((r.label, r.dtype), []).append(r)
        for (label, dtype), rows in grouped.items():
            by_order = {r.order: r for r in rows}
            cells = [f"{by_order[o].max_ulp:.3g}" if o in by_order else "-" for o in ORDERS]
            near = max(r.near_zero_abs_eps for r in rows)
            bars = "/".join(f"{by_order[o].bar:g}" for o in ORDERS if o in by_order)
            ok = "yes" if all(r.passed for r in rows) else "**NO**"
            nonfinite = sum(r.nonfinite for r in rows)
            row = [label, dtype, *cells, f"{near:.3g}", str(nonfinite), bars, ok]
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)


def sample_points(
    dtype: str, full: bool = False, scale: float = 1.0, roots: Iterable[float] = ()
) -> np.ndarray:
    """Finite inputs of ``dtype`` covering the whole float range and its hard regions.

    A dense grid on [−50, 50]/scale, log-spaced magnitudes of both signs from the smallest
    subnormal to the largest finite value, neighbourhoods of the points where exp overflows
    or underflows (±log(max), ±log(tiny), ±log(smallest subnormal)), of the roots of f′ and
    f″, of 0 and 6, random points, and the extreme values themselves. ``full=True`` is denser,
    and for float16 it is every finite value.
    """
    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    if full and dt == np.float16:
        every = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16)
        return np.unique(np.concatenate([every, -every]))
    n_dense, n_log, n_random = (20001, 4000, 5000) if full else (801, 240, 200)
    smallest = float(fi.smallest_subnormal)
    big = float(fi.max)
    rng = np.random.default_rng(20261122)
    # Powers of two times a random mantissa in [1, 2), over every binade (no overflow at the top).
    binades = np.round(np.linspace(fi.minexp - fi.nmant, fi.maxexp - 1, n_log)).astype(int)
    with np.errstate(under="ignore"):
        magnitudes = np.ldexp(
            np.where(np.arange(n_log) % 2 == 0, 1.0, rng.uniform(1, 2, n_log)), binades
        )
    hard = [
        math.log(big),
        -math.log(float(fi.smallest_normal)),
        -math.log(smallest),
        6.0,
        20.0,
        37.0,
    ]
    hard = [h / scale for h in hard] + [float(r) for r in roots]
    spread = np.linspace(-1, 1, 41 if full else 11)
    around = [h + spread * max(1.0, abs(h)) * 1e-3 for h in hard]
    around += [h + spread * max(1.0, abs(h)) * float(fi.eps) * 8 for h in hard]
    pieces = [
        np.linspace(-50.0, 50.0, n_dense) / scale,
        magnitudes,
        -magnitudes,
        *around,
        *[-a for a in around],
        rng.uniform(-1, 1, n_random) * min(1000.0 / scale, big),
        np.array([0.0, -0.0, smallest, -smallest, float(fi.smallest_normal), big, -big]),
    ]
    with np.errstate(over="ignore"):
        pts = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in pieces]).astype(dt)
    pts = pts[np.isfinite(pts)]
    # Keep −0.0 apart from +0.0 (np.unique would merge them).
    return np.concatenate([np.unique(pts), np.array([-0.0], dtype=dt)])


def audit(
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = DTYPES,
    orders: Sequence[int] = ORDERS,
    full: bool = False,
) -> AuditTable:
    """Measure every elementwise entry (or ``names``) against the mpmath oracle.

    Each entry is audited at its default parameters and at each of its ``audit_params``.
    """
    selected = [get(n) for n in names] if names else list(entries("elementwise"))
    table = AuditTable()
    for entry in selected:
        if not isinstance(entry, Elementwise):
            raise ValueError(
                f"audit: {entry.name} is a {entry.kind} function; the audit "
                "covers elementwise entries"
            )
        for params in parameter_sets(entry):
            for dtype in dtypes:
                for order in orders:
                    table.rows.append(audit_one(entry, dtype, order, params, full=full))
    return table


def parameter_sets(entry: Elementwise) -> list[dict[str, Any]]:
    scalar_defaults = {p.name: p.default for p in entry.params}
    return [scalar_defaults, *({**scalar_defaults, **p} for p in entry.audit_params)]


def scale_of(params: Mapping[str, Any]) -> float:
    beta = params.get("beta")
    return abs(beta) if isinstance(beta, float) and beta != 0 else 1.0


def audit_one(
    entry: Elementwise,
    dtype: str,
    order: int,
    params: Mapping[str, Any],
    full: bool = False,
    xs: np.ndarray | None = None,
    implementation: Callable[..., Any] | None = None,
) -> AuditRow:
    """One cell of the audit: ``entry``'s derivative of ``order`` in ``dtype``.

    ``implementation(xs, **params)`` replaces ours, to audit a peer library against the same
    oracle, points and bars (``actlab.peers``).
    """
    roots = entry.zeros(order, **params)
    if xs is None:
        xs = sample_points(dtype, full, scale_of(params), roots)
    fn = entry.derivative(order) if implementation is None else implementation
    got = np.asarray(fn(xs, **params))
    ex = oracle.exact(entry, order, xs.astype(np.float64), params)
    errs = oracle.ulp_errors(got, ex, dtype)
    near = near_roots(xs.astype(np.float64), roots)
    nonfinite = int(np.sum(~np.isfinite(got)))
    eps = float(np.finfo(dtype).eps)
    near_abs = 0.0
    if near.any():
        abs_err = oracle.abs_errors(got[near], [e for e, m in zip(ex, near, strict=True) if m])
        # A point near a root passes on either measure: the ULP bar or the absolute one.
        within_ulp = errs[near] <= entry.ulp_bar(dtype, order)
        near_abs = float(np.max(np.where(within_ulp, 0.0, abs_err / eps)))
    far = errs[~near]
    worst = int(np.argmax(far)) if far.size else 0
    return AuditRow(
        name=entry.name,
        params=dict(params),
        dtype=dtype,
        order=order,
        n=int(xs.size),
        max_ulp=float(far[worst]) if far.size else 0.0,
        worst_x=float(xs[~near][worst]) if far.size else math.nan,
        near_zero_abs_eps=near_abs,
        nonfinite=nonfinite,
        bar=entry.ulp_bar(dtype, order),
    )


def near_roots(xs: np.ndarray, roots: Iterable[float]) -> np.ndarray:
    """Where x counts as near one of ``roots`` (there the bars are absolute)."""
    near = np.zeros(xs.shape, dtype=bool)
    for r in roots:
        near |= np.abs(xs - r) <= NEAR_ZERO_RADIUS * max(1.0, abs(r))
    return near
