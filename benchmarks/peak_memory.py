"""The peak memory of the row calls beyond the common case (several axes, a mask, weights).

    python benchmarks/peak_memory.py [--n 2000]

Each call on an n×n float32 array, once to warm up and once under ``tracemalloc`` (which
sees NumPy's allocations): the peak of the memory it allocated ÷ x's bytes. The result
itself counts 1 (0 for a reduction); the whole-array Array API code took about 23.5.
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np

import actlab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.n)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    per_row = np.ones(args.n, np.float32)
    b, mask, lse = g * g, g > 0, actlab.logsumexp(x)  # made before the calls are measured
    calls = {
        "softmax, axis=(0, 1)": lambda: actlab.softmax(x, axis=(0, 1)),
        "log_softmax, axis=(0, 1)": lambda: actlab.log_softmax(x, axis=(0, 1)),
        "softmax_vjp, axis=(0, 1)": lambda: actlab.softmax_vjp(x, g, axis=(0, 1)),
        "log_softmax_vjp, axis=(0, 1)": lambda: actlab.log_softmax_vjp(x, g, axis=(0, 1)),
        "logsumexp, axis=None": lambda: actlab.logsumexp(x),
        "softmax, axis=1, where": lambda: actlab.softmax(x, axis=1, where=mask),
        "softmax, axis=(0, 1), where": lambda: actlab.softmax(x, axis=(0, 1), where=mask),
        "softmin, axis=(0, 1), where": lambda: actlab.softmin(x, axis=(0, 1), where=mask),
        "log_softmax, axis=(0, 1), where": lambda: actlab.log_softmax(x, axis=(0, 1), where=mask),
        "softmax_vjp, axis=(0, 1), where": lambda: actlab.softmax_vjp(
            x, g, axis=(0, 1), where=mask
        ),
        "logsumexp, axis=1, where": lambda: actlab.logsumexp(x, axis=1, where=mask),
        "logsumexp, axis=1, b": lambda: actlab.logsumexp(x, axis=1, b=b),
        "logsumexp, axis=1, b, return_sign": lambda: actlab.logsumexp(
            x, axis=1, b=b, return_sign=True
        ),
        "logsumexp, axis=None, b, return_sign": lambda: actlab.logsumexp(x, b=b, return_sign=True),
        "logsumexp_vjp, axis=1": lambda: actlab.logsumexp_vjp(x, per_row, axis=1),
        "logsumexp_vjp, axis=None": lambda: actlab.logsumexp_vjp(x, 1.0),
        "logsumexp_vjp, axis=1, b": lambda: actlab.logsumexp_vjp(x, per_row, axis=1, b=b),
        "logsumexp, axis=None, b": lambda: actlab.logsumexp(x, b=b),
        "logsumexp, axis=None, where": lambda: actlab.logsumexp(x, where=mask),
        "logsumexp_vjp, axis=None, b": lambda: actlab.logsumexp_vjp(x, 1.0, b=b),
        "logsumexp_vjp, axis=None, where": lambda: actlab.logsumexp_vjp(x, 1.0, where=mask),
        "logsumexp_vjp, axis=(0, 1), y": lambda: actlab.logsumexp_vjp(x, 1.0, (0, 1), y=lse),
    }
    print(f"{args.n}×{args.n} float32; peak allocated ÷ x's bytes")
    print("| call | peak ÷ x |")
    print("|---|---|")
    for name, call in calls.items():
        call()
        tracemalloc.start()
        call()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"| {name} | {peak / x.nbytes:.2f} |")


if __name__ == "__main__":
    main()
