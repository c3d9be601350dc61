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

Each ratio is the median over the rounds of the two candidates' ratio within a round, not the
ratio of their medians: the harness runs every candidate once per round, so a drift of the
machine's speed while a table runs moves both times of a round alike and cancels in their
quotient. The verdicts also carry an interval for each ratio, from the order statistics of
those per-round ratios (the sign-test interval for a median, ≥ 90% coverage where the rounds
allow it); a ratio whose interval contains its bar is *within noise*: another run may give
the other verdict.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .harness import Candidate, Skipped, Timing

__all__ = [
    "Bar",
    "Row",
    "TableResult",
    "Verdict",
    "effective_threads",
    "median_interval",
    "summarise",
]

# The coverage the verdicts' intervals aim for (reached from 5 rounds on).
COVERAGE = 0.9


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
    # The interval of each ratio (see the module's docstring) and its coverage.
    x_peer_lo: float = math.nan
    x_peer_hi: float = math.nan
    x_floor_lo: float = math.nan
    x_floor_hi: float = math.nan
    x_copy1_lo: float = math.nan
    x_copy1_hi: float = math.nan
    # Each interval's coverage (lower than 90% where a reference ran fewer rounds).
    x_peer_cov: float = math.nan
    x_floor_cov: float = math.nan
    x_copy1_cov: float = math.nan
    # The parts of the bar whose interval contains the limit ("best peer", "exp floor", …).
    within_noise: list[str] = field(default_factory=list)


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


def _per_round(a: Sequence[float], b: Sequence[float], scale: float) -> list[float]:
    """a[r] ÷ (b[r]·scale) for the rounds both ran (a candidate dropped after some rounds
    keeps the times of its first ones, so the lists align from the start)."""
    return [x / (y * scale) for x, y in zip(a, b, strict=False) if y > 0 and math.isfinite(x)]


def median_interval(
    values: Sequence[float], coverage: float = COVERAGE
) -> tuple[float, float, float]:
    """(low, high, achieved coverage): the sign-test interval for the median of ``values``.

    With n values sorted, [v_k, v_(n+1−k)] holds the median of their distribution with
    probability 1 − 2·P(Binomial(n, ½) < k): the widest k ≥ 1 that still reaches
    ``coverage`` is taken; with too few values for it (n ≤ 4 at 90%), k = 1, the full range,
    and the achieved coverage says how much less it is.
    """
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan

    def covered(k: int) -> float:
        return 1.0 - 2.0 * sum(math.comb(n, i) for i in range(k)) / 2.0**n

    k = 1
    while k + 1 <= (n + 1) // 2 and covered(k + 1) >= coverage:
        k += 1
    return v[k - 1], v[n - k], covered(k)


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

    def copy_of(threads: int) -> Candidate | None:
        return next((c for c in ok if c.role == "copy" and c.threads == threads), None)

    def ratios(name: str, ref: Candidate | None, scale: float = 1.0) -> list[float]:
        """The per-round ratios of candidate ``name`` to ``ref`` (none without a ref)."""
        if ref is None:
            return []
        return _per_round(timings[name].times, timings[ref.name].times, scale)

    def best_peer(threads: int) -> Candidate | None:
        peers = [
            c for c in ok if c.role == "peer" and effective_threads(c.threads, ncores) <= threads
        ]
        return min(peers, key=lambda c: med[c.name]) if peers else None

    def floor_of(threads: int) -> Candidate | None:
        return _pick(ok, "floor", threads, ncores)

    copy1, copy2 = copy_of(1), copy_of(2)
    rows = []
    for c in candidates:
        t = timings[c.name]
        eff = effective_threads(c.threads, ncores)
        is_ref = c.role in ("copy", "floor")
        rows.append(
            Row(
                name=c.name,
                family=c.family,
                role=c.role,
                threads=_threads_label(c.threads),
                alloc=c.alloc,
                median_ms=t.median * 1e3,
                min_ms=t.min * 1e3,
                cpu_per_wall=t.cpu_per_wall,
                x_copy1=_median(ratios(c.name, copy1, copy_scale)),
                x_copy2=_median(ratios(c.name, copy2, copy_scale)),
                x_peer=_median(ratios(c.name, best_peer(eff))),
                x_floor=math.nan if is_ref else _median(ratios(c.name, floor_of(eff))),
                err_abs=errors.get(c.name, (math.nan, math.nan))[0],
                err_ulp=errors.get(c.name, (math.nan, math.nan))[1],
                first_call_s=t.first_call_s,
                rounds=len(t.times),
                peak_mib=t.peak_mib,
                note=c.note,
                error=t.error,
            )
        )

    verdicts = []
    for T in thread_counts:
        mine = _pick(ok, "actlab", T, ncores)
        if mine is None:
            nan = math.nan
            verdicts.append(
                Verdict(T, None, nan, nan, None, nan, nan, None, why=["actlab did not run"])
            )
            continue
        peer = best_peer(T)
        verdicts.append(
            _verdict(
                T,
                mine.name,
                med[mine.name],
                peer.name if peer is not None else None,
                bar,
                peer=ratios(mine.name, peer),
                floor=ratios(mine.name, floor_of(T)),
                copy1=ratios(mine.name, copy1, copy_scale),
            )
        )
    return TableResult(
        key=key,
        workload=workload,
        title=title,
        dtype=dtype,
        bar=bar,
        rows=rows,
        verdicts=verdicts,
        skipped=list(skipped),
        copy1_ms=med[copy1.name] * copy_scale * 1e3 if copy1 is not None else math.nan,
        copy2_ms=med[copy2.name] * copy_scale * 1e3 if copy2 is not None else math.nan,
        other_load=other_load,
        note=note,
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _verdict(
    threads: int,
    actlab: str,
    median_s: float,
    best_peer: str | None,
    bar: Bar,
    *,
    peer: Sequence[float],
    floor: Sequence[float],
    copy1: Sequence[float],
) -> Verdict:
    """actlab's verdict at ``threads`` from its per-round ratios to each reference."""
    v = Verdict(
        threads=threads,
        actlab=actlab,
        median_ms=median_s * 1e3,
        x_copy1=_median(copy1),
        best_peer=best_peer,
        x_peer=_median(peer),
        x_floor=_median(floor),
        passed=None,
    )
    v.x_peer_lo, v.x_peer_hi, v.x_peer_cov = median_interval(peer)
    v.x_floor_lo, v.x_floor_hi, v.x_floor_cov = median_interval(floor)
    v.x_copy1_lo, v.x_copy1_hi, v.x_copy1_cov = median_interval(copy1)
    checks = [
        ("best peer", bar.peer, v.x_peer, v.x_peer_lo, v.x_peer_hi),
        ("exp floor", bar.floor, v.x_floor, v.x_floor_lo, v.x_floor_hi),
        ("copy 1T", bar.copy, v.x_copy1, v.x_copy1_lo, v.x_copy1_hi),
    ]
    results = []
    for label, limit, value, lo, hi in checks:
        if limit is None:
            continue
        if math.isnan(value):
            v.why.append(f"{label} not measured")
            results.append(None)
            continue
        if lo <= limit < hi:
            v.within_noise.append(label)
        if value > limit:
            v.why.append(f"{value:.2f}× {label} > {limit:g}×")
            results.append(False)
        else:
            results.append(True)
    if False in results:
        v.passed = False
    elif results and None not in results:
        v.passed = True
    return v
