"""The time of one call on a small array: what a call costs beyond its arithmetic.

    python benchmarks/small_calls.py [--threads 2]

The suite (`actlab bench`) times large arrays, where a call's fixed cost vanishes. A model
that calls softmax on a batch of 64 rows of 10 classes, or an activation on a layer of a
thousand units, pays that fixed cost every time: the checks of the front end, the choice of
a kernel, numba's dispatch and thread launch. This prints the median time of one call (µs,
the best of 7 rounds of many calls) of actlab, beside PyTorch's (when installed) and the
textbook NumPy formula of the seeds, for float32 and float64:

* elementwise functions and a product g·f′ on 10 and 1000 elements;
* softmax, log_softmax, the cross-entropy with its gradient and softmax_vjp on 1×10, 64×10
  and 64×1000, as actlab runs them by default (below ``get_row_kernel_min_size()``
  elements, 16384, on the correctly rounded NumPy path) and on the compiled kernels
  (``set_row_kernel_min_size(0)``, within the accuracy bars).

To see a change, run it against another revision's package as well:
``PYTHONPATH=/path/to/that/checkout/src python benchmarks/small_calls.py``.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import numpy as np

import actlab
from actlab import kernels

ELEMENTWISE_SIZES = (10, 1000)
ROW_SHAPES = ((1, 10), (64, 10), (64, 1000))


def per_call_us(call: Callable[[], object]) -> float:
    """µs per call: the best of 7 rounds, each of enough calls for about 20 ms."""
    call()
    number = 1
    while min(timeit.repeat(call, number=number, repeat=1)) < 0.02:
        number *= 2
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def _torch() -> object | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _elementwise_cases(x, g, torch, tx, tg) -> dict[str, tuple[Callable[[], object], ...]]:
    """name → (actlab, PyTorch, the NumPy formula), each a call without arguments."""
    return {
        "sigmoid": (
            lambda: actlab.sigmoid(x),
            lambda: torch.sigmoid(tx),
            lambda: 1.0 / (1.0 + np.exp(-x)),
        ),
        "tanh": (lambda: actlab.tanh(x), lambda: torch.tanh(tx), lambda: np.tanh(x)),
        "relu": (lambda: actlab.relu(x), lambda: torch.relu(tx), lambda: np.maximum(x, 0)),
        "silu_vjp": (
            lambda: actlab.silu_vjp(x, g),
            lambda: torch.ops.aten.silu_backward(tg, tx),
            lambda: g * (s := 1.0 / (1.0 + np.exp(-x))) * (1.0 + x * (1.0 - s)),
        ),
    }


def _row_cases(x, g, t, torch, tx, tt) -> dict[str, tuple[Callable[[], object], ...]]:
    """name → (actlab, PyTorch), each a call without arguments."""

    def torch_ce_with_grad() -> object:
        xr = tx.detach().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(xr, tt)
        loss.backward()
        return loss, xr.grad

    return {
        "softmax": (lambda: actlab.softmax(x, axis=-1), lambda: torch.softmax(tx, -1)),
        "log_softmax": (lambda: actlab.log_softmax(x, axis=-1), lambda: torch.log_softmax(tx, -1)),
        "cross_entropy_with_grad": (
            lambda: actlab.cross_entropy_with_grad(x, t),
            torch_ce_with_grad,
        ),
        "softmax_vjp": (
            lambda: actlab.softmax_vjp(x, g, axis=-1),
            lambda: torch.ops.aten._softmax_backward_data(torch.softmax(tx, -1), tx, -1, tx.dtype),
        ),
    }


def _inputs(rng, shape, dtype: str, torch: object | None) -> tuple:
    """x and a cotangent g of ``shape``, and the same as PyTorch tensors (None without it)."""
    x, g = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    if torch is None:
        return x, g, None, None
    return x, g, torch.from_numpy(x), torch.from_numpy(g)


def elementwise_rows(dtype: str, torch: object | None) -> list[tuple[str, int, list[float]]]:
    rng = np.random.default_rng(0)
    rows = []
    for n in ELEMENTWISE_SIZES:
        x, g, tx, tg = _inputs(rng, n, dtype, torch)
        for name, (ours, theirs, formula) in _elementwise_cases(x, g, torch, tx, tg).items():
            times = [per_call_us(ours), per_call_us(theirs) if torch else float("nan")]
            with np.errstate(over="ignore"):
                times.append(per_call_us(formula))
            rows.append((name, n, times))
    return rows


def row_rows(dtype: str, torch: object | None) -> list[tuple[str, tuple, list[float]]]:
    rng = np.random.default_rng(0)
    rows = []
    for shape in ROW_SHAPES:
        x, g, tx, _ = _inputs(rng, shape, dtype, torch)
        t = rng.integers(0, shape[1], shape[0])
        tt = None if torch is None else torch.from_numpy(t)
        for name, (ours, theirs) in _row_cases(x, g, t, torch, tx, tt).items():
            default = per_call_us(ours)
            previous = kernels.set_row_kernel_min_size(0)
            try:
                compiled = per_call_us(ours)
            finally:
                kernels.set_row_kernel_min_size(previous)
            theirs_us = per_call_us(theirs) if torch else float("nan")
            rows.append((name, shape, [default, compiled, theirs_us]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="actlab's and PyTorch's")
    args = parser.parse_args()
    torch = _torch()
    if args.threads is not None:
        actlab.set_num_threads(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    threads = kernels.get_num_threads()
    print(f"actlab {actlab.__version__}, {threads} threads; µs per call (best of 7 rounds)\n")
    print("| function | n | dtype | actlab | PyTorch | NumPy formula |")
    print("|---|---|---|---|---|---|")
    for dtype in ("float32", "float64"):
        for name, n, (ours, theirs, formula) in elementwise_rows(dtype, torch):
            print(f"| {name} | {n} | {dtype} | {ours:.1f} | {theirs:.1f} | {formula:.1f} |")
    print()
    print("| function | shape | dtype | actlab default | actlab kernels | PyTorch |")
    print("|---|---|---|---|---|---|")
    for dtype in ("float32", "float64"):
        for name, shape, (default, compiled, theirs) in row_rows(dtype, torch):
            shape_text = "×".join(map(str, shape))
            print(
                f"| {name} | {shape_text} | {dtype} | {default:.1f} | {compiled:.1f} "
                f"| {theirs:.1f} |"
            )


if __name__ == "__main__":
    main()
