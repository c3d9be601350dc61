"""``benchmarks/exactness_cost.py`` patches the float64 finish of the short-row softmax and
log_softmax before it compiles: each variant must really run (a renamed table once broke
it), and its errors must be those the docs report: the kernel within its bound, the plain
sum beyond the bar."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from actlab.kernels import config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _errors(function: str, dtype: str = "float64") -> dict[str, float]:
    """The script's max error per variant (its table's first two columns)."""
    script = ROOT / "benchmarks" / "exactness_cost.py"
    done = subprocess.run(
        [sys.executable, str(script), "--function", function, "--dtype", dtype,
         "--rows", "20000", "--rounds", "1"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| ")]
    return {r[1].strip(): float(r[2]) for r in rows if r[2].strip()[0].isdigit()}


needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


@needs_numba
def test_every_softmax_variant_runs_and_only_the_plain_sum_misses_the_bar():
    errors = _errors("softmax")
    kept = errors["pair sum, e/(sh + sl) rounded once (the kernel)"]
    uncorrected = errors["pair sum, e·(1/sh)"]
    plain = errors["plain sum, e·(1/s)"]
    assert kept <= 3.3  # the kernel's bound (docs/softmax.md)
    assert kept < uncorrected <= 4.0 < plain


@needs_numba
def test_every_log_softmax_variant_runs_and_the_plain_one_misses_the_bar():
    errors = _errors("log_softmax")
    kept = errors["pair τ, pair log1p, x − M by TwoSum (the kernel)"]
    two_roundings = errors["pair τ, pair log1p, (x − Mh) − Ml"]
    plain = errors["plain sum − 1, log1p rounded, (x − m) − log1p"]
    assert kept <= 1.9  # the kernel's bound (docs/softmax.md)
    assert two_roundings <= 2.4  # its bound: one more half ULP where x − Mh rounds
    assert plain > 2.0  # a confident row's tiny τ is lost in Σ e − 1


def _versus_errors(script: str, *args: str) -> dict[str, list[float]]:
    """The max errors per candidate of a script that prints ``_versus.print_table``'s table
    (the columns after the two ratios; a candidate not measured, "—", is left out)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args, "--rounds", "1"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| ")]
    return {
        r[1].strip(): [float(v) for v in r[4:-1]]
        for r in rows
        if r[2].strip()[0].isdigit() and "—" not in r[4]
    }


@needs_numba
def test_the_gated_cost_script_shows_the_kernel_within_its_bar_and_plain_float64_beyond():
    """g·silu′: the kernel within 2 ULP everywhere the script looks; the same formula in plain
    float64 far beyond it around the root and where silu′ is subnormal (what the pairs buy)."""
    errors = _versus_errors("gated_cost.py", "--n", "20000")
    kept = errors["actlab (the kernel)"]
    plain = errors["plain float64, same exp"]
    assert len(kept) == len(plain) == 3
    assert max(kept) <= 2.0
    assert plain[1] > 100
    assert plain[2] > 100


@needs_numba
def test_every_float32_log_softmax_variant_runs_and_the_plain_one_misses_the_bar():
    """float32 log_softmax of rows of 10: the kernel and z from float32 pairs within the bar
    of 2 ULP; the seeds' plain finish, which loses a confident row's τ, far beyond it."""
    errors = _errors("log_softmax", "float32")
    assert errors["τ, log1p and z in float64, z rounded once (the kernel)"] <= 1.0
    assert errors["τ and log1p in float64, z in float32 pairs"] <= 2.0
    assert errors["plain float32 sum − 1, log1p rounded, z in float32"] > 1000


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_tanh_cost_script_shows_the_kernel_within_its_bar_and_its_own_dtype_beyond(dtype):
    """tanh: the kernel within 1 ULP everywhere the script looks, the same formula rounded in
    the input's dtype beyond it (what the pairs, or the float64 lanes, buy)."""
    errors = _versus_errors("tanh_cost.py", "--dtype", dtype, "--n", "20000")
    kept = errors["actlab (the kernel)"]
    plain = errors[f"plain {dtype}, the same formula"]
    assert len(kept) == len(plain) == 3
    assert max(kept) <= 1.0
    assert max(plain[:2]) > 1.5


@needs_numba
def test_the_softmax_exp_cost_script_shows_only_the_kernel_with_margin_under_its_bar():
    """float32 softmax of long rows: the kernel's exact pair exp within 1 ULP; the exp
    rounded once more than the kernel (though within the bar of 2 on these rows); x − m
    rounded far beyond the bar where x − m reaches −100 (N(0, 20²))."""
    errors = _versus_errors("softmax_exp_cost.py", "--rows", "64", "--cols", "4096")
    kept = errors["actlab (the kernel)"]
    rounded_e = errors["e rounded once"]
    rounded_d = errors["x − m rounded"]
    assert len(kept) == len(rounded_e) == len(rounded_d) == 2
    assert max(kept) <= 1.0 < max(rounded_e)
    assert rounded_d[1] > 10
