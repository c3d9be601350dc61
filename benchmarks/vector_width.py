"""What 512-bit vectors give the compiled kernels on a CPU with AVX-512
(``actlab.kernels.config.cpu_features``).

    python benchmarks/vector_width.py [--threads 1] [--rounds 7]

The cases run in two processes, each with an empty kernel cache: ``512-bit``, with the
features actlab chooses (LLVM's ``prefer-256-bit`` lifted), and ``256-bit``, with numba's
host features as LLVM reports them (``NUMBA_CPU_FEATURES`` set to them: actlab leaves a
user's choice alone). Each prints the median time of every case; the table gives both and
their ratio (512-bit ÷ 256-bit: below 1 is faster). On a CPU without AVX-512 both are the
same code.
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

N = 1 << 25
CASES = {  # name → (shape, call of (actlab, x, g, out))
    "sigmoid": ((N,), lambda a, x, g, o: a.sigmoid(x, out=o)),
    "tanh": ((N,), lambda a, x, g, o: a.tanh(x, out=o)),
    "silu": ((N,), lambda a, x, g, o: a.silu(x, out=o)),
    "g·silu′": ((N,), lambda a, x, g, o: a.silu_vjp(x, g, out=o)),
    "g·softplus′": ((N,), lambda a, x, g, o: a.softplus_vjp(x, g, out=o)),
    "relu": ((N,), lambda a, x, g, o: a.relu(x, out=o)),
    "softmax 8192×8192": ((8192, 8192), lambda a, x, g, o: a.softmax(x, axis=-1, out=o)),
    "log_softmax 4000000×10": (
        (4_000_000, 10),
        lambda a, x, g, o: a.log_softmax(x, axis=-1, out=o),
    ),
}


def measure(threads: int, rounds: int) -> dict[str, float]:
    """The median time in ms of every case and dtype, in this process."""
    import actlab

    actlab.set_num_threads(threads)
    rng = np.random.default_rng(0)
    times = {}
    for dtype in (np.float32, np.float64):
        for name, (shape, call) in CASES.items():
            x = (rng.standard_normal(shape) * 5).astype(dtype)
            g = rng.standard_normal(shape).astype(dtype)
            out = np.empty_like(x)
            call(actlab, x, g, out)  # compiles, or loads from the cache
            spent = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                call(actlab, x, g, out)
                spent.append(time.perf_counter() - t0)
            times[f"{name} {np.dtype(dtype).name}"] = 1e3 * float(np.median(spent))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.threads, args.rounds)))
        return
    from llvmlite import binding

    host = binding.get_host_cpu_features().flatten()
    print(f"{binding.get_host_cpu_name()}, {args.threads} thread(s), median of {args.rounds}")
    results = {}
    for label, features in (("512-bit", None), ("256-bit", host)):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            env.pop("NUMBA_CPU_FEATURES", None)
            if features is not None:
                env["NUMBA_CPU_FEATURES"] = features
            command = [sys.executable, __file__, "--child"]
            command += ["--threads", str(args.threads), "--rounds", str(args.rounds)]
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        results[label] = json.loads(done.stdout.splitlines()[-1])
    print("| case | 512-bit ms | 256-bit ms | ratio |")
    print("|---|---|---|---|")
    for case, wide in results["512-bit"].items():
        narrow = results["256-bit"][case]
        print(f"| {case} | {wide:.1f} | {narrow:.1f} | {wide / narrow:.2f} |")


if __name__ == "__main__":
    main()
