"""Times the working tree's actlab against an earlier revision's, in one process, interleaved.

    python benchmarks/ab.py REV [--cases rows1000,ce] [--threads 1,2] [--rounds 8]

Separate runs of one kernel on this 2-core virtual machine differ by up to ~20% (the
placement of large arrays in memory changes from process to process), which hides a 5%
change. Here both versions run in the same process on the same arrays, alternately: REV's
``src/actlab`` is unpacked (``git archive``) into a temporary directory as the package
``actlab_rev`` and imported beside ``actlab``. Each case prints both medians and their
ratio (working tree ÷ REV; below 1 is faster). Both versions compile on first use (each
has its own cache directory, keyed by its sources).
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
N = 1 << 25


def unpack(rev: str, into: pathlib.Path) -> None:
    """REV's src/actlab as the package ``actlab_rev`` under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src/actlab"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / "actlab_rev"
    (into / "src" / "actlab").rename(package)
    pattern = re.compile(r"\b(from|import) actlab\b")
    for path in package.rglob("*.py"):
        text = path.read_text()
        path.write_text(pattern.sub(r"\1 actlab_rev", text))


def cases(names: set[str]) -> dict[str, Callable[[object], Callable[[], object]]]:
    """name → (module → call): each builds its arrays once and times a call with out=."""
    rng = np.random.default_rng(0)
    made: dict[str, Callable[[object], Callable[[], object]]] = {}

    def rows(name: str, shape: tuple[int, int], func: str) -> None:
        for dtype in ("float32", "float64"):
            key = f"{name} {dtype}"
            if name not in names:
                continue
            x = (rng.standard_normal(shape) * 4).astype(dtype)
            out = np.empty_like(x)
            made[key] = lambda m, x=x, out=out, func=func: lambda: getattr(m, func)(x, out=out)

    rows("softmax8192", (8192, 8192), "softmax")
    rows("log_softmax8192", (8192, 8192), "log_softmax")
    rows("softmax1000", (65536, 1000), "softmax")
    rows("log_softmax1000", (65536, 1000), "log_softmax")
    rows("softmax10", (4_000_000, 10), "softmax")
    for dtype in ("float32", "float64"):
        if "ce" in names:
            x = (rng.standard_normal((65536, 1000)) * 4).astype(dtype)
            t = rng.integers(0, 1000, 65536)
            g = np.empty_like(x)
            made[f"ce {dtype}"] = lambda m, x=x, t=t, g=g: (
                lambda: m.cross_entropy_with_grad(x, t, out=g)
            )
        for func in ("relu_vjp", "leaky_relu_vjp", "silu_vjp", "sigmoid_vjp_from_output"):
            if func not in names:
                continue
            x = (rng.standard_normal(N) * 8).astype(dtype)
            g = rng.standard_normal(N).astype(dtype)
            out = np.empty_like(x)
            made[f"{func} {dtype}"] = lambda m, x=x, g=g, out=out, func=func: (
                lambda: getattr(m, func)(x, g, out=out)
            )
        for func in ("relu", "sigmoid", "silu"):
            if func not in names:
                continue
            x = (rng.standard_normal(N) * 8).astype(dtype)
            out = np.empty_like(x)
            made[f"{func} {dtype}"] = lambda m, x=x, out=out, func=func: (
                lambda: getattr(m, func)(x, out=out)
            )
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the git revision to compare with (e.g. HEAD, a1b2c3d)")
    every = "softmax8192,log_softmax8192,softmax1000,log_softmax1000,softmax10,ce"
    parser.add_argument(
        "--cases",
        default=every,
        help=f"comma-separated (default {every}; "
        "also relu_vjp, leaky_relu_vjp, silu_vjp, sigmoid_vjp_from_output, "
        "relu, sigmoid, silu)",
    )
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        unpack(args.rev, pathlib.Path(tmp))
        sys.path.insert(0, tmp)
        new, old = (importlib.import_module(p) for p in ("actlab", "actlab_rev"))
        made = cases(set(args.cases.split(",")))
        print(f"working tree ({new.__file__}) against {args.rev}; median ms of {args.rounds}")
        print("| case | threads | rev | working tree | ratio |\n|---|---|---|---|---|")
        for threads in (int(t) for t in args.threads.split(",")):
            for package in ("actlab", "actlab_rev"):
                importlib.import_module(f"{package}.kernels.config").set_num_threads(threads)
            for key, build in made.items():
                calls = {"old": build(old), "new": build(new)}
                for call in calls.values():
                    call()  # compile, fault the pages in
                times: dict[str, list[float]] = {"old": [], "new": []}
                for r in range(args.rounds):
                    for side in ("old", "new") if r % 2 else ("new", "old"):
                        start = time.perf_counter()
                        calls[side]()
                        times[side].append(time.perf_counter() - start)
                o, n = (float(np.median(times[s])) * 1e3 for s in ("old", "new"))
                print(f"| {key} | {threads} | {o:.1f} | {n:.1f} | {n / o:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
