"""What the float64 bar costs g·silu′ (the W5 product dx = g·silu′(x), float64).

    python benchmarks/gated_cost.py [--n 33554432] [--rounds 9]

actlab's kernel (``kernels/_gated64.silu_grad``) takes silu′ = A·w/d² (d = 1 + e,
e = e^−|x|, w = d + x·B; (A, B) = (1, e) for x ≥ 0, (e, 1) for x < 0) with e as a pair,
w by TwoSum, the numerator and d² as pairs and one corrected division; e reduced around
silu′'s root where w cancels, and scaled by 2^200 where the result is subnormal. Timed
against it in the same process, interleaved:

* ``plain``: the same one-ratio formula in plain float64 with the same exp (rounded to one
  float64), one loop over the array: what the pairs, the root and the scaling cost;
* PyTorch's ``aten.silu_backward`` (the bar's fastest peer in ``BENCHMARKS.md``), at the
  same thread count, where PyTorch is installed.

For each: the median time ÷ PyTorch's (per round; the W5 bar is 1.0) at 2 and 1 threads,
and the largest error of g·silu′ in ULP against mpmath over the benchmark's N(0, 4²) data
and over the places where plain float64 errs most (around the root x0 ≈ −1.2785, where
w cancels; and x ≈ −745…−708, where silu′ is subnormal and A = e loses its bits). The
float64 bar of silu′ is 2 ULP (the registry's ``ulp_bar``).
"""

from __future__ import annotations

import argparse
import functools

import _versus
import numpy as np
from numba import njit, prange

import actlab
from actlab import oracle
from actlab.kernels import _exp64 as X
from actlab.kernels._numba_math import fma


@njit(parallel=True, error_model="numpy", fastmath={"contract"})
def plain_silu_vjp(x, g, out):
    """g·silu′(x) = g·A·(d + x·B)/d², every step rounded in float64 (e from the kernels' exp
    of −|x|, rounded once)."""
    for i in prange(x.shape[0]):
        v = x[i]
        t, _, r = X.reduce(-abs(v), -0.0)
        st = X.up_pow2(t)
        e = fma(st, X.expm1_lean(r), st) * 2.0**-200
        d = 1.0 + e
        a = e if v < 0 else 1.0
        b = 1.0 if v < 0 else e
        out[i] = g[i] * (a * (d + v * b) / (d * d))


def _max_ulps(run, rng) -> dict[str, float]:
    """The largest error of g·silu′ in ULP of the exact product, per kind of point."""
    entry = actlab.get("silu")
    places = {
        "N(0, 4²)": rng.standard_normal(3000) * 4,
        "near the root": rng.uniform(-1.6, -1.0, 3000),
        "subnormal silu′": rng.uniform(-745.0, -708.0, 3000),
    }
    worst = {}
    for name, x in places.items():
        g = rng.standard_normal(x.size)
        got = run(x, g)
        mp = oracle.mpmath()
        grads = oracle.exact(entry, 1, [float(v) for v in x], {})
        with mp.workdps(oracle.DIGITS):
            exact = [mp.mpf(float(gi)) * d for gi, d in zip(g, grads, strict=True)]
            hi = np.array([float(v) for v in exact])
            lo = np.array([float(v - h) for v, h in zip(exact, hi, strict=True)])
        spacing = np.spacing(np.abs(hi))
        worst[name] = float(np.max(np.abs((got - hi) - lo) / spacing))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2**25)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    x = rng.standard_normal(args.n) * 4.0
    g = rng.standard_normal(args.n)
    out = np.empty_like(x)
    torch = _versus.torch_or_none()

    def ours(xs, gs, o=None):
        return actlab.silu_vjp(xs, gs, out=o)

    def plain(xs, gs, o=None):
        o = np.empty_like(xs) if o is None else o
        plain_silu_vjp(xs, gs, o)
        return o

    candidates = {"actlab (the kernel)": ours, "plain float64, same exp": plain}
    errors = {name: _max_ulps(fn, np.random.default_rng(2)) for name, fn in candidates.items()}
    if torch is not None:
        tx, tg, to = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(out)
        candidates["PyTorch aten.silu_backward"] = lambda xs, gs, o=None: (
            torch.ops.aten.silu_backward.grad_input(tg, tx, grad_input=to)
        )
        candidates["PyTorch aten.silu_backward"](x, g)  # a first call may err (torch_first_call.py)
        errors["PyTorch aten.silu_backward"] = _max_ulps(
            lambda xs, gs: torch.ops.aten.silu_backward(
                torch.from_numpy(gs), torch.from_numpy(xs)
            ).numpy(),
            np.random.default_rng(2),
        )
    reference = "PyTorch aten.silu_backward" if torch is not None else "actlab (the kernel)"
    calls = {name: functools.partial(fn, x, g, out) for name, fn in candidates.items()}
    times = _versus.ratios(calls, reference, args.rounds, torch)
    title = f"float64 g·silu′ of {args.n} elements; median of {args.rounds} rounds"
    _versus.print_table(title, "PyTorch" if torch is not None else "actlab", times, errors)


if __name__ == "__main__":
    main()
