"""Losses as layers: ``forward(output, target)`` returns the mean loss (a float) and
``backward()`` its gradient with respect to ``output``, from the registry's analytic gradients
(softmax − one-hot for cross-entropy, never through log(softmax))."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functions.softmax import log_softmax, softmax
from ..losses import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    mse_loss,
    mse_loss_grad,
    nll_loss,
    nll_loss_grad,
)
from ._module import LayerShapeError

__all__ = [
    "BCEWithLogitsLoss",
    "LabelError",
    "Loss",
    "MSELoss",
    "NLLLoss",
    "SoftmaxCrossEntropy",
    "check_labels",
    "one_hot",
]


class LabelError(ValueError):
    """Class labels that are not integers in [0, n_classes)."""


def check_labels(labels: Any, n: int, n_classes: int, where: str) -> np.ndarray:
    """``labels`` as an int64 vector of length ``n`` with values in [0, n_classes)."""
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise LabelError(f"{where}: labels must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise LayerShapeError(f"{where}: expected {n} labels (one per row), got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)]
        raise LabelError(
            f"{where}: labels must be in [0, {n_classes}) for {n_classes} outputs, "
            f"got {bad[:5].tolist()}"
        )
    return y.astype(np.int64, copy=False)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def _as_output(output: Any, where: str) -> np.ndarray:
    z = np.asarray(output, dtype=np.float64)
    if z.ndim != 2:
        raise LayerShapeError(f"{where}: expected outputs of shape (batch, classes), got {z.shape}")
    return z


class Loss:
    """Base: ``loss(output, target)`` → float; ``backward()`` → ∂loss/∂output."""

    name = "loss"

    def __call__(self, output: Any, target: Any) -> float:
        return self.forward(output, target)

    def forward(self, output: Any, target: Any) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def _saved(self) -> tuple[np.ndarray, np.ndarray]:
        if getattr(self, "_z", None) is None:
            raise RuntimeError(f"{type(self).__name__}: backward called before forward")
        return self._z, self._t


class SoftmaxCrossEntropy(Loss):
    """Mean of logsumexp(z) − z[target] over the batch; gradient (softmax(z) − q)/N, with q
    the one-hot target (smoothed by ``label_smoothing``).

    Computed from the registry's ``log_softmax`` and ``softmax`` (one row pass each) rather
    than ``cross_entropy``/``cross_entropy_grad``: the general loss also handles ignored
    targets, class weights and masks, which the lab never uses, and costs tens of times more
    per minibatch. The tests check that both give the same numbers.
    """

    name = "softmax-cross-entropy"

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self._z: np.ndarray | None = None

    def _q(self, t: np.ndarray, n_classes: int) -> np.ndarray:
        q = one_hot(t, n_classes)
        if self.label_smoothing:
            q = (1.0 - self.label_smoothing) * q + self.label_smoothing / n_classes
        return q

    def forward(self, output: Any, target: Any) -> float:
        z = _as_output(output, type(self).__name__)
        self._z = z
        self._t = check_labels(target, z.shape[0], z.shape[1], type(self).__name__)
        log_p = np.asarray(log_softmax(z, axis=-1))
        if not self.label_smoothing:
            return float(-np.mean(log_p[np.arange(z.shape[0]), self._t]))
        return float(-np.mean(np.sum(self._q(self._t, z.shape[1]) * log_p, axis=1)))

    def backward(self) -> np.ndarray:
        z, t = self._saved()
        return (np.asarray(softmax(z, axis=-1)) - self._q(t, z.shape[1])) / z.shape[0]


class NLLLoss(Loss):
    """Mean of −log_probs[target]; pair it with ``Activation("log_softmax")``."""

    name = "nll"

    def __init__(self) -> None:
        self._z: np.ndarray | None = None

    def forward(self, output: Any, target: Any) -> float:
        z = _as_output(output, type(self).__name__)
        self._z = z
        self._t = check_labels(target, z.shape[0], z.shape[1], type(self).__name__)
        return float(nll_loss(z, self._t))

    def backward(self) -> np.ndarray:
        z, t = self._saved()
        return np.asarray(nll_loss_grad(z, t))


class _Elementwise(Loss):
    """Targets are an array of the output's shape, or class labels turned into one-hot rows."""

    def __init__(self) -> None:
        self._z: np.ndarray | None = None

    def _target(self, z: np.ndarray, target: Any) -> np.ndarray:
        t = np.asarray(target)
        if t.ndim == 1:
            return one_hot(check_labels(t, z.shape[0], z.shape[1], type(self).__name__), z.shape[1])
        if t.shape != z.shape:
            raise LayerShapeError(
                f"{type(self).__name__}: target shape {t.shape} does not match output {z.shape}"
            )
        return t.astype(np.float64)

    def forward(self, output: Any, target: Any) -> float:
        z = _as_output(output, type(self).__name__)
        self._z, self._t = z, self._target(z, target)
        return float(self._loss(z, self._t))

    def backward(self) -> np.ndarray:
        z, t = self._saved()
        return np.asarray(self._grad(z, t))


class MSELoss(_Elementwise):
    """Mean over every element of (output − target)²; labels become one-hot targets (so a
    sigmoid or softmax output layer with this loss is the classic squared-error pairing).

    ``sum_over_classes=True`` sums over the outputs of a row and averages over rows: the
    textbook quadratic cost Σⱼ(aⱼ − yⱼ)², whose gradient is not divided by the class count.
    """

    name = "mse"

    def __init__(self, sum_over_classes: bool = False) -> None:
        super().__init__()
        self.sum_over_classes = bool(sum_over_classes)

    def _loss(self, z: np.ndarray, t: np.ndarray) -> float:
        if self.sum_over_classes:
            return float(mse_loss(z, t, reduction="sum")) / z.shape[0]
        return float(mse_loss(z, t))

    def _grad(self, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.sum_over_classes:
            return np.asarray(mse_loss_grad(z, t, reduction="sum")) / z.shape[0]
        return np.asarray(mse_loss_grad(z, t))


class BCEWithLogitsLoss(_Elementwise):
    """Mean binary cross-entropy of sigmoid(output) against targets in [0, 1] (or one-hot)."""

    name = "bce-with-logits"
    _loss = staticmethod(binary_cross_entropy_with_logits)
    _grad = staticmethod(binary_cross_entropy_with_logits_grad)
