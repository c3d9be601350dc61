"""Whether tanh's gap to PyTorch (the W4 forward, float64 and float32) is the price of its bar.

    python benchmarks/tanh_cost.py [--dtype float64|float32] [--n 33554432] [--rounds 9]

actlab's kernels: float64, ``lines64._tanh`` (m = e^(−2|x|) − 1 kept as an exact pair,
then −m/(2 + m) by a corrected division); float32, ``lean32._tanh`` (m = e^(2x) − 1 and
m/(m + 2) in float64 lanes, rounded once). Timed against them in the same process,
interleaved:

* ``plain``: the same formula with every step rounded in the input's own dtype, in one
  numba loop over the array: float64, m = 2^k·(1 + p) − 1 from the kernels' exp of −2|x|
  (``_exp64``), then −m/(2 + m); float32, m = e^(2x) − 1 from a float32 Cody–Waite
  reduction and a degree-7 Taylor polynomial, then m/(m + 2) (16 float32 lanes per AVX-512
  instruction where the kernel has 8 float64 ones). What the pairs, or the wide lanes, cost;
* PyTorch's ``torch.tanh`` (the bar's fastest peer in ``BENCHMARKS.md``), at the same thread
  count, where PyTorch is installed.

For each: the median time ÷ PyTorch's (per round; the W4 bar is 1.0) at 2 and 1 threads, and
the largest error in ULP against long double (float64: 64-bit significand, far below an ULP
of float64 here) over the benchmark's N(0, 4²) data, around |x| = 0.17 (where the float64
reduction's k turns −1 and m stops being exact) and over x in [18, 20] (float64: where
2^k − 1 stops being exact).
"""

from __future__ import annotations

import argparse
import functools
import math

import _versus
import numpy as np
from numba import njit, prange

import actlab
from actlab.kernels import _exp64 as X
from actlab.kernels._exp_rows32 import _pow2_scaled

# float32 Cody–Waite: k·_LN2_HI is exact for |k| < 2^8
_LN2_HI = np.float32(0.693145751953125)
_LN2_LO = np.float32(1.428606765330187e-06)
_INV_LN2 = np.float32(1.0 / math.log(2.0))
_SHIFT = np.float32(12582912.0)  # 1.5·2^23
# e^r − 1 = r + r²·(1/2 + r/6 + … + r⁵/5040): Taylor to degree 7
_C2, _C3, _C4, _C5, _C6, _C7 = (np.float32(1.0 / math.factorial(n)) for n in range(2, 8))


@njit(parallel=True, error_model="numpy", fastmath={"contract"})
def plain_tanh64(x, out):
    """−m/(2 + m) with m = e^(−2|x|) − 1 = s·(1 + p) − 1 rounded in float64, sign copied."""
    for i in prange(x.shape[0]):
        v = x[i]
        a = -2.0 * min(abs(v), 20.0)
        t, _, r = X.reduce(a, 0.0)
        s = X.up_pow2(t) * X.SCALE_DOWN
        m = s * X.expm1_lean(r) + (s - 1.0)
        out[i] = math.copysign(-m / (2.0 + m), v)


@njit(parallel=True, error_model="numpy", fastmath={"contract"})
def plain_tanh32(x, out):
    """m/(m + 2) with m = e^(2x) − 1 in float32 (x clamped to ±10, where tanh is 1 in
    float32), every step rounded in float32."""
    one, two = np.float32(1.0), np.float32(2.0)
    for i in prange(x.shape[0]):
        v = min(max(x[i], np.float32(-10.0)), np.float32(10.0))
        a = two * v
        t = a * _INV_LN2 + _SHIFT
        kf = t - _SHIFT
        r = (a - kf * _LN2_HI) - kf * _LN2_LO
        p = r * _C7 + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        q = r + r * r * p  # e^r − 1
        s = _pow2_scaled(t) * np.float32(2.0**-32)  # 2^k, exact
        m = s * q + (s - one)
        out[i] = m / (m + two) if v != 0.0 else v


def _max_ulps(run, dtype: str, rng) -> dict[str, float]:
    """The largest error in ULP of the exact tanh (long double), per kind of point."""
    places = {
        "N(0, 4²)": rng.standard_normal(400_000) * 4,
        "near ±0.17": rng.uniform(0.15, 0.2, 400_000) * rng.choice([-1, 1], 400_000),
        "in [18, 20]": rng.uniform(18, 20, 100_000),
    }
    worst = {}
    for name, x in places.items():
        x = x.astype(dtype)
        got = run(x)
        exact = np.tanh(np.longdouble(x))
        spacing = np.spacing(np.abs(exact).astype(dtype)).astype(np.longdouble)
        worst[name] = float(np.max(np.abs(np.longdouble(got) - exact) / spacing))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--n", type=int, default=2**25)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(args.n) * 4.0).astype(args.dtype)
    out = np.empty_like(x)
    torch = _versus.torch_or_none()
    plain = plain_tanh64 if args.dtype == "float64" else plain_tanh32

    def run_plain(xs, o=None):
        o = np.empty_like(xs) if o is None else o
        plain(xs, o)
        return o

    candidates = {
        "actlab (the kernel)": lambda xs, o=None: actlab.tanh(xs, out=o),
        f"plain {args.dtype}, the same formula": run_plain,
    }
    errors = {
        name: _max_ulps(fn, args.dtype, np.random.default_rng(2)) for name, fn in candidates.items()
    }
    if torch is not None:
        tx, to = torch.from_numpy(x), torch.from_numpy(out)
        candidates["PyTorch torch.tanh"] = lambda xs, o=None: torch.tanh(tx, out=to)
        candidates["PyTorch torch.tanh"](x)  # the first call may err: torch_first_call.py
        errors["PyTorch torch.tanh"] = _max_ulps(
            lambda xs: torch.tanh(torch.from_numpy(xs)).numpy(),
            args.dtype,
            np.random.default_rng(2),
        )
    reference = "PyTorch torch.tanh" if torch is not None else "actlab (the kernel)"
    calls = {name: functools.partial(fn, x, out) for name, fn in candidates.items()}
    times = _versus.ratios(calls, reference, args.rounds, torch)
    title = f"{args.dtype} tanh of {args.n} elements; median of {args.rounds} rounds"
    _versus.print_table(title, "PyTorch" if torch is not None else "actlab", times, errors)


if __name__ == "__main__":
    main()
