"""``actlab eval NAME VALUES…``: f, f′ or f″ at some values, printed with every digit."""

from __future__ import annotations

import argparse

import numpy as np

from ..registry import Elementwise
from ._common import DTYPES, entry, parse_params, usage_error

NAME = "eval"
HELP = "evaluate f, f′ or f″ at some values"
ORDER = 30


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("values", nargs="+", help="the x values (use -- before negative numbers)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--grad", action="store_true", help="first derivative")
    group.add_argument("--grad2", action="store_true", help="second derivative")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--dtype", choices=DTYPES, default="float64")


def run(args: argparse.Namespace) -> int:
    e = entry(args.name)
    if not isinstance(e, Elementwise):
        usage_error(f"eval covers elementwise functions; {e.name} is a {e.kind} function")
    params = parse_params(e, args.param)
    order = 2 if args.grad2 else 1 if args.grad else 0
    try:
        x = np.array([float(v) for v in args.values], dtype=args.dtype)
    except ValueError as exc:
        usage_error(f"values must be numbers: {exc}")
    try:
        y = e.derivative(order)(x, **params)
    except (ValueError, TypeError) as exc:
        usage_error(str(exc))
    label = ("f", "f′", "f″")[order]
    for xi, yi in zip(x, np.asarray(y), strict=True):
        print(f"{e.name} {label}({float(xi)!r}) = {float(yi)!r}")
    return 0
