"""Experiment 3, output pairing: a sigmoid or softmax output trained with the squared error,
against softmax with cross-entropy; loss and accuracy curves from a normal start and from a
start whose outputs are saturated (output weights scaled up)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..layers import MLP, SGD, Activation, Loss, MSELoss, Sequential, SoftmaxCrossEntropy
from ._experiment import Result, Tracker, check_size, fmt, rng_for
from .datasets import digits
from .probes import probe
from .train import fit

NAME = "output-pairing"
TITLE = "Output layer and loss: squared error against cross-entropy"
CLAIM = (
    "With a sigmoid (or softmax) output, the squared error learns slowly once the output "
    "saturates, because its gradient carries the factor σ′; softmax with cross-entropy does "
    "not, so it learns faster (seed 004, 常见的激活函数, on sigmoid; seed 002, on the "
    "quadratic against the cross-entropy cost)."
)

PAIRINGS = ("sigmoid+mse", "softmax+mse", "softmax+cross-entropy")

CONFIGS = {
    "default": {
        "pairings": list(PAIRINGS),
        "starts": {"normal": 1.0, "saturated": 8.0},
        "hidden": [32],
        "hidden_activation": "tanh",
        "lr": 0.1,
        "momentum": 0.9,
        "epochs": 4,
        "batch_size": 64,
        "eval_every": 5,
        "target_accuracy": 0.85,
    },
    "tiny": {
        "pairings": list(PAIRINGS),
        "starts": {"saturated": 8.0},
        "hidden": [16],
        "hidden_activation": "tanh",
        "lr": 0.1,
        "momentum": 0.9,
        "epochs": 2,
        "batch_size": 64,
        "eval_every": 4,
        "target_accuracy": 0.6,
        "n_train": 500,
    },
}


@dataclass
class Run:
    pairing: str
    start: str
    output_gain: float
    loss: list[float]
    eval_steps: list[int]
    test_accuracy: list[float]
    steps_to_target: int | None
    # ‖∂L/∂logits‖ over the training set at the start: how hard the loss pushes at first.
    initial_logit_grad_norm: float
    diverged: bool
    message: str | None


@dataclass
class OutputPairingResult(Result):
    runs: list[Run] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def get(self, pairing: str, start: str) -> Run:
        return next(r for r in self.runs if r.pairing == pairing and r.start == start)

    @property
    def starts(self) -> list[str]:
        return list(dict.fromkeys(r.start for r in self.runs))

    @staticmethod
    def _steps(run: Run) -> float:
        return math.inf if run.steps_to_target is None else run.steps_to_target

    @property
    def claim_holds(self) -> bool | None:
        if "softmax+cross-entropy" not in {r.pairing for r in self.runs}:
            return None
        for start in self.starts:
            ce = self._steps(self.get("softmax+cross-entropy", start))
            others = [
                r for r in self.runs if r.start == start and r.pairing != "softmax+cross-entropy"
            ]
            if ce == math.inf or any(self._steps(r) < ce for r in others):
                return False
        return True

    @property
    def finding(self) -> str:
        target = self.config["target_accuracy"]
        parts = []
        for start in self.starts:
            steps = ", ".join(
                f"{r.pairing} {'never' if r.steps_to_target is None else r.steps_to_target}"
                for r in self.runs
                if r.start == start
            )
            parts.append(f"from a {start} start: {steps}")
        verdict = (
            "softmax with cross-entropy is never slower, so the claim holds on this data"
            if self.claim_holds
            else "the claim does NOT hold on this data: a squared-error pairing was as fast "
            "or faster somewhere"
        )
        return (
            f"SGD steps to {target:.0%} test accuracy on digits ({'; '.join(parts)}; "
            f"'never' = not within {self.config['epochs']} epochs): {verdict}."
        )

    def table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["pairing", "start", "steps to target", "final accuracy", "‖∂L/∂z‖ at start"]
        rows = [
            [
                r.pairing,
                r.start,
                "never" if r.steps_to_target is None else r.steps_to_target,
                fmt(r.test_accuracy[-1] if r.test_accuracy else math.nan, ".3f"),
                fmt(r.initial_logit_grad_norm),
            ]
            for r in self.runs
        ]
        return header, rows


def _network(pairing: str, net: MLP) -> tuple[Sequential, Loss]:
    if pairing == "softmax+cross-entropy":
        return net, SoftmaxCrossEntropy()
    out = "sigmoid" if pairing.startswith("sigmoid") else "softmax"
    return Sequential(net, Activation(out)), MSELoss(sum_over_classes=True)


def run(*, seed: int = 0, size: str = "default", progress: Any = None) -> OutputPairingResult:
    cfg = CONFIGS[check_size(size)]
    data = digits(seed)
    if "n_train" in cfg:
        data = data.subset(cfg["n_train"])
    result = OutputPairingResult(NAME, seed, size, dict(cfg))
    track = Tracker(progress, len(cfg["pairings"]) * len(cfg["starts"]))
    for start, gain in cfg["starts"].items():
        for pairing in cfg["pairings"]:
            # One initial network per start, shared by the pairings: only the loss differs.
            mlp = MLP(
                data.n_features,
                cfg["hidden"],
                data.n_classes,
                cfg["hidden_activation"],
                rng=rng_for(seed, NAME, start),
                output_gain=gain,
            )
            net, loss = _network(pairing, mlp)
            report = probe(net, loss, data.x_train, data.y_train)
            logits = [p for p in report.layers if p.kind == "linear"][-1]
            hist = fit(
                net,
                loss,
                SGD(net.parameters(), cfg["lr"], momentum=cfg["momentum"]),
                data,
                rng=rng_for(seed, NAME, "batches"),
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                eval_every=cfg["eval_every"],
                target_accuracy=cfg["target_accuracy"],
            )
            result.runs.append(
                Run(
                    pairing,
                    start,
                    gain,
                    hist.loss,
                    hist.eval_steps,
                    hist.test_accuracy,
                    hist.target_step,
                    logits.activation_grad_norm,
                    hist.diverged,
                    hist.message,
                )
            )
            result.timings[f"{pairing} {start}"] = hist.wall_s
            track.tick(f"{pairing}, {start} start")
    return result
