"""mpmath references for the row functions (softmax family, logsumexp, maxout, the losses),
and the error measures the tests and the audit apply to them.

A reference takes the mpmath module and one row of mpf values and returns mpf values; it
applies the same hard-row contract as the library (docs/softmax.md), in the limit sense.
At the dominant entry the references use the identities 1 − y_k = τ/(1+τ),
log y_k = −log1p(τ) and w_i − ⟨w, y⟩ = (w_i − w_k) + Σ_{j≠k} y_j (w_k − w_j), with
τ = Σ_{j≠k} e^{x_j − x_k}: τ can be 1e−73, far below even 60 digits, and 1 − y_k or
log(1 + τ) would lose it entirely. Nothing here imports mpmath at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .oracle import DIGITS, mpmath, ulp_of

__all__ = [
    "bce_grad_ref",
    "bce_ref",
    "cross_entropy_grad_ref",
    "cross_entropy_ref",
    "exact_rows",
    "log_softmax_jvp_ref",
    "log_softmax_ref",
    "log_softmax_vjp_ref",
    "logsumexp_ref",
    "logsumexp_vjp_ref",
    "maxout_ref",
    "mse_grad_ref",
    "mse_ref",
    "normwise_errors",
    "sign_errors",
    "softmax_ref",
    "softmax_vjp_ref",
    "softmin_ref",
    "softmin_vjp_ref",
    "ulp_errors",
]


class _Row:
    """A row's contract class and, for an ordinary row, y, τ and the dominant index."""

    def __init__(self, mp: Any, row: Sequence[Any], where: Sequence[bool] | None, t: Any = 1):
        n = len(row)
        on = [True] * n if where is None else [bool(w) for w in where]
        self.n, self.on = n, on
        self.nan = any(on[i] and mp.isnan(row[i]) for i in range(n))
        self.pinf = [on[i] and row[i] == mp.inf for i in range(n)]
        self.k = sum(self.pinf)
        self.usable = [on[i] and mp.isfinite(row[i]) for i in range(n)]
        self.empty = not self.nan and self.k == 0 and not any(self.usable)
        self.ordinary = not (self.nan or self.k or self.empty)
        if not self.ordinary:
            return
        idx = [i for i in range(n) if self.usable[i]]
        self.top = max(idx, key=lambda i: (row[i], -i))  # the first maximal entry
        m = row[self.top]
        self.d = [(row[i] - m) / t if self.usable[i] else None for i in range(n)]
        self.e = [mp.exp(d) if d is not None else mp.mpf(0) for d in self.d]
        self.tau = mp.fsum(self.e[i] for i in range(n) if i != self.top)
        self.y = [v / (1 + self.tau) for v in self.e]
        self.one_minus_top = self.tau / (1 + self.tau)
        self.log1p_tau = mp.log1p(self.tau)
        self.m = m


def _nan(mp: Any, n: int) -> list:
    return [mp.nan] * n


def softmax_ref(mp, row, *, where=None, temperature=1) -> list:
    r = _Row(mp, row, where, mp.mpf(temperature))
    if r.nan:
        return _nan(mp, r.n)
    if r.k:
        return [mp.mpf(1) / r.k if p else mp.mpf(0) for p in r.pinf]
    if r.empty:
        return [mp.mpf(0)] * r.n
    return r.y


def softmin_ref(mp, row, *, where=None, temperature=1) -> list:
    return softmax_ref(mp, [-v for v in row], where=where, temperature=temperature)


def log_softmax_ref(mp, row, *, where=None, temperature=1) -> list:
    r = _Row(mp, row, where, mp.mpf(temperature))
    if r.nan:
        return _nan(mp, r.n)
    if r.k:
        return [-mp.log(r.k) if p else -mp.inf for p in r.pinf]
    if r.empty:
        return [-mp.inf] * r.n
    return [d - r.log1p_tau if d is not None else -mp.inf for d in r.d]


def logsumexp_ref(mp, row, *, where=None, b=None) -> Any:
    if b is not None:
        on = [True] * len(row) if where is None else list(where)
        where = [on[i] and b[i] != 0 for i in range(len(row))]
    r = _Row(mp, row, where)
    if r.nan:
        return mp.nan
    if r.k:
        return mp.inf
    if r.empty:
        return -mp.inf
    if b is None:
        return r.m + r.log1p_tau
    s = mp.fsum(b[i] * r.e[i] for i in range(r.n) if r.usable[i])
    return r.m + mp.log(abs(s)) if s != 0 else -mp.inf


