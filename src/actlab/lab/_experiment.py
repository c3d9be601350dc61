"""What every experiment shares: its record, the result base class, seeds, JSON conversion."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Experiment", "Result", "Tracker", "jsonable", "quiet", "rng_for"]

SIZES = ("default", "tiny")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No floating-point warnings while a run may be diverging: it is reported instead.

    ``np.errstate`` covers this thread; the warnings filter also covers the worker threads in
    which actlab may evaluate large arrays in blocks (they do not inherit ``np.errstate``).
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@contextlib.contextmanager
def one_kernel_thread() -> Iterator[None]:
    """Run actlab's kernels and BLAS on one thread while an experiment runs (restored
    afterwards).

    The lab's arrays are small (a minibatch of at most a few thousand numbers), so handing
    them to a thread pool costs more than it gains; on a busy 2-core machine it cost 600×
    (relu and its f′ on 128×32: 23 ms on the default pool against 37 µs on one thread), and
    BLAS threads spinning on 128×64 products doubled the CPU time of a run.
    """
    from ..kernels import set_num_threads

    previous = set_num_threads(1)
    try:
        with contextlib.ExitStack() as stack:
            try:  # threadpoolctl comes with scikit-learn, the lab's data dependency
                from threadpoolctl import threadpool_limits
            except ImportError:  # pragma: no cover - BLAS keeps its own threads then
                pass
            else:
                stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
            yield
    finally:
        set_num_threads(previous)


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator determined by ``seed`` and the run's keys (each key hashed from its repr
    with CRC-32, which, unlike ``hash``, is the same in every process): runs never share a
    stream, and adding a run never changes another's numbers."""
    ints = [check_seed(seed)] + [zlib.crc32(repr(k).encode()) for k in keys]
    return np.random.default_rng(ints)


def jsonable(value: Any) -> Any:
    """Python scalars, lists and dicts only; non-finite floats become None (JSON has none)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into JSON")


@dataclass
class Result:
    """Base of the experiments' results. Subclasses add their measured fields, ``finding``
    and ``claim_holds``; ``timings`` (wall-clock seconds) are kept apart because they are the
    one thing a seed does not fix: ``to_dict()`` leaves them out unless asked."""

    name: str
    seed: int
    size: str
    config: dict[str, Any]

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        out = {
            f.name: jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "timings"
        }
        out["finding"] = self.finding
        out["claim_holds"] = self.claim_holds
        if timings:
            out["timings"] = jsonable(getattr(self, "timings", {}))
        return out

    @property
    def finding(self) -> str:
        raise NotImplementedError

    @property
    def claim_holds(self) -> bool | None:
        raise NotImplementedError

    def table(self) -> tuple[list[str], list[list[Any]]]:
        raise NotImplementedError


@dataclass(frozen=True)
class Experiment:
    """One lab experiment: the claim it tests and how to run it."""

    name: str
    title: str
    claim: str
    run: Callable[..., Result]


class Tracker:
    """Calls ``progress(done, total, message)`` after each unit of work, if given."""

    def __init__(self, progress: Callable[[int, int, str], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def tick(self, message: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, message)


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return size


def fmt(v: float | None, spec: str = ".3g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)
