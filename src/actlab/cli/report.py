"""``actlab report``: the main job, one self-contained HTML report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ._common import usage_error

NAME = "report"
HELP = "write the report (functions, figures, accuracy audit, lab)"
ORDER = 90


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="actlab-report", help="output folder")
    p.add_argument("--full", action="store_true", help="run the full audit (minutes)")


def run(args: argparse.Namespace) -> int:
    from ..report import write_report

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        usage_error(f"--output {out} is an existing file; give a folder")
    start = time.perf_counter()
    try:
        path = write_report(out, full=args.full)
    except FileExistsError as exc:
        usage_error(str(exc))
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0
