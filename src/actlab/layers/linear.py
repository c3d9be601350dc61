"""``Linear``: y = x W + b, with Glorot/Xavier, He/Kaiming and LeCun initialisation.

W has shape (in_features, out_features) so that a batch of rows multiplies from the left with
one BLAS call (PyTorch stores the transpose). The schemes keep the variance of the signal
roughly constant from layer to layer for the activation each was derived for:
Glorot (tanh-like, fan average), He (relu: half the units are off, so twice the variance),
LeCun (fan-in, self-normalising nets).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._module import LayerShapeError, Module, Parameter, as_input

__all__ = ["INITS", "Linear", "init_weight"]


def _glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def _glorot_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def _he_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def _lecun_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=(fan_in, fan_out))


def _lecun_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    limit = math.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


INITS = {
    "glorot": _glorot_uniform,
    "glorot_uniform": _glorot_uniform,
    "xavier": _glorot_uniform,
    "glorot_normal": _glorot_normal,
    "he": _he_normal,
    "he_normal": _he_normal,
    "kaiming": _he_normal,
    "he_uniform": _he_uniform,
    "lecun": _lecun_normal,
    "lecun_normal": _lecun_normal,
    "lecun_uniform": _lecun_uniform,
}


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Linear: {name} must be a positive integer, got {value!r}")
    return int(value)


def init_weight(
    scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator, gain: float = 1.0
) -> np.ndarray:
    """A (fan_in, fan_out) weight drawn by ``scheme`` (a key of ``INITS``), times ``gain``."""
    try:
        draw = INITS[scheme]
    except KeyError:
        raise ValueError(f"init must be one of {sorted(INITS)}, got {scheme!r}") from None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return gain * draw(fan_in, fan_out, rng)


class Linear(Module):
    """An affine layer. ``rng`` (a ``numpy.random.Generator``) draws the weights; the bias
    starts at ``bias_init`` (a constant: the dead-ReLU experiment shifts it)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: str = "he",
        rng: np.random.Generator,
        bias: bool = True,
        bias_init: float = 0.0,
        gain: float = 1.0,
    ) -> None:
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        self.init = init
        self.weight = Parameter(
            init_weight(init, self.in_features, self.out_features, rng, gain), "weight"
        )
        self.bias = (
            Parameter(np.full(self.out_features, float(bias_init)), "bias") if bias else None
        )
        self._x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Linear({self.in_features}→{self.out_features})"

    def own_parameters(self) -> tuple[Parameter, ...]:
        return (self.weight,) if self.bias is None else (self.weight, self.bias)

    def forward(self, x: Any) -> np.ndarray:
        x = as_input(x, repr(self))
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise LayerShapeError(
                f"{self!r}: expected input of shape (batch, {self.in_features}), got {x.shape}"
            )
        self._x = x
        y = x @ self.weight.value
        if self.bias is not None:
            y += self.bias.value
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._x)
        x = self._x
        g = self._check_grad(grad, (x.shape[0], self.out_features))
        self.weight.grad += x.T @ g
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)
        return g @ self.weight.value.T
