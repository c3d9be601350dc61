"""What ``gated_cost.py``, ``tanh_cost.py`` and ``softmax_exp_cost.py`` share: candidates
timed in one process, interleaved, against a reference at 2 and 1 threads, and their table
with the errors."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

import actlab


def torch_or_none():
    """PyTorch, or None where it is not installed (the table is then against actlab)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def ratios(
    candidates: dict[str, Callable[[], object]], reference: str, rounds: int, torch
) -> dict[str, dict[int, float]]:
    """Per candidate and thread count (2, 1): the median over ``rounds`` rounds (after one
    that warms up and is dropped) of its time ÷ the reference's in the same round."""
    result: dict[str, dict[int, float]] = {name: {} for name in candidates}
    for threads in (2, 1):
        actlab.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        times: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(rounds + 1):
            for name, call in candidates.items():
                t0 = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t0)
        for name in candidates:
            per_round = np.array(times[name][1:]) / np.array(times[reference][1:])
            result[name][threads] = float(np.median(per_round))
    return result


def _ulps(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def print_table(
    title: str, versus: str, times: dict[str, dict[int, float]], errors: dict[str, dict]
) -> None:
    """The candidates' rows: × the reference at 2 and 1 threads, then the largest error per
    kind of point (None: not measured, "—")."""
    print(title)
    places = list(next(iter(errors.values())))
    head = " | ".join(f"max ULP, {p}" for p in places)
    print(f"| candidate | × {versus} 2T | × {versus} 1T | {head} |")
    print("|---|---|---|" + "---|" * len(places))
    for name, by_threads in times.items():
        errs = " | ".join(_ulps(errors[name][p]) for p in places)
        print(f"| {name} | {by_threads[2]:.2f} | {by_threads[1]:.2f} | {errs} |")