def _shifted(r: _Row, w: Sequence[Any], mp: Any) -> list:
    """w_i − ⟨w, y⟩ over usable entries, as (w_i − w_k) + Σ_{j≠k} y_j (w_k − w_j)."""
    k = r.top
    wk = w[k]
    acc = mp.fsum(r.y[j] * (wk - w[j]) for j in range(r.n) if j != k and r.usable[j])
    return [(w[i] - wk) + acc if r.usable[i] else mp.mpf(0) for i in range(r.n)]


def softmax_vjp_ref(mp, row, w, *, where=None, temperature=1) -> list:
    """Jᵀw of softmax (J is symmetric: this is also the JVP)."""
    t = mp.mpf(temperature)
    r = _Row(mp, row, where, t)
    if r.nan:
        return _nan(mp, r.n)
    if not r.ordinary:
        return [mp.mpf(0)] * r.n
    s = _shifted(r, w, mp)
    return [r.y[i] * s[i] / t for i in range(r.n)]


def softmin_vjp_ref(mp, row, w, *, where=None, temperature=1) -> list:
    v = softmax_vjp_ref(mp, [-x for x in row], w, where=where, temperature=temperature)
    return [-x for x in v]


def log_softmax_vjp_ref(mp, row, g, *, where=None, temperature=1) -> list:
    t = mp.mpf(temperature)
    r = _Row(mp, row, where, t)
    if r.nan:
        return _nan(mp, r.n)
    if not r.ordinary:
        return [mp.mpf(0)] * r.n
    g = [g[i] if r.usable[i] else mp.mpf(0) for i in range(r.n)]
    total = mp.fsum(g)
    k = r.top
    out = [(g[j] - r.y[j] * total) / t if r.usable[j] else mp.mpf(0) for j in range(r.n)]
    others = mp.fsum(g[i] for i in range(r.n) if i != k)
    out[k] = (g[k] * r.one_minus_top - r.y[k] * others) / t
    return out


def log_softmax_jvp_ref(mp, row, v, *, where=None, temperature=1) -> list:
    t = mp.mpf(temperature)
    r = _Row(mp, row, where, t)
    if r.nan:
        return _nan(mp, r.n)
    if not r.ordinary:
        return [mp.mpf(0)] * r.n
    return [s / t for s in _shifted(r, v, mp)]


def logsumexp_vjp_ref(mp, row, g=1, *, where=None) -> list:
    r = _Row(mp, row, where)
    if r.nan:
        return _nan(mp, r.n)
    if not r.ordinary:
        return [mp.mpf(0)] * r.n
    return [g * v for v in r.y]


def maxout_ref(mp, row, pieces) -> list:
    groups = [row[i : i + pieces] for i in range(0, len(row), pieces)]
    return [mp.nan if any(mp.isnan(v) for v in g) else max(g) for g in groups]


def _distribution(mp, n, target, on, label_smoothing, weight):
    eps = mp.mpf(label_smoothing)
    c_on = sum(on)
    w = [mp.mpf(1)] * n if weight is None else [mp.mpf(v) for v in weight]
    if isinstance(target, (int, np.integer)):
        a = [(1 - eps) * w[c] * (c == target) for c in range(n)]
    else:
        a = [(1 - eps) * w[c] * mp.mpf(target[c]) for c in range(n)]
    return [a[c] + (eps / c_on * w[c] if on[c] else 0) for c in range(n)]


def cross_entropy_ref(mp, row, target, *, where=None, weight=None, label_smoothing=0) -> Any:
    """One row's cross-entropy Σ_c a_c (lse − x_c); class index or probability target."""
    r = _Row(mp, row, where)
    if r.empty:
        return mp.mpf(0)
    if r.nan:
        return mp.nan
    a = _distribution(mp, r.n, target, r.on, label_smoothing, weight)
    if r.k:
        if any(a[c] != 0 and not r.pinf[c] for c in range(r.n)):
            return mp.inf
        return mp.fsum(a[c] * mp.log(r.k) for c in range(r.n) if r.pinf[c])
    if any(a[c] != 0 and not r.usable[c] for c in range(r.n)):
        return mp.inf
    return mp.fsum(a[c] * (r.log1p_tau - r.d[c]) for c in range(r.n) if r.usable[c] and a[c])


def cross_entropy_grad_ref(mp, row, target, *, where=None, weight=None, label_smoothing=0):
    """∂/∂x of one row's cross-entropy: A y − a, exact at the dominant entry."""
    r = _Row(mp, row, where)
    if r.nan:
        return _nan(mp, r.n)
    if not r.ordinary:
        return [mp.mpf(0)] * r.n
    a = _distribution(mp, r.n, target, r.on, label_smoothing, weight)
    total = mp.fsum(a)
    out = [total * r.y[c] - a[c] if r.usable[c] else mp.mpf(0) for c in range(r.n)]
    k = r.top
    out[k] = mp.fsum(a[c] for c in range(r.n) if c != k) - total * r.one_minus_top
    return out


