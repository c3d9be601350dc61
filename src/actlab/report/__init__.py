"""The report: one self-contained HTML page of every function (formulas, figures, special
values), the seed tutorials' figures, the accuracy audit with the peers beside ours, the lab
experiments' measurements, and the environment (with the command that reproduces it).

It is written atomically: into a temporary folder beside the target, then moved into place, so
a crash leaves the previous report intact and nothing outside the output folder is touched. A
folder that actlab did not write (no marker file) is never replaced, nor is an existing file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..registry import Elementwise, entries, get
from . import sections
from ._html import page
from .environment import environment

# A report folder carries this file; any other non-empty folder is never replaced.
MARKER = ".actlab-report"
Progress = Callable[[int, int, str], None]
LAB_SIZES = ("default", "tiny")


@dataclass(frozen=True)
class ReportOptions:
    full: bool = False  # the whole-range audit (minutes) instead of the quick one
    lab_size: str = "default"  # "tiny": seconds-fast lab configurations (for tests)
    lab: Sequence[str] | None = None  # experiment names; None: all
    functions: Sequence[str] | None = None  # registry names; None: all
    peers: Sequence[str] = ("torch", "jax", "scipy", "seed")
    seed: int = 0
    command: str = "actlab report"


@dataclass
class _Work:
    """The running count of steps, forwarded to the caller's progress callback."""

    total: int
    progress: Progress | None
    done: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total, message)
        self.done += 1


def check_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output: {out} is an existing file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(
            f"output: {out} is a folder that actlab did not write; refusing to replace it"
        )


def write_report(
    out: str | Path = "actlab-report",
    options: ReportOptions | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``out/index.html`` (and the lab's JSON under ``out/lab/``); return the HTML path."""
    options = options or ReportOptions()
    if options.lab_size not in LAB_SIZES:
        raise ValueError(f"lab_size: expected one of {LAB_SIZES}, got {options.lab_size!r}")
    out = Path(out)
    check_output(out)
    start = time.perf_counter()
    html, lab_json = _build(options, progress, start)
    _write_atomically(out, {"index.html": html, **lab_json})
    return out / "index.html"


def _build(options: ReportOptions, progress: Progress | None, start: float):
    from ..accuracy_rows import is_audited

    all_entries = entries() if options.functions is None else [get(n) for n in options.functions]
    elementwise = [e.name for e in all_entries if isinstance(e, Elementwise)]
    others = [e.name for e in all_entries if not isinstance(e, Elementwise) and is_audited(e)]
    experiments = _experiments(options.lab)
    work = _Work(total=len(all_entries) + 1 + len(experiments) + 2, progress=progress)

    # The audits are single-threaded Python (mpmath) while the figures and the lab use NumPy
    # and BLAS: run the audits in a second process meanwhile. "spawn" does not inherit
    # BLAS threads or locks from this process.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        audits = pool.submit(_audits, elementwise, others, tuple(options.peers), options.full)
        function_parts, gallery, lab_parts, lab_json = _figures_and_lab(
            all_entries, experiments, options, work
        )
        work.step("the accuracy audit against mpmath, with the peers (second process)")
        table, rows, peers = audits.result()
    seconds = time.perf_counter() - start
    nav = [("overview", "Functions"), ("seeds", "Seed figures"), ("functions", "Each function"),
           ("accuracy", "Accuracy"), ("lab", "Lab"), ("environment", "Environment")]  # fmt: skip
    body = [
        "<h1>actlab report</h1>",
        "<p>Activation functions with exact f, f′ and f″: what they look like, how accurate "
        "they are (and their peers), and what training real networks measures of the "
        "textbook claims.</p>",
        "<h2 id='overview'>Functions</h2>",
        sections.overview(all_entries),
        "<h2 id='seeds'>The seed tutorials' figures, redrawn exactly</h2>",
        gallery,
        "<h2 id='functions'>Each function</h2>",
        *function_parts,
        "<h2 id='accuracy'>Accuracy against mpmath</h2>",
        sections.accuracy(table, rows, peers),
        "<h2 id='lab'>The lab: the textbook claims, measured</h2>",
        *lab_parts,
        "<h2 id='environment'>Environment</h2>",
        sections.environment(environment(), options.command, seconds),
    ]
    work.step("writing")
    return page("actlab report", nav, body), lab_json


def _audits(elementwise: list[str], others: list[str], peers: tuple[str, ...], full: bool):
    """Our audits and the peers' (run in the second process)."""
    from ..accuracy import AuditTable, audit
    from ..accuracy_rows import audit_rows
    from ..peers import peer_audit

    table = audit(elementwise, full=full) if elementwise else AuditTable()
    rows = audit_rows(others, full=full) if others else []
    peer_table = peer_audit(elementwise, peers=peers, full=full) if peers and elementwise else None
    return table, rows, peer_table


def _figures_and_lab(all_entries, experiments, options: ReportOptions, work: _Work):
    from ..plotting.seeds import SEED_FIGURES

    function_parts = []
    for e in all_entries:
        work.step(f"figures of {e.name}")
        function_parts.append(sections.function_section(e, _function_figures(e)))
    work.step("the seed tutorials' figures")
    gallery = sections.seed_gallery(
        [(k, f.title, f.source, f.draw()) for k, f in SEED_FIGURES.items()]
    )

    lab_parts, lab_json = [], {}
    for exp in experiments:
        work.step(f"lab: {exp.name}")
        t0 = time.perf_counter()
        result = exp.run(seed=options.seed, size=options.lab_size, progress=_sub(work, exp.name))
        seconds = time.perf_counter() - t0
        figures = _lab_figures(result)
        lab_parts.append(sections.lab_experiment(exp, result, figures, seconds))
        lab_json[f"lab/{exp.name}.json"] = json.dumps(result.to_dict(), indent=1)

    return function_parts, gallery, lab_parts, lab_json


def _experiments(names: Sequence[str] | None) -> list:
    if names is not None and not names:
        return []
    from ..lab import EXPERIMENTS

    return [EXPERIMENTS[n] for n in (EXPERIMENTS if names is None else names)]


def _lab_figures(result) -> dict:
    from ..plotting.lab import figures

    return figures(result)


def _sub(work: _Work, name: str) -> Progress:
    def report(done: int, total: int, message: str) -> None:
        if work.progress is not None:
            work.progress(work.done - 1, work.total, f"lab: {name}: {message} ({done}/{total})")

    return report


def _function_figures(entry) -> list[tuple[str, object]]:
    from ..plotting.curves import function_figure
    from ..plotting.rows import row_figure
    from .sections import family_values

    if not isinstance(entry, Elementwise):
        return [(f"{entry.name}: its view", row_figure(entry.name))]
    figs = [
        (
            f"{entry.name}: f, f′, f″ at the default parameters; kinks marked, dead and "
            "saturated regions shaded",
            function_figure([entry.name]),
        )
    ]
    families = family_values(entry)
    if families:
        text = "; ".join(f"{k} = {', '.join(f'{v:g}' for v in vs)}" for k, vs in families.items())
        figs.append((f"{entry.name}: the parameter family {text}",
                     function_figure([entry.name], families=families)))  # fmt: skip
    return figs


def _write_atomically(out: Path, files: dict[str, str]) -> None:
    check_output(out)  # again: the folder may have changed while the report was built
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is an ordinary folder
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (staging / MARKER).write_text("written by actlab report\n", encoding="utf-8")
        previous = None
        if out.exists():
            previous = out.with_name(f".{out.name}-previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(out, previous)
        os.replace(staging, out)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
