"""The sections of the report, each built from the registry, the audits and the lab results.

Each builder returns HTML (escaped through ``_html``); nothing here runs an experiment or an
audit itself, so the order and cost of the work stay in ``write_report``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import regions
from ..accuracy import AuditTable
from ..accuracy_rows import RowAuditRow
from ..peers import PeerTable, format_cell
from ..registry import PROPERTIES, Elementwise, Entry
from ._html import Raw, esc, figure, mathml, table, verdict

SPECIAL_INPUTS = (
    ("−∞", -math.inf),
    ("+∞", math.inf),
    ("NaN", math.nan),
    ("−0.0", -0.0),
    ("+0.0", 0.0),
    ("smallest subnormal", float(np.finfo(np.float64).smallest_subnormal)),
    ("largest finite", float(np.finfo(np.float64).max)),
)


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.items())


# ---------------------------------------------------------------- overview
def overview(entries: Sequence[Entry]) -> str:
    rows = []
    for e in entries:
        link = Raw(f"<a href='#fn-{esc(e.name)}'>{esc(e.name)}</a><br><small>{esc(e.kind)}</small>")
        if isinstance(e, Elementwise):
            g0 = f"{float(e.grad(np.float64(0.0), **e.defaults)):.6g}"
            where = regions.regions(e, e.defaults).describe()
            rng = mathml(e.range_latex)
        else:
            g0, where, rng = "", "", ""
        props = Raw(f"<small>{esc(', '.join(sorted(e.properties)))}</small>")
        rows.append([link, mathml(e.formulas.f), rng, g0, where, props])
    header = ["name", "f(x)", "range", "f′(0)", "dead or saturated where", "properties"]
    note = (
        f"<p>“Saturated” means 0 &lt; |f′| &lt; {regions.SATURATION_THRESHOLD:g}, measured from "
        "the exact f′ at the default parameters on [−50, 50]; “dead” means f′ = 0.</p>"
    )
    return table(header, rows) + note


# ---------------------------------------------------------------- seed figures
def seed_gallery(figures: Sequence[tuple[str, str, str, Any]]) -> str:
    """``figures``: (key, title, source, Figure) per seed figure."""
    items = [
        figure(fig, alt=title, caption=f"{title} — seed {source}", fig_id=f"seed-{key}")
        for key, title, source, fig in figures
    ]
    return "<div class='gallery'>" + "".join(items) + "</div>"


# ---------------------------------------------------------------- one section per function
def family_values(entry: Elementwise) -> dict[str, list[float]]:
    """Values of the parameter for the family figure: the default, the audited ones, or half
    and double the default, kept inside its domain. Only for entries with one scalar
    parameter: a product over several (RReLU's lower and upper) mixes invalid pairs."""
    families: dict[str, list[float]] = {}
    if len(entry.params) != 1:
        return families
    for p in entry.params:
        if not isinstance(p.default, float):
            continue
        values = {p.default} | {
            float(a[p.name]) for a in entry.audit_params if isinstance(a.get(p.name), float)
        }
        if len(values) == 1:
            values |= {v for v in (p.default / 2, p.default * 2) if p.domain.contains(v)}
        if len(values) > 1:
            families[p.name] = sorted(values)
    return families


def special_values(entry: Elementwise) -> str:
    rows = []
    for label, x in SPECIAL_INPUTS:
        xs = np.array([x])
        cells = [repr(float(entry.derivative(o)(xs, **entry.defaults)[0])) for o in (0, 1, 2)]
        rows.append([label, *cells])
    return table(["x", "f(x)", "f′(x)", "f″(x)"], rows)


def function_section(entry: Entry, figures: Sequence[tuple[str, Any]]) -> str:
    """``figures``: (caption, Figure) pairs drawn for this entry."""
    parts = [
        f"<section class='fn' id='fn-{esc(entry.name)}'><h3>{esc(entry.name)}</h3>",
        f"<p>{esc(entry.summary)}</p>",
        table(
            ["", "formula"],
            [
                ["f", mathml(entry.formulas.f)],
                ["f′", mathml(entry.formulas.grad)],
                ["f″", mathml(entry.formulas.grad2)],
            ],
        ),
    ]
    facts = [["kind", f"{entry.kind} ({entry.family} family)"]]
    if isinstance(entry, Elementwise):
        facts.append(["range", mathml(entry.range_latex)])
        facts += [[f"kink at {k.at:g}", k.rule] for k in entry.kinks]
        facts.append(["dead or saturated", regions.regions(entry, entry.defaults).describe()])
    facts += [
        [f"parameter {p.name}", f"default {p.default!r}, domain {p.domain.describe()}: {p.doc}"]
        for p in entry.params
    ]
    facts.append(
        ["properties", "; ".join(f"{p}: {PROPERTIES[p]}" for p in sorted(entry.properties))]
    )
    parts.append(table(["", ""], facts))
    parts += [figure(fig, alt=caption, caption=caption) for caption, fig in figures]
    if isinstance(entry, Elementwise):
        parts.append(
            "<p>Special values at the default parameters, float64 (measured by calling the "
            "function; the contract is in <code>docs/contract.md</code>):</p>"
        )
        parts.append(special_values(entry))
    elif getattr(entry, "hard_rows", ()):
        parts.append("<p>Hard rows and their written results (<code>docs/softmax.md</code>):</p>")
        parts.append(
            table(
                ["row", "input", "mask", "result"],
                [
                    [r.label, repr(r.x), "" if r.where is None else repr(r.where), repr(r.expected)]
                    for r in entry.hard_rows
                ],
            )
        )
    parts.append("</section>")
    return "".join(parts)


# ---------------------------------------------------------------- accuracy
def accuracy(audit: AuditTable, rows: Sequence[RowAuditRow], peers: PeerTable | None) -> str:
    failing = audit.failures()
    parts = [
        f"<p>Every elementwise f, f′, f″ in float16, float32 and float64 against mpmath at 60 "
        f"digits: {len(audit.rows)} cells, "
        f"<span class='{'bad' if failing else 'good'}'>{len(failing)} failing</span>. "
        "Errors are in ULP of the output dtype over the whole float range (subnormal outputs "
        "included); near a root of f′ or f″ the bar is an absolute error in eps.</p>",
        table(
            [
                "function",
                "dtype",
                "order",
                "max ULP",
                "worst x",
                "near roots (eps)",
                "non-finite",
                "bar (ULP)",
                "passed",
            ],
            [
                [
                    r.label,
                    r.dtype,
                    ("f", "f′", "f″")[r.order],
                    f"{r.max_ulp:.3g}",
                    repr(r.worst_x),
                    f"{r.near_zero_abs_eps:.3g}",
                    r.nonfinite,
                    f"{r.bar:g}",
                    verdict(r.passed),
                ]
                for r in audit.rows
            ],
        ),
        "<h3 id='accuracy-rows'>Row functions: forward per element, products normwise per row</h3>",
        table(
            ["function", "dtype", "measured", "rows", "max error", "sign errors", "bar", "passed"],
            [
                [
                    r.name,
                    r.dtype,
                    r.what,
                    r.n_rows,
                    f"{r.max_error:.3g} {r.unit}",
                    r.sign_errors,
                    f"{r.bar:g} {r.unit}",
                    verdict(r.passed),
                ]
                for r in rows
            ],
        ),
    ]
    if peers is not None:
        parts.append(_peer_section(peers))
    return "".join(parts)


def _peer_section(peers: PeerTable) -> str:
    cols = ["ours", *peers.peers]
    body = []
    for r in peers.rows:
        cells = []
        for c in cols:
            text = format_cell(r.cells.get(c), r.bar)
            bad = text.startswith("**")
            cells.append(Raw(f"<span class='bad'>{esc(text.strip('*'))}</span>") if bad else text)
        body.append([r.label, r.dtype, ("f", "f′", "f″")[r.order], f"{r.bar:g}", *cells])
    skipped = (
        f"<p>Skipped (not installed): {esc(', '.join(peers.skipped))}.</p>" if peers.skipped else ""
    )
    return (
        "<h3 id='accuracy-peers'>The peers beside ours</h3>"
        "<p>Max ULP over the same points and against the same oracle; a peer's derivatives come "
        "from its own autograd. Red: above our bar. “—”: the peer does not have the function "
        "(PyTorch has no Swish with β, SciPy no derivatives, JAX no PReLU/RReLU); “seed” is the "
        "NumPy formula of the seed tutorials. The large numbers are mostly tails where a formula "
        "overflows or flushes a tiny result to zero.</p>"
        + table(["function", "dtype", "order", "bar", *cols], body)
        + skipped
    )


# ---------------------------------------------------------------- the lab
def lab_experiment(experiment: Any, result: Any, figures: Mapping[str, Any], seconds: float) -> str:
    header, rows = result.table()
    badge = verdict(getattr(result, "claim_holds", None), "claim holds", "claim does not hold")
    figs = "".join(
        figure(fig, alt=f"{result.name}: {key}", caption=f"{experiment.title}: {key}")
        for key, fig in figures.items()
    )
    return "".join(
        [
            f"<section class='lab' id='lab-{esc(result.name)}'><h3>{esc(experiment.title)}</h3>",
            f"<p><b>Claim</b>: {esc(experiment.claim)}</p>",
            f"<p class='finding'><b>Measured</b> ({badge}, {seconds:.1f} s): "
            f"{esc(result.finding)}</p>",
            table(header, rows),
            figs,
            "</section>",
        ]
    )


# ---------------------------------------------------------------- environment
def environment(env: Mapping[str, str], command: str, seconds: float) -> str:
    return (
        f"<p>Reproduce with <code>{esc(command)}</code> (it took {seconds:.0f} s here).</p>"
        + table(["what", "value"], [[k, v] for k, v in env.items()])
    )
