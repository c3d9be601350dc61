"""The ``actlab`` command through its real entry point (the installed console script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("actlab")
SUBCOMMANDS = ("list", "show", "eval", "plot", "audit", "lab", "bench", "report")


def actlab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert SCRIPT.exists(), f"the console script is not installed next to {sys.executable}"
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )


def test_help_lists_every_subcommand():
    done = actlab("--help")
    assert done.returncode == 0
    for name in SUBCOMMANDS:
        assert name in done.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name):
    done = actlab(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: actlab " + name)


def test_module_entry_point_is_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "actlab", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("actlab ")


def test_eval_prints_exact_values():
    done = actlab("eval", "sigmoid", "0", "--grad")
    assert done.returncode == 0
    assert done.stdout.strip() == "sigmoid f′(0.0) = 0.25"
    done = actlab("eval", "softplus", "--param", "beta=2", "--", "-1")
    assert (
        done.stdout.strip()
        == f"softplus f(-1.0) = {float(__import__('actlab').softplus(-1.0, beta=2.0))!r}"
    )


def _one_line_usage_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_typos_get_a_suggestion():
    _one_line_usage_error(actlab("eval", "softplu", "1"), "did you mean softplus?")
    _one_line_usage_error(actlab("plot", "swish", "--param", "bta=1"), "did you mean beta?")
    _one_line_usage_error(actlab("show", "sigmod"), "did you mean sigmoid")


def test_bad_usage_is_one_line_and_status_2(tmp_path):
    _one_line_usage_error(actlab("plot", "relu", "-o", str(tmp_path / "x.jpg")), ".png, .svg, .pdf")
    _one_line_usage_error(actlab("plot", "softplus", "--param", "beta=-1"), "beta must be in")
    _one_line_usage_error(actlab("plot", "relu", "--range", "3", "1"), "LO must be below HI")
    _one_line_usage_error(actlab("plot", "softmax", "--grad"), "not elementwise")
    _one_line_usage_error(actlab("audit", "sigmoid", "--against", "tf"), "unknown tf")
    existing = tmp_path / "a-file"
    existing.write_text("keep me")
    _one_line_usage_error(actlab("report", "-o", str(existing)), "existing file")
    assert existing.read_text() == "keep me"
    _one_line_usage_error(actlab("frobnicate"), "invalid choice")


def test_plot_writes_the_requested_curves(tmp_path):
    out = tmp_path / "swish.svg"
    done = actlab("plot", "swish", "--grad", "--param", "beta=0.1,1,10", "--range", "-5", "3",
                  "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    # Every curve is tagged name:order:params in the SVG (see actlab.plotting.curves).
    for beta in (0.1, 1.0, 10.0):
        for order in (0, 1):
            assert f"id='swish:{order}:{{\"beta\": {beta!r}}}'" in svg
    assert "swish:2:" not in svg


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_plot_views_of_row_functions(tmp_path, suffix, magic):
    out = tmp_path / f"softmax{suffix}"
    done = actlab("plot", "softmax", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(magic)


def test_show_and_list_come_from_the_registry():
    done = actlab("show", "relu6")
    assert done.returncode == 0
    assert "kink at 6:" in done.stdout
    listed = actlab("list", "--property", "odd").stdout
    assert "tanh" in listed
    assert "relu6" not in listed


def test_audit_against_a_peer_puts_its_column_beside_ours():
    done = actlab("audit", "sigmoid", "--dtype", "float32", "--against", "seed")
    assert done.returncode == 0, done.stderr
    assert "| function | dtype | order | bar | ours | seed |" in done.stdout
