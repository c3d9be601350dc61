"""The ``actlab`` command: a thin layer over the library; every choice comes from the registry.

Each subcommand lives in its own module of this package and declares ``NAME``, ``HELP``,
``ORDER`` (its place in ``--help``), ``configure(parser)`` and ``run(args) -> int``. The
modules are discovered, so adding a subcommand never edits this file. A command module imports
its heavy dependencies (matplotlib, the lab) inside ``run``, so ``actlab --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ._common import Parser

DESCRIPTION = (
    "actlab: activation functions with f, f′ and f″ exact to the last bit; "
    "their plots, accuracy audit, lab experiments and report."
)


def _command_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: m.ORDER)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="actlab", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"actlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
