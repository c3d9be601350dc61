"""``benchmarks/numpy_tier.py`` measures the NumPy tier's peak memory: a blocked call stays
near the output's size, a call on the whole array would not. Run small, with small blocks."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import actlab
from actlab.kernels import blocked

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location(
        "numpy_tier", ROOT / "benchmarks" / "numpy_tier.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peaks_of_blocked_and_whole_array_calls(capsys, monkeypatch):
    module = _load()
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 4 * 200)
    previous = actlab.get_backend_tier()
    try:
        assert module.main(["--rows", "400", "--n", "200", "--dtype", "float64"]) == 0
    finally:
        actlab.set_backend_tier(previous)
    rows = dict(
        re.findall(r"^\| ([^|]+?) \| [0-9.]+ \| ([0-9.]+) \|$", capsys.readouterr().out, re.M)
    )
    assert len(rows) == 11  # every call of the table
    peaks = {name: float(v) for name, v in rows.items()}
    # Every call is blocked: the output (1×), a copy at most, a few blocks of 800 entries
    # (0.5% each). A call on the whole array makes temporaries of the input's size in the
    # working dtype, 23.5× (logsumexp_vjp before it was blocked).
    for name, peak in peaks.items():
        assert peak < 3.0, (name, peak)
