"""The lab's data: scikit-learn's bundled handwritten digits (offline) and two 2-D sets.

Every split and every synthetic point comes from a ``numpy.random.Generator`` seeded by the
caller, so a seed fixes the data exactly. scikit-learn is imported only when the digits are
first loaded (never at ``import actlab``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "circles", "digits", "spirals", "stratified_split"]


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays (float64 features, int64 labels)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def subset(self, n_train: int, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` training and ``n_test`` test examples (the splits are
        already shuffled, so a prefix keeps every class): for the tiny configurations."""
        n_test = len(self.y_test) if n_test is None else n_test
        return Dataset(
            self.name,
            self.x_train[:n_train],
            self.y_train[:n_train],
            self.x_test[:n_test],
            self.y_test[:n_test],
            self.n_classes,
        )


def stratified_split(
    y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in the same proportion, both shuffled."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = round(test_fraction * len(idx))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0  # pixels are 0..16
    y = np.asarray(bunch.target, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def digits(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """1,797 8×8 digits (64 features in [0, 1], 10 classes), split stratified by ``seed``:
    1,438 training and 359 test images at the default fraction (20 % of each class,
    rounded)."""
    x, y = _digits_arrays()
    train, test = stratified_split(y, test_fraction, np.random.default_rng([seed, 1797]))
    return Dataset("digits", x[train], y[train], x[test], y[test], 10)


def _split(name: str, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> Dataset:
    train, test = stratified_split(y, 0.25, rng)
    return Dataset(name, x[train], y[train], x[test], y[test], int(y.max()) + 1)


def spirals(n: int = 400, noise: float = 0.15, turns: float = 1.75, seed: int = 0) -> Dataset:
    """Two interleaved spirals in the plane (``n`` points in all, two classes)."""
    rng = np.random.default_rng([seed, 2])
    half = n // 2
    t = np.sqrt(rng.uniform(0.0, 1.0, half)) * turns * 2 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (turns * 2 * np.pi) * 2.5
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * half, 2))
    y = np.repeat(np.arange(2), half)
    return _split("spirals", x, y, rng)


def circles(n: int = 400, noise: float = 0.1, factor: float = 0.5, seed: int = 0) -> Dataset:
    """A disc inside a ring (radii ``factor``·2 and 2): two classes, not linearly separable."""
    rng = np.random.default_rng([seed, 3])
    half = n // 2
    angle = rng.uniform(0.0, 2 * np.pi, 2 * half)
    radius = np.repeat([2.0, 2.0 * factor], half)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += noise * 2 * rng.standard_normal(x.shape)
    y = np.repeat(np.arange(2), half)
    return _split("circles", x, y, rng)
