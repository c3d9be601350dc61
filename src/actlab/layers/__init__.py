"""Learnable layers in NumPy (float64): a small module protocol, ``Linear`` with Glorot, He
and LeCun initialisation, any registry activation as a layer (backward from its analytic f′),
PReLU, Swish-β, Maxout, RReLU, ``Sequential``/``MLP``, the losses and SGD/Adam.

``forward(x)`` returns the output; ``backward(g)`` returns ∂L/∂input and accumulates the
parameter gradients into ``Parameter.grad``; ``zero_grad()``, ``train()``, ``eval()``.
"""

from __future__ import annotations

from ._module import LayerShapeError, Module, Parameter
from .activation import Activation
from .containers import MLP, Sequential, activation_layer, default_init
from .learnable import Maxout, PReLU, RReLU, Swish
from .linear import INITS, Linear, init_weight
from .losses import (
    BCEWithLogitsLoss,
    LabelError,
    Loss,
    MSELoss,
    NLLLoss,
    SoftmaxCrossEntropy,
    check_labels,
    one_hot,
)
from .optim import SGD, Adam, Optimizer

__all__ = [
    "INITS",
    "MLP",
    "SGD",
    "Activation",
    "Adam",
    "BCEWithLogitsLoss",
    "LabelError",
    "LayerShapeError",
    "Linear",
    "Loss",
    "MSELoss",
    "Maxout",
    "Module",
    "NLLLoss",
    "Optimizer",
    "PReLU",
    "Parameter",
    "RReLU",
    "Sequential",
    "SoftmaxCrossEntropy",
    "Swish",
    "activation_layer",
    "check_labels",
    "default_init",
    "init_weight",
    "one_hot",
]
