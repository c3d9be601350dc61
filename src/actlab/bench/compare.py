"""Compare two runs of the suite (BENCHMARKS.md or the --json file), row by row: actlab's
time before and after, and which rows changed their verdict against the bar."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["compare", "load_summary"]

Key = tuple[str, int]


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def load_summary(path: str | Path) -> dict[Key, dict[str, Any]]:
    """(table title, threads) → {"ms", "x_peer", "result"} from a report or its JSON."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    out: dict[Key, dict[str, Any]] = {}
    if path.suffix == ".json":
        for t in json.loads(text)["tables"]:
            for v in t["verdicts"]:
                result = {True: "pass", False: "FAIL", None: "n/a"}[v["passed"]]
                out[t["title"], v["threads"]] = {
                    "ms": v["median_ms"] if v["median_ms"] is not None else math.nan,
                    "x_peer": v["x_peer"] if v["x_peer"] is not None else math.nan,
                    "result": result,
                }
        return out
    in_summary = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_summary = line.startswith("## Summary")
            continue
        if not in_summary or not line.startswith("| ") or line.startswith("| table"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 9:
            continue
        result = cells[8].replace("*", "").split(" ")[0]
        out[cells[0], int(cells[1])] = {
            "ms": _num(cells[2]),
            "x_peer": _num(cells[5]),
            "result": result,
        }
    if not out:
        raise ValueError(f"{path}: no summary table found (is it a BENCHMARKS.md?)")
    return out


def compare(old_path: str | Path, new_path: str | Path) -> str:
    """A Markdown table of the rows both runs have: time old → new and the verdicts."""
    old, new = load_summary(old_path), load_summary(new_path)
    lines = [
        f"Comparing {old_path} (old) with {new_path} (new)",
        "",
        "| table | threads | old ms | new ms | new ÷ old | × best peer old → new | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in [k for k in new if k in old]:
        o, n = old[key], new[key]
        ratio = n["ms"] / o["ms"] if o["ms"] and not math.isnan(o["ms"]) else math.nan
        verdict = n["result"] if o["result"] == n["result"] else f"{o['result']} → {n['result']}"
        lines.append(
            f"| {key[0]} | {key[1]} | {o['ms']:.1f} | {n['ms']:.1f} | {ratio:.2f} | "
            f"{o['x_peer']:.2f} → {n['x_peer']:.2f} | {verdict} |"
        )
    only_old = [k for k in old if k not in new]
    only_new = [k for k in new if k not in old]
    if only_old or only_new:
        lines += ["", f"Only in the old run: {len(only_old)} row(s); only in the new: "
                  f"{len(only_new)}."]  # fmt: skip
    return "\n".join(lines) + "\n"
