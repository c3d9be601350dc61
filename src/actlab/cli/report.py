"""``actlab report``: the main job, one self-contained HTML report."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from ._common import usage_error

NAME = "report"
HELP = "write the report: functions, figures, accuracy audit with peers, lab experiments"
ORDER = 90


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="actlab-report", help="output folder")
    p.add_argument("--full", action="store_true", help="run the full audit (adds minutes)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny lab configurations (seconds, not the measured defaults)",
    )
    p.add_argument(
        "--against",
        default="torch,jax,scipy,seed",
        metavar="PEERS",
        help="peers audited beside ours ('' for none; those not installed are skipped)",
    )
    p.add_argument("--seed", type=int, default=0, help="the lab's random seed")


def run(args: argparse.Namespace) -> int:
    from ..peers import check_peers
    from ..report import ReportOptions, check_output, write_report

    out = Path(args.output)
    try:
        check_output(out)
        peers = check_peers([p.strip() for p in args.against.split(",") if p.strip()])
    except (FileExistsError, ValueError) as exc:
        usage_error(str(exc))
    command = "actlab report" + "".join(f" {shlex.quote(a)}" for a in sys.argv[2:])
    options = ReportOptions(
        full=args.full,
        lab_size="tiny" if args.quick else "default",
        peers=peers,
        seed=args.seed,
        command=command if sys.argv[1:2] == ["report"] else "actlab report",
    )
    start = time.perf_counter()
    with _ProgressBar() as progress:
        try:
            path = write_report(out, options, progress=progress)
        except FileExistsError as exc:
            usage_error(str(exc))
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


class _ProgressBar:
    """A rich progress bar on stderr, fed by the report's (done, total, message) callback."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False,
        )  # fmt: skip
        self._bar.__enter__()
        self._task = self._bar.add_task("report", total=None)
        return self

    def __call__(self, done: int, total: int, message: str) -> None:
        self._bar.update(self._task, completed=done, total=total, description=message[:70])

    def __exit__(self, *exc):
        self._bar.update(self._task, description="report")
        return self._bar.__exit__(*exc)
