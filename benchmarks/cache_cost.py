"""First-call cost of the compiled kernels. Run it twice with the same empty cache folder
(`d=$(mktemp -d); NUMBA_CACHE_DIR=$d python benchmarks/cache_cost.py` twice): the first run
compiles and caches the kernels it uses, the second loads them from disk."""

import importlib
import time

import numpy as np

start = time.perf_counter()
actlab = importlib.import_module("actlab")  # timed: the import itself compiles nothing
import_seconds = time.perf_counter() - start

x32 = np.linspace(-5, 5, 1 << 16, dtype=np.float32).reshape(64, -1)
calls = {
    "sigmoid f32": lambda: actlab.sigmoid(x32),
    "softmax f32": lambda: actlab.softmax(x32),
    "cross-entropy f32": lambda: actlab.cross_entropy_with_grad(x32, np.zeros(64, int)),
    "softmax f64": lambda: actlab.softmax(x32.astype(np.float64)),
    "sigmoid f64": lambda: actlab.sigmoid(x32.astype(np.float64)),
}
seconds = {}
for name, call in calls.items():
    start = time.perf_counter()
    call()
    seconds[name] = time.perf_counter() - start
print(f"import {import_seconds:.2f} s;", "; ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))
