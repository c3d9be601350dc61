"""The suite's tables against the registry and the issue, the correctness column, and real
in-process runs on tiny arrays, with the actlab API of today and without its fast-path
additions (the suite must work before and after them). No test here asserts a speed."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import actlab
from actlab.bench import (
    Bar,
    Candidate,
    Options,
    Skipped,
    from_json,
    run_suite,
    tables,
    to_json,
    to_markdown,
)
from actlab.bench import runner as bench_runner
from actlab.bench.compare import compare, load_summary
from actlab.bench.refs import Reference

# ------------------------------------------------------------------------------- tables


def test_tables_cover_every_workload_and_every_elementwise_entry() -> None:
    specs = tables(None, ["float32", "float64"], "full")
    keys = {s.key for s in specs}
    elementwise = actlab.names("elementwise")
    for dtype in ("float32", "float64"):
        for wid, name in [
            ("W1", "softmax"),
            ("W2", "log_softmax"),
            ("W3", "softmax"),
            ("W3", "log_softmax"),
            ("W6", "cross_entropy"),
        ]:
            assert f"{wid}:{name}:{dtype}" in keys
        for name in elementwise:
            assert f"W4:{name}:{dtype}" in keys
            assert f"W5:{name}:{dtype}" in keys
    by = {(s.workload, s.kind, s.name, s.dtype): s for s in specs}
    assert by["W1", "rows", "softmax", "float32"].shape == (8192, 8192)
    assert by["W3", "rows", "softmax", "float32"].shape == (4_000_000, 10)
    assert by["W4", "elementwise", "relu", "float64"].shape == (2**25,)
    assert by["W6", "ce", "cross_entropy", "float32"].shape == (65_536, 1_000)
    # The bars of the issue.
    assert by["W1", "rows", "softmax", "float32"].bar == Bar(peer=0.85, floor=1.5)
    assert by["W4", "elementwise", "relu", "float32"].bar == Bar(peer=1.0, copy=1.3)
    assert by["W4", "elementwise", "sigmoid", "float32"].bar == Bar(peer=1.0)
    assert by["W5", "vjp_y", "sigmoid", "float32"].bar == Bar(peer=1.0, copy=1.2)
    assert {s.name for s in specs if s.kind == "vjp_y"} == {"sigmoid", "tanh"}
    assert {s.dtype for s in specs if s.workload == "W7"} == {"float32"}


def test_only_selects_workloads_and_functions_and_names_bad_ones() -> None:
    specs = tables(["W1", "w4:relu"], ["float32"], "tiny")
    assert [s.key for s in specs] == ["W1:softmax:float32", "W4:relu:float32"]
    with pytest.raises(ValueError, match="--only: unknown workload 'W9'"):
        tables(["W9"], ["float32"])
    with pytest.raises(ValueError, match="W4 has no function 'relu7'"):
        tables(["W4:relu7"], ["float32"])


def test_options_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="threads"):
        Options(threads=[0])
    with pytest.raises(ValueError, match="dtypes"):
        Options(dtypes=["float16"])
    with pytest.raises(ValueError, match="peers"):
        Options(peers=["tensorflow"])


# -------------------------------------------------------------------- correctness column


def test_reference_errors_in_abs_and_ulp() -> None:
    hi = np.array([1.0, 0.5, -3.0])
    ref = Reference(hi, np.zeros(3), np.dtype(np.float32), lambda r: np.asarray(r))
    assert ref.errors(hi.astype(np.float32)) == (0.0, 0.0)
    off = hi.astype(np.float32).copy()
    off[1] = np.nextafter(off[1], np.float32(1))  # one float32 ULP above 0.5
    err_abs, err_ulp = ref.errors(off)
    assert err_abs == pytest.approx(2.0**-24)
    assert err_ulp == pytest.approx(1.0)
    assert ref.errors(np.array([1.0, np.nan, -3.0])) == (math.inf, math.inf)


# ----------------------------------------------------------------- in-process, tiny run


def test_tiny_run_has_every_table_candidate_and_a_visible_wrong_candidate(tmp_path) -> None:
    options = Options(
        only=["W1", "W4:sigmoid", "W5:tanh", "W6"],
        threads=[1],
        dtypes=["float32"],
        size="tiny",
        peers=["seed"],
        min_rounds=1,
        max_rounds=1,
        samples=32,
    )

    def factory(spec, data):
        cands, skipped = bench_runner.candidates_for(spec, data, [1], ["seed"])
        if spec.kind == "elementwise":
            out = data.out
            cands.append(Candidate("wrong", "fake", "peer", 1, lambda: np.zeros_like(out)))
        return cands, [*skipped, Skipped("torch", "torch", "pretend it is missing")]

    res = run_suite(options, candidate_factory=factory)
    assert [t.key for t in res.tables] == [
        "W1:softmax:float32",
        "W4:sigmoid:float32",
        "W5:tanh:float32",
        "W5:tanh_y:float32",
        "W6:cross_entropy:float32",
    ]
    for t in res.tables:
        names = {r.name for r in t.rows}
        assert {"memcpy 1T", "memcpy 2T"} <= names
        assert any(r.role == "actlab" for r in t.rows)
        assert any(r.family == "seed" for r in t.rows)
        for r in t.rows:
            assert r.error is None
            assert r.rounds == 1
            assert r.median_ms > 0
    sig = next(t for t in res.tables if t.key == "W4:sigmoid:float32")
    rows = {r.name: r for r in sig.rows}
    assert rows["wrong"].err_ulp > 1e6  # zeros for sigmoid: the column shows it
    mine = next(r for r in sig.rows if r.role == "actlab")
    assert mine.err_ulp <= 1.0
    assert res.skipped_peers["torch"] == "not requested (--peers)"
    md = to_markdown(res)
    for section in (
        "## Machine",
        "## Versions",
        "## Threads and method",
        "## Skipped",
        "## Summary against the issue's bars",
        "tiny run",
    ):
        assert section in md
    assert "torch: pretend it is missing" in md
    assert '"tables"' in to_json(res)
    # A run read back from its JSON renders the same report.
    assert to_markdown(from_json(to_json(res))) == md
    # The compare script reads the Markdown and the JSON of a run alike.
    (tmp_path / "a.md").write_text(md, encoding="utf-8")
    (tmp_path / "a.json").write_text(to_json(res), encoding="utf-8")
    from_md, summary_json = load_summary(tmp_path / "a.md"), load_summary(tmp_path / "a.json")
    assert from_md.keys() == summary_json.keys() == {(t.title, 1) for t in res.tables}
    assert [v["result"] for v in from_md.values()] == [v["result"] for v in summary_json.values()]
    report = compare(tmp_path / "a.json", tmp_path / "a.json")
    body = [line for line in report.splitlines() if line.startswith("| W")]
    assert len(body) == len(res.tables)
    assert all("| 1.00 |" in line for line in body)


def test_missing_peer_libraries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = bench_runner.importlib.util.find_spec
    monkeypatch.setattr(
        bench_runner.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jax" else real(name, *a),
    )
    assert bench_runner.missing_peers(["jax", "seed"]) == {"jax": "jax is not installed"}


def test_the_suite_runs_without_the_fast_path_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the fused kernels: no thread setting, no out=, no NAME_vjp, no products from
    the output, no exp floor. The suite still runs and says what it timed and what it could
    not."""
    for name in ("set_num_threads", "get_num_threads", "tanh_vjp", "tanh_vjp_from_output"):
        monkeypatch.delattr(actlab, name, raising=False)
    plain_sigmoid = actlab.sigmoid
    monkeypatch.setattr(actlab, "sigmoid", lambda x: plain_sigmoid(x))
    kernels = sys.modules.get("actlab.kernels")
    if kernels is not None:
        monkeypatch.delattr(kernels, "exp_floor", raising=False)
    options = Options(
        only=["W1", "W4:sigmoid", "W5:tanh"],
        threads=[2, 1],
        dtypes=["float32"],
        size="tiny",
        peers=["seed"],
        min_rounds=1,
        max_rounds=1,
        samples=16,
    )
    res = run_suite(options)
    by = {t.key: t for t in res.tables}
    assert any("set_num_threads is not available" in n for n in res.notes)
    w1 = by["W1:softmax:float32"]
    assert [v.actlab for v in w1.verdicts] == ["actlab (no thread setting)"] * 2
    assert all("exp floor not measured" in v.why for v in w1.verdicts)
    assert all(v.passed is not True for v in w1.verdicts)
    if kernels is not None:
        assert any("exp_floor not available" in s.reason for s in w1.skipped)
    sig = next(r for r in by["W4:sigmoid:float32"].rows if r.role == "actlab")
    assert sig.alloc
    assert "no out=" in sig.note
    assert sig.err_ulp <= 1.0
    dtanh = next(r for r in by["W5:tanh:float32"].rows if r.role == "actlab")
    assert "composed" in dtanh.note
    assert dtanh.err_ulp <= 4.0
    from_y = by["W5:tanh_y:float32"]
    assert not any(r.role == "actlab" for r in from_y.rows)
    assert any("tanh_vjp_from_output not available" in s.reason for s in from_y.skipped)
    assert all(v.actlab is None and v.passed is None for v in from_y.verdicts)
    assert "tanh_vjp_from_output not available" in to_markdown(res)
