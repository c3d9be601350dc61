"""What the exactness bars cost the short rows (the W3 rows of 10).

    python benchmarks/exactness_cost.py [--function softmax|log_softmax]
        [--dtype float64|float32] [--rows 4000000] [--rounds 9]

softmax: the compiled kernel (``kernels/_lane_softmax._finish_d``) adds the row's
exponentials as a compensated pair sh + sl and rounds each quotient e/(sh + sl) once (a
Newton step on e/sh with the exact residual). Two cheaper ways to finish a row are timed
against it:

* ``uncorrected``: the same pair sum, each quotient e·(1/sh) (two roundings, sl dropped);
* ``plain``: a plain sum s, each quotient e·(1/s).

log_softmax: the kernel (``_finish_log_d``) sums τ = Σ_{x < m} e^(x − m) (+ the other
maxima) as a pair by TwoSum, takes log1p(τ) as a pair, M = m + log1p(τ) as a pair and
z = x − M by TwoSum, rounded once. Against it:

* ``two roundings``: the same τ and M, z = (x − Mh) − Ml (where x − Mh is inexact, a
  second rounding: the bound grows from 1.9 to 2.4 ULP, over the bar of 2);
* ``plain``: τ = (plain sum of every e) − 1, log1p(τ) rounded once, z = (x − m) − log1p(τ)
  (a tiny τ is lost in the subtraction).

float32 log_softmax (``--dtype float32``): the kernel (``_finish_log_w``) adds the pair
exps' high parts below the max in float64, takes log1p(τ) in float64 lanes and z =
(x − m) − log1p(τ) in float64, rounded once. Against it:

* ``float32 z``: the same τ and log1p(τ) = Bh + Bl split into float32, z from the exact
  float32 pair x − m by TwoSum with −Bh, then the small parts (no float64 per entry);
* ``plain``: τ = (plain float32 sum of the rounded exps) − 1, log1p(τ) rounded to float32,
  z = (x − m) − log1p(τ) in float32 (the seeds' formula with the kernel's exp).

Each variant runs in a process of its own (its kernel compiled into an empty cache folder)
with the same exp. For each: the time ÷ the exp-only floor (``actlab.kernels.exp_floor``
on the same data, interleaved, median of the per-round ratios; the benchmark's W3 bar is
1.5) at 2 and 1 threads, and the largest error in ULP against long double over rows built
where the exp errs most (``accuracy_rows.exp_error_rows``), over N(0, 4²) rows and, for
log_softmax, over confident rows (one entry 30–45 above the rest, τ ≈ 1e−13…1e−19;
float32: N(0, 4²) and confident rows only, the error rows being float64's). The bars are 4
ULP (float64 softmax) and 2 (log_softmax, float32 softmax), `docs/softmax.md`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

VARIANTS = {
    ("float32", "log_softmax"): {
        "kept": "τ, log1p and z in float64, z rounded once (the kernel)",
        "float32 z": "τ and log1p in float64, z in float32 pairs",
        "plain": "plain float32 sum − 1, log1p rounded, z in float32",
    },
    ("float64", "softmax"): {
        "kept": "pair sum, e/(sh + sl) rounded once (the kernel)",
        "uncorrected": "pair sum, e·(1/sh)",
        "plain": "plain sum, e·(1/s)",
    },
    ("float64", "log_softmax"): {
        "kept": "pair τ, pair log1p, x − M by TwoSum (the kernel)",
        "two roundings": "pair τ, pair log1p, (x − Mh) − Ml",
        "plain": "plain sum − 1, log1p rounded, (x − m) − log1p",
    },
}
BARS = {("float64", "softmax"): 4, ("float64", "log_softmax"): 2, ("float32", "log_softmax"): 2}


def _patch(dtype: str, function: str, variant: str) -> None:
    """Replaces the short rows' finish of ``function`` in ``dtype`` before anything compiles
    it."""
    if variant == "kept":
        return
    from numba import types

    from actlab.kernels import _lane_softmax as lanes

    if dtype == "float32" and variant == "float32 z":
        finish = functools.partial(lanes._finish_log_w, subtract=_float32_z)
    elif dtype == "float32":
        finish = _log_finish_w_plain
    elif function == "softmax":
        finish = _softmax_finish(lanes, variant)
    else:
        finish = _log_finish(variant)
    kind = lanes.SOFTMAX if function == "softmax" else lanes.LOG_SOFTMAX
    element = types.float32 if dtype == "float32" else types.float64
    lanes_per_group, _, rows_at_once = lanes._BY_KIND[len(kind)][element]
    lanes._BY_KIND[len(kind)][element] = (lanes_per_group, finish, rows_at_once)


def _float32_z(cols, top, big):
    """z = (x − m) − log1p(τ) in float32: log1p(τ) (float64 lanes) split into Bh + Bl, the
    exact x − m less Bh by TwoSum, then the small parts."""
    from actlab.kernels._lane_log1p import two_sum

    bh = big.to(top.element)
    bl = (big - bh.wide()).to(top.element)
    zs = []
    for col in cols:
        hi, lo = two_sum(col, -top)  # x − m exactly
        s, err = two_sum(hi, -bh)
        zs.append(s + ((lo - bl) + err))
    return zs


def _log_finish_w_plain(cols, top):
    """float32 log_softmax as the seeds write it, with the kernel's exp: a plain sum."""
    from actlab.kernels._exp_rows32 import exp_neg_pair_lanes
    from actlab.kernels._lane_log1p import log1p_lanes
    from actlab.kernels._lane_softmax import where

    e = [h + low for h, low in (exp_neg_pair_lanes(col, -top) for col in cols)]  # ×2^32
    total = e[0]
    for h in e[1:]:
        total = total + h
    ok = (total == total) & (abs(top) < float("inf"))
    tau = where(ok, total * 2.0**-32 - 1.0, 0.0)
    big = log1p_lanes(tau.wide()).to(top.element)
    return [(col - top) - big for col in cols], ok


