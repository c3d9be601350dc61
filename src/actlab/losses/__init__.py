"""Losses: cross-entropy on logits, negative log-likelihood, binary cross-entropy on logits
and squared error, each with its gradient w.r.t. the prediction. Importing registers them."""

from __future__ import annotations

from .binary import binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad
from .cross_entropy import cross_entropy, cross_entropy_grad, cross_entropy_with_grad
from .nll import nll_loss, nll_loss_grad
from .regression import mse_loss, mse_loss_grad

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "cross_entropy_with_grad",
    "mse_loss",
    "mse_loss_grad",
    "nll_loss",
    "nll_loss_grad",
]
