"""Optimisers: SGD with momentum and Adam, with PyTorch's update rules (the parity test
trains the same network in both and compares to float64 round-off)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._module import Parameter

__all__ = ["SGD", "Adam", "Optimizer"]


def _check_lr(name: str, lr: Any) -> float:
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: lr must be a number, got {lr!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: learning rate lr must be > 0 and finite, got {lr!r}")
    return value


class Optimizer:
    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: expected Parameters, got {p!r}")
        self.lr = _check_lr(type(self).__name__, lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """v ← μ·v + g (v = g on the first step), θ ← θ − lr·v; plain SGD when μ = 0."""

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            g = p.grad
            if self.momentum:
                v = self._velocity[i]
                if v is None:
                    v = self._velocity[i] = g.copy()
                else:
                    v *= self.momentum
                    v += g
                g = v
            p.value -= self.lr * g


class Adam(Optimizer):
    """Kingma & Ba (2015), bias-corrected, in the operation order of ``torch.optim.Adam``."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be > 0, got {eps!r}")
        self.betas, self.eps = (float(b1), float(b2)), float(eps)
        self._m = [np.zeros_like(p.value) for p in self.params]
        self._v = [np.zeros_like(p.value) for p in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        bias1 = 1.0 - b1**self.t
        bias2 = 1.0 - b2**self.t
        step_size = self.lr / bias1
        root_bias2 = math.sqrt(bias2)
        for p, m, v in zip(self.params, self._m, self._v, strict=True):
            g = p.grad
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v) / root_bias2 + self.eps
            p.value -= step_size * (m / denom)
