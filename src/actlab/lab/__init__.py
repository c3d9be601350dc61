"""The lab: small NumPy networks on real data that measure what the textbooks claim.

``EXPERIMENTS`` maps each experiment's name to its record (``name``, ``title``, ``claim``,
``run(*, seed=0, size="default", progress=None)``); ``run(name, ...)`` runs one by name. A
result is a dataclass with ``to_dict()`` (JSON-ready; the same seed gives the same dict, bit
for bit), ``finding`` (one sentence computed from the measurements), ``claim_holds`` and
``table()``. Figures are in ``actlab.plotting.lab``; the command is ``actlab lab``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from . import dead_relu, output_pairing, shootout, vanishing, zero_centred
from ._experiment import Experiment, Result, check_seed, check_size, one_kernel_thread
from .datasets import Dataset, circles, digits, spirals
from .probes import LayerProbe, ProbeReport, probe
from .train import History, accuracy, fit, predict

__all__ = [
    "EXPERIMENTS",
    "Dataset",
    "Experiment",
    "History",
    "LayerProbe",
    "ProbeReport",
    "Result",
    "UnknownExperimentError",
    "accuracy",
    "circles",
    "digits",
    "fit",
    "predict",
    "probe",
    "run",
    "spirals",
]


def _on_one_kernel_thread(run: Callable[..., Result]) -> Callable[..., Result]:
    @functools.wraps(run)
    def wrapper(*, seed: int = 0, size: str = "default", progress: Any = None) -> Result:
        with one_kernel_thread():
            return run(seed=seed, size=size, progress=progress)

    return wrapper


EXPERIMENTS: MappingProxyType[str, Experiment] = MappingProxyType(
    {
        m.NAME: Experiment(m.NAME, m.TITLE, m.CLAIM, _on_one_kernel_thread(m.run))
        for m in (vanishing, dead_relu, output_pairing, zero_centred, shootout)
    }
)


class UnknownExperimentError(KeyError, ValueError):
    """An experiment name that is not in ``EXPERIMENTS`` (the message lists the choices)."""

    def __str__(self) -> str:
        return str(self.args[0])


def get(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(EXPERIMENTS), n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownExperimentError(
            f"unknown experiment {name!r}{hint} (choices: {', '.join(EXPERIMENTS)})"
        ) from None


def run(
    name: str,
    *,
    seed: int = 0,
    size: str = "default",
    progress: Callable[[int, int, str], None] | None = None,
) -> Any:
    """Run the experiment ``name`` with ``seed`` at ``size`` ("default" or "tiny")."""
    experiment = get(name)
    return experiment.run(seed=check_seed(seed), size=check_size(size), progress=progress)