def bce_ref(mp, x, t, pos_weight=1) -> Any:
    return pos_weight * t * mp.log1p(mp.exp(-x)) + (1 - t) * mp.log1p(mp.exp(x))


def bce_grad_ref(mp, x, t, pos_weight=1) -> Any:
    return (1 - t) / (1 + mp.exp(-x)) - pos_weight * t / (1 + mp.exp(x))


def mse_ref(mp, x, t) -> Any:
    return (x - t) ** 2


def mse_grad_ref(mp, x, t) -> Any:
    return 2 * (x - t)


# ------------------------------------------------------------------------------- measures


def exact_rows(reference: Callable[..., Any], rows: Any, *args_per_row: Any, **options) -> list:
    """``reference`` applied to each row of a 2-D float array at DIGITS significant digits.

    ``args_per_row`` are sequences indexed like the rows (cotangents, targets).
    """
    mp = mpmath()
    out = []
    with mp.workdps(DIGITS):
        for i, row in enumerate(np.asarray(rows, dtype=np.float64)):
            extra = [_mp_arg(mp, a[i]) for a in args_per_row]
            out.append(reference(mp, [mp.mpf(float(v)) for v in row], *extra, **options))
    return out


def _mp_arg(mp: Any, a: Any) -> Any:
    if isinstance(a, (int, np.integer)):
        return int(a)
    return [mp.mpf(float(v)) for v in np.asarray(a, dtype=np.float64).ravel()]


def _flat(exact: Any) -> list:
    if isinstance(exact, list) and exact and isinstance(exact[0], list):
        return [v for row in exact for v in row]
    return list(exact) if isinstance(exact, list) else [exact]


def ulp_errors(got: Any, exact: Any, dtype: Any) -> np.ndarray:
    """|got − exact| / ulp(exact) in ``dtype``, element by element (flattened).

    Special values must match exactly (0 error, else +∞); a finite result where the exact
    value lies beyond the dtype's range counts as +∞ too.
    """
    mp = mpmath()
    ex = _flat(exact)
    g = np.asarray(got, dtype=np.float64).ravel()
    out = np.empty(len(ex), dtype=np.float64)
    with mp.workdps(DIGITS):
        for i, (v, e) in enumerate(zip(g, ex, strict=True)):
            if mp.isnan(e) or mp.isinf(e) or not np.isfinite(v):
                same = (np.isnan(v) and mp.isnan(e)) or (np.isinf(v) and v == e)
                out[i] = 0.0 if same else np.inf
                continue
            out[i] = float(abs(mp.mpf(float(v)) - e) / ulp_of(e, dtype))
    return out


def normwise_errors(got: Any, exact: Sequence[Sequence[Any]], dtype: Any) -> np.ndarray:
    """Per row, max|got − exact| / max|exact| / eps(dtype).

    The scale is at least the smallest normal number of ``dtype``: a row whose exact values
    all lie in the subnormal range can only be rounded to subnormal spacing (0.5 eps of it).
    """
    mp = mpmath()
    g = np.asarray(got, dtype=np.float64).reshape(len(exact), -1)
    eps = mp.mpf(float(np.finfo(dtype).eps))
    tiny = mp.mpf(float(np.finfo(dtype).smallest_normal))
    out = np.empty(len(exact), dtype=np.float64)
    with mp.workdps(DIGITS):
        for i, row in enumerate(exact):
            if not np.all(np.isfinite(g[i])):
                out[i] = np.inf
                continue
            scale = max(tiny, *(abs(e) for e in row))
            err = max(abs(mp.mpf(float(v)) - e) for v, e in zip(g[i], row, strict=True))
            out[i] = float(err / scale / eps)
    return out


def sign_errors(got: Any, exact: Any, dtype: Any = np.float64) -> int:
    """How many elements have the wrong sign. An exact zero accepts either sign, and so does
    an exact value that rounds to zero in ``dtype`` (below half the smallest subnormal)."""
    mp = mpmath()
    g = np.asarray(got, dtype=np.float64).ravel()
    fi = np.finfo(dtype)
    tiny = mp.ldexp(1, int(fi.minexp) - int(fi.nmant) - 1)
    bad = 0
    for v, e in zip(g, _flat(exact), strict=True):
        if mp.isnan(e) or abs(e) <= tiny:
            continue
        if v == 0 or (v > 0) != (e > 0):
            bad += 1
    return bad
