"""Probes for any ``Sequential`` network: per layer, the gradient norm of its weights and of
its activations, dead and saturated units, and the mean and spread of the activations.

Definitions (on the probe set ``x``, usually the training set or a fixed batch):
- dead unit: f′(z) = 0 for *every* example, so no gradient reaches its weights at all;
- inactive unit: z ≤ 0 for every example (a leaky unit can be inactive yet still learn);
- saturated fraction: the share of (example, unit) pairs with |f′(z)| < ``threshold``;
- activation gradient norm: ‖∂L/∂a‖ of the layer's output a, over the probe set;
- weight gradient norm: ‖∂L/∂W‖ (Frobenius) of the Linear layers.
A probe runs its own forward and backward pass in eval mode and leaves the network as it
found it (mode and accumulated gradients). Non-finite values are reported (as NaN and in
``message``), never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..layers import Activation, Linear, Loss, Module, Sequential
from ..layers.learnable import Maxout
from ._experiment import quiet

__all__ = ["LayerProbe", "ProbeReport", "flatten", "probe"]


@dataclass(frozen=True)
class LayerProbe:
    index: int
    layer: str
    kind: str  # "linear", "activation" (elementwise or maxout), "output" (softmax…), "other"
    weight_grad_norm: float | None
    activation_grad_norm: float
    dead_fraction: float | None
    inactive_fraction: float | None
    saturated_fraction: float | None
    mean: float
    std: float


@dataclass(frozen=True)
class ProbeReport:
    loss: float
    layers: tuple[LayerProbe, ...]
    finite: bool
    message: str | None

    def of_kind(self, kind: str) -> tuple[LayerProbe, ...]:
        return tuple(p for p in self.layers if p.kind == kind)


def flatten(model: Module) -> list[Module]:
    """The leaf layers of nested ``Sequential`` containers, in order."""
    if isinstance(model, Sequential):
        return [leaf for layer in model.layers for leaf in flatten(layer)]
    return [model]


def _weight(layer: Module) -> Any:
    if isinstance(layer, Linear):
        return layer.weight
    if isinstance(layer, Maxout):
        return layer.linear.weight
    return None


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(a * a)))


def probe(
    model: Module, loss: Loss, x: np.ndarray, y: np.ndarray, *, threshold: float = 1e-2
) -> ProbeReport:
    """Measure every layer of ``model`` on (``x``, ``y``); see the module docstring."""
    layers = flatten(model)
    params = model.parameters()
    saved_grads = [p.grad.copy() for p in params]
    was_training = [m.training for m in model.modules()]
    model.eval()
    try:
        with quiet():
            return _probe(model, layers, loss, np.asarray(x, dtype=np.float64), y, threshold)
    finally:
        for p, g in zip(params, saved_grads, strict=True):
            p.grad[...] = g
        for m, mode in zip(model.modules(), was_training, strict=True):
            m.training = mode


def _probe(
    model: Module, layers: list[Module], loss: Loss, x: np.ndarray, y: Any, threshold: float
) -> ProbeReport:
    model.zero_grad()
    inputs, outputs = [], []
    h = x
    for layer in layers:
        inputs.append(h)
        h = layer.forward(h)
        outputs.append(h)
    value = float(loss.forward(h, y))
    g = loss.backward()
    out_grads: list[np.ndarray] = [None] * len(layers)  # type: ignore[list-item]
    for i in range(len(layers) - 1, -1, -1):
        out_grads[i] = g
        g = layers[i].backward(g)
    rows, bad = [], []
    for i, layer in enumerate(layers):
        a = outputs[i]
        w = _weight(layer)
        derivative = getattr(layer, "derivative", None)
        dead = inactive = saturated = None
        kind = "linear" if isinstance(layer, Linear) else "other"
        if isinstance(layer, Activation) and layer.entry.kind != "elementwise":
            kind, derivative = "output", None  # softmax and friends: a VJP, no f′ per unit
        if derivative is not None:
            kind = "activation"
            d = np.abs(np.asarray(derivative(inputs[i])))
            z = inputs[i] if not isinstance(layer, Maxout) else a
            dead = float(np.mean(np.all(d == 0, axis=0)))
            inactive = float(np.mean(np.all(z <= 0, axis=0)))
            saturated = float(np.mean(d < threshold))
        row = LayerProbe(
            index=i,
            layer=repr(layer),
            kind=kind,
            weight_grad_norm=None if w is None else _norm(w.grad),
            activation_grad_norm=_norm(out_grads[i]),
            dead_fraction=dead,
            inactive_fraction=inactive,
            saturated_fraction=saturated,
            mean=float(np.mean(a)),
            std=float(np.std(a)),
        )
        if not np.all(np.isfinite(a)):
            bad.append(f"layer {i} {layer!r} has non-finite outputs")
        rows.append(row)
    finite = bool(np.isfinite(value)) and not bad
    if not np.isfinite(value):
        bad.insert(0, f"the loss is {value}")
    return ProbeReport(value, tuple(rows), finite, "; ".join(bad) or None)
