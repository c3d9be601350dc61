"""From timings to the numbers of the report: time ÷ copy, time ÷ best peer, time ÷ exp floor,
and the verdict of each table against the issue's bars. Pure arithmetic, no clocks.

Definitions (the report repeats them):
- *× copy 1T* = median ÷ (median of the 1-thread ``np.copyto`` of the same input, scaled to
  the bytes the operation moves: input(s) read + output written). *× copy 2T* likewise with
  the 2-thread copy. The bars that say "a memory copy" use the 1-thread copy: that is what
  a plain ``np.copyto`` costs, and two threads gain little on memory (about 1.2×).
- *× best peer* = median ÷ the fastest peer allowed the same number of threads or fewer.
  A library that picks its own thread count (XLA) counts as using all cores, so at 1 thread
  the comparison is against the 1-thread peers only, as the issue asks.
- *× floor* = median ÷ the exp-only loop over the same data with the same thread count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .harness import Candidate, Skipped, Timing

__all__ = ["Bar", "Row", "TableResult", "Verdict", "effective_threads", "summarise"]


@dataclass(frozen=True)
class Bar:
    """The issue's bar for actlab in one table; ``None`` parts do not apply."""

    peer: float | None = None
    floor: float | None = None
    copy: float | None = None

    def describe(self) -> str:
        parts = []
        if self.peer is not None:
            parts.append(f"≤ {self.peer:g}× best peer")
        if self.floor is not None:
            parts.append(f"≤ {self.floor:g}× exp floor")
        if self.copy is not None:
            parts.append(f"≤ {self.copy:g}× copy 1T")
        return ", ".join(parts) or "none (informational)"


@dataclass
class Row:
    """One candidate's line of a detailed table (times in ms)."""

    name: str
    family: str
    role: str
    threads: str
    alloc: bool
    median_ms: float
    min_ms: float
    cpu_per_wall: float
    x_copy1: float
    x_copy2: float
    x_peer: float
    x_floor: float
    err_abs: float
    err_ulp: float
    first_call_s: float
    rounds: int
    peak_mib: float = float("nan")
    note: str = ""
    error: str | None = None


@dataclass
class Verdict:
    """actlab at one thread count against the bar."""

    threads: int
    actlab: str | None
    median_ms: float
    x_copy1: float
    best_peer: str | None
    x_peer: float
    x_floor: float
    passed: bool | None
    why: list[str] = field(default_factory=list)


@dataclass
class TableResult:
    key: str
    workload: str
    title: str
    dtype: str
    bar: Bar
    rows: list[Row]
    verdicts: list[Verdict]
    skipped: list[Skipped]
    copy1_ms: float
    copy2_ms: float
    other_load: float
    note: str = ""


def effective_threads(threads: int | None, ncores: int) -> int:
    """A candidate's thread count for comparisons; a library's own choice is all cores."""
    return ncores if threads is None else threads


def _threads_label(threads: int | None) -> str:
    return "own (all cores)" if threads is None else str(threads)


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return math.nan
    return a / b


def _pick(cands: Sequence[Candidate], role: str, threads: int, ncores: int) -> Candidate | None:
    """The candidate of ``role`` with exactly ``threads``, else the most threads below it."""
    fitting = [
        c for c in cands if c.role == role and effective_threads(c.threads, ncores) <= threads
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda c: effective_threads(c.threads, ncores))


