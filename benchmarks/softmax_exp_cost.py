"""What float32 softmax of long rows pays for its exact exp (the W1 bar: 0.85× PyTorch).

    python benchmarks/softmax_exp_cost.py [--rows 8192] [--cols 8192] [--rounds 9]

actlab's kernel (``rows32.softmax_w``) takes each e^(x − m) from the exact difference
x − m (a float32 TwoSum) and keeps it as a float32 pair (``_exp_rows32.exp_neg_pair``), two
scratch rows per thread. Timed against it in the same process, interleaved, are kernels of
the same shape (the next row's max found in the exp loop, per-thread scratch, the sum in
float64, streamed stores of (e·2^32)·(1/Σ) rounded once) with cheaper exps:

* ``e rounded once``: the exact x − m and the same reduction and polynomial, the exp rounded
  to one float32 (one scratch row);
* ``x − m rounded``: x − m rounded to float32 as well (the seeds' e^(x − max) with a
  polynomial exp): its rounding, up to |x − m|·2^−25, is a relative error of the result;

and PyTorch's ``torch.softmax`` (the bar's fastest peer in ``BENCHMARKS.md``) where it is
installed. For each, at 2 and 1 threads: the median time ÷ PyTorch's (per round; else ÷ the
kernel's), ÷ the kernel's exp floor (``actlab.kernels.exp_floor`` over the same entries,
the W1 bar's other half: 1.5), and the largest error in ULP against long double over rows of
N(0, 4²) (the benchmark's data) and of N(0, 20²) (where x − m reaches −100).

The variants write their exps with ``e_low`` rows of zeros, read by the kernel's own store
(``_row_stores.store_pair_scaled``): one extra read of a row in cache per row.
"""

from __future__ import annotations

import argparse
import functools

import _versus
import numpy as np
from numba import njit, prange

import actlab
from actlab.kernels import _exp_rows32 as E
from actlab.kernels import exp_floor, rowpath
from actlab.kernels._numba_math import PARALLEL, REDUCE, SCALAR
from actlab.kernels._order_keys import first_max, from_key, lowest_key, order_key
from actlab.kernels._row_stores import store_pair_scaled
from actlab.kernels._stream import fence

_ONE = np.float32(1.0)
FLOOR = "exp floor (the kernel's exp alone)"


@njit(**SCALAR)
def _exp_from(h, lo):
    """e^(h + lo)·2^32 for h ≤ 0 (clamped at LOW), rounded to one float32: the kernel's
    reduction and polynomial (``exp_neg_pair``), its pair added before the scaling."""
    far = h < E.LOW
    h = E.LOW if far else h
    lo = E._ZERO if far else lo
    t = h * E._INV_LN2 + E._SHIFT
    kf = t - E._SHIFT
    r = (h - kf * E._LN2_HI) + (lo - kf * E._LN2_LO)
    p = E._P0
    p = p * r + E._P1
    p = p * r + E._P2
    p = p * r + E._P3
    p = p * r + E._P4
    p = p * r + E._P5
    return ((r + (r * r) * p) + _ONE) * E._pow2_scaled(t)


@njit(**SCALAR)
def exp_exact_d(v, neg_m):
    hi = v + neg_m
    bv = hi - v
    lo = (v - (hi - bv)) + (neg_m - bv)  # TwoSum: hi + lo = v − m exactly
    return _exp_from(hi, lo)


@njit(**SCALAR)
def exp_rounded_d(v, neg_m):
    return _exp_from(v + neg_m, E._ZERO)


def _softmax_kernel(exp):
    """A float32 softmax kernel shaped as ``rows32.softmax_w``, with ``exp`` (v, −m) →
    e^(v − m)·2^32 as one float32."""

    @njit(**SCALAR)
    def exp_row(row, m, e, nxt):
        neg_m = -m
        k = lowest_key(nxt)
        for j in range(row.shape[0]):
            e[j] = exp(row[j], neg_m)
            key = order_key(nxt[j])
            k = key if key > k else k
        return k

    @njit(**REDUCE)
    def total(e):
        s = 0.0
        for j in range(e.shape[0]):
            s += np.float64(e[j])
        return s

    @njit(**PARALLEL)
    def softmax(x, out, chunk):
        n_rows, n = x.shape
        for c in prange((n_rows + chunk - 1) // chunk):
            e = np.empty(n, dtype=np.float32)
            e_low = np.zeros(n, dtype=np.float32)
            r0, r1 = c * chunk, min(n_rows, (c + 1) * chunk)
            m = first_max(x, r0)
            for r in range(r0, r1):
                nxt = x[r + 1] if r + 1 < r1 else x[r]
                key = exp_row(x[r], m, e, nxt)
                store_pair_scaled(e, e_low, 1.0 / total(e), out[r])
                m = from_key(key)
            fence()

    def run(x, out=None):
        out = np.empty_like(x) if out is None else out
        softmax(x, out, rowpath._chunk_rows(x.shape[1], x.shape[0]))
        return out

    return run


def _max_ulps(run, x: np.ndarray) -> float:
    wide = np.longdouble(x)
    e = np.exp(wide - wide.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    spacing = np.spacing(np.abs(want).astype(x.dtype)).astype(np.longdouble)
    return float(np.max(np.abs(np.longdouble(run(x)) - want) / spacing))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--cols", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((args.rows, args.cols)) * 4).astype(np.float32)
    out = np.empty_like(x)
    candidates = {
        "actlab (the kernel)": lambda xs, o=None: actlab.softmax(xs, out=o),
        "e rounded once": _softmax_kernel(exp_exact_d),
        "x − m rounded": _softmax_kernel(exp_rounded_d),
    }
    samples = {
        f"N(0, {s}²)": (np.random.default_rng(s).standard_normal((64, args.cols)) * s).astype(
            np.float32
        )
        for s in (4, 20)
    }
    errors = {
        name: {place: _max_ulps(fn, rows) for place, rows in samples.items()}
        for name, fn in candidates.items()
    }
    torch = _versus.torch_or_none()
    if torch is not None:
        tx, to = torch.from_numpy(x), torch.from_numpy(out)
        candidates["PyTorch torch.softmax"] = lambda xs, o=None: torch.softmax(tx, -1, out=to)
        candidates["PyTorch torch.softmax"](x)  # a first call may err (torch_first_call.py)
        errors["PyTorch torch.softmax"] = {
            place: _max_ulps(lambda r: torch.softmax(torch.from_numpy(r), -1).numpy(), rows)
            for place, rows in samples.items()
        }
    shifted = x - x.max(axis=1, keepdims=True)
    floor_out = np.empty_like(x)
    candidates[FLOOR] = lambda xs, o=None: exp_floor(shifted, floor_out)
    errors[FLOOR] = dict.fromkeys(samples)  # not a softmax
    reference = "PyTorch torch.softmax" if torch is not None else "actlab (the kernel)"
    calls = {name: functools.partial(fn, x, out) for name, fn in candidates.items()}
    times = _versus.ratios(calls, reference, args.rounds, torch)
    title = f"float32 softmax of {args.rows}×{args.cols}; median of {args.rounds} rounds"
    _versus.print_table(title, "PyTorch" if torch is not None else "actlab", times, errors)
    print("× the exp floor (from the medians above), 2T / 1T: " + ", ".join(
        f"{name} {times[name][2] / times[FLOOR][2]:.2f} / {times[name][1] / times[FLOOR][1]:.2f}"
        for name in candidates if name != FLOOR
    ))  # fmt: skip


if __name__ == "__main__":
    main()
