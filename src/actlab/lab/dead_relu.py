"""Experiment 2, dead ReLU: the fraction of hidden units that no example activates (f′ = 0
on the whole training set), against the learning rate and the initial bias, for ReLU and the
variants meant to fix it (Leaky ReLU, PReLU, ELU)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..layers import MLP, SGD, SoftmaxCrossEntropy
from ._experiment import Result, Tracker, check_size, fmt, rng_for
from .datasets import digits
from .probes import probe
from .train import fit

NAME = "dead-relu"
TITLE = "Dead ReLU units against the learning rate"
CLAIM = (
    "ReLU units can die (f′ = 0 for every input, so they never learn again), more so with a "
    "large learning rate, and Leaky ReLU, PReLU and ELU fix this dead region (seed 004, "
    "常见的激活函数, on ReLU's 死区 and its variants)."
)

CONFIGS = {
    "default": {
        "activations": ["relu", "leaky_relu", "prelu", "elu"],
        "learning_rates": [0.01, 0.1, 0.3, 1.0],
        "bias_inits": [0.0, -1.0],
        "hidden": [64, 64],
        "epochs": 2,
        "batch_size": 64,
        "momentum": 0.9,
    },
    "tiny": {
        "activations": ["relu", "leaky_relu"],
        "learning_rates": [0.01, 1.0],
        "bias_inits": [0.0],
        "hidden": [32, 32],
        "epochs": 1,
        "batch_size": 64,
        "momentum": 0.9,
        "n_train": 400,
    },
}


@dataclass
class Run:
    activation: str
    lr: float
    bias_init: float
    dead_init: float  # fraction of hidden units dead before training
    dead: float  # after training (NaN when the run diverged)
    inactive: float  # z ≤ 0 on every example (a leaky unit may still learn from there)
    dead_per_layer: list[float]
    test_accuracy: float
    diverged: bool
    message: str | None


@dataclass
class DeadReluResult(Result):
    runs: list[Run] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def curve(self, activation: str, bias_init: float, what: str = "dead") -> list[float]:
        return [
            getattr(r, what)
            for r in self.runs
            if r.activation == activation and r.bias_init == bias_init
        ]

    def _max_dead(self, activation: str) -> float:
        values = [r.dead for r in self.runs if r.activation == activation and not r.diverged]
        return max(values) if values else math.nan

    def _relu_rises(self) -> bool:
        lrs = self.config["learning_rates"]
        rises = []
        for b in self.config["bias_inits"]:
            curve = [r for r in self.runs if r.activation == "relu" and r.bias_init == b]
            low = next(r for r in curve if r.lr == min(lrs))
            finite = [r for r in curve if not r.diverged]
            high = max(finite, key=lambda r: r.lr)
            rises.append(high.dead > low.dead)
        return any(rises)

    def failed_fixes(self) -> list[str]:
        """The variants that lost more than 1 % of their units in some finished run."""
        variants = dict.fromkeys(r.activation for r in self.runs if r.activation != "relu")
        return [a for a in variants if self._max_dead(a) > 0.01]

    @property
    def claim_holds(self) -> bool | None:
        acts = {r.activation for r in self.runs}
        if "relu" not in acts or len(acts) < 2:
            return None
        return self._relu_rises() and not self.failed_fixes()

    @property
    def finding(self) -> str:
        lrs = self.config["learning_rates"]
        b0 = self.config["bias_inits"][0]
        relu = self.curve("relu", b0)
        others = ", ".join(
            f"{a} at most {fmt(self._max_dead(a), '.1%')}"
            for a in dict.fromkeys(r.activation for r in self.runs)
            if a != "relu"
        )
        failed = self.failed_fixes()
        if self.claim_holds is None:
            verdict = "the claim could not be judged"
        elif self.claim_holds:
            verdict = "the claim holds on this data"
        elif not self._relu_rises():
            verdict = "the claim does NOT hold: ReLU's dead fraction did not grow with the rate"
        else:
            verdict = (
                f"the claim holds only in part: it does NOT hold for {' and '.join(failed)}, "
                "whose units also die (f′ = 0 on every example) at the largest rate"
            )
        n_div = sum(r.diverged for r in self.runs)
        diverged = f" ({n_div} runs diverged and are left out)" if n_div else ""
        return (
            f"After {self.config['epochs']} epochs of SGD on digits, ReLU's dead fraction goes "
            f"{' → '.join(fmt(v, '.1%') for v in relu)} for learning rates "
            f"{' → '.join(f'{lr:g}' for lr in lrs)} (bias {b0:g}), against {others}"
            f"{diverged}; {verdict}."
        )

    def table(self) -> tuple[list[str], list[list[Any]]]:
        lrs = self.config["learning_rates"]
        header = ["activation", "bias"] + [f"dead lr={lr:g}" for lr in lrs]
        header += [f"inactive lr={lrs[-1]:g}", f"acc lr={lrs[-1]:g}"]
        rows = []
        for a in dict.fromkeys(r.activation for r in self.runs):
            for b in self.config["bias_inits"]:
                runs = [r for r in self.runs if r.activation == a and r.bias_init == b]
                rows.append(
                    [a, f"{b:g}"]
                    + [("diverged" if r.diverged else fmt(r.dead, ".1%")) for r in runs]
                    + [fmt(runs[-1].inactive, ".1%"), fmt(runs[-1].test_accuracy, ".3f")]
                )
        return header, rows


def _hidden_fractions(report: Any, what: str) -> list[float]:
    return [getattr(p, what) for p in report.of_kind("activation")]


def run(*, seed: int = 0, size: str = "default", progress: Any = None) -> DeadReluResult:
    cfg = CONFIGS[check_size(size)]
    data = digits(seed)
    if "n_train" in cfg:
        data = data.subset(cfg["n_train"])
    loss = SoftmaxCrossEntropy()
    result = DeadReluResult(NAME, seed, size, dict(cfg))
    combos = [
        (a, b, lr)
        for a in cfg["activations"]
        for b in cfg["bias_inits"]
        for lr in cfg["learning_rates"]
    ]
    track = Tracker(progress, len(combos))
    before: dict[tuple[str, float], float] = {}
    for act, bias, lr in combos:
        # The same initial weights for every learning rate: only lr differs along a curve.
        net = MLP(
            data.n_features,
            cfg["hidden"],
            data.n_classes,
            act,
            rng=rng_for(seed, NAME, act, bias),
            bias_init=bias,
        )
        if (act, bias) not in before:
            start = probe(net, loss, data.x_train, data.y_train)
            before[act, bias] = float(np.mean(_hidden_fractions(start, "dead_fraction")))
        hist = fit(
            net,
            loss,
            SGD(net.parameters(), lr, momentum=cfg["momentum"]),
            data,
            rng=rng_for(seed, NAME, "batches"),
            epochs=cfg["epochs"],
            batch_size=cfg["batch_size"],
        )
        after = probe(net, loss, data.x_train, data.y_train)
        dead_layers = _hidden_fractions(after, "dead_fraction")
        inactive = _hidden_fractions(after, "inactive_fraction")
        nan = math.nan
        result.runs.append(
            Run(
                act,
                lr,
                bias,
                before[act, bias],
                nan if hist.diverged else float(np.mean(dead_layers)),
                nan if hist.diverged else float(np.mean(inactive)),
                [nan] * len(dead_layers) if hist.diverged else dead_layers,
                hist.final_accuracy if not hist.diverged else nan,
                hist.diverged,
                hist.message,
            )
        )
        result.timings[f"{act} bias={bias:g} lr={lr:g}"] = hist.wall_s
        track.tick(f"{act}, bias {bias:g}, lr {lr:g}")
    return result
