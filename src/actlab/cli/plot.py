"""``actlab plot NAME…``: f, f′, f″ (parameter families, kinks, shaded regions) to PNG/SVG/PDF."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..registry import Elementwise, names
from ._common import entry, parse_param_families, usage_error

NAME = "plot"
HELP = "draw f (and f′, f″) of one or more functions to a PNG, SVG or PDF file"
ORDER = 40


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME", help=f"one or more of: {', '.join(names())}")
    p.add_argument("--grad", action="store_true", help="also draw f′")
    p.add_argument("--grad2", action="store_true", help="also draw f″")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2,…",
        help="parameter values; several values draw a family (e.g. beta=0.1,1,10)",
    )
    p.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"), help="x range")
    p.add_argument("--layout", choices=("stacked", "shared"), default="stacked")
    p.add_argument("-o", "--output", help="output file: .png, .svg or .pdf (default NAME.png)")


def run(args: argparse.Namespace) -> int:
    from ..plotting._figure import FORMATS, save

    chosen = [entry(n) for n in args.names]
    output = Path(args.output or "-".join(e.name for e in chosen) + ".png")
    if output.suffix.lower() not in FORMATS:
        usage_error(f"--output {output}: the suffix must be one of {', '.join(FORMATS)}")
    if output.is_dir():
        usage_error(f"--output {output} is a folder; give a file name")
    x_range = tuple(args.range) if args.range else None
    if x_range is not None and not x_range[0] < x_range[1]:
        usage_error(f"--range {x_range[0]:g} {x_range[1]:g}: LO must be below HI")
    elementwise = [e for e in chosen if isinstance(e, Elementwise)]
    if len(elementwise) != len(chosen):
        if len(chosen) != 1 or args.param or args.grad or args.grad2:
            others = ", ".join(e.name for e in chosen if not isinstance(e, Elementwise))
            usage_error(
                f"{others}: functions that are not elementwise are drawn one at a time, "
                "in their own view (no --param, --grad or --grad2)"
            )
        fig = _row_view(chosen[0].name, x_range)
    else:
        fig = _curves(elementwise, args, x_range)
    print(f"wrote {save(fig, output)}")
    return 0


def _row_view(name: str, x_range):
    from ..plotting.rows import row_figure

    return row_figure(name, x_range=x_range)


def _curves(chosen, args, x_range):
    from ..plotting.curves import function_figure

    families: dict[str, list[float]] = {}
    for pair in args.param:
        key = pair.partition("=")[0]
        owners = [e for e in chosen if key in {p.name for p in e.params}] or chosen[:1]
        families.update(parse_param_families(owners[0], [pair]))
    orders = (0, *((1,) if args.grad else ()), *((2,) if args.grad2 else ()))
    try:
        return function_figure(
            [e.name for e in chosen],
            orders=orders,
            families=families,
            x_range=x_range or (-6.0, 6.0),
            layout=args.layout,
        )
    except ValueError as exc:  # a parameter outside its domain, named by the function
        usage_error(str(exc))
