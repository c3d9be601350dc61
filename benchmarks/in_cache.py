"""Whether an elementwise function waits on memory or on its arithmetic: its time per element
over an array that stays in L2 (2^17 elements: large enough that a call's fixed cost, 8–17
µs of Python by `benchmarks/small_calls.py`, adds little) and over one that streams from
DRAM (2^24), at 1 thread, beside PyTorch's (when installed) and a copy of the same bytes.

    python benchmarks/in_cache.py [--functions sigmoid,tanh,silu_vjp] [--dtype float64]

A kernel whose DRAM time is well above its time in cache overlaps memory and arithmetic
badly (the loop shape, the prefetch, the stores); one whose two times are alike is bound by
its arithmetic, and only fewer operations make it faster. Each time is the best of 7
rounds of enough calls for about 2^24 elements (ns per element).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

import actlab

SIZES = (1 << 17, 1 << 24)
# name → (actlab call, PyTorch call): each of (x, g, out).
CALLS = {
    "sigmoid": (
        lambda x, g, o: actlab.sigmoid(x, out=o),
        lambda torch, x, g, o: torch.sigmoid(x, out=o),
    ),
    "tanh": (lambda x, g, o: actlab.tanh(x, out=o), lambda torch, x, g, o: torch.tanh(x, out=o)),
    "silu": (
        lambda x, g, o: actlab.silu(x, out=o),
        lambda torch, x, g, o: torch.ops.aten.silu.out(x, out=o),
    ),
    "silu_vjp": (
        lambda x, g, o: actlab.silu_vjp(x, g, out=o),
        lambda torch, x, g, o: torch.ops.aten.silu_backward.grad_input(g, x, grad_input=o),
    ),
}


def _best(call, n: int) -> float:
    """ns per element: the best of 7 rounds of enough calls for about 2^24 elements."""
    reps = max(1, (1 << 24) // n)
    call()
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(reps):
            call()
        rounds.append((time.perf_counter() - start) / reps)
    return min(rounds) / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", default=",".join(CALLS))
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = parser.parse_args()
    names = args.functions.split(",")
    unknown = sorted(set(names) - set(CALLS))
    if unknown:
        parser.error(f"--functions: unknown {unknown}; known: {sorted(CALLS)}")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    actlab.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"ns per element at 1 thread, {args.dtype}; in cache: 2^17 elements, DRAM: 2^24")
    print("| function | actlab cache | actlab DRAM | PyTorch cache | PyTorch DRAM | copy DRAM |")
    print("|---|---|---|---|---|---|")
    for name in names:
        ours, theirs = CALLS[name]
        row = {}
        for n in SIZES:
            x = (rng.standard_normal(n) * 4).astype(args.dtype)
            g = rng.standard_normal(n).astype(args.dtype)
            out = np.empty_like(x)
            row["ours", n] = _best(partial(ours, x, g, out), n)
            row["copy", n] = _best(partial(np.copyto, out, x), n)
            if torch is not None:
                tx, tg, to = (torch.from_numpy(a) for a in (x, g, out))
                row["torch", n] = _best(partial(theirs, torch, tx, tg, to), n)
        cells = [row["ours", SIZES[0]], row["ours", SIZES[1]]]
        cells += [row.get(("torch", n), float("nan")) for n in SIZES]
        cells.append(row["copy", SIZES[1]])
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
