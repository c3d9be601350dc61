"""The accuracy audit of the functions that act on rows: softmax family, logsumexp and the
class-target losses, against the mpmath row references of ``actlab.oracle_vector``.

Forward values are measured element by element in ULP (the tiny softmax outputs included);
derivative products (VJPs, loss gradients) normwise per row in eps, with every sign checked.
Rows are drawn from N(0, s) for s in {1, 100, 1e4} (float16: s ≤ 100, whose range ends at
65504), of length 10 and, in the full audit, 1000. A loss with label smoothing is audited
with it as well (ε = 0.1, its own line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import oracle_vector as ov
from .registry import Loss, Reduction, VectorFunction, entries, get

DTYPES = ("float16", "float32", "float64")


@dataclass(frozen=True)
class RowAuditRow:
    name: str
    dtype: str
    what: str  # "f" (ULP per element) or "vjp"/"grad" (normwise eps per row)
    n_rows: int
    max_error: float
    sign_errors: int
    bar: float

    @property
    def unit(self) -> str:
        return "ULP" if self.what == "f" else "eps"

    @property
    def passed(self) -> bool:
        return self.max_error <= self.bar and self.sign_errors == 0


def sample_rows(dtype: str, full: bool = False) -> list[np.ndarray]:
    """Blocks of rows (2-D arrays of ``dtype``) for the audit."""
    rng = np.random.default_rng(20261122)
    scales = (1.0, 100.0) if dtype == "float16" else (1.0, 100.0, 1e4)
    shapes = [(60, 10), (4, 1000)] if full else [(12, 10)]
    return [(rng.standard_normal(shape) * s).astype(dtype) for s in scales for shape in shapes]


def exp_error_rows(n: int, pairs: int, seed: int) -> np.ndarray:
    """2·``pairs`` float64 rows of length n ≥ 2 on which the compiled float64 row kernels err
    most: a 0 (the max), then one entry at one extreme of their rounded exp's relative error
    and n − 2 at the other, so that this entry's error and the sum's have opposite signs
    (``docs/softmax.md``). The extremes are the 500 lowest and highest errors among 400,000
    differences in [−30, 0] against the long-double exp. Needs numba."""
    from numba import njit

    from .kernels._exp_rows64 import exp_neg_d

    @njit
    def rounded_exps(d, out):  # the kernels' exp, one element at a time, scaled by 2^64
        for i in range(d.shape[0]):
            out[i] = exp_neg_d(d[i], 0.0)

    rng = np.random.default_rng(seed)
    d = -rng.uniform(0, 30, 400_000)
    e = np.empty_like(d)
    rounded_exps(d, e)
    exact = np.exp(np.longdouble(d)) * np.longdouble(2.0**64)
    order = np.argsort(((np.longdouble(e) - exact) / exact).astype(np.float64))
    low, high = d[order[:500]], d[order[-500:]]
    rows = [
        np.concatenate([[0.0], rng.choice(one, 1), rng.choice(rest, n - 2)])
        for one, rest in [(low, high), (high, low)] * pairs
    ]
    return np.array(rows)


def is_audited(entry: Any) -> bool:
    """Whether the row audit measures ``entry`` (maxout is exact: a max, no rounding)."""
    if isinstance(entry, (VectorFunction, Reduction)):
        return True
    # Losses on class targets with a gradient reference; the elementwise losses (BCE, MSE)
    # are checked element by element in their tests.
    return isinstance(entry, Loss) and not entry.elementwise and entry.reference_grad is not None


def audit_rows(
    names: Sequence[str] | None = None, dtypes: Sequence[str] = DTYPES, full: bool = False
) -> list[RowAuditRow]:
    """Measure the row functions (or ``names``) against the mpmath references."""
    selected = [get(n) for n in names] if names else [e for e in entries() if is_audited(e)]
    skipped = [e.name for e in selected if not is_audited(e)]
    if skipped:
        raise ValueError(
            f"names: the row audit does not measure {', '.join(skipped)} (exact, or checked "
            "element by element in the tests)"
        )
    out: list[RowAuditRow] = []
    for entry in selected:
        for options in _variants(entry):
            for dtype in dtypes:
                blocks = sample_rows(dtype, full)
                out.extend(_audit_entry(entry, dtype, blocks, options))
    return out


SMOOTHING = 0.1  # the label smoothing a loss is also audited with


def _variants(entry: Any) -> list[dict[str, Any]]:
    """The options each entry is audited with: none, and label smoothing where it has it."""
    if isinstance(entry, Loss) and "label_smoothing" in entry.options:
        return [{}, {"label_smoothing": SMOOTHING}]
    return [{}]


def _audit_entry(
    entry: Any, dtype: str, blocks: list[np.ndarray], options: dict[str, Any]
) -> list[RowAuditRow]:
    rng = np.random.default_rng(7)
    f_err, d_err, signs, n = 0.0, 0.0, 0, 0
    for x in blocks:
        n += x.shape[0]
        if isinstance(entry, Loss):
            t = rng.integers(0, x.shape[1], x.shape[0])
            got_f = entry.fn(x, t, reduction="none", **options)
            ex_f = ov.exact_rows(entry.reference, x, t, **options)
            got_d = entry.grad(x, t, reduction="none", **options)
            ex_d = ov.exact_rows(entry.reference_grad, x, t, **options)
        elif isinstance(entry, Reduction):
            got_f = entry.fn(x, axis=-1)
            ex_f = ov.exact_rows(entry.reference, x)
            got_d = entry.vjp(x, np.ones(x.shape[0], dtype=x.dtype), axis=-1)
            ex_d = ov.exact_rows(entry.reference_vjp, x)
        else:
            g = rng.standard_normal(x.shape).astype(x.dtype)
            got_f = entry.fn(x, axis=-1)
            ex_f = ov.exact_rows(entry.reference, x)
            got_d = entry.vjp(x, g, axis=-1)
            ex_d = ov.exact_rows(entry.reference_vjp, x, g)
        f_err = max(f_err, float(np.max(ov.ulp_errors(got_f, ex_f, dtype))))
        d_err = max(d_err, float(np.max(ov.normwise_errors(got_d, ex_d, dtype))))
        signs += ov.sign_errors(got_d, ex_d, dtype)
    what = "grad" if isinstance(entry, Loss) else "vjp"
    name = entry.name + "".join(f" ({k}={v})" for k, v in options.items())
    return [
        RowAuditRow(name, dtype, "f", n, f_err, 0, entry.ulp_bar(dtype, "f")),
        RowAuditRow(name, dtype, what, n, d_err, signs, entry.ulp_bar(dtype, what)),
    ]


def to_markdown(rows: Sequence[RowAuditRow]) -> str:
    lines = [
        "| function | dtype | measured | rows | max error | sign errors | bar | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.dtype} | {r.what} | {r.n_rows} | {r.max_error:.3g} {r.unit} "
            f"| {r.sign_errors} | {r.bar:g} {r.unit} | {'yes' if r.passed else '**NO**'} |"
        )
    return "\n".join(lines)
