"""Central finite differences in float64 for the layer tests (helpers; no tests here)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from actlab.layers import Module


def numeric_grad(f: Callable[[], float], a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂a by central differences, perturbing ``a`` in place (restored afterwards)."""
    out = np.zeros_like(a)
    flat, gflat = a.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return out


def check_module(module: Module, x: np.ndarray, seed: int = 0, rtol: float = 1e-6) -> None:
    """Input and parameter gradients of sum(g ⊙ module(x)) against finite differences."""
    rng = np.random.default_rng(seed)
    y = module.forward(x)
    g = rng.standard_normal(y.shape)
    module.zero_grad()
    gx = module.backward(g)

    def f() -> float:
        return float(np.sum(g * module.forward(x)))

    scale = 1e-8
    num_x = numeric_grad(f, x)
    np.testing.assert_allclose(gx, num_x, rtol=rtol, atol=scale * max(1.0, np.abs(num_x).max()))
    for p in module.parameters():
        num = numeric_grad(f, p.value)
        np.testing.assert_allclose(
            p.grad, num, rtol=rtol, atol=scale * max(1.0, np.abs(num).max()), err_msg=p.name
        )
