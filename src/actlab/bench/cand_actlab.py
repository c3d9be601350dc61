"""actlab's own candidates and the exp-only floor.

The suite runs against whatever actlab is installed: it detects ``out=``, the fused
products (``NAME_vjp``, ``sigmoid_vjp_from_output``, ``cross_entropy_with_grad``), the
thread setting (``actlab.set_num_threads``) and the floor loop (``actlab.kernels.exp_floor``)
with ``inspect``/``hasattr``, and says in each candidate's note which path it timed. What
is missing is named as skipped, never replaced by something else under actlab's name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .harness import Candidate, Skipped
from .workloads import Data, TableSpec

__all__ = ["accepts", "build", "floor", "thread_setter"]


def accepts(fn: Any, name: str) -> bool:
    """Whether ``fn`` takes a parameter called ``name``."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def thread_setter() -> Callable[[int], None] | None:
    import actlab

    return getattr(actlab, "set_num_threads", None)


def _variants(threads: Sequence[int]) -> list[tuple[int, Callable[[], None], str]]:
    """(threads, prepare, label) per requested count; one 1-thread variant without a setter."""
    setter = thread_setter()
    if setter is None:
        return [(1, lambda: None, "actlab (no thread setting)")]
    return [(t, (lambda t=t: setter(t)), f"actlab {t}T") for t in threads]


def _op(spec: TableSpec, data: Data) -> tuple[Callable[[], Any], bool, str] | str:
    """(call, allocates, note) for the table, or the reason actlab cannot run it."""
    import actlab

    x, out, params = data.x, data.out, data.params
    if spec.kind in ("rows", "axis0"):
        fn = getattr(actlab, spec.name)
        axis = data.axis
        if accepts(fn, "out"):
            return (lambda: fn(x, axis=axis, out=out)), False, "out="
        return (lambda: fn(x, axis=axis)), True, "allocates (no out=)"
    if spec.kind in ("elementwise", "strided"):
        fn = getattr(actlab, spec.name)
        if accepts(fn, "out"):
            return (lambda: fn(x, out=out, **params)), False, "out="
        return (lambda: fn(x, **params)), True, "allocates (no out=)"
    g = data.g
    if spec.kind == "vjp":
        vjp = getattr(actlab, f"{spec.name}_vjp", None)
        if vjp is not None and accepts(vjp, "out"):
            return (lambda: vjp(x, g, out=out, **params)), False, f"{spec.name}_vjp out="
        if vjp is not None:
            return (lambda: vjp(x, g, **params)), True, f"{spec.name}_vjp (allocates)"
        grad = getattr(actlab, f"{spec.name}_grad")
        return (
            (lambda: np.multiply(g, grad(x, **params), out=out)),
            True,
            f"g·{spec.name}_grad(x), composed ({spec.name}_vjp not available)",
        )
    if spec.kind == "vjp_y":
        fy = getattr(actlab, f"{spec.name}_vjp_from_output", None)
        if fy is None:
            return f"actlab.{spec.name}_vjp_from_output not available"
        y = data.y
        if accepts(fy, "out"):
            return (lambda: fy(y, g, out=out)), False, "out="
        return (lambda: fy(y, g)), True, "allocates (no out=)"
    if spec.kind == "ce":
        return _cross_entropy(data)
    raise ValueError(f"unknown table kind {spec.kind!r}")


def _cross_entropy(data: Data) -> tuple[Callable[[], Any], bool, str]:
    import actlab

    x, t, gbuf = data.x, data.target, data.out
    fused = getattr(actlab, "cross_entropy_with_grad", None)
    if fused is not None:
        if accepts(fused, "out"):
            return (lambda: fused(x, t, out=gbuf)), False, "cross_entropy_with_grad out="
        return (lambda: fused(x, t)), True, "cross_entropy_with_grad (allocates)"
    grad = actlab.cross_entropy_grad
    if accepts(grad, "out"):
        return (
            (lambda: (actlab.cross_entropy(x, t), grad(x, t, out=gbuf))),
            False,
            "cross_entropy + cross_entropy_grad(out=), two passes",
        )
    return (
        (lambda: (actlab.cross_entropy(x, t), grad(x, t))),
        True,
        "cross_entropy + cross_entropy_grad, two passes, allocates",
    )


def build(spec: TableSpec, data: Data, threads: Sequence[int]) -> list[Candidate | Skipped]:
    op = _op(spec, data)
    if isinstance(op, str):
        return [Skipped("actlab", "actlab", op)]
    call, alloc, note = op
    out: list[Candidate | Skipped] = []
    for t, prepare, label in _variants(threads):
        out.append(Candidate(label, "actlab", "actlab", t, call, prepare, alloc, note))
    if spec.kind == "strided":
        contiguous = np.ascontiguousarray(data.x)
        import actlab

        fn = getattr(actlab, spec.name)
        kw = {"out": data.out} if accepts(fn, "out") else {}
        for t, prepare, label in _variants(threads):
            out.append(
                Candidate(
                    f"{label}, contiguous copy of x",
                    "actlab",
                    "info",
                    t,
                    (lambda fn=fn: fn(contiguous, **kw)),
                    prepare,
                    False,
                    "the same values, contiguous: the cost of the stride is the gap",
                )
            )
    if spec.kind == "axis0":
        import actlab

        fn = getattr(actlab, spec.name)
        kw = {"out": data.out} if accepts(fn, "out") else {}
        x = data.x
        for t, prepare, label in _variants(threads):
            out.append(
                Candidate(
                    f"{label}, last axis (W1 layout)",
                    "actlab",
                    "info",
                    t,
                    (lambda: fn(x, axis=-1, **kw)),
                    prepare,
                    False,
                    "same array over its last axis: the cost of axis 0 is the gap",
                    checked=False,
                )
            )
    return out


# Tables whose bar includes the exp-only floor: one exp per element of the input.
FLOOR_KINDS = ("rows", "ce", "axis0")


def floor(spec: TableSpec, data: Data, threads: Sequence[int]) -> list[Candidate | Skipped]:
    """``actlab.kernels.exp_floor(x, out)`` at each thread count, where the bar needs it."""
    if spec.kind not in FLOOR_KINDS:
        return []
    try:
        from actlab import kernels  # the compiled tier (numba); optional
    except ImportError as exc:
        return [Skipped("exp floor", "floor", f"actlab.kernels not importable ({exc})")]
    exp_floor = getattr(kernels, "exp_floor", None)
    if exp_floor is None:
        return [Skipped("exp floor", "floor", "actlab.kernels.exp_floor not available")]
    # The kernels exponentiate x − (row max) ≤ 0; the floor gets the same data shifted by its
    # maximum (prepared here, outside the timing), so that it computes what they compute.
    x, out = data.x - data.x.max(), data.out
    return [
        Candidate(
            f"exp floor {t}T",
            "floor",
            "floor",
            t,
            (lambda: exp_floor(x, out)),
            prepare,
            note="exp only, same data shifted by its max, same code as the kernels",
        )
        for t, prepare, _ in _variants(threads)
    ]
