"""The ``actlab`` command: a thin layer over the library; every choice comes from the registry."""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__
from .registry import KINDS, PROPERTIES, Elementwise, UnknownActivationError, entries, get, names

DTYPES = ("float16", "float32", "float64")


class _Parser(argparse.ArgumentParser):
    """argparse with one clear line on stderr and exit status 2 for bad usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _usage_error(message: str) -> NoReturn:
    sys.stderr.write(f"actlab: error: {message}\n")
    raise SystemExit(2)


def _entry(name: str) -> Any:
    try:
        return get(name)
    except UnknownActivationError as exc:
        _usage_error(str(exc))


def _parse_params(entry: Any, pairs: Sequence[str]) -> dict[str, float]:
    known = [p.name for p in entry.params]
    params: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            _usage_error(f"--param expects NAME=VALUE, got {pair!r}")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            have = ", ".join(known) or "none"
            _usage_error(f"{entry.name} has no parameter {key!r} (parameters: {have}){hint}")
        try:
            params[key] = float(value)
        except ValueError:
            _usage_error(f"--param {key}: {value!r} is not a number")
    return params


def _console() -> Any:
    from rich.console import Console

    return Console()


def cmd_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    table = Table(title="actlab functions")
    for column in ("name", "kind", "family", "parameters", "properties"):
        table.add_column(column)
    for e in entries(args.kind):
        if args.property and args.property not in e.properties:
            continue
        params = ", ".join(f"{p.name}={p.default:g}" for p in e.params)
        table.add_row(e.name, e.kind, e.family, params, ", ".join(sorted(e.properties)))
    _console().print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    e = _entry(args.name)
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


def cmd_eval(args: argparse.Namespace) -> int:
    e = _entry(args.name)
    if not isinstance(e, Elementwise):
        _usage_error(f"eval covers elementwise functions; {e.name} is a {e.kind} function")
    params = _parse_params(e, args.param)
    order = 2 if args.grad2 else 1 if args.grad else 0
    try:
        x = np.array([float(v) for v in args.values], dtype=args.dtype)
    except ValueError as exc:
        _usage_error(f"values must be numbers: {exc}")
    try:
        y = e.derivative(order)(x, **params)
    except (ValueError, TypeError) as exc:
        _usage_error(str(exc))
    label = ("f", "f′", "f″")[order]
    for xi, yi in zip(x, np.asarray(y), strict=True):
        print(f"{e.name} {label}({float(xi)!r}) = {float(yi)!r}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .accuracy import audit
    from .accuracy_rows import audit_rows
    from .accuracy_rows import to_markdown as rows_markdown

    chosen = [_entry(n) for n in args.names]
    elementwise = [e.name for e in chosen if isinstance(e, Elementwise)]
    row_names = [e.name for e in chosen if not isinstance(e, Elementwise)]
    dtypes = args.dtype or DTYPES
    failures: list[str] = []
    if elementwise or not chosen:
        table = audit(elementwise or None, dtypes=dtypes, full=args.full)
        print(table.to_markdown())
        failures += [
            f"{r.label} {r.dtype} order {r.order}: {r.max_ulp:.3g} ULP at x={r.worst_x!r} "
            f"(bar {r.bar:g}), near roots {r.near_zero_abs_eps:.3g} eps, {r.nonfinite} non-finite"
            for r in table.failures()
        ]
    if row_names or not chosen:
        rows = audit_rows(row_names or None, dtypes=dtypes, full=args.full)
        print()
        print(rows_markdown(rows))
        failures += [
            f"{r.name} {r.dtype} {r.what}: {r.max_error:.3g} {r.unit} (bar {r.bar:g}), "
            f"{r.sign_errors} sign errors"
            for r in rows
            if not r.passed
        ]
    for line in failures:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if failures else 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        _usage_error(f"--output {out} is an existing file; give a folder")
    start = time.perf_counter()
    try:
        path = write_report(out, full=args.full)
    except FileExistsError as exc:
        _usage_error(str(exc))
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="actlab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"actlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list the functions (filter by kind or property)")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--property", choices=sorted(PROPERTIES))
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("show", help="formulas, range, limits, kinks and properties of a function")
    p.add_argument("name", help=f"one of: {', '.join(names())}")
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("eval", help="evaluate f, f′ or f″ at some values")
    p.add_argument("name")
    p.add_argument("values", nargs="+", help="the x values (use -- before negative numbers)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--grad", action="store_true", help="first derivative")
    group.add_argument("--grad2", action="store_true", help="second derivative")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--dtype", choices=DTYPES, default="float64")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("audit", help="accuracy of f, f′, f″ against mpmath, in ULP")
    p.add_argument("names", nargs="*", help="functions to audit (default: all elementwise)")
    p.add_argument("--dtype", action="append", choices=DTYPES)
    p.add_argument("--full", action="store_true", help="the whole float range, densely (minutes)")
    p.set_defaults(run=cmd_audit)

    p = sub.add_parser("report", help="write the report (overview and accuracy audit)")
    p.add_argument("-o", "--output", default="actlab-report", help="output folder")
    p.add_argument("--full", action="store_true", help="run the full audit (minutes)")
    p.set_defaults(run=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
