"""Every figure the seed tutorials draw, redrawn from the registry's exact functions.

The seeds (``shared/seeds/``, five posts in Chinese) plot: the softmax probabilities of the
logits −5…5 (001); sigmoid on [−10, 10] (003, 004); tanh, sigmoid against tanh, the
derivatives of sigmoid (peak 0.25 at 0) and tanh, ReLU and its derivative, ReLU6, Leaky ReLU,
ELU (004); Swish with β = 0.1, 1, 10 on x in [−5, 3], y in [−2, 3] (004); Softplus with Mish
(004). Each entry below names its source and draws the same view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

import actlab

from ._figure import new_figure, style_axes
from .curves import function_figure


@dataclass(frozen=True)
class SeedFigure:
    key: str
    title: str
    source: str  # which seed draws it, and how
    draw: Callable[[], Figure]


def _softmax_of_logits() -> Figure:
    # Seed 001 plots the probabilities of np.arange(-5, 6) as a line with markers.
    logits = np.arange(-5.0, 6.0)
    fig, (ax,) = new_figure(1, 1, width=8.0, row_height=4.0)
    (line,) = ax.plot(logits, actlab.softmax(logits), marker="o", linestyle="-")
    line.set_gid("softmax:logits=-5..5")
    ax.set_title("Softmax Function")
    style_axes(ax, xlabel="Logits", ylabel="Probability")
    return fig


def _single(name: str, order: int, x_range: tuple[float, float], title: str, **families):
    def draw() -> Figure:
        return function_figure(
            [name], orders=(order,), x_range=x_range, families=families, title=title
        )

    return draw


def _sigmoid_vs_tanh() -> Figure:
    return function_figure(
        ["sigmoid", "tanh"], orders=(0,), x_range=(-6.0, 6.0), layout="shared",
        shade=False, title="sigmoid against tanh",
    )  # fmt: skip


def _sigmoid_grad_peak() -> Figure:
    fig = function_figure(["sigmoid"], orders=(1,), x_range=(-10.0, 10.0), title="sigmoid′")
    ax = fig.axes[0]
    peak = float(actlab.sigmoid_grad(0.0))
    ax.annotate(f"max {peak:g} at x = 0", (0.0, peak), (2.0, peak * 0.9),
                arrowprops={"arrowstyle": "->"})  # fmt: skip
    return fig


def _relu_and_grad() -> Figure:
    return function_figure(["relu"], orders=(0, 1), x_range=(-6.0, 6.0), title="ReLU and ReLU′")


def _swish_betas() -> Figure:
    # Seed 004: x = linspace(-5, 5, 100), β in (0.1, 1, 10), then xlim(-5, 3), ylim(-2, 3).
    fig = function_figure(
        ["swish"], orders=(0,), x_range=(-5.0, 5.0), points=100,
        families={"beta": (0.1, 1.0, 10.0)}, title="Swish Activation Function",
    )  # fmt: skip
    ax = fig.axes[0]
    ax.set_xlim(-5.0, 3.0)
    ax.set_ylim(-2.0, 3.0)
    return fig


def _softplus_and_mish() -> Figure:
    return function_figure(
        ["softplus", "mish"], orders=(0,), x_range=(-5.0, 5.0), points=100,
        layout="shared", shade=False, title="Softplus and Mish Activation Functions",
    )  # fmt: skip


SEED_FIGURES: dict[str, SeedFigure] = {
    f.key: f
    for f in (
        SeedFigure("softmax", "softmax of the logits −5…5", "001 (softmax code)",
                   _softmax_of_logits),
        SeedFigure("sigmoid", "sigmoid", "003 (linspace(-10, 10, 30)), 004",
                   _single("sigmoid", 0, (-10.0, 10.0), "sigmoid")),
        SeedFigure("tanh", "tanh", "004 (tanh函数图像)", _single("tanh", 0, (-6.0, 6.0), "tanh")),
        SeedFigure("sigmoid-vs-tanh", "sigmoid against tanh", "004 (sigmoid和tanh函数图像对比)",
                   _sigmoid_vs_tanh),
        SeedFigure("sigmoid-grad", "sigmoid′: peak 0.25 at 0", "004 (sigmoid函数的导数图像)",
                   _sigmoid_grad_peak),
        SeedFigure("tanh-grad", "tanh′", "004 (tanh函数的导数图像)",
                   _single("tanh", 1, (-6.0, 6.0), "tanh′")),
        SeedFigure("relu", "ReLU and its derivative", "004 (ReLU函数图像, 导数)", _relu_and_grad),
        SeedFigure("relu6", "ReLU6", "004 (ReLU6)", _single("relu6", 0, (-4.0, 10.0), "ReLU6")),
        SeedFigure("leaky-relu", "Leaky ReLU", "004 (Leaky ReLU函数)",
                   _single("leaky_relu", 0, (-6.0, 6.0), "Leaky ReLU (α = 0.1)",
                           negative_slope=(0.1,))),
        SeedFigure("elu", "ELU", "004 (ELU)", _single("elu", 0, (-6.0, 6.0), "ELU")),
        SeedFigure("swish", "Swish, β = 0.1, 1, 10", "004 (swish code)", _swish_betas),
        SeedFigure("softplus-mish", "Softplus and Mish", "004 (softplus/mish code)",
                   _softplus_and_mish),
    )
}  # fmt: skip
