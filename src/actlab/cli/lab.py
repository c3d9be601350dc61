"""``actlab lab EXPERIMENT``: run a lab experiment, write its JSON and figures, print the
finding and the table."""

from __future__ import annotations

import argparse
import difflib
import json
import time
from pathlib import Path

from ._common import usage_error

NAME = "lab"
HELP = "run a lab experiment (vanishing gradients, dead ReLU, …) and write its data and figures"
ORDER = 70

# The names are fixed by actlab.lab.EXPERIMENTS (checked by the tests); listing them here
# keeps `actlab --help` from importing the lab.
CHOICES = ("vanishing-gradients", "dead-relu", "output-pairing", "zero-centred", "shoot-out")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help=f"one of: {', '.join(CHOICES)}, or all")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--tiny", action="store_true", help="the seconds-fast configuration")
    p.add_argument(
        "-o", "--output", default="actlab-lab", help="output folder (default actlab-lab)"
    )


def _names(choice: str) -> list[str]:
    if choice == "all":
        return list(CHOICES)
    if choice not in CHOICES:
        close = difflib.get_close_matches(choice, CHOICES, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        usage_error(f"unknown experiment {choice!r}{hint} (choices: {', '.join(CHOICES)}, all)")
    return [choice]


def run(args: argparse.Namespace) -> int:
    names = _names(args.experiment)
    if args.seed < 0:
        usage_error(f"--seed must be a non-negative integer, got {args.seed}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        usage_error(f"--output {out} is an existing file; give a folder")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ..lab import run as run_experiment
    from ..plotting._figure import save
    from ..plotting.lab import figures

    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    size = "tiny" if args.tiny else "default"
    total_start = time.perf_counter()
    for name in names:
        start, cpu = time.perf_counter(), time.process_time()
        with Progress(
            TextColumn("[bold]{task.fields[experiment]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("", total=None, experiment=name)

            def progress(done: int, total: int, message: str, task=task, bar=bar) -> None:
                bar.update(task, completed=done, total=total, description=message)

            result = run_experiment(name, seed=args.seed, size=size, progress=progress)
        seconds = time.perf_counter() - start
        data = result.to_dict(timings=True)
        # Wall time depends on what else runs on the machine; CPU time much less so.
        data["wall_s"] = seconds
        data["cpu_s"] = time.process_time() - cpu
        (out / f"{name}.json").write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
        written = [out / f"{name}.json"]
        for key, fig in figures(result).items():
            written.append(save(fig, out / f"{name}-{key}.png"))
        header, rows = result.table()
        table = Table(title=f"{name} (seed {args.seed}, {size}, {seconds:.1f} s)")
        for column in header:
            table.add_column(str(column))
        for row in rows:
            table.add_row(*(str(v) for v in row))
        console.print(table)
        verdict = {True: "holds", False: "does NOT hold", None: "not judged"}[result.claim_holds]
        console.print(f"[bold]claim {verdict}:[/bold] {result.finding}", highlight=False)
        console.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)
        console.print()
    if len(names) > 1:
        wall = time.perf_counter() - total_start
        print(f"all {len(names)} experiments in {wall:.1f} s ({time.process_time():.1f} s CPU)")
    return 0
