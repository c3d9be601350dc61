"""``Activation``: any registry entry as a layer; its backward is the registry's analytic f′.

Elementwise entries multiply the upstream gradient by ``entry.grad(x)``; the row functions
(softmax, log_softmax, softmin along the last axis) and maxout use their registered VJPs.
Parameters are fixed here; the learnable versions are in ``actlab.layers.learnable``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Elementwise, Grouped, VectorFunction, get
from ._module import Module, as_input

__all__ = ["Activation"]


class Activation(Module):
    """The registry entry ``name`` (or an alias) applied with fixed ``params``.

    ``Activation("rrelu")`` is the deterministic eval-mode rrelu (the mean slope); use
    ``actlab.layers.RReLU`` for random slopes in training. An unknown name raises
    ``actlab.UnknownActivationError`` with the close matches.
    """

    def __init__(self, name: str, **params: Any) -> None:
        entry = get(name)
        if not isinstance(entry, (Elementwise, VectorFunction, Grouped)):
            raise TypeError(
                f"Activation: {entry.name} is a {entry.kind} function, not an activation; "
                "use the loss layers of actlab.layers for losses"
            )
        if isinstance(entry, Grouped) and "pieces" not in params:
            raise TypeError(f"Activation: {entry.name} needs pieces=K (the group size)")
        known = {p.name for p in entry.params} | set(entry.options)
        unknown = sorted(set(params) - known)
        if unknown:
            raise TypeError(
                f"Activation: {entry.name} has no parameter {', '.join(unknown)} "
                f"(it takes: {', '.join(sorted(known)) or 'nothing'})"
            )
        self.entry = entry
        self.name = entry.name
        self.params = {**entry.defaults, **params} if isinstance(entry, Elementwise) else params
        if isinstance(entry, Elementwise):
            entry.fn(np.zeros(1), **self.params)  # validates the parameters' domains now
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Activation({self.name}{', ' if shown else ''}{shown})"

    def forward(self, x: Any) -> np.ndarray:
        x = as_input(x, repr(self))
        self._x = x
        self._y = np.asarray(self.entry.fn(x, **self.params))
        return self._y

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """f′(x), elementwise entries only (the probes use it for dead and saturated units)."""
        if not isinstance(self.entry, Elementwise):
            raise TypeError(f"{self.name} is not elementwise; it has a VJP, not an f′")
        return np.asarray(self.entry.grad(x, **self.params))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._x)
        x = self._x
        g = self._check_grad(grad, self._y.shape)
        if isinstance(self.entry, Elementwise):
            return g * self.derivative(x)
        if isinstance(self.entry, VectorFunction):
            return np.asarray(self.entry.vjp(x, g, -1, y=self._y, **self.params))
        return np.asarray(self.entry.vjp(x, g, **self.params))
