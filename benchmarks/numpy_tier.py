"""Time and peak memory of the row functions on the NumPy tier (no compiled kernels).

    python benchmarks/numpy_tier.py [--rows 2048] [--n 1000] [--dtype float32]

The NumPy tier runs the Array API code; a large call should run it on blocks of rows
(``kernels/rowpath.py``, ``losses/_blocked.py``), so that its temporaries stay a few blocks
in size. Each call is timed once after a warm-up call, and its peak of traced allocations
(``tracemalloc``: NumPy reports its buffers there) is printed as a multiple of the input's
bytes: about 2.5 for a blocked call (the output, a copy, a few blocks), far more for a call
that makes its temporaries the size of the whole input.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import actlab


def calls(x: np.ndarray, g: np.ndarray, t: np.ndarray) -> dict[str, Callable[[], object]]:
    ones = np.ones(x.shape[0], dtype=x.dtype)
    return {
        "softmax": lambda: actlab.softmax(x),
        "log_softmax": lambda: actlab.log_softmax(x),
        "softmax with T = 0.5": lambda: actlab.softmax(x, temperature=0.5),
        "softmax_vjp": lambda: actlab.softmax_vjp(x, g),
        "softmax_vjp with T = 0.5": lambda: actlab.softmax_vjp(x, g, temperature=0.5),
        "softmax_jvp": lambda: actlab.softmax_jvp(x, g),
        "log_softmax_vjp": lambda: actlab.log_softmax_vjp(x, g),
        "logsumexp_vjp": lambda: actlab.logsumexp_vjp(x, ones, axis=-1),
        "cross_entropy_with_grad": lambda: actlab.cross_entropy_with_grad(x, t),
        "nll_loss_grad": lambda: actlab.nll_loss_grad(x, t),
        "maxout": lambda: actlab.maxout(x, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args(argv)
    actlab.set_backend_tier("numpy")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((args.rows, args.n)) * 4).astype(args.dtype)
    g = rng.standard_normal(x.shape).astype(args.dtype)
    t = rng.integers(0, args.n, args.rows)
    print(f"NumPy tier, {args.rows}×{args.n} {args.dtype}, {actlab.get_num_threads()} threads")
    print("| call | ms | peak ÷ input bytes |\n|---|---|---|")
    for name, call in calls(x, g, t).items():
        call()  # warm-up: imports, first-use set-up
        tracemalloc.start()
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"| {name} | {elapsed * 1e3:.1f} | {peak / x.nbytes:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
