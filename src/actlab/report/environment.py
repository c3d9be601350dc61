"""What the report was produced on: versions, CPU, threads, dtypes."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path

import numpy as np

from .. import __version__

_PACKAGES = ("numpy", "array-api-compat", "mpmath", "matplotlib", "scikit-learn", "scipy",
             "torch", "jax", "numba")  # fmt: skip


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict[str, str]:
    env = {
        "actlab": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "CPU": cpu_model(),
        "cores available": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                               else os.cpu_count()),
        "long double": f"{np.finfo(np.longdouble).nmant + 1}-bit mantissa "
        "(float64 is computed in it where it is wider)",
        "lab dtype": "float64",
    }  # fmt: skip
    for name in _PACKAGES:
        try:
            env[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            env[name] = "not installed"
    for var in ("OMP_NUM_THREADS", "ACTLAB_NUM_THREADS", "ACTLAB_KERNELS"):
        if var in os.environ:
            env[var] = os.environ[var]
    return env
