"""The timing harness: every candidate of a table once per round, interleaved, median of rounds.

Why interleaved: on a shared 2-core machine the background load drifts over seconds. Running
candidate A ten times and then B ten times lets a drift masquerade as a speed difference;
running A, B, C, … once per round (rotating the order every round, so that no candidate
always follows the same neighbour's cache and page state) spreads any drift over all of them,
and the median drops the odd round that a burst of other load spoiled.

The clocks are parameters so that the tests can drive the harness with a fake clock.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ROLES", "Candidate", "Skipped", "Timing", "measure"]

# actlab: the library under test; peer: an existing implementation it is compared with;
# copy: the memory-copy reference; floor: the exp-only loop; info: shown, never compared.
ROLES = ("actlab", "peer", "copy", "floor", "info")


def _nothing() -> None:
    return None


@dataclass
class Candidate:
    """One implementation of a table's operation.

    ``call`` runs the operation once and returns its result (for the correctness column);
    ``prepare`` runs untimed before every call (it sets thread counts, which several
    candidates of the same process share). ``threads`` is the number of threads it may use;
    ``None`` means the library's own choice (XLA), counted as all cores.
    """

    name: str
    family: str
    role: str
    threads: int | None
    call: Callable[[], Any]
    prepare: Callable[[], None] = _nothing
    alloc: bool = False
    note: str = ""
    # False for a candidate that computes something else on purpose (a layout comparison):
    # it gets no correctness entry.
    checked: bool = True

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"candidate {self.name!r}: role must be one of {ROLES}")


@dataclass(frozen=True)
class Skipped:
    """A candidate that could not run here, and why (named in the report)."""

    name: str
    family: str
    reason: str


@dataclass
class Timing:
    """What the harness measured for one candidate (seconds)."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    first_call_s: float = float("nan")
    error: str | None = None
    # Peak resident memory added during the first timed call (MiB), where measurable.
    peak_mib: float = float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def min(self) -> float:
        return min(self.times) if self.times else float("nan")

    @property
    def cpu_per_wall(self) -> float:
        wall = sum(self.times)
        return sum(self.cpu) / wall if wall > 0 else float("nan")


def measure(
    candidates: Sequence[Candidate],
    *,
    min_rounds: int = 3,
    max_rounds: int = 7,
    budget_s: float = 6.0,
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.process_time,
    on_first: Callable[[Candidate, Any], None] | None = None,
    memory: Any = None,
    slow_factor: float | None = None,
    long_call_s: float | None = None,
) -> dict[str, Timing]:
    """Time ``candidates`` interleaved; returns a Timing per candidate name.

    Each candidate is first called once, untimed in the rounds (JIT compilation, first-touch
    page faults; its duration is kept as ``first_call_s``); ``on_first`` receives that call's
    result before the next candidate runs, so candidates may share one output buffer. Then
    rounds run until ``min_rounds`` are done and either ``max_rounds`` are done or the
    rounds took ``budget_s``. A candidate that raises is recorded with its error and dropped.
    ``memory`` (``start()``/``stop() -> MiB``) measures the peak memory of each candidate's
    call in the first round, outside the timed interval.

    ``slow_factor``: after the first round, a peer (or an "info" candidate) slower than
    ``slow_factor`` × the fastest actlab or peer candidate of that round with no more
    threads than it is not timed again. It cannot be the best peer at its thread count,
    and the rounds it would take are what makes the suite long; actlab, the copies and the
    floor always run every round.
    ``long_call_s``: a candidate whose call in the first round took longer is timed in that
    round only (a call of many seconds is far from every bar, and three of them would
    dominate the run). The untimed first call does not count: it includes a JIT's
    compilation (several seconds for a kernel compiled anew), after which the kernel is fast.
    """
    if min_rounds < 1 or max_rounds < min_rounds:
        raise ValueError(f"need 1 <= min_rounds <= max_rounds, got {min_rounds}, {max_rounds}")
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique, got {names}")
    timings = {c.name: Timing(c.name) for c in candidates}
    live: list[Candidate] = []
    for c in candidates:
        try:
            c.prepare()
            t0 = clock()
            result = c.call()
            timings[c.name].first_call_s = clock() - t0
            if on_first is not None:
                on_first(c, result)
            del result
        except Exception as exc:  # a peer's failure is a result, not a crash of the suite
            timings[c.name].error = f"{type(exc).__name__}: {exc}"
            continue
        live.append(c)
    start = clock()
    rounds = 0
    while live and (rounds < min_rounds or (rounds < max_rounds and clock() - start < budget_s)):
        shift = rounds % len(live)
        for c in live[shift:] + live[:shift]:
            probe = memory is not None and rounds == 0
            try:
                c.prepare()
                if probe:
                    memory.start()
                c0, t0 = cpu_clock(), clock()
                c.call()
                t1, c1 = clock(), cpu_clock()
                if probe:
                    timings[c.name].peak_mib = memory.stop()
            except Exception as exc:
                timings[c.name].error = f"{type(exc).__name__}: {exc}"
                live.remove(c)
                continue
            timings[c.name].times.append(t1 - t0)
            timings[c.name].cpu.append(c1 - c0)
        rounds += 1
        if rounds == 1 and long_call_s is not None:
            live = [c for c in live if not timings[c.name].times[0] > long_call_s]
        if rounds == 1 and slow_factor is not None:
            live = [c for c in live if not _far_behind(c, live, timings, slow_factor)]
    return timings


def _width(c: Candidate) -> float:
    """The threads a candidate may use, for comparisons (its library's own choice: all)."""
    return math.inf if c.threads is None else c.threads


def _far_behind(
    c: Candidate, live: Sequence[Candidate], timings: dict[str, Timing], factor: float
) -> bool:
    """Whether peer (or info) ``c`` took more than ``factor`` × the fastest actlab or peer
    candidate allowed no more threads than it in the first round. Only those compete with
    it: a 1-thread peer far behind a 2-thread kernel can still be the best 1-thread peer."""
    if c.role not in ("peer", "info"):
        return False
    rivals = [
        timings[r.name].times[0]
        for r in live
        if r.role in ("actlab", "peer") and _width(r) <= _width(c)
    ]
    return bool(rivals) and timings[c.name].times[0] > factor * min(rivals)
