"""The lab's figures: one function per experiment, each drawing from a result's data only.

``figures(result)`` returns {short key: Figure}; ``actlab lab`` saves each as
``EXPERIMENT-KEY.png``. Object interface only (``matplotlib.figure.Figure``), never pyplot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ._figure import new_figure

__all__ = ["figures"]

_REGION_COLOURS = ListedColormap(["#cfe2f3", "#f9d5c4"])
_POINT_COLOURS = np.array(["#1f5f9f", "#b3471d"])


def _colours(names: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if len(names) > 10 else "tab10"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def _vanishing(result: Any) -> dict[str, Figure]:
    depths = sorted({r.depth for r in result.runs})
    acts = list(dict.fromkeys(r.activation for r in result.runs))
    colour = _colours(acts)
    fig, (ax,) = new_figure(width=7.0, row_height=4.2)
    for a in acts:
        for when, style in (("init", "-"), ("trained", "--")):
            ys = [result.ratio(a, d, when) for d in depths]
            label = a if when == "init" else None
            ax.plot(depths, ys, style, marker="o", color=colour[a], label=label)
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("‖∂L/∂W₁‖ / ‖∂L/∂W_last‖")
    ax.set_title("First-to-last gradient-norm ratio (solid: init, dashed: trained)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)

    deep = max(depths)
    prof, (bx,) = new_figure(width=7.0, row_height=4.2)
    for r in result.runs:
        if r.depth == deep:
            bx.plot(
                range(1, len(r.norms_init) + 1),
                r.norms_init,
                marker=".",
                color=colour[r.activation],
                label=r.activation,
            )
    bx.set_yscale("log")
    bx.set_xlabel("layer (1 = first)")
    bx.set_ylabel("‖∂L/∂W‖ at initialisation")
    bx.set_title(f"Gradient norm per layer, {deep} hidden layers")
    bx.grid(True, which="both", alpha=0.3)
    bx.legend(fontsize=8, ncol=2)
    return {"ratio": fig, "profile": prof}


def _dead_relu(result: Any) -> dict[str, Figure]:
    biases = result.config["bias_inits"]
    acts = list(dict.fromkeys(r.activation for r in result.runs))
    colour = _colours(acts)
    fig, axes = new_figure(1, len(biases), width=4.2 * len(biases), row_height=3.8, sharey=True)
    for ax, b in zip(axes, biases, strict=True):
        for a in acts:
            runs = [r for r in result.runs if r.activation == a and r.bias_init == b]
            lrs = [r.lr for r in runs]
            ax.plot(lrs, [r.dead for r in runs], marker="o", color=colour[a], label=a)
            div = [r.lr for r in runs if r.diverged]
            ax.plot(div, [1.02] * len(div), "x", color=colour[a], markersize=9)
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.06)
        ax.set_xlabel("learning rate (SGD)")
        ax.set_title(f"initial bias {b:g}")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("fraction of dead hidden units")
    axes[0].legend(fontsize=8, title="× = diverged", title_fontsize=8)
    return {"dead": fig}


def _smooth(y: list[float], k: int = 5) -> np.ndarray:
    a = np.asarray(y, dtype=float)
    if len(a) < k:
        return a
    return np.convolve(a, np.ones(k) / k, mode="valid")


def _output_pairing(result: Any) -> dict[str, Figure]:
    starts = result.starts
    pairings = list(dict.fromkeys(r.pairing for r in result.runs))
    colour = _colours(pairings)
    loss_fig, laxes = new_figure(1, len(starts), width=4.2 * len(starts), row_height=3.8)
    acc_fig, aaxes = new_figure(
        1, len(starts), width=4.2 * len(starts), row_height=3.8, sharey=True
    )
    for lx, ax, start in zip(laxes, aaxes, starts, strict=True):
        for p in pairings:
            r = result.get(p, start)
            lx.plot(_smooth(r.loss), color=colour[p], label=p)
            ax.plot(r.eval_steps, r.test_accuracy, color=colour[p], label=p)
        lx.set_yscale("log")
        lx.set_title(f"{start} start: training loss (running mean of 5)")
        lx.set_xlabel("step")
        ax.axhline(result.config["target_accuracy"], color="0.5", linestyle=":")
        ax.set_title(f"{start} start: test accuracy")
        ax.set_xlabel("step")
        for a in (lx, ax):
            a.grid(True, alpha=0.3)
    laxes[0].legend(fontsize=8)
    aaxes[0].legend(fontsize=8)
    return {"loss": loss_fig, "accuracy": acc_fig}


def _zero_centred(result: Any) -> dict[str, Figure]:
    arms = result.arms
    colour = _colours(arms)
    fig, (ax,) = new_figure(width=7.0, row_height=4.0)
    for arm in arms:
        for i, r in enumerate(x for x in result.runs if x.arm == arm):
            ax.plot(
                r.eval_steps,
                r.test_accuracy,
                color=colour[arm],
                alpha=0.8,
                label=arm if i == 0 else None,
            )
    ax.axhline(result.config["target_accuracy"], color="0.5", linestyle=":", label="target")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("test accuracy")
    ax.set_title("Sigmoid against tanh hidden units (one line per seed)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return {"accuracy": fig}


def _shoot_out(result: Any) -> dict[str, Figure]:
    order = result.ranking()
    fig, (ax,) = new_figure(width=8.0, row_height=4.0)
    means = [result.mean(a) for a in order]
    stds = [result.std(a) for a in order]
    ax.bar(range(len(order)), means, yerr=stds, capsize=3, color="#6b8fc7")
    ax.set_xticks(range(len(order)), order, rotation=45, ha="right")
    low = min(m - s for m, s in zip(means, stds, strict=True))
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    ax.set_title(f"Digits, {result.config['epochs']} epochs, {result.config['seeds']} seeds")
    ax.grid(True, axis="y", alpha=0.3)
    out = {"accuracy": fig}
    if result.regions:
        sets = list(dict.fromkeys(g.dataset for g in result.regions))
        acts = list(dict.fromkeys(g.activation for g in result.regions))
        reg, axes = new_figure(len(sets), len(acts), width=2.6 * len(acts), row_height=2.6)
        for g in result.regions:
            bx = axes[sets.index(g.dataset) * len(acts) + acts.index(g.activation)]
            grid = np.asarray(g.grid)
            bx.imshow(
                grid,
                origin="lower",
                extent=g.extent,
                cmap=_REGION_COLOURS,
                vmin=0,
                vmax=1,
                aspect="auto",
                interpolation="nearest",
            )
            pts, labels = np.asarray(g.x), np.asarray(g.y)
            bx.scatter(pts[:, 0], pts[:, 1], c=_POINT_COLOURS[labels], s=5)
            bx.set_title(f"{g.activation} on {g.dataset}: {g.test_accuracy:.2f}", fontsize=9)
            bx.set_xticks([])
            bx.set_yticks([])
        out["regions"] = reg
    return out


_DRAWERS: dict[str, Callable[[Any], dict[str, Figure]]] = {
    "vanishing-gradients": _vanishing,
    "dead-relu": _dead_relu,
    "output-pairing": _output_pairing,
    "zero-centred": _zero_centred,
    "shoot-out": _shoot_out,
}


def figures(result: Any) -> dict[str, Figure]:
    """The figures of a lab result, keyed by a short name (e.g. ``"ratio"``, ``"dead"``)."""
    name = getattr(result, "name", None)
    try:
        draw = _DRAWERS[name]
    except KeyError:
        raise ValueError(
            f"figures: not a lab result (name {name!r}; expected one of {', '.join(_DRAWERS)})"
        ) from None
    return draw(result)
