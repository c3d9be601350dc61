"""What the report says about the machine: CPU model and cores, versions, and how much CPU
the *other* processes used while a table ran (a benchmark on a shared 2-core box is only as
good as the quiet it ran in)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import time

__all__ = ["LoadMonitor", "cpu_description", "versions"]

PACKAGES = ("actlab", "numpy", "scipy", "torch", "jax", "jaxlib", "numexpr", "numba", "llvmlite")


def cpu_description() -> dict[str, str]:
    """Model name, cores, caches and SIMD flags from ``lscpu`` (Linux), else ``platform``."""
    info = {
        "model": platform.processor() or platform.machine(),
        "logical cpus": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        text = subprocess.run(
            ["lscpu"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return info
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    wanted = {
        "Model name": "model",
        "CPU(s)": "logical cpus",
        "Thread(s) per core": "threads per core",
        "Hypervisor vendor": "hypervisor",
        "L1d cache": "L1d",
        "L2 cache": "L2",
        "L3 cache": "L3",
        "CPU max MHz": "max MHz",
    }
    for key, label in wanted.items():
        if key in fields:
            info[label] = fields[key]
    flags = set(fields.get("Flags", "").split())
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in flags]
    if flags:
        info["SIMD"] = " ".join(simd) or "none of sse4_2/avx/avx2/fma/avx512f"
    return info


def versions() -> dict[str, str]:
    """Installed versions of actlab and the peers (``not installed`` where absent)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _busy_seconds() -> float | None:
    """CPU seconds spent by all processes since boot (non-idle time of every core)."""
    try:
        with open("/proc/stat") as fh:
            parts = fh.readline().split()
    except OSError:
        return None
    ticks = [int(v) for v in parts[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class LoadMonitor:
    """Cores used by other processes between ``start()`` and ``stop()``: the machine's busy
    time (user, system, interrupts, and time stolen by the hypervisor) minus this process's
    CPU time, divided by the wall time. NaN off Linux."""

    def __init__(self) -> None:
        self._t0 = self._own0 = 0.0
        self._busy0: float | None = None

    def start(self) -> None:
        self._busy0 = _busy_seconds()
        self._own0 = time.process_time()
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        busy = _busy_seconds()
        wall = time.perf_counter() - self._t0
        if busy is None or self._busy0 is None or wall <= 0:
            return float("nan")
        own = time.process_time() - self._own0
        return max(0.0, (busy - self._busy0 - own) / wall)


def _status_kib(field_name: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    raise OSError(f"{field_name} not in /proc/self/status")


class PeakMemory:
    """Peak resident memory a call adds (MiB), from the kernel's high-water mark, which
    ``/proc/self/clear_refs`` resets (Linux ≥ 4.0). It sees every allocator (NumPy, numba's,
    PyTorch's, XLA's), unlike tracemalloc. NaN where unavailable."""

    def __init__(self) -> None:
        self._base = float("nan")
        self.available = True

    def start(self) -> None:
        if not self.available:
            return
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self._base = _status_kib("VmRSS")
        except OSError:
            self.available = False

    def stop(self) -> float:
        if not self.available:
            return float("nan")
        try:
            return max(0.0, _status_kib("VmHWM") - self._base) / 1024
        except OSError:
            return float("nan")
