"""The benchmark suite's machinery: the interleaved harness (with a fake clock) and the ratio
arithmetic and the bars (with injected timings). No test here asserts a speed."""

from __future__ import annotations

import math

import pytest

import actlab
from actlab.bench import (
    Bar,
    Candidate,
    Timing,
    measure,
    summarise,
)
from actlab.bench.ratios import median_interval
from actlab.bench.report import _summary


class FakeClock:
    """A clock that only moves when a candidate 'runs' (and for the budget checks)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fake(
    name: str,
    clock: FakeClock,
    seconds: float,
    log: list[str],
    role: str = "peer",
    threads: int | None = 1,
) -> Candidate:
    def call() -> str:
        clock.now += seconds
        log.append(name)
        return f"result of {name}"

    return Candidate(name, "fake", role, threads, call)


# ------------------------------------------------------------------------------ harness


def test_measure_interleaves_rotates_and_takes_the_median() -> None:
    clock, log = FakeClock(), []
    cands = [
        _fake("a", clock, 0.010, log),
        _fake("b", clock, 0.020, log),
        _fake("c", clock, 0.030, log),
    ]
    firsts = []
    t = measure(
        cands,
        min_rounds=3,
        max_rounds=3,
        clock=clock,
        cpu_clock=clock,
        on_first=lambda c, r: firsts.append((c.name, r)),
    )
    # One untimed first call each (checked before the next candidate runs), then 3 rounds,
    # each round in an order rotated by one.
    assert firsts == [("a", "result of a"), ("b", "result of b"), ("c", "result of c")]
    assert log == ["a", "b", "c", "a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert t["a"].times == pytest.approx([0.010] * 3)
    assert t["b"].median == pytest.approx(0.020)
    assert t["c"].first_call_s == pytest.approx(0.030)
    assert t["c"].cpu_per_wall == pytest.approx(1.0)


def test_memory_is_probed_around_the_first_timed_call_only() -> None:
    clock, log, events = FakeClock(), [], []

    class Probe:
        def start(self) -> None:
            events.append("start")

        def stop(self) -> float:
            events.append(f"stop after {log[-1]}")
            return 42.0

    t = measure(
        [_fake("a", clock, 0.1, log), _fake("b", clock, 0.1, log)],
        min_rounds=3,
        max_rounds=3,
        clock=clock,
        cpu_clock=clock,
        memory=Probe(),
    )
    assert events == ["start", "stop after a", "start", "stop after b"]
    assert t["a"].peak_mib == t["b"].peak_mib == 42.0


def test_peers_far_behind_after_one_round_are_not_timed_again() -> None:
    clock, log = FakeClock(), []
    cands = [
        _fake("mine", clock, 0.010, log, role="actlab"),
        _fake("peer", clock, 0.030, log),
        _fake("slow peer", clock, 0.050, log),
        _fake("copy", clock, 0.001, log, role="copy"),  # not a contender: no effect
    ]
    t = measure(cands, min_rounds=3, max_rounds=3, clock=clock, cpu_clock=clock, slow_factor=4.0)
    assert [len(t[n].times) for n in ("mine", "peer", "slow peer", "copy")] == [3, 3, 1, 3]
    t = measure(cands, min_rounds=3, max_rounds=3, clock=clock, cpu_clock=clock)
    assert len(t["slow peer"].times) == 3


def test_a_peer_is_far_behind_only_against_candidates_with_no_more_threads() -> None:
    clock, log = FakeClock(), []
    cands = [
        _fake("mine 2T", clock, 0.004, log, role="actlab", threads=2),
        _fake("mine 1T", clock, 0.010, log, role="actlab", threads=1),
        # 5× the 2-thread kernel but 3× the 1-thread one: the best 1-thread peer, timed on.
        _fake("peer 1T", clock, 0.030, log, threads=1),
        _fake("peer 2T", clock, 0.020, log, threads=2),  # 5× mine 2T: dropped
        _fake("xla", clock, 0.030, log, threads=None),  # all cores: against mine 2T too
    ]
    t = measure(cands, min_rounds=3, max_rounds=3, clock=clock, cpu_clock=clock, slow_factor=4.0)
    assert {n: len(v.times) for n, v in t.items()} == {
        "mine 2T": 3, "mine 1T": 3, "peer 1T": 3, "peer 2T": 1, "xla": 1
    }  # fmt: skip


def test_a_very_long_call_is_timed_once() -> None:
    clock, log = FakeClock(), []
    cands = [_fake("long", clock, 20.0, log, role="actlab"), _fake("short", clock, 0.1, log)]
    t = measure(cands, min_rounds=3, max_rounds=3, clock=clock, cpu_clock=clock, long_call_s=15)
    assert [len(t["long"].times), len(t["short"].times)] == [1, 3]


def test_a_long_first_call_alone_does_not_cut_the_rounds() -> None:
    """The untimed first call includes a JIT's compilation: a kernel that compiles for
    seconds and then runs fast is timed in every round."""
    clock = FakeClock()
    durations = iter([20.0, 0.01, 0.01, 0.01])

    def compiles_first() -> None:
        clock.now += next(durations)

    cands = [Candidate("jit", "fake", "actlab", 1, compiles_first)]
    t = measure(cands, min_rounds=3, max_rounds=3, clock=clock, cpu_clock=clock, long_call_s=15)
    assert t["jit"].first_call_s == 20.0
    assert t["jit"].times == pytest.approx([0.01, 0.01, 0.01])


def test_measure_median_ignores_one_disturbed_round() -> None:
    clock, _log = FakeClock(), []
    durations = iter([0.5, 0.010, 0.900, 0.011, 0.012])  # first call, then 4 rounds

    def call() -> None:
        clock.now += next(durations)

    t = measure(
        [Candidate("x", "fake", "peer", 1, call)],
        min_rounds=4,
        max_rounds=4,
        clock=clock,
        cpu_clock=clock,
    )
    assert t["x"].median == pytest.approx((0.011 + 0.012) / 2)
    assert t["x"].min == pytest.approx(0.010)
    assert t["x"].first_call_s == pytest.approx(0.5)


def test_measure_stops_at_the_budget_after_the_minimum_rounds() -> None:
    clock, log = FakeClock(), []
    t = measure(
        [_fake("slow", clock, 1.0, log)],
        min_rounds=2,
        max_rounds=10,
        budget_s=3.5,
        clock=clock,
        cpu_clock=clock,
    )
    assert len(t["slow"].times) == 4  # rounds start at 0, 1, 2, 3 s: all below the budget
    t = measure(
        [_fake("slow2", clock, 10.0, log)],
        min_rounds=2,
        max_rounds=10,
        budget_s=3.5,
        clock=clock,
        cpu_clock=clock,
    )
    assert len(t["slow2"].times) == 2


def test_a_failing_candidate_is_recorded_and_the_others_still_run() -> None:
    clock, log = FakeClock(), []

    def broken() -> None:
        raise RuntimeError("no such op")

    t = measure(
        [Candidate("bad", "fake", "peer", 1, broken), _fake("good", clock, 0.1, log)],
        min_rounds=2,
        max_rounds=2,
        clock=clock,
        cpu_clock=clock,
    )
    assert t["bad"].times == []
    assert "no such op" in t["bad"].error
    assert len(t["good"].times) == 2


def test_measure_rejects_bad_arguments() -> None:
    clock, log = FakeClock(), []
    with pytest.raises(ValueError, match="min_rounds"):
        measure([_fake("a", clock, 1, log)], min_rounds=3, max_rounds=2)
    with pytest.raises(ValueError, match="unique"):
        measure([_fake("a", clock, 1, log), _fake("a", clock, 1, log)])
    with pytest.raises(ValueError, match="role"):
        Candidate("a", "fake", "referee", 1, lambda: None)


# ------------------------------------------------------------------------------- ratios


def _timing(name: str, *times: float) -> Timing:
    return Timing(name, list(times), list(times), 0.0)


def _table(
    bar: Bar,
    medians: dict[str, tuple[str, int | None, float]],
    threads=(2, 1),
    scale: float = 1.0,
    errors=None,
):
    cands = [Candidate(n, "f", role, th, lambda: None) for n, (role, th, _) in medians.items()]
    timings = {n: _timing(n, m, m, m) for n, (_, _, m) in medians.items()}
    return summarise(
        key="k",
        workload="W1",
        title="t",
        dtype="float32",
        bar=bar,
        candidates=cands,
        timings=timings,
        copy_scale=scale,
        errors=errors or {},
        skipped=[],
        thread_counts=threads,
        ncores=2,
    )


MEDIANS = {
    "actlab 2T": ("actlab", 2, 0.080),
    "actlab 1T": ("actlab", 1, 0.150),
    "torch 2T": ("peer", 2, 0.100),
    "torch 1T": ("peer", 1, 0.200),
    "jax": ("peer", None, 0.090),
    "seed": ("peer", 1, 0.400),
    "memcpy 1T": ("copy", 1, 0.020),
    "memcpy 2T": ("copy", 2, 0.016),
    "floor 2T": ("floor", 2, 0.060),
    "floor 1T": ("floor", 1, 0.110),
}


def test_ratios_are_the_medians_divided_as_documented() -> None:
    res = _table(Bar(peer=0.85, floor=1.5), MEDIANS, scale=1.5)
    rows = {r.name: r for r in res.rows}
    # The copies are scaled to the bytes moved (here 1.5 copies of the input).
    assert res.copy1_ms == pytest.approx(30.0)
    assert res.copy2_ms == pytest.approx(24.0)
    assert rows["actlab 2T"].x_copy1 == pytest.approx(0.080 / 0.030)
    assert rows["actlab 2T"].x_copy2 == pytest.approx(0.080 / 0.024)
    # At 2 threads the best peer is JAX (its own threads count as all cores) ...
    assert rows["actlab 2T"].x_peer == pytest.approx(0.080 / 0.090)
    assert rows["actlab 2T"].x_floor == pytest.approx(0.080 / 0.060)
    # ... at 1 thread only the 1-thread peers compete.
    assert rows["actlab 1T"].x_peer == pytest.approx(0.150 / 0.200)
    assert rows["actlab 1T"].x_floor == pytest.approx(0.150 / 0.110)
    assert rows["seed"].x_peer == pytest.approx(2.0)
    assert math.isnan(rows["memcpy 1T"].x_floor)
    assert rows["actlab 2T"].median_ms == pytest.approx(80.0)


def test_verdicts_apply_every_part_of_the_bar() -> None:
    res = _table(Bar(peer=0.85, floor=1.5), MEDIANS)
    v2, v1 = res.verdicts
    assert (v2.threads, v2.actlab, v2.best_peer) == (2, "actlab 2T", "jax")
    # 0.89× the best peer is above 0.85: fails, and says why.
    assert v2.passed is False
    assert any("best peer" in w for w in v2.why)
    assert (v1.threads, v1.best_peer) == (1, "torch 1T")
    assert v1.passed is True
    assert v1.why == []


def test_copy_bar_and_missing_floor() -> None:
    medians = {k: v for k, v in MEDIANS.items() if not k.startswith("floor")}
    res = _table(Bar(peer=1.0, copy=1.3), medians, threads=(2,))
    (v,) = res.verdicts
    assert v.x_copy1 == pytest.approx(4.0)
    assert v.passed is False
    assert any("copy 1T" in w for w in v.why)
    medians["actlab 2T"] = ("actlab", 2, 0.050)
    res = _table(Bar(peer=0.85, floor=1.5), medians, threads=(2,))
    (v,) = res.verdicts
    # Fast enough against the peers, but the floor was not measured: not a pass.
    assert v.x_peer == pytest.approx(0.05 / 0.09)
    assert v.passed is None
    assert v.why == ["exp floor not measured"]


def test_median_interval_is_the_sign_test_interval() -> None:
    # n = 5: only the full range reaches 90% (1 − 2/32 = 93.75%).
    assert median_interval([3.0, 1.0, 5.0, 2.0, 4.0]) == (1.0, 5.0, pytest.approx(0.9375))
    # n = 10: [v2, v9] covers 1 − 2·11/1024 = 97.9%; [v3, v8] only 89.1% < 90%.
    lo, hi, cov = median_interval([float(v) for v in range(10, 0, -1)])
    assert (lo, hi) == (2.0, 9.0)
    assert cov == pytest.approx(1 - 22 / 1024)
    # n = 3: the full range, and the coverage says it is only 75%.
    assert median_interval([2.0, 1.0, 3.0]) == (1.0, 3.0, pytest.approx(0.75))
    assert all(math.isnan(v) for v in median_interval([]))


def _rounds_table(bar: Bar, actlab_times: list[float], floor_times: list[float]):
    cands = [
        Candidate("actlab 1T", "actlab", "actlab", 1, lambda: None),
        Candidate("floor 1T", "floor", "floor", 1, lambda: None),
    ]
    timings = {
        "actlab 1T": Timing("actlab 1T", actlab_times, actlab_times, 0.0),
        "floor 1T": Timing("floor 1T", floor_times, floor_times, 0.0),
    }
    return summarise(
        key="k", workload="W3", title="rows", dtype="float32", bar=bar, candidates=cands,
        timings=timings, copy_scale=1.0, errors={}, skipped=[], thread_counts=(1,), ncores=2,
    )  # fmt: skip


def test_ratios_pair_the_rounds_and_verdicts_near_the_bar_are_within_noise() -> None:
    actlab_times = [10.0, 12.0, 14.0, 16.0, 18.0]
    floor_times = [8.0, 12.0, 10.0, 16.0, 12.0]
    # Per round: 1.25, 1.0, 1.4, 1.0, 1.5; their median is 1.25, where the ratio of the
    # medians would be 14/12 = 1.17.
    (v,) = _rounds_table(Bar(floor=1.2), actlab_times, floor_times).verdicts
    assert v.x_floor == pytest.approx(1.25)
    assert (v.x_floor_lo, v.x_floor_hi) == (pytest.approx(1.0), pytest.approx(1.5))
    assert v.passed is False
    assert v.within_noise == ["exp floor"]
    assert v.x_floor_cov == pytest.approx(0.9375)
    (row,) = [r for r in _rounds_table(Bar(floor=1.2), actlab_times, floor_times).rows
              if r.name == "actlab 1T"]  # fmt: skip
    assert row.x_floor == pytest.approx(1.25)
    # Above the whole interval: a clear pass; below it: a clear fail.
    (v,) = _rounds_table(Bar(floor=1.6), actlab_times, floor_times).verdicts
    assert (v.passed, v.within_noise) == (True, [])
    (v,) = _rounds_table(Bar(floor=0.9), actlab_times, floor_times).verdicts
    assert (v.passed, v.within_noise) == (False, [])
    # A pass whose interval reaches over the bar is within noise too.
    (v,) = _rounds_table(Bar(floor=1.3), actlab_times, floor_times).verdicts
    assert (v.passed, v.within_noise) == (True, ["exp floor"])


def test_the_summary_names_and_counts_the_verdicts_within_noise() -> None:
    from types import SimpleNamespace

    times = ([10.0, 12.0, 14.0, 16.0, 18.0], [8.0, 12.0, 10.0, 16.0, 12.0])
    tables = [_rounds_table(Bar(floor=limit), *times) for limit in (1.2, 1.3, 1.6, 0.9)]
    text = "\n".join(_summary(SimpleNamespace(tables=tables)))
    assert text.count("within noise: exp floor 1.00–1.50 (94% interval)") == 2
    assert "Pass 2 (1 within noise), fail 2 (1 within noise)" in text


def test_actlab_without_thread_control_is_compared_at_every_thread_count() -> None:
    medians = {k: v for k, v in MEDIANS.items() if not k.startswith("actlab")}
    medians["actlab (no thread setting)"] = ("actlab", 1, 0.085)
    res = _table(Bar(peer=1.0), medians)
    assert [v.actlab for v in res.verdicts] == ["actlab (no thread setting)"] * 2
    assert [v.passed for v in res.verdicts] == [True, True]


def test_other_load_is_machine_busy_time_minus_ours_over_wall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from actlab.bench import machine

    busy, own, wall = iter([100.0, 103.0]), iter([10.0, 11.0]), iter([0.0, 2.0])
    monkeypatch.setattr(machine, "_busy_seconds", lambda: next(busy))
    monkeypatch.setattr(machine.time, "process_time", lambda: next(own))
    monkeypatch.setattr(machine.time, "perf_counter", lambda: next(wall))
    monitor = machine.LoadMonitor()
    monitor.start()
    assert monitor.stop() == pytest.approx((3.0 - 1.0) / 2.0)
    own, wall = iter([11.0, 12.0]), iter([2.0, 4.0])
    monkeypatch.setattr(machine, "_busy_seconds", lambda: None)  # not Linux
    monitor.start()
    assert math.isnan(monitor.stop())


def test_cpu_description_and_versions_name_the_machine_and_the_peers() -> None:
    from actlab.bench import machine

    info = machine.cpu_description()
    assert info["logical cpus"]
    assert info["model"]
    v = machine.versions()
    assert v["actlab"] == actlab.__version__
    assert set(machine.PACKAGES) == set(v)
