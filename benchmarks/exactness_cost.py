"""What the float64 bar costs the short-row softmax (the W3 rows of 10, float64).

    python benchmarks/exactness_cost.py [--rows 4000000] [--rounds 9]

The compiled kernel (``kernels/_lane_softmax._finish_d``) adds the row's exponentials as a
compensated pair sh + sl and rounds each quotient e/(sh + sl) once (a Newton step on e/sh
with the exact residual). Two cheaper ways to finish a row are timed against it, each in a
process of its own (its kernel compiled into an empty cache folder) with the same exp:

* ``uncorrected``: the same pair sum, each quotient e·(1/sh) (two roundings, sl dropped);
* ``plain``: a plain sum s, each quotient e·(1/s).

For each: the time ÷ the exp-only floor (``actlab.kernels.exp_floor`` on the same data,
interleaved, median of the per-round ratios; the benchmark's W3 bar is 1.5) at 2 and 1
threads, and the largest error in ULP against a long-double softmax over rows built where
the exp errs most (``accuracy_rows.exp_error_rows``) and over N(0, 4²) rows (the float64
softmax bar is 4 ULP, `docs/softmax.md`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

VARIANTS = {
    "kept": "pair sum, e/(sh + sl) rounded once (the kernel)",
    "uncorrected": "pair sum, e·(1/sh)",
    "plain": "plain sum, e·(1/s)",
}


def _patch(variant: str) -> None:
    """Replaces the float64 finish of the short rows before anything compiles it."""
    if variant == "kept":
        return
    from numba import types

    from actlab.kernels import _lane_softmax as lanes

    def finish(cols, top):
        e = [lanes.exp_neg_lanes(col, -top) for col in cols]  # e^(x − m)·2^64
        if variant == "uncorrected":
            s, c = lanes.sum_from(e, 2.0**64)
            sh, _, ok = lanes.settle(s, c, 2.0**64, top)
            return [h * (1.0 / sh) for h in e], ok
        s = e[0]
        for h in e[1:]:
            s = s + h
        ok = (s == s) & (abs(top) < float("inf"))
        return [h * (1.0 / lanes.where(ok, s, 1.0)) for h in e], ok

    lanes._BY_KIND[len(lanes.SOFTMAX)][types.float64] = (4, finish)


def _max_ulps(actlab, x: np.ndarray) -> float:
    shifted = np.longdouble(x) - np.longdouble(x).max(axis=1, keepdims=True)
    want = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    got = actlab.softmax(x)
    return float(np.max(np.abs(np.longdouble(got) - want) / np.longdouble(np.spacing(got))))


def measure(variant: str, rows: int, rounds: int) -> dict:
    """The variant's ratios to the floor and its errors, in this process."""
    _patch(variant)
    import actlab
    from actlab.accuracy_rows import exp_error_rows
    from actlab.kernels import exp_floor, set_row_kernel_min_size

    set_row_kernel_min_size(0)  # the audit's rows are few: through the kernel all the same
    rng = np.random.default_rng(0)
    errors = max(
        max(_max_ulps(actlab, exp_error_rows(10, 4000, seed)) for seed in (1, 2)),
        _max_ulps(actlab, rng.standard_normal((100_000, 10)) * 4),
    )
    x = rng.standard_normal((rows, 10)) * 4
    shifted = x - x.max(axis=1, keepdims=True)
    y, e = np.empty_like(x), np.empty_like(x)
    ratios = {}
    for threads in (2, 1):
        actlab.set_num_threads(threads)
        actlab.softmax(x, out=y)
        exp_floor(shifted, e)
        per_round = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            actlab.softmax(x, out=y)
            t1 = time.perf_counter()
            exp_floor(shifted, e)
            t2 = time.perf_counter()
            per_round.append((t1 - t0) / (t2 - t1))
        ratios[threads] = float(np.median(per_round))
    return {"variant": variant, "ulps": errors, "floor_2t": ratios[2], "floor_1t": ratios[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.rows, args.rounds)))
        return
    print(f"float64 softmax of {args.rows}×10 rows; median of {args.rounds} rounds")
    print("| finish | max error ULP (bar 4) | × exp floor 2T | × exp floor 1T |")
    print("|---|---|---|---|")
    for variant, what in VARIANTS.items():
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            command = [sys.executable, __file__, "--child", variant]
            command += ["--rows", str(args.rows), "--rounds", str(args.rounds)]
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        r = json.loads(done.stdout.splitlines()[-1])
        print(f"| {what} | {r['ulps']:.2f} | {r['floor_2t']:.2f} | {r['floor_1t']:.2f} |")


if __name__ == "__main__":
    main()
