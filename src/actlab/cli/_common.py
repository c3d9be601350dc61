"""What the subcommands share: the parser with one-line errors, usage errors, lookups."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ..registry import UnknownActivationError, get

DTYPES = ("float16", "float32", "float64")


class Parser(argparse.ArgumentParser):
    """argparse with one clear line on stderr and exit status 2 for bad usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def usage_error(message: str) -> NoReturn:
    """Bad usage: one line on stderr, exit status 2."""
    sys.stderr.write(f"actlab: error: {message}\n")
    raise SystemExit(2)


def entry(name: str) -> Any:
    """The registry entry called ``name``, or a usage error with the close matches."""
    try:
        return get(name)
    except UnknownActivationError as exc:
        usage_error(str(exc))


def parse_params(entry: Any, pairs: Sequence[str]) -> dict[str, float]:
    """``NAME=VALUE`` pairs into a dict, checked against the entry's parameter names."""
    return {
        key: values[0] for key, values in parse_param_families(entry, pairs, single=True).items()
    }


def parse_param_families(
    entry: Any, pairs: Sequence[str], *, single: bool = False
) -> dict[str, list[float]]:
    """``NAME=V1,V2,…`` pairs into lists of values (a parameter family for plots)."""
    known = [p.name for p in entry.params]
    params: dict[str, list[float]] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            usage_error(f"--param expects NAME=VALUE, got {pair!r}")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            have = ", ".join(known) or "none"
            usage_error(f"{entry.name} has no parameter {key!r} (parameters: {have}){hint}")
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            usage_error(f"--param {key}: {text!r} is not a number or a comma-separated list")
        if single and len(values) != 1:
            usage_error(f"--param {key} takes one value here, got {text!r}")
        params[key] = values
    return params


def console() -> Any:
    from rich.console import Console

    return Console()
