"""``Sequential`` (layers in a row, with shape checks that name the layers) and ``MLP``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..registry import get
from ._module import LayerShapeError, Module
from .activation import Activation
from .learnable import Maxout, PReLU, RReLU, Swish
from .linear import Linear

__all__ = ["MLP", "Sequential", "activation_layer", "default_init"]


def _widths(layer: Module) -> tuple[int | None, int | None]:
    """(input width, output width) a layer insists on; None where any width goes."""
    if isinstance(layer, (Linear, Maxout)):
        return layer.in_features, layer.out_features
    if isinstance(layer, PReLU) and layer.weight.shape[0] > 1:
        return layer.weight.shape[0], layer.weight.shape[0]
    if isinstance(layer, Activation) and layer.entry.kind == "grouped":
        return None, None
    if isinstance(layer, Sequential):
        ins = [w for w in (_widths(m) for m in layer.layers) if w[0] is not None]
        outs = [w for w in (_widths(m) for m in layer.layers) if w[1] is not None]
        return (ins[0][0] if ins else None), (outs[-1][1] if outs else None)
    return None, None


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a Module")
        self.layers = tuple(layers)
        self._check_widths()

    def _check_widths(self) -> None:
        width, source = None, None
        for i, layer in enumerate(self.layers):
            w_in, w_out = _widths(layer)
            if isinstance(layer, Activation) and layer.entry.kind == "grouped":
                pieces = layer.params["pieces"]
                if width is not None and width % pieces:
                    raise LayerShapeError(
                        f"Sequential: layer {i} {layer!r} groups {pieces} units, but layer "
                        f"{source} {self.layers[source]!r} gives {width}, not a multiple"
                    )
                width = None if width is None else width // pieces
                continue
            if w_in is not None and width is not None and w_in != width:
                raise LayerShapeError(
                    f"Sequential: layer {i} {layer!r} expects {w_in} input features, but "
                    f"layer {source} {self.layers[source]!r} gives {width}"
                )
            if w_out is not None:
                width, source = w_out, i

    def __repr__(self) -> str:
        inner = ", ".join(repr(m) for m in self.layers)
        return f"{type(self).__name__}({inner})"

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def children(self) -> tuple[Module, ...]:
        return self.layers

    def forward(self, x: Any) -> np.ndarray:
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except LayerShapeError as exc:
                raise LayerShapeError(f"layer {i}: {exc}") from None
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


def default_init(activation: str) -> str:
    """Glorot for the squashing functions it was derived for (sigmoid, tanh), He otherwise."""
    if activation == "maxout":
        return "he"
    props = get(activation).properties
    return "glorot" if {"bounded_above", "bounded_below", "smooth"} <= props else "he"


def activation_layer(
    name: str, *, rng: np.random.Generator, params: Mapping[str, Any] | None = None
) -> Module:
    """The layer the lab uses for ``name``: the learnable/random ones get their own class
    (PReLU learns its slope, Swish its β, RReLU draws slopes); every other registry entry is
    an ``Activation`` with fixed parameters."""
    params = dict(params or {})
    canonical = get(name).name
    if canonical == "prelu":
        return PReLU(params.pop("num_parameters", 1), init=params.pop("weight", 0.25))
    if canonical == "swish":
        return Swish(params.pop("beta", 1.0), learnable=params.pop("learnable", True))
    if canonical == "rrelu":
        return RReLU(params.pop("lower", 1 / 8), params.pop("upper", 1 / 3), rng=rng)
    return Activation(canonical, **params)


class MLP(Sequential):
    """in → hidden… → out: ``Linear`` + activation per hidden layer, a plain ``Linear`` out
    (the logits; the loss layer applies softmax). ``activation="maxout"`` makes each hidden
    layer a ``Maxout`` with ``pieces`` affine maps per unit."""

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "relu",
        *,
        rng: np.random.Generator,
        init: str | None = None,
        bias_init: float = 0.0,
        pieces: int = 2,
        activation_params: Mapping[str, Any] | None = None,
        output_gain: float = 1.0,
    ) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"MLP: rng must be a numpy.random.Generator, got {rng!r}")
        is_maxout = activation == "maxout"
        if not is_maxout:
            activation = get(activation).name  # unknown names fail here, with suggestions
        self.activation = activation
        init = init or default_init(activation)
        layers: list[Module] = []
        width = in_features
        for h in hidden:
            if is_maxout:
                layers.append(Maxout(width, h, pieces, rng=rng, init=init, bias_init=bias_init))
            else:
                layers.append(Linear(width, h, init=init, rng=rng, bias_init=bias_init))
                layers.append(activation_layer(activation, rng=rng, params=activation_params))
            width = h
        out_init = "glorot" if init == "glorot" else "lecun"
        layers.append(Linear(width, out_features, init=out_init, rng=rng, gain=output_gain))
        super().__init__(*layers)
