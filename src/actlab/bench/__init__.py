"""The CPU benchmark suite of issue 6 (``actlab bench``, ``benchmarks/run.py``).

actlab against the seeds' textbook NumPy, SciPy, PyTorch (1 and 2 threads), JAX (jit) and
numexpr, with a memory copy of the same bytes and the exp-only floor as references; all
candidates of a table in one process, interleaved, median of rounds; a correctness column
against the mpmath references. ``import actlab`` never imports this package.
"""

from __future__ import annotations

from .harness import Candidate, Skipped, Timing, measure
from .ratios import Bar, TableResult, summarise
from .report import from_json, to_json, to_markdown
from .runner import PEERS, Options, SuiteResult, run_suite
from .workloads import SIZES, WORKLOADS, tables

__all__ = [
    "PEERS",
    "SIZES",
    "WORKLOADS",
    "Bar",
    "Candidate",
    "Options",
    "Skipped",
    "SuiteResult",
    "TableResult",
    "Timing",
    "from_json",
    "measure",
    "run_suite",
    "summarise",
    "tables",
    "to_json",
    "to_markdown",
]
