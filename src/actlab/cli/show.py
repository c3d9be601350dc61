"""``actlab show NAME``: formulas, range, limits, kinks, parameters and properties."""

from __future__ import annotations

import argparse

from ..registry import PROPERTIES, Elementwise, names
from ._common import entry

NAME = "show"
HELP = "formulas, range, limits, kinks and properties of a function"
ORDER = 20


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help=f"one of: {', '.join(names())}")


def run(args: argparse.Namespace) -> int:
    e = entry(args.name)
    out = [f"{e.name} ({e.kind}, {e.family} family)", e.summary, ""]
    if e.aliases:
        out.append(f"aliases:     {', '.join(e.aliases)}")
    out += [
        f"f:           {e.formulas.f}",
        f"f′:          {e.formulas.grad}",
        f"f″:          {e.formulas.grad2}",
    ]
    if isinstance(e, Elementwise):
        out.append(f"range:       {e.range_latex}")
        for order, label in enumerate(("f", "f′", "f″")):
            lo, hi = e.limits(order, **e.defaults)
            out.append(f"{label}(−∞), {label}(+∞): {lo!r}, {hi!r}")
        for k in e.kinks:
            out.append(f"kink at {k.at:g}: {k.rule}")
    for p in e.params:
        out.append(f"parameter {p.name} = {p.default!r} in {p.domain.describe()}: {p.doc}")
    out.append("properties:  " + ", ".join(f"{p} ({PROPERTIES[p]})" for p in sorted(e.properties)))
    if isinstance(e, Elementwise):
        out.append(
            "special values: NaN → NaN for f, f′, f″; ±∞ → the limits above (docs/contract.md)"
        )
    else:
        for row in getattr(e, "hard_rows", ()):
            out.append(f"hard row {row.label}: {row.expected}")
        out.append("special rows: the contract table in docs/softmax.md")
    print("\n".join(out))
    return 0