def summarise(
    *,
    key: str,
    workload: str,
    title: str,
    dtype: str,
    bar: Bar,
    candidates: Sequence[Candidate],
    timings: Mapping[str, Timing],
    copy_scale: float,
    errors: Mapping[str, tuple[float, float]],
    skipped: Sequence[Skipped],
    thread_counts: Sequence[int],
    ncores: int,
    other_load: float = math.nan,
    note: str = "",
) -> TableResult:
    """The table's rows and verdicts. ``copy_scale`` = bytes the operation moves ÷ bytes the
    copy candidates move; ``errors`` maps a candidate name to (max abs err, max ULP err)."""
    ok = [c for c in candidates if timings[c.name].times]
    med = {c.name: timings[c.name].median for c in ok}

    def copy_eq(threads: int) -> float:
        c = next((c for c in ok if c.role == "copy" and c.threads == threads), None)
        return med[c.name] * copy_scale if c is not None else math.nan

    copy1, copy2 = copy_eq(1), copy_eq(2)

    def best_peer(threads: int) -> Candidate | None:
        peers = [
            c for c in ok if c.role == "peer" and effective_threads(c.threads, ncores) <= threads
        ]
        return min(peers, key=lambda c: med[c.name]) if peers else None

    def floor_time(threads: int) -> float:
        f = _pick(ok, "floor", threads, ncores)
        return med[f.name] if f is not None else math.nan

    rows = []
    for c in candidates:
        t = timings[c.name]
        eff = effective_threads(c.threads, ncores)
        bp = best_peer(eff)
        m = t.median
        is_ref = c.role in ("copy", "floor")
        rows.append(
            Row(
                name=c.name,
                family=c.family,
                role=c.role,
                threads=_threads_label(c.threads),
                alloc=c.alloc,
                median_ms=m * 1e3,
                min_ms=t.min * 1e3,
                cpu_per_wall=t.cpu_per_wall,
                x_copy1=_ratio(m, copy1),
                x_copy2=_ratio(m, copy2),
                x_peer=_ratio(m, med[bp.name]) if bp is not None else math.nan,
                x_floor=math.nan if is_ref else _ratio(m, floor_time(eff)),
                err_abs=errors.get(c.name, (math.nan, math.nan))[0],
                err_ulp=errors.get(c.name, (math.nan, math.nan))[1],
                first_call_s=t.first_call_s,
                rounds=len(t.times),
                peak_mib=t.peak_mib,
                note=c.note,
                error=t.error,
            )
        )

    verdicts = [
        _verdict(T, ok, med, bar, best_peer(T), floor_time(T), copy1, ncores) for T in thread_counts
    ]
    return TableResult(
        key=key,
        workload=workload,
        title=title,
        dtype=dtype,
        bar=bar,
        rows=rows,
        verdicts=verdicts,
        skipped=list(skipped),
        copy1_ms=copy1 * 1e3,
        copy2_ms=copy2 * 1e3,
        other_load=other_load,
        note=note,
    )


def _verdict(
    threads: int,
    ok: Sequence[Candidate],
    med: Mapping[str, float],
    bar: Bar,
    peer: Candidate | None,
    floor: float,
    copy1: float,
    ncores: int,
) -> Verdict:
    mine = _pick(ok, "actlab", threads, ncores)
    if mine is None:
        return Verdict(
            threads,
            None,
            math.nan,
            math.nan,
            None,
            math.nan,
            math.nan,
            None,
            ["actlab did not run"],
        )
    m = med[mine.name]
    v = Verdict(
        threads=threads,
        actlab=mine.name,
        median_ms=m * 1e3,
        x_copy1=_ratio(m, copy1),
        best_peer=peer.name if peer is not None else None,
        x_peer=_ratio(m, med[peer.name]) if peer is not None else math.nan,
        x_floor=_ratio(m, floor),
        passed=None,
    )
    checks = [
        ("best peer", bar.peer, v.x_peer),
        ("exp floor", bar.floor, v.x_floor),
        ("copy 1T", bar.copy, v.x_copy1),
    ]
    results = []
    for label, limit, value in checks:
        if limit is None:
            continue
        if math.isnan(value):
            v.why.append(f"{label} not measured")
            results.append(None)
        elif value > limit:
            v.why.append(f"{value:.2f}× {label} > {limit:g}×")
            results.append(False)
        else:
            results.append(True)
    if False in results:
        v.passed = False
    elif results and None not in results:
        v.passed = True
    return v
