"""Experiment 1, vanishing gradients: MLPs of growing depth with each activation; the ratio
of the first layer's weight-gradient norm to the last layer's, at initialisation and after a
short training run, on the digits."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..layers import MLP, Adam, SoftmaxCrossEntropy, default_init
from ._experiment import Result, Tracker, check_size, fmt, rng_for
from .datasets import digits
from .probes import probe
from .train import fit

NAME = "vanishing-gradients"
TITLE = "Vanishing gradients with depth"
CLAIM = (
    "Sigmoid and tanh saturate, so in deep networks the gradient vanishes on its way back to "
    "the first layers, while ReLU (and its variants) keep it (seed 004, 常见的激活函数, on "
    "sigmoid, tanh and ReLU; seed 003 on sigmoid)."
)

CONFIGS = {
    "default": {
        "depths": [2, 5, 10, 20],
        "activations": ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "swish", "mish"],
        "width": 32,
        "probe_examples": 256,
        "train_steps": 20,
        "batch_size": 64,
        "lr": 2e-3,
    },
    "tiny": {
        "depths": [2, 20],
        "activations": ["sigmoid", "relu"],
        "width": 16,
        "probe_examples": 64,
        "train_steps": 5,
        "batch_size": 32,
        "lr": 1e-3,
    },
}


def _ratio(norms: list[float]) -> float:
    first, last = norms[0], norms[-1]
    return first / last if last > 0 else math.nan


@dataclass
class Run:
    activation: str
    depth: int
    init: str
    # Frobenius norms of ∂L/∂W for every Linear layer, first to last (the output layer).
    norms_init: list[float]
    norms_trained: list[float]
    ratio_init: float
    ratio_trained: float
    test_accuracy: float
    diverged: bool
    message: str | None


@dataclass
class VanishingResult(Result):
    runs: list[Run] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def ratio(self, activation: str, depth: int, when: str = "init") -> float:
        for r in self.runs:
            if r.activation == activation and r.depth == depth:
                return r.ratio_init if when == "init" else r.ratio_trained
        raise KeyError((activation, depth))

    @property
    def deepest(self) -> int:
        return max(r.depth for r in self.runs)

    def _vanishes(self) -> dict[str, bool]:
        """Saturating function → whether its first-layer gradient at the greatest depth is
        at least 100× below the worst rectifier's (the rectifiers that were run)."""
        d = self.deepest
        acts = {r.activation for r in self.runs}
        rect = [a for a in ("relu", "leaky_relu", "prelu", "elu") if a in acts]
        worst_rect = min(self.ratio(a, d) for a in rect)
        return {a: self.ratio(a, d) < worst_rect / 100 for a in ("sigmoid", "tanh") if a in acts}

    @property
    def claim_holds(self) -> bool | None:
        if not {"sigmoid", "relu"} <= {r.activation for r in self.runs}:
            return None
        return all(self._vanishes().values())

    @property
    def finding(self) -> str:
        d = self.deepest
        parts = [
            f"{a} {fmt(self.ratio(a, d))}"
            for a in ("sigmoid", "tanh", "relu", "elu")
            if any(r.activation == a for r in self.runs)
        ]
        if self.claim_holds is None:
            verdict = "the claim could not be judged with these activations"
        elif self.claim_holds:
            verdict = (
                "the claim holds: the saturating functions' first-layer gradients are orders "
                "of magnitude below the rectifiers'"
            )
        else:
            vanish = self._vanishes()
            yes = [a for a, v in vanish.items() if v]
            no = [a for a, v in vanish.items() if not v]
            inits = {r.activation: r.init for r in self.runs}
            verdict = (
                f"the claim holds for {', '.join(yes) or 'none'} but NOT for "
                + ", ".join(f"{a} (with {inits[a]} initialisation)" for a in no)
                + ", whose gradient does not vanish"
            )
        return (
            f"At initialisation, the first-to-last layer gradient-norm ratio of a {d}-layer MLP "
            f"on digits is {', '.join(parts)}; {verdict}."
        )

    def table(self) -> tuple[list[str], list[list[Any]]]:
        depths = sorted({r.depth for r in self.runs})
        acts = list(dict.fromkeys(r.activation for r in self.runs))
        header = ["activation"] + [f"ratio d={d} (init)" for d in depths]
        header += [f"ratio d={depths[-1]} (trained)", f"acc d={depths[-1]}"]
        rows = []
        for a in acts:
            deep = next(r for r in self.runs if r.activation == a and r.depth == depths[-1])
            rows.append(
                [a]
                + [fmt(self.ratio(a, d)) for d in depths]
                + [fmt(deep.ratio_trained), fmt(deep.test_accuracy, ".3f")]
            )
        return header, rows


def _linear_norms(report: Any) -> list[float]:
    return [p.weight_grad_norm for p in report.layers if p.weight_grad_norm is not None]


def run(*, seed: int = 0, size: str = "default", progress: Any = None) -> VanishingResult:
    cfg = CONFIGS[check_size(size)]
    data = digits(seed)
    px, py = data.x_train[: cfg["probe_examples"]], data.y_train[: cfg["probe_examples"]]
    loss = SoftmaxCrossEntropy()
    result = VanishingResult(NAME, seed, size, dict(cfg))
    track = Tracker(progress, len(cfg["activations"]) * len(cfg["depths"]))
    for act in cfg["activations"]:
        wall = 0.0
        for depth in cfg["depths"]:
            init = default_init(act)
            net = MLP(
                data.n_features,
                [cfg["width"]] * depth,
                data.n_classes,
                act,
                rng=rng_for(seed, NAME, act, depth),
            )
            at_init = _linear_norms(probe(net, loss, px, py))
            hist = fit(
                net,
                loss,
                Adam(net.parameters(), cfg["lr"]),
                data,
                rng=rng_for(seed, NAME, act, depth, "batches"),
                steps=cfg["train_steps"],
                batch_size=cfg["batch_size"],
                eval_every=cfg["train_steps"],
            )
            wall += hist.wall_s
            trained = _linear_norms(probe(net, loss, px, py))
            result.runs.append(
                Run(
                    act,
                    depth,
                    init,
                    at_init,
                    trained,
                    _ratio(at_init),
                    _ratio(trained),
                    hist.final_accuracy,
                    hist.diverged,
                    hist.message,
                )
            )
            track.tick(f"{act}, depth {depth}")
        result.timings[act] = wall
    return result


def ratios(result: VanishingResult, when: str = "init") -> dict[str, np.ndarray]:
    """Activation → ratio per depth (for the figure)."""
    depths = sorted({r.depth for r in result.runs})
    acts = dict.fromkeys(r.activation for r in result.runs)
    return {a: np.array([result.ratio(a, d, when) for d in depths]) for a in acts}
