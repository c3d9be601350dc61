"""``actlab bench`` through its real entry point, on tiny arrays (a hidden --size option)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import actlab
from actlab.bench.runner import missing_peers


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "actlab", "bench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )


def test_cli_writes_the_report_and_json(tmp_path: Path) -> None:
    proc = _bench(
        tmp_path,
        "--size",
        "tiny",
        "--only",
        "W1,W4:relu,W5:sigmoid,W6",
        "--threads",
        "2,1",
        "--dtype",
        "float32",
        "--rounds",
        "1",
        "-o",
        "B.md",
        "--json",
        "b.json",
    )
    assert proc.returncode == 0, proc.stderr
    # Progress goes to stderr, one line per table; nothing else is printed.
    assert "[1/5] W1 softmax 16×64 float32" in proc.stderr
    assert proc.stdout == ""
    md = (tmp_path / "B.md").read_text(encoding="utf-8")
    for section in (
        "# actlab benchmarks",
        "tiny run",
        "## Machine",
        "## Versions",
        "## Threads and method",
        "## Skipped",
        "## Summary against the issue's bars",
        "## Overview: time ÷ 1-thread copy of the same bytes",
        "actlab bench --size tiny --only W1,W4:relu,W5:sigmoid,W6",
        "other load",
    ):
        assert section in md, section
    for title in (
        "W1 softmax 16×64 float32",
        "W4 relu forward, n=1000 float32",
        "W5 dsigmoid (dx = g·f′(x)), n=1000 float32",
        "W5 dsigmoid_y (dx = g·f′ from y), n=1000 float32",
        "W6 cross-entropy loss+grad 32×40 float32",
    ):
        assert f"### {title}" in md, title
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert [t["key"] for t in data["tables"]] == [
        "W1:softmax:float32",
        "W4:relu:float32",
        "W5:sigmoid:float32",
        "W5:sigmoid_y:float32",
        "W6:cross_entropy:float32",
    ]
    missing = missing_peers(["scipy", "numexpr", "torch", "jax"])
    for t in data["tables"]:
        families = {r["family"] for r in t["rows"]}
        assert {"actlab", "memcpy", "seed"} <= families
        for peer in ("torch", "jax"):
            # Every table has the peer, or the report names it as skipped.
            assert peer in families or peer in missing
        assert [v["threads"] for v in t["verdicts"]] == [2, 1]
    for peer, reason in missing.items():
        assert f"peer **{peer}**: {reason}" in md
    w1 = data["tables"][0]
    assert "scipy" in {r["family"] for r in w1["rows"]} or "scipy" in missing


def test_cli_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = _bench(tmp_path, "--size", "tiny", "--only", "W9")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "--only" in proc.stderr
    proc = _bench(tmp_path, "--size", "tiny", "-o", "missing/B.md")
    assert proc.returncode == 2
    assert "-o: cannot write 'missing/B.md'" in proc.stderr
    proc = _bench(tmp_path, "--threads", "two")
    assert proc.returncode == 2
    assert "--threads" in proc.stderr
    assert not (tmp_path / "BENCHMARKS.md").exists()


def test_bench_is_a_subcommand_and_import_actlab_stays_light() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "actlab", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert "bench" in proc.stdout
    code = "import sys, actlab; print([m for m in sys.modules if m.startswith('actlab.bench')])"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_every_peer_runs_and_computes_the_same_function(tmp_path: Path) -> None:
    """Each peer's mapping (PyTorch ops, JAX functions, numexpr expressions, textbook f′)
    runs and agrees with the exact values: a wrong mapping would show an absolute error of
    the size of the function, not of its rounding."""
    proc = _bench(
        tmp_path, "--size", "tiny", "--only", "W1,W2,W3,W4,W5,W6,W7", "--threads", "1",
        "--dtype", "float64", "--rounds", "1", "-o", "B.md", "--json", "b.json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    # W1, W2, W3 (softmax and log_softmax); W4 and W5 per function, W5's two from y; W6; W7
    assert len(data["tables"]) == 4 + 2 * len(actlab.names("elementwise")) + 2 + 1 + 2
    for t in data["tables"]:
        # float64 everywhere but W7 (float32 by design); values are at most about 25.
        tol = 1e-9 if t["dtype"] == "float64" else 1e-5
        for r in t["rows"]:
            assert r["error"] is None, (t["key"], r["name"], r["error"])
            if r["role"] in ("actlab", "peer") and r["err_abs"] is not None:
                assert r["err_abs"] < tol, (t["key"], r["name"], r["err_abs"])
