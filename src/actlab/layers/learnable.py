"""Activations with parameters or randomness: PReLU, Swish-β, Maxout, RReLU.

Each uses the registry's functions and their analytic derivatives: ``prelu_grad_weight``,
``swish_grad_beta`` give ∂f/∂θ elementwise and the layer sums them over the batch;
``maxout_vjp`` routes the gradient to the arg-max piece; ``rrelu`` returns the slopes it drew
so that the backward pass uses the very same ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functions.gated import swish, swish_grad, swish_grad_beta
from ..functions.maxout import maxout, maxout_vjp
from ..functions.prelu import prelu, prelu_grad, prelu_grad_weight
from ..functions.randomized import rrelu, rrelu_grad
from ._module import LayerShapeError, Module, Parameter, as_input
from .linear import Linear

__all__ = ["Maxout", "PReLU", "RReLU", "Swish"]


class PReLU(Module):
    """max(0, x) + a·min(0, x) with a learnable slope a: one for all units
    (``num_parameters=1``) or one per unit (feature axis 1), as ``torch.nn.PReLU``."""

    name = "prelu"

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        n = num_parameters
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"PReLU: num_parameters must be an integer ≥ 1, got {n!r}")
        self.weight = Parameter(np.full(n, float(init)), "weight")
        self._x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"PReLU({self.weight.shape[0]})"

    def own_parameters(self) -> tuple[Parameter, ...]:
        return (self.weight,)

    def forward(self, x: Any) -> np.ndarray:
        x = as_input(x, repr(self))
        n = self.weight.shape[0]
        if n > 1 and (x.ndim < 2 or x.shape[1] != n):
            raise LayerShapeError(f"{self!r}: expected {n} features on axis 1, got shape {x.shape}")
        self._x = x
        return np.asarray(prelu(x, self.weight.value, axis=1))

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(prelu_grad(x, self.weight.value, axis=1))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._x)
        x = self._x
        g = self._check_grad(grad, x.shape)
        dw = g * np.asarray(prelu_grad_weight(x, self.weight.value, axis=1))
        if self.weight.shape[0] == 1:
            self.weight.grad += dw.sum()
        else:
            self.weight.grad += dw.sum(axis=tuple(a for a in range(x.ndim) if a != 1))
        return g * self.derivative(x)


class Swish(Module):
    """x·σ(βx); β is learned when ``learnable`` (one scalar for the layer)."""

    name = "swish"

    def __init__(self, beta: float = 1.0, learnable: bool = True) -> None:
        self.beta = Parameter(np.array(float(beta)), "beta")
        self.learnable = bool(learnable)
        self._x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Swish(beta={float(self.beta.value):g}, learnable={self.learnable})"

    def own_parameters(self) -> tuple[Parameter, ...]:
        return (self.beta,) if self.learnable else ()

    def forward(self, x: Any) -> np.ndarray:
        x = as_input(x, repr(self))
        self._x = x
        return np.asarray(swish(x, float(self.beta.value)))

    def derivative(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(swish_grad(x, float(self.beta.value)))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._x)
        x = self._x
        g = self._check_grad(grad, x.shape)
        if self.learnable:
            self.beta.grad += np.sum(g * np.asarray(swish_grad_beta(x, float(self.beta.value))))
        return g * self.derivative(x)


class Maxout(Module):
    """``out_features`` units, each the max of ``pieces`` affine maps of the input
    (Goodfellow et al., 2013): a ``Linear(in, out·pieces)`` followed by ``maxout``."""

    name = "maxout"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int,
        *,
        rng: np.random.Generator,
        init: str = "he",
        bias_init: float = 0.0,
    ) -> None:
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1:
            raise ValueError(f"Maxout: pieces must be an integer ≥ 1, got {pieces!r}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(
            in_features, out_features * pieces, init=init, rng=rng, bias_init=bias_init
        )
        self._z: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Maxout({self.in_features}→{self.out_features}, pieces={self.pieces})"

    def children(self) -> tuple[Module, ...]:
        return (self.linear,)

    def forward(self, x: Any) -> np.ndarray:
        self._z = self.linear.forward(x)
        return np.asarray(maxout(self._z, self.pieces, axis=-1))

    def derivative(self, x: np.ndarray) -> np.ndarray:
        # Each output unit passes the gradient of its arg-max piece with slope 1: never dead,
        # never saturated (what the probes report for it).
        return np.ones((x.shape[0], self.out_features))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._z)
        g = self._check_grad(grad, (self._z.shape[0], self.out_features))
        return self.linear.backward(np.asarray(maxout_vjp(self._z, g, self.pieces, axis=-1)))


class RReLU(Module):
    """Leaky relu whose negative slope is drawn from U(lower, upper) per element in train
    mode (from ``rng``), and is the mean slope (lower + upper)/2 in eval mode."""

    name = "rrelu"

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, *, rng: Any = 0) -> None:
        rrelu(np.zeros(1), lower, upper)  # validates lower ≤ upper and their domains
        self.lower, self.upper = float(lower), float(upper)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._x: np.ndarray | None = None
        self._slopes: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"RReLU(lower={self.lower:g}, upper={self.upper:g})"

    def forward(self, x: Any) -> np.ndarray:
        x = as_input(x, repr(self))
        self._x = x
        if self.training:
            y, self._slopes = rrelu(
                x, self.lower, self.upper, training=True, rng=self.rng, return_slopes=True
            )
            return np.asarray(y)
        self._slopes = None
        return np.asarray(rrelu(x, self.lower, self.upper))

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """f′ in eval mode (the mean slope on the left): what the probes measure."""
        return np.asarray(rrelu_grad(x, self.lower, self.upper))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self._need_forward(self._x)
        x = self._x
        g = self._check_grad(grad, x.shape)
        if self._slopes is not None:
            d = rrelu_grad(x, self.lower, self.upper, training=True, slopes=self._slopes)
            return g * np.asarray(d)
        return g * self.derivative(x)
