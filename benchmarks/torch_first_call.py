"""Whether PyTorch's first tanh in a process computes all of its array with its accurate
kernel (found while measuring ``tanh_cost.py``: some first calls erred by 1.5e3 ULP).

    python benchmarks/torch_first_call.py [--processes 10] [--threads 2]

Each of ``--processes`` fresh processes calls ``torch.tanh`` on 400,000 float32 values of
N(0, 4²) three times (at ``--threads`` threads) and counts, per call, the results more than
1 ULP from tanh (float64, rounded: exact enough for float32), with the first and last such
index. A call with such results computed them with another kernel than the calls after it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, numpy as np, torch
torch.set_num_threads({threads})
x = (np.random.default_rng(2).standard_normal(400_000) * 4).astype(np.float32)
exact = np.tanh(x.astype(np.float64))
spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
calls = []
for _ in range(3):
    bad = np.nonzero(np.abs(torch.tanh(torch.from_numpy(x)).numpy() - exact) / spacing > 1)[0]
    ends = [int(bad.min()), int(bad.max())] if len(bad) else [None, None]
    calls.append([len(bad), *ends])
print(json.dumps(calls))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    code = CHILD.format(threads=args.threads)
    print(f"torch.tanh, float32, 400000 elements, {args.threads} threads: results > 1 ULP off")
    print("| process | 1st call (count, first, last index) | 2nd call | 3rd call |")
    print("|---|---|---|---|")
    for p in range(args.processes):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr)
        calls = json.loads(done.stdout.splitlines()[-1])
        print(f"| {p + 1} | " + " | ".join(str(tuple(c)) for c in calls) + " |")


if __name__ == "__main__":
    main()
