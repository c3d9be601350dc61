"""Experiment 5, the shoot-out: every seed activation (the learnable ones included) trains
the same MLP on the digits over several seeds; test accuracy mean ± std, epochs to 95 %,
wall time; PReLU's learned slopes and Swish's learned β; and decision regions on the two
2-D sets for a few of them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..layers import MLP, Adam, PReLU, SoftmaxCrossEntropy, Swish
from ..registry import names
from ._experiment import Result, Tracker, check_size, fmt, rng_for
from .datasets import circles, digits, spirals
from .train import fit, predict

NAME = "shoot-out"
TITLE = "Shoot-out: every activation on the digits"
CLAIM = (
    "Swish and Mish outperform ReLU (seed 004, 常见的激活函数: 'Swish在深层模型上效果优于ReLU'; "
    "Mish 'showed better performance than ReLU and Swish'), and the saturating sigmoid trains "
    "worst (seed 004, seed 003)."
)

# Every elementwise activation of the registry (log_sigmoid is a log-probability, not a
# hidden-layer activation), and maxout, which is a layer of its own.
SEED_ACTIVATIONS = [n for n in names("elementwise") if n != "log_sigmoid"] + ["maxout"]

CONFIGS = {
    "default": {
        "activations": SEED_ACTIVATIONS,
        "seeds": 5,
        "hidden": [64],
        "epochs": 6,
        "batch_size": 128,
        "lr": 1e-2,
        "target_accuracy": 0.95,
        "regions": {
            "activations": ["sigmoid", "tanh", "relu", "maxout"],
            "hidden": [32, 32],
            "points": 300,
            "steps": 150,
            "lr": 0.02,
            "grid": 48,
        },
    },
    "tiny": {
        "activations": ["sigmoid", "relu", "prelu", "swish", "maxout"],
        "seeds": 2,
        "hidden": [32],
        "epochs": 2,
        "batch_size": 64,
        "lr": 3e-3,
        "target_accuracy": 0.8,
        "n_train": 500,
        "regions": {
            "activations": ["relu"],
            "hidden": [16],
            "points": 100,
            "steps": 20,
            "lr": 0.02,
            "grid": 12,
        },
    },
}


@dataclass
class Run:
    activation: str
    replicate: int
    test_accuracy: float
    accuracy_per_epoch: list[float]
    epochs_to_target: int | None
    # Learned parameters per hidden layer: PReLU's slope, Swish's β (empty for the others).
    learned: list[float]
    diverged: bool


@dataclass
class Region:
    dataset: str
    activation: str
    test_accuracy: float
    extent: list[float]  # x_min, x_max, y_min, y_max of the grid
    grid: list[list[int]]  # predicted class at each grid point (rows: y, columns: x)
    x: list[list[float]]  # the training points and their labels
    y: list[int]


@dataclass
class ShootOutResult(Result):
    runs: list[Run] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def activations(self) -> list[str]:
        return list(dict.fromkeys(r.activation for r in self.runs))

    def accuracies(self, act: str) -> list[float]:
        return [r.test_accuracy for r in self.runs if r.activation == act]

    def mean(self, act: str) -> float:
        return statistics.fmean(self.accuracies(act))

    def std(self, act: str) -> float:
        acc = self.accuracies(act)
        return statistics.stdev(acc) if len(acc) > 1 else 0.0

    def learned(self, act: str) -> list[float]:
        """The learned parameter per hidden layer, averaged over seeds."""
        rows = [r.learned for r in self.runs if r.activation == act and r.learned]
        return np.mean(rows, axis=0).tolist() if rows else []

    def ranking(self) -> list[str]:
        return sorted(self.activations, key=self.mean, reverse=True)

    def _beats(self, a: str, b: str) -> bool:
        """a's mean accuracy exceeds b's by more than the standard error of the difference."""
        n = max(len(self.accuracies(a)), 1)
        se = ((self.std(a) ** 2 + self.std(b) ** 2) / n) ** 0.5
        return self.mean(a) > self.mean(b) + se

    @property
    def claim_holds(self) -> bool | None:
        acts = set(self.activations)
        if not {"relu", "sigmoid"} <= acts or not acts & {"swish", "mish"}:
            return None
        better = all(self._beats(a, "relu") for a in acts & {"swish", "mish"})
        return better and self.ranking()[-1] == "sigmoid"

    @property
    def finding(self) -> str:
        rank = self.ranking()

        def score(a: str) -> str:
            return f"{a} {self.mean(a):.3f} ± {self.std(a):.3f}"

        named = [a for a in ("relu", "swish", "mish") if a in rank]
        verdict = {
            True: "Swish and Mish beat ReLU by more than the noise and sigmoid is last, so the "
            "claim holds on this data",
            False: "the claim does NOT hold on this data"
            + (
                ": Swish/Mish are not better than ReLU beyond the noise"
                if not all(self._beats(a, "relu") for a in ("swish", "mish") if a in rank)
                else ": sigmoid is not last"
            ),
            None: "the claim could not be judged",
        }[self.claim_holds]
        return (
            f"Test accuracy on digits after {self.config['epochs']} epochs over "
            f"{self.config['seeds']} seeds ({len(self.config['hidden'])} hidden layer(s)): "
            f"best {score(rank[0])}, {', '.join(score(a) for a in named)}, last "
            f"{score(rank[-1])}; {verdict}."
        )

    def table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["activation", "test accuracy", "epochs to target", "learned", "wall s"]
        rows = []
        for act in self.ranking():
            reached = [r.epochs_to_target for r in self.runs if r.activation == act]
            hit = [e for e in reached if e is not None]
            epochs = f"{statistics.median(hit):g} ({len(hit)}/{len(reached)})" if hit else "never"
            learned = " ".join(fmt(v, ".3f") for v in self.learned(act)) or "—"
            rows.append(
                [
                    act,
                    f"{self.mean(act):.3f} ± {self.std(act):.3f}",
                    epochs,
                    learned,
                    fmt(self.timings.get(act), ".2f"),
                ]
            )
        return header, rows


def _learned(net: MLP) -> list[float]:
    out = []
    for m in net.modules():
        if isinstance(m, PReLU):
            out.append(float(np.mean(m.weight.value)))
        elif isinstance(m, Swish):
            out.append(float(m.beta.value))
    return out


def _regions(cfg: dict[str, Any], seed: int, track: Tracker) -> list[Region]:
    out = []
    for make in (spirals, circles):
        data = make(n=cfg["points"], seed=seed)
        lo = np.minimum(data.x_train.min(axis=0), data.x_test.min(axis=0)) - 0.5
        hi = np.maximum(data.x_train.max(axis=0), data.x_test.max(axis=0)) + 0.5
        gx, gy = (np.linspace(lo[i], hi[i], cfg["grid"]) for i in range(2))
        grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        for act in cfg["activations"]:
            net = MLP(2, cfg["hidden"], 2, act, rng=rng_for(seed, NAME, data.name, act))
            hist = fit(
                net,
                SoftmaxCrossEntropy(),
                Adam(net.parameters(), cfg["lr"]),
                data,
                rng=rng_for(seed, NAME, data.name, act, "batches"),
                steps=cfg["steps"],
                batch_size=len(data.y_train),
                eval_every=cfg["steps"],
            )
            labels = predict(net, grid).reshape(cfg["grid"], cfg["grid"])
            out.append(
                Region(
                    data.name,
                    act,
                    hist.final_accuracy,
                    [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])],
                    labels.tolist(),
                    data.x_train.tolist(),
                    data.y_train.tolist(),
                )
            )
            track.tick(f"{act} on {data.name}")
    return out


def run(*, seed: int = 0, size: str = "default", progress: Any = None) -> ShootOutResult:
    cfg = CONFIGS[check_size(size)]
    data = digits(seed)
    if "n_train" in cfg:
        data = data.subset(cfg["n_train"])
    result = ShootOutResult(NAME, seed, size, dict(cfg))
    n_regions = 2 * len(cfg["regions"]["activations"])
    track = Tracker(progress, len(cfg["activations"]) * cfg["seeds"] + n_regions)
    for act in cfg["activations"]:
        wall = 0.0
        for k in range(cfg["seeds"]):
            net = MLP(
                data.n_features, cfg["hidden"], data.n_classes, act, rng=rng_for(seed, NAME, act, k)
            )
            hist = fit(
                net,
                SoftmaxCrossEntropy(),
                Adam(net.parameters(), cfg["lr"]),
                data,
                rng=rng_for(seed, NAME, k, "batches"),
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                target_accuracy=cfg["target_accuracy"],
            )
            wall += hist.wall_s
            per_epoch = len(data.y_train) // cfg["batch_size"] + bool(
                len(data.y_train) % cfg["batch_size"]
            )
            result.runs.append(
                Run(
                    act,
                    k,
                    hist.final_accuracy,
                    hist.test_accuracy,
                    None if hist.target_step is None else hist.target_step // per_epoch,
                    _learned(net),
                    hist.diverged,
                )
            )
            track.tick(f"{act}, seed {k + 1}/{cfg['seeds']}")
        # Mean wall time of one run (a whole training of `epochs` epochs).
        result.timings[act] = wall / cfg["seeds"]
    result.regions = _regions(cfg["regions"], seed, track)
    return result
