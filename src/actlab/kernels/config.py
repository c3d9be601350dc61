"""Which kernel tier runs, on how many threads, and where compiled kernels are cached.

Two tiers compute the same results (the accuracy audit runs on both):

* ``"numba"``: fused compiled kernels (a vectorisable polynomial exp, one pass per row),
  compiled on first use and cached on disk. The default when numba is installed.
* ``"numpy"``: the pure-NumPy path, processed in cache-sized blocks in place.

Settings, in order of precedence: ``set_backend_tier``/``set_num_threads`` at run time, then
the environment (``ACTLAB_KERNELS=numpy|numba``, ``ACTLAB_NUM_THREADS``, else
``NUMBA_NUM_THREADS`` or ``OMP_NUM_THREADS``), then the defaults (numba if importable, all
cores). Nothing here imports numba: ``import actlab`` compiles nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading

__all__ = [
    "TIERS",
    "cache_dir",
    "cpu_features",
    "get_backend_tier",
    "get_num_threads",
    "get_row_kernel_min_size",
    "has_avx512f",
    "numba_available",
    "set_backend_tier",
    "set_num_threads",
    "set_row_kernel_min_size",
]

TIERS = ("numba", "numpy")

_lock = threading.Lock()
_state: dict[str, object] = {"tier": None, "threads": None, "row_min": 1 << 14}


def numba_available() -> bool:
    """Whether numba can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a broken install, or sys.modules["numba"] = None
        return False


def _tier_from_env() -> str:
    value = os.environ.get("ACTLAB_KERNELS", "").strip().lower()
    if value == "":
        return "numba" if numba_available() else "numpy"
    if value not in TIERS:
        raise ValueError(f"ACTLAB_KERNELS must be one of {TIERS}, got {value!r}")
    if value == "numba" and not numba_available():
        raise ValueError("ACTLAB_KERNELS=numba, but numba is not installed")
    return value


def get_backend_tier() -> str:
    """The kernel tier in use: ``"numba"`` or ``"numpy"``."""
    with _lock:
        if _state["tier"] is None:
            _state["tier"] = _tier_from_env()
        return str(_state["tier"])


def set_backend_tier(tier: str) -> str:
    """Choose the kernel tier (``"numba"`` or ``"numpy"``); returns the previous one.

    ``"numba"`` needs numba installed. Results agree between the tiers within the accuracy
    bars (both are audited); only the speed differs.
    """
    if not isinstance(tier, str) or tier not in TIERS:
        raise ValueError(f"set_backend_tier: tier must be one of {TIERS}, got {tier!r}")
    if tier == "numba" and not numba_available():
        raise ValueError("set_backend_tier: tier 'numba' needs numba, which is not installed")
    previous = get_backend_tier()
    with _lock:
        _state["tier"] = tier
    return previous


def _positive_int(name: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return n


def _threads_from_env() -> int:
    for name in ("ACTLAB_NUM_THREADS", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            # OMP_NUM_THREADS may be a list ("4,2") for nested levels: the first is ours.
            return _positive_int(name, value.split(",")[0])
    return os.cpu_count() or 1


def get_num_threads() -> int:
    """How many threads the kernels use (both tiers)."""
    with _lock:
        if _state["threads"] is None:
            _state["threads"] = _threads_from_env()
        return int(_state["threads"])  # type: ignore[arg-type]


def set_num_threads(n: int) -> int:
    """Use ``n`` threads in the kernels (default: all cores); returns the previous count.

    The numba tier cannot use more threads than its pool, which numba sizes once per process
    from ``NUMBA_NUM_THREADS`` (default: all cores); a larger ``n`` is capped there.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    previous = get_num_threads()
    with _lock:
        _state["threads"] = n
    return previous


def get_row_kernel_min_size() -> int:
    """Arrays with fewer elements than this take the NumPy path in the row functions
    (softmax family, logsumexp, cross-entropy) even on the numba tier."""
    return int(_state["row_min"])  # type: ignore[arg-type]


def set_row_kernel_min_size(n: int) -> int:
    """Set the size from which the row functions use the compiled kernels; returns the old one.

    Default 16384 elements: below it the NumPy path gives the correctly rounded result (the
    compiled kernels are within the accuracy bars: the full row audit of
    docs/performance.md), at a higher fixed cost per call (one row of 10: about 130 µs
    against 13 µs, ``python benchmarks/small_calls.py``). 0 sends every size to the
    kernels: the choice for small batches where the bars suffice (the test suite sets it,
    to audit the kernels on small arrays).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"set_row_kernel_min_size: n must be a non-negative integer, got {n!r}")
    with _lock:
        previous = int(_state["row_min"])  # type: ignore[arg-type]
        _state["row_min"] = n
    return previous


def cpu_features(host: str) -> str:
    """The CPU features numba compiles the kernels for, from the host's (LLVM's list, e.g.
    ``"+avx2,+avx512f,…"``): the host's, and on a CPU with AVX-512 without the tuning
    ``prefer-256-bit``. LLVM's models of Intel's server cores (Skylake-SP to Emerald Rapids)
    set it, so that code is split into 256-bit halves, the kernels' 64-byte lines included,
    and PyTorch's AVX-512 kernels did twice the work per instruction. Lifting it changes the
    instructions chosen, not the operations (no fast-math beyond the kernels' own); what it
    gains and costs per kernel: `python benchmarks/vector_width.py` (`docs/performance.md`)."""
    return host + ",-prefer-256-bit" if has_avx512f(host) else host


def has_avx512f(features: str) -> bool:
    """Whether an LLVM feature list (``"+avx2,+avx512f,…"``) enables AVX-512F."""
    return "+avx512f" in features.split(",")


def cache_dir() -> str:
    """Where numba caches the compiled kernels: ``<base>/<digest>``.

    ``<base>`` is ``$NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/actlab/numba``
    (``~/.cache/actlab/numba``), so a read-only install still caches. ``<digest>`` hashes
    the kernel sources: numba checks only the timestamp of the file that defines a kernel,
    not of the inlined functions it calls from other modules, so an edit there would
    otherwise load stale machine code.
    """
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "actlab",
        "numba",
    )
    return os.path.join(base, _source_digest())


def _source_digest() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in sorted(os.listdir(here)):
        if name.endswith(".py"):
            h.update(name.encode())
            with open(os.path.join(here, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]
