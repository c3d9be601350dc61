"""The report: an overview of every registry entry and the accuracy audit, as one
self-contained HTML page (and the same tables in Markdown).

This is the first form of the report; plots and the lab join it later. It is written
atomically: into a temporary folder beside the target, then moved into place, so a crash
leaves the previous report intact and nothing outside the output folder is touched.
"""

from __future__ import annotations

import html
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .accuracy import AuditTable, audit
from .accuracy_rows import RowAuditRow, audit_rows
from .registry import Elementwise, entries

# A report folder carries this file; any other non-empty folder is never replaced.
MARKER = ".actlab-report"


def overview_rows() -> list[list[str]]:
    rows = []
    for e in entries():
        if not isinstance(e, Elementwise):
            rows.append([e.name, e.kind, e.formulas.f, "", "", ", ".join(sorted(e.properties))])
            continue
        d = e.defaults
        scalar = {k: v for k, v in d.items() if isinstance(v, float)}
        g0 = float(e.grad(np.float64(0.0), **scalar))
        rows.append(
            [
                e.name,
                e.kind,
                e.formulas.f,
                e.range_latex,
                f"{g0:.6g}",
                ", ".join(sorted(e.properties)),
            ]
        )
    return rows


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _audit_rows(table: AuditTable) -> list[list[str]]:
    return [
        [
            r.label,
            r.dtype,
            ("f", "f′", "f″")[r.order],
            f"{r.max_ulp:.3g}",
            repr(r.worst_x),
            f"{r.near_zero_abs_eps:.3g}",
            str(r.nonfinite),
            f"{r.bar:g}",
            "yes" if r.passed else "NO",
        ]
        for r in table.rows
    ]


def environment() -> dict[str, str]:
    return {
        "actlab": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "longdouble mantissa bits": str(np.finfo(np.longdouble).nmant + 1),
    }


def render(table: AuditTable, rows: list[RowAuditRow], command: str) -> tuple[str, str]:
    """The report as (HTML, Markdown)."""
    overview_header = ["name", "kind", "f", "range", "f′(0)", "properties"]
    audit_header = [
        "function",
        "dtype",
        "order",
        "max ULP",
        "worst x",
        "near roots (eps)",
        "non-finite",
        "bar (ULP)",
        "passed",
    ]
    env = environment()
    css = (
        "body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;font-size:90%}"
        "th{background:#eee}code{background:#f4f4f4}"
    )
    page = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>actlab report</title><style>{css}</style></head><body>",
        "<h1>actlab report</h1>",
        f"<p>Reproduce with <code>{html.escape(command)}</code>.</p>",
        "<h2 id='overview'>Functions</h2>",
        _html_table(overview_header, overview_rows()),
        "<h2 id='audit'>Accuracy against mpmath (60 digits)</h2>",
        f"<p>{len(table.rows)} cells, {len(table.failures())} failing.</p>",
        _html_table(audit_header, _audit_rows(table)),
        "<h3 id='audit-rows'>Row functions: forward per element, products normwise per row</h3>",
        _html_table(
            ["function", "dtype", "measured", "rows", "max error", "sign errors", "bar", "passed"],
            [
                [
                    r.name,
                    r.dtype,
                    r.what,
                    str(r.n_rows),
                    f"{r.max_error:.3g} {r.unit}",
                    str(r.sign_errors),
                    f"{r.bar:g} {r.unit}",
                    "yes" if r.passed else "NO",
                ]
                for r in rows
            ],
        ),
        "<h2 id='environment'>Environment</h2>",
        _html_table(["what", "version"], [[k, v] for k, v in env.items()]),
        "</body></html>",
    ]
    md = [
        "# actlab report",
        "",
        f"Reproduce with `{command}`.",
        "",
        "## Accuracy against mpmath",
        "",
        table.to_markdown(),
        "",
        "## Environment",
        "",
        *[f"- {k}: {v}" for k, v in env.items()],
        "",
    ]
    return "\n".join(page), "\n".join(md)


def write_report(out: Path, full: bool = False) -> Path:
    """Write ``out/index.html`` and ``out/report.md``; return the path of the HTML file."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"report: {out} is an existing file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(
            f"report: {out} is a folder that actlab did not write; refusing to replace it"
        )
    table = audit(full=full)
    rows = audit_rows(full=full)
    command = "actlab report" + (" --full" if full else "") + f" -o {out}"
    page, md = render(table, rows, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is an ordinary folder
    try:
        (staging / "index.html").write_text(page, encoding="utf-8")
        (staging / "report.md").write_text(md, encoding="utf-8")
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
    return out / "index.html"
