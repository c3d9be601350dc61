"""``actlab audit``: accuracy of f, f′, f″ and of the row functions against mpmath."""

from __future__ import annotations

import argparse
import sys

from ..registry import Elementwise, get
from ._common import DTYPES, entry, usage_error

NAME = "audit"
HELP = "accuracy of f, f′, f″ against mpmath, in ULP"
ORDER = 50


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", help="functions to audit (default: all)")
    p.add_argument("--dtype", action="append", choices=DTYPES)
    p.add_argument("--full", action="store_true", help="the whole float range, densely (minutes)")
    p.add_argument(
        "--against",
        metavar="PEERS",
        help="comma-separated peers audited beside ours: torch, jax, scipy, seed (the seeds' "
        "NumPy formulas); those not installed are skipped and named",
    )


def run(args: argparse.Namespace) -> int:
    from ..accuracy import audit
    from ..accuracy_rows import audit_rows, is_audited
    from ..accuracy_rows import to_markdown as rows_markdown
    from ..peers import check_peers, peer_audit

    chosen = [entry(n) for n in args.names]
    peers: list[str] = []
    if args.against is not None:
        try:
            peers = check_peers([p.strip() for p in args.against.split(",") if p.strip()])
        except ValueError as exc:
            usage_error(f"--against: {exc}")
        if not peers:
            usage_error("--against: name at least one peer (torch, jax, scipy, seed)")
    elementwise = [e.name for e in chosen if isinstance(e, Elementwise)]
    row_names = [e.name for e in chosen if not isinstance(e, Elementwise)]
    unmeasured = [n for n in row_names if not is_audited(get(n))]
    if unmeasured:
        usage_error(
            f"{', '.join(unmeasured)}: not in the row audit (exact, or checked element by "
            "element in the tests)"
        )
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
    if peers and (elementwise or not chosen):
        print()
        print(
            "Peers beside ours (max ULP over the same points; **bold**: above our bar; "
            "—: the peer does not have it)"
        )
        print()
        print(peer_audit(elementwise or None, peers, dtypes=dtypes, full=args.full).to_markdown())
    for line in failures:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if failures else 0
