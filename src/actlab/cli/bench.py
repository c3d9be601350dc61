"""``actlab bench``: the CPU benchmark suite against the peers, written to BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from ._common import usage_error

NAME = "bench"
HELP = "run the CPU benchmark suite against PyTorch, JAX, SciPy, numexpr and NumPy"
ORDER = 70


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and fewer rounds: a smoke run (< 1 minute)",
    )
    p.add_argument(
        "--only",
        default="",
        metavar="W1,W4,...",
        help="workloads to run (W1…W7; W4:NAME and W5:NAME pick one function)",
    )
    p.add_argument(
        "--threads",
        default="2,1",
        metavar="2,1",
        help="thread counts for actlab, PyTorch, numexpr and the floor",
    )
    p.add_argument("--dtype", default="float32,float64", metavar="float32,float64")
    p.add_argument(
        "-o",
        "--output",
        default="BENCHMARKS.md",
        metavar="FILE",
        help="the Markdown report (default BENCHMARKS.md)",
    )
    p.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        metavar="N",
        help="timed rounds per table (default 5, or 6 within a 3 s budget)",
    )
    p.add_argument(
        "--all-rounds",
        action="store_true",
        help="time every candidate in every round (by default a peer 4× slower than the "
        "fastest after one round, or any call longer than 2 s, is not timed again)",
    )
    p.add_argument(
        "--peers",
        default=None,
        metavar="seed,scipy,...",
        help="peers to include (default all: seed,scipy,numexpr,torch,jax)",
    )
    # The suite's own tests run it end to end on tiny arrays.
    p.add_argument(
        "--size", choices=("full", "quick", "tiny"), default=None, help=argparse.SUPPRESS
    )


def _options(args: argparse.Namespace):
    from ..bench import PEERS, Options

    size = args.size or ("quick" if args.quick else "full")
    try:
        threads = [int(t) for t in _list(args.threads)]
    except ValueError:
        usage_error(f"--threads expects comma-separated integers, got {args.threads!r}")
    peers = _list(args.peers) if args.peers is not None else list(PEERS)
    rounds = {}
    if args.rounds is not None:
        if args.rounds < 1:
            usage_error(f"--rounds must be at least 1, got {args.rounds}")
        rounds = {"min_rounds": args.rounds, "max_rounds": args.rounds}
    elif size != "full":
        rounds = {"min_rounds": 2, "max_rounds": 2}
    samples = {"full": 1024, "quick": 256, "tiny": 64}[size]
    try:
        return Options(
            only=_list(args.only) or None,
            threads=threads,
            dtypes=_list(args.dtype),
            size=size,
            peers=peers,
            slow_factor=None if args.all_rounds else 4.0,
            long_call_s=None if args.all_rounds else 2.0,
            samples=samples,
            **rounds,
        )
    except ValueError as exc:
        usage_error(str(exc))


def run(args: argparse.Namespace) -> int:
    # Idle OpenMP workers of PyTorch and numba must sleep, not spin, while the next
    # interleaved candidate runs on the same cores; this must precede their import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    options = _options(args)
    for flag, path in (("-o", args.output), ("--json", args.json)):
        # Fail now, not after ten minutes of measuring.
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder is not None and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            usage_error(f"{flag}: cannot write {path!r} (no such folder, or not writable)")
    from ..bench import report, run_suite, tables

    try:
        tables(options.only, options.dtypes, options.size)
    except ValueError as exc:
        usage_error(str(exc))

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = run_suite(options, progress)
    result.command = "actlab " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(report.to_markdown(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(report.to_json(result))
    failed = sum(v.passed is False for t in result.tables for v in t.verdicts)
    progress(f"wrote {args.output} in {result.wall_s:.0f} s ({failed} row(s) below the bar)")
    return 0
