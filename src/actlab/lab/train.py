"""The training loop of the lab: minibatches drawn by a seeded generator, per-step loss and
weight-gradient norms, periodic evaluation and probes, and a clean stop when a run diverges.

"Per step" here means: the training loss and the Frobenius norm of every weight gradient are
recorded after every optimiser step (cheap: they are already in memory); the full probes
(dead, saturated, activation statistics) run every ``probe_every`` steps on a fixed probe set,
because they need a pass over that set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..layers import Loss, Module, Optimizer, check_labels
from ._experiment import quiet
from .datasets import Dataset
from .probes import ProbeReport, probe

__all__ = ["History", "accuracy", "fit", "predict"]


@dataclass
class History:
    """What one training run measured. ``diverged`` runs stop at the step named in
    ``message``; their later entries are simply absent."""

    loss: list[float] = field(default_factory=list)
    grad_norms: list[list[float]] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    probes: list[tuple[int, ProbeReport]] = field(default_factory=list)
    steps: int = 0
    target_step: int | None = None
    diverged: bool = False
    message: str | None = None
    wall_s: float = 0.0

    @property
    def final_accuracy(self) -> float:
        return self.test_accuracy[-1] if self.test_accuracy else math.nan


def predict(model: Module, x: np.ndarray, batch: int = 2048) -> np.ndarray:
    """Class predictions (arg-max of the outputs) in eval mode; the mode is restored."""
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        with quiet():
            out = [
                np.argmax(model.forward(x[i : i + batch]), axis=1) for i in range(0, len(x), batch)
            ]
    finally:
        for m, mode in zip(model.modules(), modes, strict=True):
            m.training = mode
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def accuracy(model: Module, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, x) == y))


def _weights(model: Module) -> list[Any]:
    return [p for p in model.parameters() if p.name == "weight" and p.value.ndim == 2]


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    data: Dataset,
    *,
    rng: np.random.Generator,
    epochs: int | None = None,
    steps: int | None = None,
    batch_size: int = 64,
    eval_every: int | None = None,
    target_accuracy: float | None = None,
    stop_at_target: bool = False,
    probe_every: int | None = None,
    probe_x: np.ndarray | None = None,
    probe_y: np.ndarray | None = None,
    record_grad_norms: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> History:
    """Train ``model`` on ``data.x_train`` for ``epochs`` passes or ``steps`` minibatches.

    Test accuracy is measured every ``eval_every`` steps (default: once per epoch) and after
    the last step; ``target_step`` is the first evaluated step at which it reached
    ``target_accuracy``. A non-finite loss stops the run with ``diverged=True``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    n = len(data.y_train)
    check_labels(data.y_train, n, data.n_classes, "training labels")
    per_epoch = math.ceil(n / batch_size)
    if steps is None:
        if epochs is None or epochs < 1:
            raise ValueError(f"give epochs ≥ 1 or steps ≥ 1, got epochs={epochs}, steps={steps}")
        steps = epochs * per_epoch
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    eval_every = eval_every or per_epoch
    probe_x = data.x_train if probe_x is None else probe_x
    probe_y = data.y_train if probe_y is None else probe_y
    weights = _weights(model) if record_grad_norms else []
    hist = History()
    start = time.perf_counter()
    model.train()
    order = np.zeros(0, dtype=np.int64)
    with quiet():  # a diverging run is reported, not warned about
        for step in range(1, steps + 1):
            pos = ((step - 1) % per_epoch) * batch_size
            if pos == 0:
                order = rng.permutation(n)
            idx = order[pos : pos + batch_size]
            optimizer.zero_grad()
            value = loss.forward(model.forward(data.x_train[idx]), data.y_train[idx])
            hist.loss.append(value)
            hist.steps = step
            if not math.isfinite(value):
                hist.diverged = True
                hist.message = (
                    f"diverged: the training loss became {value} at step {step} "
                    f"(epoch {(step - 1) // per_epoch + 1}); stopped there"
                )
                break
            model.backward(loss.backward())
            if weights:
                hist.grad_norms.append([float(np.sqrt(np.sum(w.grad * w.grad))) for w in weights])
            optimizer.step()
            if probe_every and step % probe_every == 0:
                hist.probes.append((step, probe(model, loss, probe_x, probe_y)))
            if step % eval_every == 0 or step == steps:
                acc = accuracy(model, data.x_test, data.y_test)
                hist.eval_steps.append(step)
                hist.test_accuracy.append(acc)
                reached = target_accuracy is not None and acc >= target_accuracy
                if reached and hist.target_step is None:
                    hist.target_step = step
                    if stop_at_target:
                        break
            if progress is not None:
                progress(step, steps)
    hist.wall_s = time.perf_counter() - start
    return hist
