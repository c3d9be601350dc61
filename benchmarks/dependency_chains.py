"""Whether a line map waits on its dependency chain or on its arithmetic ports, and what
evaluating its formula over two lines at once (``span_map``'s ``lines=2``) buys.

    python benchmarks/dependency_chains.py [--n 8192] [--reps 2000]

Times, over n float64 elements in cache at 1 thread (ns per 64-byte line, best of 5):

* chains of k dependent FMAs per element (k = 15, 30, 45, 60): with the ports alone the
  time would grow as k (two FMA ports: k/2 cycles per line); a chain that outgrows the
  scheduler's window grows faster, as the window holds fewer lines' chains;
* 63 independent operations per element (a tree of products of 32 FMAs): the ports' rate;
* the float64 tanh of ``lines64`` and its float32 counterpart of ``lean32`` (over n float32);

each as a one-line and a two-line map.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from actlab.kernels import lean32, lines64
from actlab.kernels._vecmap import span_map


def _timed_map(formula, x: np.ndarray, reps: int, lines: int = 1) -> float:
    """ns per 64-byte line of ``formula`` mapped over x, ``reps`` times in one call."""
    span = span_map(formula, inputs=1, scalars=0, lines=lines)

    @njit
    def run(x, out, reps):
        for _ in range(reps):
            span(out, 0, out.shape[0], False, x)

    out = np.empty_like(x)
    run(x, out, 1)  # compile
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        run(x, out, reps)
        best = min(best, time.perf_counter() - start)
    return best / (x.nbytes / 64 * reps) * 1e9


def _chain(k: int):
    def formula(x):
        y = x
        for _ in range(k):
            y = y.fma(0.999, 1e-3)
        return y

    return formula


def _independent(x):
    terms = [x.fma(1.0 + i * 1e-3, 0.5 + i * 1e-4) for i in range(32)]
    while len(terms) > 1:
        terms = [a * b for a, b in zip(terms[::2], terms[1::2], strict=True)]
    return terms[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal(args.n) * 4
    print(f"ns per 64-byte line, {args.n} elements in cache, 1 thread")
    print("| map | one line | two lines |\n|---|---|---|")
    maps = [(f"{k} dependent FMAs (float64)", _chain(k), x) for k in (15, 30, 45, 60)]
    maps += [
        ("63 independent operations (float64)", _independent, x),
        ("tanh, lines64 (float64)", lines64._tanh, x),
        ("tanh, lean32 (float32)", lean32._tanh, x.astype(np.float32)),
    ]
    for name, formula, data in maps:
        one = _timed_map(formula, data, args.reps)
        two = _timed_map(formula, data, args.reps, lines=2)
        print(f"| {name} | {one:.2f} | {two:.2f} |")


if __name__ == "__main__":
    main()
