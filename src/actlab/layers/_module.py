"""The module protocol every layer follows: forward, backward, parameters, modes.

``forward(x)`` keeps what ``backward`` needs; ``backward(g)`` takes ∂L/∂output, returns
∂L/∂input and *adds* ∂L/∂θ into each parameter's ``grad`` (so gradients of several backward
passes accumulate until ``zero_grad``, as in PyTorch). Everything is float64 NumPy: the lab
compares its networks with PyTorch to float64 round-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LayerShapeError", "Module", "Parameter", "as_input"]


class LayerShapeError(ValueError):
    """An array whose shape does not fit the layer it is given to."""


@dataclass(eq=False)
class Parameter:
    """A learnable array and the gradient accumulated for it (same shape, float64)."""

    value: np.ndarray
    name: str = ""
    grad: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.value = np.array(self.value, dtype=np.float64)
        self.grad = np.zeros_like(self.value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def zero_grad(self) -> None:
        self.grad[...] = 0.0


def as_input(x: Any, layer: str) -> np.ndarray:
    """``x`` as a float64 array, or a clear error naming the layer."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{layer}: input must be a real array, got {type(x).__name__}") from exc
    return a


class Module:
    """Base of every layer: train/eval mode, parameter bookkeeping, ``__call__``."""

    training: bool = True

    def forward(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: Any) -> np.ndarray:
        return self.forward(x)

    def own_parameters(self) -> tuple[Parameter, ...]:
        """The parameters this module holds itself (not its children's)."""
        return ()

    def children(self) -> tuple[Module, ...]:
        return ()

    def parameters(self) -> list[Parameter]:
        """Every parameter of this module and its children, in a fixed order."""
        out = list(self.own_parameters())
        for child in self.children():
            out.extend(child.parameters())
        return out

    def modules(self) -> Iterator[Module]:
        yield self
        for child in self.children():
            yield from child.modules()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def _need_forward(self, cached: Any) -> None:
        if cached is None:
            raise RuntimeError(f"{self!r}: backward called before forward")

    def _check_grad(self, grad: Any, shape: tuple[int, ...]) -> np.ndarray:
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != shape:
            raise LayerShapeError(
                f"{self!r}: backward got a gradient of shape {g.shape}, "
                f"but the forward output had shape {shape}"
            )
        return g
