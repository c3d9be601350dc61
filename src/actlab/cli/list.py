"""``actlab list``: the functions of the registry, filtered by kind or property."""

from __future__ import annotations

import argparse

from ..registry import KINDS, PROPERTIES, entries
from ._common import console

NAME = "list"
HELP = "list the functions (filter by kind or property)"
ORDER = 10


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--property", choices=sorted(PROPERTIES))


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    table = Table(title="actlab functions")
    for column in ("name", "kind", "family", "parameters", "properties"):
        table.add_column(column)
    for e in entries(args.kind):
        if args.property and args.property not in e.properties:
            continue
        params = ", ".join(f"{p.name}={p.default:g}" for p in e.params)
        table.add_row(e.name, e.kind, e.family, params, ", ".join(sorted(e.properties)))
    console().print(table)
    return 0
