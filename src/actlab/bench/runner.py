"""The suite: for each table, its data and exact reference, every candidate, the interleaved
timing, and the ratios. Library code: it reports progress through a callback, never prints."""

from __future__ import annotations

import datetime
import gc
import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import cand_actlab, cand_frameworks, cand_numpy
from .harness import Candidate, Skipped, measure
from .machine import LoadMonitor, PeakMemory, cpu_description, versions
from .ratios import TableResult, summarise
from .refs import reference
from .workloads import SIZES, TableSpec, make_data, tables

__all__ = ["PEERS", "Options", "SuiteResult", "run_suite"]

PEERS = ("seed", "scipy", "numexpr", "torch", "jax")
_MODULE = {"scipy": "scipy", "numexpr": "numexpr", "torch": "torch", "jax": "jax"}


@dataclass
class Options:
    only: Sequence[str] | None = None
    threads: Sequence[int] = (2, 1)
    dtypes: Sequence[str] = ("float32", "float64")
    size: str = "full"
    peers: Sequence[str] = PEERS
    # Five rounds: the fewest for which the verdicts' intervals reach 90% coverage.
    min_rounds: int = 5
    max_rounds: int = 6
    budget_s: float = 3.0
    samples: int = 1024
    # Peers slower than this × the fastest after one round get no more rounds (None: all).
    slow_factor: float | None = 4.0
    # A candidate whose first call took longer than this many seconds gets one round: at the
    # issue's sizes 2 s is over 40× the largest copy, far from every bar, and three more such
    # calls per candidate would make the run twice as long.
    long_call_s: float | None = 2.0

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {tuple(SIZES)}, got {self.size!r}")
        bad = [t for t in self.threads if not isinstance(t, int) or t < 1]
        if bad or not self.threads:
            raise ValueError(f"threads must be positive integers, got {list(self.threads)}")
        bad_d = [d for d in self.dtypes if d not in ("float32", "float64")]
        if bad_d or not self.dtypes:
            raise ValueError(f"dtypes must be float32 and/or float64, got {list(self.dtypes)}")
        unknown = [p for p in self.peers if p not in PEERS]
        if unknown:
            raise ValueError(f"peers must be among {PEERS}, got {unknown}")


@dataclass
class SuiteResult:
    tables: list[TableResult]
    options: dict[str, Any]
    machine: dict[str, str]
    versions: dict[str, str]
    environment: dict[str, str]
    skipped_peers: dict[str, str]
    started: str
    wall_s: float = float("nan")
    command: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def missing_peers(peers: Sequence[str]) -> dict[str, str]:
    """The requested peer libraries that are not installed, with the reason."""
    out = {}
    for p in peers:
        module = _MODULE.get(p)
        if module is not None and importlib.util.find_spec(module) is None:
            out[p] = f"{module} is not installed"
    return out


def candidates_for(
    spec: TableSpec, data: Any, threads: Sequence[int], peers: Sequence[str]
) -> tuple[list[Candidate], list[Skipped]]:
    """Every candidate of a table (actlab, the floor, the peers, the copies) and the skips."""
    found: list[Candidate | Skipped] = []

    def add(family: str, build: Callable[[], list]) -> None:
        try:
            found.extend(build())
        except Exception as exc:  # a broken peer installation is reported, not fatal
            found.append(Skipped(family, family, f"could not be set up: {exc!r}"))

    add("actlab", lambda: cand_actlab.build(spec, data, threads))
    add("floor", lambda: cand_actlab.floor(spec, data, threads))
    add("numpy", lambda: [c for c in cand_numpy.build(spec, data, threads) if c.family in peers])
    if "torch" in peers:
        add("torch", lambda: cand_frameworks.torch_candidates(spec, data, threads))
    if "jax" in peers:
        add("jax", lambda: cand_frameworks.jax_candidates(spec, data))
    found += cand_numpy.memcpy(data)
    cands = [c for c in found if isinstance(c, Candidate)]
    skipped = [c for c in found if isinstance(c, Skipped)]
    return cands, skipped


