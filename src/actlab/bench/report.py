"""BENCHMARKS.md: the summary against the issue's bars, then every table in full."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from .harness import Skipped
from .ratios import Bar, Row, TableResult, Verdict
from .runner import SuiteResult
from .workloads import WORKLOADS

__all__ = ["from_json", "to_json", "to_markdown"]


def _f(v: float, digits: int = 2) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _e(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.1e}"


def _ulp(v: float) -> str:
    if math.isnan(v):
        return ""
    return "inf" if math.isinf(v) else (f"{v:.2f}" if v < 100 else f"{v:.2e}")


def _pass(p: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "n/a"}[p]


def _header(res: SuiteResult) -> list[str]:
    size = res.options.get("size", "full")
    lines = ["# actlab benchmarks", ""]
    if size != "full":
        lines += [
            f"> **{size} run: smaller sizes than the issue's, partly cache-resident. A smoke "
            "test: its ratios are not the anchors.**",
            "",
        ]
    loads = [t.other_load for t in res.tables if not math.isnan(t.other_load)]
    if loads and sum(loads) / len(loads) > 0.25:
        lines += [
            f"> **Not a quiet run: other processes used {sum(loads) / len(loads):.2f} cores on "
            "average while the tables ran (see the other-load figures). Times at 2 threads "
            "compete with them for the cores; re-run on a quiet machine for the anchors.**",
            "",
        ]
    lines += [
        f"Produced by `{res.command or 'actlab bench'}` on {res.started}; "
        f"wall time {res.wall_s:.0f} s.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in res.machine.items()]
    lines += ["", "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in res.versions.items()]
    threads = ", ".join(str(t) for t in res.options.get("threads", []))
    lines += [
        "",
        "## Threads and method",
        "",
        f"- thread counts: {threads} (actlab, PyTorch, numexpr and the floor are set to each; "
        "seed NumPy and SciPy are single-threaded; JAX uses XLA's own threads and counts as "
        "all cores)",
        "- environment: " + ", ".join(f"{k}={v}" for k, v in res.environment.items()),
        f"- rounds: at least {res.options.get('min_rounds')}, at most "
        f"{res.options.get('max_rounds')} within {res.options.get('budget_s')} s per table; "
        "every candidate once per round, interleaved, the order rotated each round; the "
        "first call (compilation, page faults) is not timed; the time is the median."
        + (
            f" A peer more than {res.options['slow_factor']:g}× slower after the first "
            "round than the fastest candidate with no more threads is not timed again (it "
            "cannot be the best peer at its thread count; see its rounds column)."
            if res.options.get("slow_factor")
            else ""
        )
        + (
            " A candidate whose call in the first round took more than "
            f"{res.options['long_call_s']:g} s is timed in that round only."
            if res.options.get("long_call_s")
            else ""
        ),
        "- ratios: the median over the rounds of the two candidates' ratio within a round "
        "(a drift of the machine's speed during a table moves both times of a round alike); "
        "the times in the ms columns are each candidate's median.",
        "- × copy 1T / 2T: ÷ `np.copyto` of the same bytes (input read + output "
        'written) on 1 / 2 threads. The bars\' "memory copy" is the 1-thread copy.',
        "- × best peer: ÷ the fastest peer (seed NumPy, SciPy, numexpr, PyTorch, JAX) allowed "
        "the same number of threads or fewer.",
        "- within noise: the verdict's ratio has an interval (the sign-test interval for the "
        "median of the per-round ratios, ≥ 90% coverage from 5 rounds on) that contains its "
        "bar; such a row can give the other verdict in another run.",
        "- × floor: ÷ `actlab.kernels.exp_floor` (exp only, same code as the kernels, over "
        "the same data shifted by its maximum, as the kernels exponentiate x − max ≤ 0) at the "
        "same thread count.",
        "- errors: the largest over a sample of the output (mpmath references, 60 digits), "
        "absolute and in ULP of the dtype (cross-entropy: the loss and sampled gradient rows; "
        "products from a saved y: against the exact product of that y).",
        "- peak MiB: resident memory the call added at its peak (the kernel's high-water mark, "
        "reset before the call; first timed round); the out= candidates share one "
        "preallocated output, so for them it is the temporaries. Memory freed earlier but "
        "still resident is reused without counting, so below glibc's mmap threshold (32 MiB "
        "at most, i.e. in --quick runs) it can read low.",
    ]
    loads = [t.other_load for t in res.tables if not math.isnan(t.other_load)]
    if loads:
        worst = max(loads)
        busy = [t.title for t in res.tables if t.other_load > 0.25]
        lines.append(
            f"- other load (cores used by other processes, or stolen by the hypervisor, while "
            f"a table ran): mean "
            f"{sum(loads) / len(loads):.2f}, max {worst:.2f}"
            + (
                f"; above 0.25 core in {len(busy)} table(s): the run was not quiet."
                if busy
                else "; the machine was quiet."
            )
        )
    lines += [f"- note: {n}" for n in res.notes]
    return lines


def _skipped(res: SuiteResult) -> list[str]:
    lines = ["", "## Skipped", ""]
    if res.skipped_peers:
        lines += [f"- peer **{k}**: {v}" for k, v in res.skipped_peers.items()]
    seen: dict[tuple[str, str], list[str]] = {}
    for t in res.tables:
        for s in t.skipped:
            seen.setdefault((s.name, s.reason), []).append(t.key)
        for r in t.rows:
            if r.error:
                seen.setdefault((r.name, f"failed: {r.error}"), []).append(t.key)
    for (name, reason), keys in seen.items():
        where = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
        lines.append(f"- {name}: {reason} ({where})")
    if len(lines) == 3:
        lines.append("- nothing: every peer ran.")
    return lines


def _summary(res: SuiteResult) -> list[str]:
    lines = [
        "",
        "## Summary against the issue's bars",
        "",
        "| table | threads | actlab ms | × copy 1T | best peer | × best peer | × floor | bar "
        "| result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    counts = {True: 0, False: 0, None: 0}
    noisy = {True: 0, False: 0, None: 0}
    for t in res.tables:
        for v in t.verdicts:
            if t.bar != Bar():  # informational tables (W7) have no bar to count
                counts[v.passed] += 1
                noisy[v.passed] += bool(v.within_noise)
            why = "; ".join(v.why + _noise(v))
            lines.append(
                f"| {t.title} | {v.threads} | {_f(v.median_ms, 1)} | {_f(v.x_copy1)} | "
                f"{v.best_peer or ''} | {_f(v.x_peer)} | {_f(v.x_floor)} | {t.bar.describe()} "
                f"| {_pass(v.passed)}{f' ({why})' if why else ''} |"
            )
    lines += [
        "",
        f"Pass {counts[True]} ({noisy[True]} within noise), fail {counts[False]} "
        f"({noisy[False]} within noise), not measurable {counts[None]} (the W7 layout tables "
        "are informational and have no bar). Within noise: the ratio's interval contains the "
        "bar.",
    ]
    return lines


def _noise(v: Verdict) -> list[str]:
    """'within noise: …' for the parts of the bar whose ratio interval contains the limit."""
    intervals = {
        "best peer": (v.x_peer_lo, v.x_peer_hi, v.x_peer_cov),
        "exp floor": (v.x_floor_lo, v.x_floor_hi, v.x_floor_cov),
        "copy 1T": (v.x_copy1_lo, v.x_copy1_hi, v.x_copy1_cov),
    }
    return [
        f"within noise: {label} {_f(lo)}–{_f(hi)} ({cov:.0%} interval)"
        for label in v.within_noise
        for lo, hi, cov in [intervals[label]]
    ]


def _column(r: Any) -> str:
    if r.family in ("seed", "scipy", "jax"):
        return r.family
    return f"{r.family} {r.threads}T" if r.threads.isdigit() else r.family


def _overview(res: SuiteResult) -> list[str]:
    """One line per table, one column per candidate family and thread count: × copy 1T."""
    order: list[str] = []
    for t in res.tables:
        for r in t.rows:
            col = _column(r)
            if r.role != "info" and r.family != "memcpy" and col not in order:
                order.append(col)
    lines = [
        "",
        "## Overview: time ÷ 1-thread copy of the same bytes",
        "",
        "Bold: the fastest of actlab and the peers in the line. Empty: not run or not "
        "applicable (see Skipped).",
        "",
        "| table | copy 1T ms | " + " | ".join(order) + " |",
        "|---|---|" + "---|" * len(order),
    ]
    for t in res.tables:
        cells = {_column(r): r for r in t.rows if r.role != "info" and not math.isnan(r.median_ms)}
        contenders = [r.x_copy1 for r in cells.values() if r.role in ("actlab", "peer")]
        best = min(contenders) if contenders else math.nan
        row = []
        for col in order:
            r = cells.get(col)
            text = _f(r.x_copy1) if r is not None else ""
            if r is not None and r.role in ("actlab", "peer") and r.x_copy1 == best:
                text = f"**{text}**"
            row.append(text)
        lines.append(f"| {t.title} | {_f(t.copy1_ms, 1)} | " + " | ".join(row) + " |")
    return lines


def _table(t: TableResult) -> list[str]:
    lines = [
        "",
        f"### {t.title}",
        "",
        f"Copy of the same bytes: {_f(t.copy1_ms, 1)} ms (1 thread), {_f(t.copy2_ms, 1)} ms "
        f"(2 threads); other load {_f(t.other_load)} cores; bar: {t.bar.describe()}.",
        "",
        "| candidate | threads | alloc | median ms | min ms | cpu/wall | × copy 1T | × copy 2T "
        "| × best peer | × floor | max abs err | max err ULP | peak MiB | 1st call s | rounds "
        "| note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted(t.rows, key=lambda r: (math.isnan(r.median_ms), r.median_ms))
    for r in rows:
        name = f"**{r.name}**" if r.role == "actlab" else r.name
        note = r.note if not r.error else f"failed: {r.error}"
        lines.append(
            f"| {name} | {r.threads} | {'y' if r.alloc else ''} | {_f(r.median_ms, 1)} | "
            f"{_f(r.min_ms, 1)} | {_f(r.cpu_per_wall)} | {_f(r.x_copy1)} | {_f(r.x_copy2)} | "
            f"{_f(r.x_peer)} | {_f(r.x_floor)} | {_e(r.err_abs)} | {_ulp(r.err_ulp)} | "
            f"{_f(r.peak_mib, 1)} | {_f(r.first_call_s)} | {r.rounds} | {note.replace('|', '/')} |"
        )
    return lines


def to_markdown(res: SuiteResult) -> str:
    lines = _header(res) + _skipped(res) + _summary(res) + _overview(res)
    lines += ["", "## Tables", ""]
    lines += [f"- {k}: {v}" for k, v in WORKLOADS.items()]
    for t in res.tables:
        lines += _table(t)
    return "\n".join(lines) + "\n"


def _clean(o: Any) -> Any:
    """JSON without NaN/inf (they become null / strings)."""
    if isinstance(o, float):
        if math.isnan(o):
            return None
        return o if math.isfinite(o) else ("inf" if o > 0 else "-inf")
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def to_json(res: SuiteResult) -> str:
    return json.dumps(_clean(res.to_json()), indent=1, ensure_ascii=False)


def _floats(cls: Any, d: dict[str, Any]) -> dict[str, Any]:
    """Undo _clean for one dataclass: null → NaN and "inf" → inf in its float fields."""
    out = dict(d)
    for f in dataclasses.fields(cls):
        if f.type == "float" and f.name in out:
            v = out[f.name]
            out[f.name] = math.nan if v is None else float(v)
    return out


def from_json(text: str) -> SuiteResult:
    """A run read back from ``to_json`` (to re-render its report, or compare runs)."""
    d = json.loads(text)
    tables = []
    for t in d.pop("tables"):
        t = _floats(TableResult, t)
        t["bar"] = Bar(**t["bar"])
        t["rows"] = [Row(**_floats(Row, r)) for r in t["rows"]]
        t["verdicts"] = [Verdict(**_floats(Verdict, v)) for v in t["verdicts"]]
        t["skipped"] = [Skipped(**k) for k in t["skipped"]]
        tables.append(TableResult(**t))
    return SuiteResult(tables=tables, **_floats(SuiteResult, d))
