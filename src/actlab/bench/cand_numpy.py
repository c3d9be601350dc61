"""The NumPy-side candidates: the seeds' textbook formulas (the registry's ``.naive``),
SciPy, numexpr, and the memory-copy references.

The seed tutorials give forward formulas only; for the products dx = g·f′ the "seed"
candidate is the textbook derivative a NumPy user writes (σ(1−σ), 1 − tanh², …), listed
in TEXTBOOK_GRAD. These are peers' formulas, not actlab's: the library's own functions
come from the registry alone.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..registry import get
from .harness import Candidate, Skipped
from .workloads import Data, TableSpec

__all__ = ["build", "memcpy"]


def _sig(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


# f′(x) as a NumPy user writes it; p holds the entry's default parameters.
TEXTBOOK_GRAD: dict[str, Callable[..., Any]] = {
    "sigmoid": lambda x, p: _sig(x) * (1 - _sig(x)),
    "tanh": lambda x, p: 1 - np.tanh(x) ** 2,
    "relu": lambda x, p: (x > 0).astype(x.dtype),
    "relu6": lambda x, p: ((x > 0) & (x < 6)).astype(x.dtype),
    "leaky_relu": lambda x, p: np.where(x > 0, 1, p["negative_slope"]).astype(x.dtype),
    "prelu": lambda x, p: np.where(x > 0, 1, p["weight"]).astype(x.dtype),
    "rrelu": lambda x, p: np.where(x > 0, 1, (p["lower"] + p["upper"]) / 2).astype(x.dtype),
    "elu": lambda x, p: np.where(x > 0, 1, p["alpha"] * np.exp(x)),
    "silu": lambda x, p: _sig(x) * (1 + x * (1 - _sig(x))),
    "swish": lambda x, p: _sig(p["beta"] * x) * (1 + p["beta"] * x * (1 - _sig(p["beta"] * x))),
    "softplus": lambda x, p: _sig(p["beta"] * x),
    "log_sigmoid": lambda x, p: 1 - _sig(x),
    "mish": lambda x, p: (
        np.tanh(np.log(1 + np.exp(x))) + x * _sig(x) * (1 - np.tanh(np.log(1 + np.exp(x))) ** 2)
    ),
}
TEXTBOOK_GRAD_Y = {"sigmoid": lambda y: y * (1 - y), "tanh": lambda y: 1 - y * y}

# numexpr expressions (x, g, y and the parameters as same-dtype scalars, so that nothing is
# promoted to float64). Functions without an entry are skipped and named.
NUMEXPR_F = {
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "tanh(x)",
    "relu": "where(x > 0, x, 0)",
    "relu6": "where(x > 0, where(x < 6, x, 6), 0)",
    "leaky_relu": "where(x > 0, x, negative_slope * x)",
    "prelu": "where(x > 0, x, weight * x)",
    "rrelu": "where(x > 0, x, (lower + upper) / 2 * x)",
    "elu": "where(x > 0, x, alpha * expm1(x))",
    "silu": "x / (1 + exp(-x))",
    "swish": "x / (1 + exp(-beta * x))",
    "softplus": "log1p(exp(beta * x)) / beta",
    "log_sigmoid": "-log1p(exp(-x))",
    "mish": "x * tanh(log1p(exp(x)))",
}
NUMEXPR_GRAD = {
    "sigmoid": "g * exp(-x) / ((1 + exp(-x)) * (1 + exp(-x)))",
    "tanh": "g * (1 - tanh(x) * tanh(x))",
    "relu": "where(x > 0, g, 0)",
    "relu6": "where((x > 0) & (x < 6), g, 0)",
    "leaky_relu": "where(x > 0, g, negative_slope * g)",
    "prelu": "where(x > 0, g, weight * g)",
    "rrelu": "where(x > 0, g, (lower + upper) / 2 * g)",
    "elu": "where(x > 0, g, alpha * exp(x) * g)",
    "silu": "g * (1 + exp(-x) + x * exp(-x)) / ((1 + exp(-x)) * (1 + exp(-x)))",
    "softplus": "g / (1 + exp(-beta * x))",
    "log_sigmoid": "g / (1 + exp(x))",
}
NUMEXPR_GRAD_Y = {"sigmoid": "g * y * (1 - y)", "tanh": "g * (1 - y * y)"}


def _seed(spec: TableSpec, data: Data) -> Candidate | Skipped:
    entry = get(spec.name)
    x, p, g = data.x, data.params, data.g
    if spec.kind in ("rows", "axis0"):
        naive, axis = entry.naive, data.axis
        return Candidate(
            "seed numpy",
            "seed",
            "peer",
            1,
            lambda: naive(x, axis=axis),
            alloc=True,
            note=f"registry .naive of {spec.name}",
        )
    if spec.kind in ("elementwise", "strided"):
        naive = entry.naive
        if spec.name in ("swish", "softplus") and p.get("beta", 1.0) != 1.0:
            return Skipped("seed numpy", "seed", "the .naive formula is for beta = 1")
        return Candidate(
            "seed numpy", "seed", "peer", 1, lambda: naive(x), alloc=True, note="registry .naive"
        )
    if spec.kind == "vjp":
        fp = TEXTBOOK_GRAD.get(spec.name)
        if fp is None:
            return Skipped("seed numpy", "seed", f"no textbook f′ for {spec.name}")
        return Candidate(
            "textbook numpy",
            "seed",
            "peer",
            1,
            lambda: g * fp(x, p),
            alloc=True,
            note="g·f′(x), textbook f′",
        )
    if spec.kind == "vjp_y":
        fy, y = TEXTBOOK_GRAD_Y[spec.name], data.y
        return Candidate(
            "textbook numpy",
            "seed",
            "peer",
            1,
            lambda: g * fy(y),
            alloc=True,
            note="g·f′ from y, textbook",
        )
    if spec.kind == "ce":
        return Candidate(
            "seed numpy",
            "seed",
            "peer",
            1,
            _seed_ce(data),
            alloc=True,
            note="registry .naive cross_entropy and softmax, then p − onehot",
        )
    raise ValueError(spec.kind)


def _seed_ce(data: Data) -> Callable[[], Any]:
    loss_naive, softmax_naive = get("cross_entropy").naive, get("softmax").naive
    x, t = data.x, data.target
    rows = np.arange(x.shape[0])

    def run() -> Any:
        loss = loss_naive(x, t).mean()
        p = softmax_naive(x, axis=-1)
        p[rows, t] -= 1
        p /= x.shape[0]
        return loss, p

    return run


def _scipy(spec: TableSpec, data: Data) -> Candidate | Skipped | None:
    try:
        import scipy.special as ss
    except ImportError:
        return Skipped("scipy", "scipy", "scipy is not installed")
    x = data.x
    if spec.kind in ("rows", "axis0"):
        fn, axis = getattr(ss, spec.name), data.axis
        return Candidate(
            f"scipy.special.{spec.name}", "scipy", "peer", 1, lambda: fn(x, axis=axis), alloc=True
        )
    if spec.kind == "ce":
        t = data.target
        rows = np.arange(x.shape[0])

        def run() -> Any:
            lp = ss.log_softmax(x, axis=-1)
            loss = -lp[rows, t].mean()
            grad = np.exp(lp, out=lp)
            grad[rows, t] -= 1
            grad /= x.shape[0]
            return loss, grad

        return Candidate("scipy log_softmax + numpy", "scipy", "peer", 1, run, alloc=True)
    ops = {"sigmoid": "expit", "log_sigmoid": "log_expit", "softplus": "softplus"}
    if spec.kind in ("elementwise", "strided") and spec.name in ops:
        fn = getattr(ss, ops[spec.name], None)
        if fn is None or data.params.get("beta", 1.0) != 1.0:
            return None
        out = data.out
        return Candidate(
            f"scipy.special.{ops[spec.name]}", "scipy", "peer", 1, lambda: fn(x, out=out)
        )
    return None  # SciPy has no function for this table: not a peer here


def _numexpr(spec: TableSpec, data: Data, threads: Sequence[int]) -> list[Candidate | Skipped]:
    table = {
        "elementwise": NUMEXPR_F,
        "strided": NUMEXPR_F,
        "vjp": NUMEXPR_GRAD,
        "vjp_y": NUMEXPR_GRAD_Y,
    }.get(spec.kind)
    if table is None:
        return []
    if spec.name not in table:
        return [Skipped("numexpr", "numexpr", f"no numexpr expression for {spec.name}")]
    try:
        import numexpr as ne
    except ImportError:
        return [Skipped("numexpr", "numexpr", "numexpr is not installed")]
    scalar = data.x.dtype.type
    local = {k: scalar(v) for k, v in data.params.items()}
    local.update(x=data.x, g=data.g, y=data.y)
    expr, out = table[spec.name], data.out
    return [
        Candidate(
            f"numexpr {t}T",
            "numexpr",
            "peer",
            t,
            lambda: ne.evaluate(expr, local_dict=local, out=out, casting="same_kind"),
            prepare=(lambda t=t: ne.set_num_threads(t)),
            note=expr,
        )
        for t in threads
    ]


def build(spec: TableSpec, data: Data, threads: Sequence[int]) -> list[Candidate | Skipped]:
    found: list[Candidate | Skipped | None] = [_seed(spec, data), _scipy(spec, data)]
    found += _numexpr(spec, data, threads)
    return [c for c in found if c is not None]


_POOL: concurrent.futures.ThreadPoolExecutor | None = None


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="actlab-bench-copy")
    return _POOL


def memcpy(data: Data) -> list[Candidate]:
    """``np.copyto`` of the input, on 1 thread and on 2 (two halves); the report scales it
    to the bytes each operation moves."""
    src, dst = data.copy_src.reshape(-1), data.copy_dst.reshape(-1)
    half = src.size // 2

    def two() -> None:
        a = _pool().submit(np.copyto, dst[:half], src[:half])
        np.copyto(dst[half:], src[half:])
        a.result()

    return [
        Candidate(
            "memcpy 1T",
            "memcpy",
            "copy",
            1,
            lambda: np.copyto(dst, src),
            note="np.copyto of the input",
        ),
        Candidate("memcpy 2T", "memcpy", "copy", 2, two, note="np.copyto, two halves"),
    ]
