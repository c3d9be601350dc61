"""Views of the functions that are not elementwise: the softmax family (logits against
probabilities as bars, the effect of temperature), logsumexp (a smooth max), maxout (the max
of affine pieces) and the losses (loss and gradient against the logit of the true class).

As in ``curves``, every plotted line or bar set carries a ``gid`` naming what it shows, and
its data comes from the registry functions, so tests can check the plotted numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

import actlab

from ..registry import get
from ._figure import new_figure, style_axes

SEED_LOGITS = np.arange(-5.0, 6.0)  # the seeds' example: logits −5, −4, …, 5
TEMPERATURES = (0.5, 1.0, 2.0, 5.0)
# Three affine pieces (slope, intercept) whose max is the maxout unit drawn by default.
MAXOUT_PIECES = ((-1.0, -1.0), (0.25, 0.0), (1.5, -2.0))
NUM_CLASSES = 10  # the losses are drawn for a 10-class problem, as on the digits


def softmax_figure(
    name: str = "softmax",
    logits: Sequence[float] | None = None,
    temperatures: Sequence[float] = TEMPERATURES,
) -> Figure:
    """Logits as bars, ``name``(logits) as bars, and ``name``(logits, temperature=T) per T."""
    fn = _row_function(name, ("softmax", "softmin", "log_softmax"))
    z = np.asarray(SEED_LOGITS if logits is None else logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"logits: expected a non-empty 1-D sequence, got shape {z.shape}")
    if not temperatures or any(not t > 0 for t in temperatures):
        raise ValueError(f"temperatures: expected positive values, got {tuple(temperatures)!r}")
    k = np.arange(z.size)
    fig, (ax_z, ax_p, ax_t) = new_figure(1, 3, width=12.0, row_height=3.6)
    ax_z.bar(k, z, color="0.55", gid="logits")
    ax_z.set_title("logits z")
    y = fn(z)
    ax_p.bar(k, y, color="C0", gid=f"{name}:T=1")
    ax_p.set_title(f"{name}(z)")
    for t in temperatures:
        (line,) = ax_t.plot(k, fn(z, temperature=float(t)), "o-", label=f"T = {t:g}")
        line.set_gid(f"{name}:T={float(t)!r}")
    ax_t.set_title(f"{name}(z / T)")
    ax_t.legend(fontsize="small")
    for ax in (ax_z, ax_p, ax_t):
        style_axes(ax, xlabel="class index")
        ax.set_xticks(k, [f"{v:g}" for v in z] if ax is ax_z else [str(i) for i in k])
    ax_z.set_xlabel("class (its logit)")
    fig.suptitle(f"{name}: logits against {'log-' if name == 'log_softmax' else ''}probabilities")
    return fig


def logsumexp_figure(x_range: tuple[float, float] = (-6.0, 6.0), points: int = 601) -> Figure:
    """logsumexp([x, 0]) as a smooth max of x and 0, its sharper versions, and its gradient."""
    x = np.linspace(*x_range, points)
    pairs = np.stack([x, np.zeros_like(x)], axis=-1)
    fig, (ax_f, ax_g) = new_figure(2, 1, sharex=True)
    ax_f.plot(x, np.maximum(x, 0.0), color="0.4", linestyle="--", label="max(x, 0)", gid="max")
    for t in (1.0, 0.5, 0.25):
        y = t * actlab.logsumexp(pairs / t, axis=-1)
        ax_f.plot(x, y, label=f"T·logsumexp([x, 0]/T), T = {t:g}", gid=f"logsumexp:T={t!r}")
    ones = np.ones(points)
    grad = actlab.logsumexp_vjp(pairs, ones, axis=-1)[:, 0]
    ax_g.plot(x, grad, color="C0", label="∂/∂x logsumexp([x, 0]) = softmax([x, 0])₀", gid="grad")
    style_axes(ax_f, xlabel="", ylabel="f")
    style_axes(ax_g, ylabel="f′")
    for ax in (ax_f, ax_g):
        ax.legend(fontsize="small")
    fig.suptitle("logsumexp: a smooth maximum")
    return fig


def maxout_figure(
    pieces: Sequence[tuple[float, float]] = MAXOUT_PIECES,
    x_range: tuple[float, float] = (-4.0, 4.0),
    points: int = 801,
) -> Figure:
    """The affine pieces wᵢx + bᵢ, their maxout, and its gradient (routed to the arg-max)."""
    if len(pieces) < 2:
        raise ValueError(f"pieces: maxout needs at least 2 pieces, got {len(pieces)}")
    x = np.linspace(*x_range, points)
    z = np.stack([w * x + b for w, b in pieces], axis=-1)
    y = actlab.maxout(z, len(pieces))[:, 0]
    routed = actlab.maxout_vjp(z, np.ones((points, 1)), len(pieces))
    slope = routed @ np.array([w for w, _ in pieces])
    fig, (ax_f, ax_g) = new_figure(2, 1, sharex=True)
    for i, (w, b) in enumerate(pieces):
        ax_f.plot(x, z[:, i], ":", label=f"piece {i}: {w:g}x {b:+g}", gid=f"piece:{i}")
    ax_f.plot(x, y, color="k", linewidth=2, label="maxout", gid="maxout")
    ax_g.plot(x, slope, color="k", label="f′ = slope of the arg-max piece", gid="grad")
    style_axes(ax_f, xlabel="", ylabel="f")
    style_axes(ax_g, ylabel="f′")
    for ax in (ax_f, ax_g):
        ax.legend(fontsize="small")
    fig.suptitle(f"maxout of {len(pieces)} affine pieces: a learned convex piecewise-linear unit")
    return fig


def loss_figure(name: str, x_range: tuple[float, float] = (-8.0, 8.0), points: int = 401) -> Figure:
    """A loss and its gradient against the logit (or input) of one example."""
    draw = {
        "cross_entropy": _cross_entropy_against_mse,
        "nll_loss": _nll,
        "binary_cross_entropy_with_logits": _bce,
        "mse_loss": _mse,
    }
    if name not in draw:
        raise ValueError(f"name: loss_figure draws {', '.join(draw)}; got {name!r}")
    x = np.linspace(*x_range, points)
    fig, (ax_f, ax_g) = new_figure(2, 1, sharex=True)
    xlabel = draw[name](x, ax_f, ax_g)
    style_axes(ax_f, xlabel="", ylabel="loss")
    style_axes(ax_g, xlabel=xlabel, ylabel="gradient")
    for ax in (ax_f, ax_g):
        ax.legend(fontsize="small")
    fig.suptitle(f"{name}: loss and gradient")
    return fig


def margin_logits(x: np.ndarray) -> np.ndarray:
    """Rows of ``NUM_CLASSES`` logits: x for the true class 0, zeros for the others."""
    z = np.zeros((x.size, NUM_CLASSES))
    z[:, 0] = x
    return z


def _cross_entropy_against_mse(x: np.ndarray, ax_f: Any, ax_g: Any) -> str:
    z = margin_logits(x)
    target = np.zeros(x.size, dtype=np.int64)
    onehot = np.zeros_like(z)
    onehot[:, 0] = 1.0
    ce = actlab.cross_entropy(z, target, reduction="none")
    ce_grad = actlab.cross_entropy_grad(z, target, reduction="none")[:, 0]
    p = actlab.softmax(z)
    mse = np.sum((p - onehot) ** 2, axis=-1)
    # Chain rule through the softmax: ∂/∂z Σ(p − onehot)² = softmax_vjp(z, 2(p − onehot)).
    mse_grad = actlab.softmax_vjp(z, 2.0 * (p - onehot), y=p)[:, 0]
    ax_f.plot(x, ce, label="cross-entropy of softmax", gid="cross_entropy")
    ax_f.plot(x, mse, label="squared error of softmax", gid="mse_of_softmax")
    ax_g.plot(x, ce_grad, label="cross-entropy: p₀ − 1", gid="cross_entropy_grad")
    ax_g.plot(x, mse_grad, label="squared error (vanishes when wrong and saturated)",
              gid="mse_of_softmax_grad")  # fmt: skip
    return f"logit of the true class (the other {NUM_CLASSES - 1} logits are 0)"


def _nll(x: np.ndarray, ax_f: Any, ax_g: Any) -> str:
    z = margin_logits(x)
    logp = actlab.log_softmax(z)
    target = np.zeros(x.size, dtype=np.int64)
    ax_f.plot(x, actlab.nll_loss(logp, target, reduction="none"), label="−log p₀", gid="nll_loss")
    grad = actlab.nll_loss_grad(logp, target, reduction="none")[:, 0]
    ax_g.plot(x, grad, label="∂/∂ log p₀ = −1", gid="nll_loss_grad")
    return "logit of the true class (log-probabilities from log_softmax)"


def _bce(x: np.ndarray, ax_f: Any, ax_g: Any) -> str:
    for t in (1.0, 0.0):
        target = np.full_like(x, t)
        loss = actlab.binary_cross_entropy_with_logits(x, target, reduction="none")
        grad = actlab.binary_cross_entropy_with_logits_grad(x, target, reduction="none")
        ax_f.plot(x, loss, label=f"target {t:g}", gid=f"bce:target={t!r}")
        ax_g.plot(x, grad, label=f"σ(x) − {t:g}", gid=f"bce_grad:target={t!r}")
    return "logit x"


def _mse(x: np.ndarray, ax_f: Any, ax_g: Any) -> str:
    target = np.zeros_like(x)
    ax_f.plot(x, actlab.mse_loss(x, target, reduction="none"), label="(x − 0)²", gid="mse_loss")
    grad = actlab.mse_loss_grad(x, target, reduction="none")
    ax_g.plot(x, grad, label="2(x − 0)", gid="mse_loss_grad")
    return "input x (target 0)"


def _row_function(name: str, allowed: Sequence[str]) -> Callable[..., Any]:
    entry = get(name)
    if entry.name not in allowed:
        raise ValueError(f"name: expected one of {', '.join(allowed)}, got {name!r}")
    return entry.fn


def row_figure(name: str, x_range: tuple[float, float] | None = None) -> Figure:
    """The view of a non-elementwise registry entry."""
    entry = get(name)
    kw = {} if x_range is None else {"x_range": x_range}
    if entry.name in ("softmax", "softmin", "log_softmax"):
        return softmax_figure(entry.name)
    if entry.name == "logsumexp":
        return logsumexp_figure(**kw)
    if entry.name == "maxout":
        return maxout_figure(**kw)
    return loss_figure(entry.name, **kw)