def _softmax_finish(lanes, variant: str):
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

    return finish


def _log_finish(variant: str):
    from actlab.kernels import _lane_softmax as lanes
    from actlab.kernels._lane_log1p import log1p_lanes

    if variant == "two roundings":  # the kernel's finish, z = x − M rounded twice
        return functools.partial(lanes._finish_log_d, shift=lambda x, mh, ml: (x + mh) + ml)

    def finish(cols, top):
        neg_m = -top
        e = [lanes.exp_neg_lanes(col, neg_m) for col in cols]  # e^(x − m)·2^64
        total = e[0]
        for h in e[1:]:
            total = total + h
        ok = (total == total) & (abs(top) < float("inf"))
        big = log1p_lanes(lanes.where(ok, total * 2.0**-64 - 1.0, 0.0))
        return [(col + neg_m) - big for col in cols], ok

    return finish


def _max_ulps(actlab, function: str, x: np.ndarray) -> float:
    shifted = np.longdouble(x) - np.longdouble(x).max(axis=1, keepdims=True)
    e = np.exp(shifted)
    if function == "softmax":
        want = e / e.sum(axis=1, keepdims=True)
    else:  # log1p of τ summed without one maximum: log of the whole sum would round 1 + τ
        e[np.arange(len(x)), np.argmax(x, axis=1)] = 0
        want = shifted - np.log1p(e.sum(axis=1, keepdims=True))
    got = getattr(actlab, function)(x)
    spacing = np.spacing(np.abs(want).astype(x.dtype))  # of the exact value: got may be 0
    return float(np.max(np.abs(np.longdouble(got) - want) / np.longdouble(spacing)))


def _test_rows(dtype: str, function: str) -> list[np.ndarray]:
    from actlab.accuracy_rows import exp_error_rows

    rng = np.random.default_rng(0)
    rows = [exp_error_rows(10, 4000, seed) for seed in (1, 2)] if dtype == "float64" else []
    rows.append(rng.standard_normal((100_000, 10)) * 4)
    if function == "log_softmax":
        confident = rng.standard_normal((100_000, 10)) * 4
        confident[:, 0] = confident.max(axis=1) + rng.uniform(30, 45, len(confident))
        rows.append(confident)
    return [r.astype(dtype) for r in rows]


def measure(dtype: str, function: str, variant: str, rows: int, rounds: int) -> dict:
    """The variant's ratios to the floor and its errors, in this process."""
    _patch(dtype, function, variant)
    import actlab
    from actlab.kernels import exp_floor, set_row_kernel_min_size

    set_row_kernel_min_size(0)  # the audit's rows are few: through the kernel all the same
    errors = max(_max_ulps(actlab, function, x) for x in _test_rows(dtype, function))
    run = getattr(actlab, function)
    x = (np.random.default_rng(0).standard_normal((rows, 10)) * 4).astype(dtype)
    shifted = x - x.max(axis=1, keepdims=True)
    y, e = np.empty_like(x), np.empty_like(x)
    ratios = {}
    for threads in (2, 1):
        actlab.set_num_threads(threads)
        run(x, out=y)
        exp_floor(shifted, e)
        per_round = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            run(x, out=y)
            t1 = time.perf_counter()
            exp_floor(shifted, e)
            t2 = time.perf_counter()
            per_round.append((t1 - t0) / (t2 - t1))
        ratios[threads] = float(np.median(per_round))
    return {"variant": variant, "ulps": errors, "floor_2t": ratios[2], "floor_1t": ratios[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", choices=["softmax", "log_softmax"], default="softmax")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    case = (args.dtype, args.function)
    if case not in VARIANTS:
        parser.error(f"no variants of {args.dtype} {args.function}: {sorted(VARIANTS)}")
    if args.child:
        print(json.dumps(measure(*case, args.child, args.rows, args.rounds)))
        return
    print(f"{args.dtype} {args.function} of {args.rows}×10 rows; median of {args.rounds} rounds")
    print(f"| finish | max error ULP (bar {BARS[case]}) | × exp floor 2T | × exp floor 1T |")
    print("|---|---|---|---|")
    for variant, what in VARIANTS[case].items():
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            command = [sys.executable, __file__, "--function", args.function, "--child", variant]
            command += ["--dtype", args.dtype, "--rows", str(args.rows)]
            command += ["--rounds", str(args.rounds)]
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        r = json.loads(done.stdout.splitlines()[-1])
        print(f"| {what} | {r['ulps']:.3g} | {r['floor_2t']:.2f} | {r['floor_1t']:.2f} |")


if __name__ == "__main__":
    main()