def _restore_threads(peers: Sequence[str]) -> Callable[[], None]:
    """Undo the thread settings the candidates made (actlab's, PyTorch's)."""
    import actlab

    undo: list[Callable[[], None]] = []
    get_n = getattr(actlab, "get_num_threads", None)
    set_n = getattr(actlab, "set_num_threads", None)
    if get_n is not None and set_n is not None:
        n = get_n()
        undo.append(lambda: set_n(n))
    try:
        torch = importlib.import_module("torch") if "torch" in peers else None
        if torch is not None:
            tn = torch.get_num_threads()
            undo.append(lambda: torch.set_num_threads(tn))
        ne = importlib.import_module("numexpr") if "numexpr" in peers else None
        if ne is not None:
            nn = ne.get_num_threads()
            undo.append(lambda: ne.set_num_threads(nn))
    except Exception:  # pragma: no cover - a broken peer must not stop the suite
        pass

    def restore() -> None:
        for u in undo:
            u()

    return restore


def run_suite(
    options: Options,
    progress: Callable[[str], None] = lambda message: None,
    *,
    candidate_factory: Callable[..., tuple[list[Candidate], list[Skipped]]] | None = None,
) -> SuiteResult:
    """Run the selected tables; ``candidate_factory`` replaces the real candidates (tests)."""
    t_start = time.perf_counter()
    specs = tables(options.only, options.dtypes, options.size)
    ncores = os.cpu_count() or 1
    skipped_peers = missing_peers(options.peers)
    peers = [p for p in options.peers if p not in skipped_peers]
    result = SuiteResult(
        tables=[],
        options={
            k: list(v) if isinstance(v, (list, tuple)) else v for k, v in asdict(options).items()
        },
        machine=cpu_description(),
        versions=versions(),
        environment={
            k: os.environ.get(k, "(unset)")
            for k in (
                "OMP_WAIT_POLICY",
                "OMP_NUM_THREADS",
                "NUMBA_NUM_THREADS",
                "ACTLAB_NUM_THREADS",
                "XLA_FLAGS",
            )
        },
        skipped_peers={
            **skipped_peers,
            **{p: "not requested (--peers)" for p in PEERS if p not in options.peers},
        },
        started=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    if cand_actlab.thread_setter() is None:
        result.notes.append(
            "actlab.set_num_threads is not available: actlab ran with its own thread count, "
            "shown as 1 thread and compared at every thread count."
        )
    factory = candidate_factory or (
        lambda spec, data: candidates_for(spec, data, options.threads, peers)
    )
    restore = _restore_threads(peers)
    cache: dict[Any, np.ndarray] = {}
    group = None
    try:
        for i, spec in enumerate(specs, 1):
            progress(f"[{i}/{len(specs)}] {spec.title}")
            if (spec.dtype, spec.shape, spec.kind in ("elementwise", "vjp", "vjp_y")) != group:
                cache.clear()
                gc.collect()
                group = (spec.dtype, spec.shape, spec.kind in ("elementwise", "vjp", "vjp_y"))
            result.tables.append(_run_table(spec, options, cache, factory, ncores))
    finally:
        restore()
        cache.clear()
    result.wall_s = time.perf_counter() - t_start
    return result


def _run_table(
    spec: TableSpec,
    options: Options,
    cache: dict[Any, np.ndarray],
    factory: Callable[..., tuple[list[Candidate], list[Skipped]]],
    ncores: int,
) -> TableResult:
    data = make_data(spec, cache)
    with np.errstate(all="ignore"):  # the textbook formulas overflow and cancel by design
        ref = reference(spec, data, options.samples)
        cands, skipped = factory(spec, data)
        errors: dict[str, tuple[float, float]] = {}

        def check(c: Candidate, result: Any) -> None:
            if c.role not in ("copy", "floor") and c.checked:
                errors[c.name] = ref.errors(result)

        monitor = LoadMonitor()
        monitor.start()
        timings = measure(
            cands,
            min_rounds=options.min_rounds,
            max_rounds=options.max_rounds,
            budget_s=options.budget_s,
            on_first=check,
            memory=PeakMemory(),
            slow_factor=options.slow_factor,
            long_call_s=options.long_call_s,
        )
        other = monitor.stop()
    table = summarise(
        key=spec.key,
        workload=spec.workload,
        title=spec.title,
        dtype=spec.dtype,
        bar=spec.bar,
        candidates=cands,
        timings=timings,
        copy_scale=data.copy_scale,
        errors=errors,
        skipped=skipped,
        thread_counts=options.threads,
        ncores=ncores,
        other_load=other,
    )
    del data, cands, timings
    return table
