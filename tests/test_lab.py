"""The lab's experiments on their tiny configurations: the interface the report relies on,
determinism, JSON, and the direction of each main effect where it is robust."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import actlab.lab as lab
from actlab.cli import main
from actlab.cli.lab import CHOICES

NAMES = ("vanishing-gradients", "dead-relu", "output-pairing", "zero-centred", "shoot-out")


@pytest.fixture(scope="module")
def tiny():
    calls: dict[str, list[tuple[int, int, str]]] = {}
    results = {}
    for name in NAMES:
        calls[name] = []
        results[name] = lab.run(
            name, seed=3, size="tiny", progress=lambda d, t, m, n=name: calls[n].append((d, t, m))
        )
    return results, calls


def test_registry_names_order_and_records():
    assert tuple(lab.EXPERIMENTS) == NAMES == CHOICES
    for name, exp in lab.EXPERIMENTS.items():
        assert exp.name == name
        assert exp.title
        assert exp.claim.endswith(".")
        assert "seed 00" in exp.claim  # names the seed document that makes the claim
        assert callable(exp.run)


def test_unknown_experiment_suggests_close_names():
    with pytest.raises(lab.UnknownExperimentError, match="did you mean dead-relu") as info:
        lab.run("dead-rel")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)
    assert "choices: vanishing-gradients" in str(info.value)
    with pytest.raises(ValueError, match="size must be one of"):
        lab.run("dead-relu", size="huge")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        lab.run("dead-relu", seed=-1)


@pytest.mark.parametrize("name", NAMES)
def test_result_interface(tiny, name):
    results, calls = tiny
    r = results[name]
    assert r.name == name
    d = r.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["finding"] == r.finding
    assert d["claim_holds"] == r.claim_holds
    assert "timings" not in d
    assert "timings" in r.to_dict(timings=True)
    assert isinstance(r.finding, str)
    assert r.finding.endswith(".")
    assert r.finding.count(". ") == 0
    assert r.claim_holds in (True, False, None)
    header, rows = r.table()
    assert rows
    assert all(len(row) == len(header) for row in rows)
    done = [c[0] for c in calls[name]]
    assert done == list(range(1, len(done) + 1))
    assert calls[name][-1][1] == len(done)


def test_the_same_seed_gives_bit_identical_results(tiny):
    results, _ = tiny
    for name in ("dead-relu", "shoot-out"):
        again = lab.run(name, seed=3, size="tiny")
        assert json.dumps(again.to_dict()) == json.dumps(results[name].to_dict())
    other = lab.run("dead-relu", seed=4, size="tiny")
    assert other.to_dict() != results["dead-relu"].to_dict()


def test_vanishing_sigmoid_first_layer_gradient_orders_of_magnitude_below_relu(tiny):
    r = tiny[0]["vanishing-gradients"]
    assert r.ratio("sigmoid", 20) < r.ratio("relu", 20) * 1e-4
    assert r.ratio("sigmoid", 20) < r.ratio("sigmoid", 2) * 1e-3
    assert 0.1 < r.ratio("relu", 20) < 10
    for run in r.runs:
        assert len(run.norms_init) == run.depth + 1  # every Linear layer, output included


def test_dead_relu_grows_with_the_learning_rate_and_leaky_never_dies(tiny):
    r = tiny[0]["dead-relu"]
    relu = r.curve("relu", 0.0)
    assert relu[-1] > relu[0] + 0.1
    assert all(v == 0.0 for v in r.curve("leaky_relu", 0.0) if not math.isnan(v))


def test_output_pairing_cross_entropy_pushes_harder_from_a_saturated_start(tiny):
    r = tiny[0]["output-pairing"]
    ce = r.get("softmax+cross-entropy", "saturated")
    sig = r.get("sigmoid+mse", "saturated")
    assert ce.initial_logit_grad_norm > sig.initial_logit_grad_norm
    assert ce.test_accuracy[-1] > sig.test_accuracy[-1]


def test_zero_centred_tanh_is_centred_and_learns_faster(tiny):
    r = tiny[0]["zero-centred"]
    tanh = [x for x in r.runs if x.arm == "tanh"]
    sig = [x for x in r.runs if x.arm == "sigmoid"]
    assert all(abs(x.hidden_mean) < 0.2 for x in tanh)
    assert all(x.hidden_mean > 0.4 for x in sig)
    assert np.mean([x.test_accuracy[-1] for x in tanh]) > np.mean(
        [x.test_accuracy[-1] for x in sig]
    )


def test_shoot_out_learns_prelu_slopes_and_swish_beta(tiny):
    r = tiny[0]["shoot-out"]
    assert r.mean("relu") > r.mean("sigmoid")
    (slope,) = r.learned("prelu")
    (beta,) = r.learned("swish")
    assert slope != 0.25
    assert beta != 1.0
    assert r.learned("relu") == []
    assert {g.dataset for g in r.regions} == {"spirals", "circles"}
    for g in r.regions:
        grid = np.asarray(g.grid)
        assert grid.shape == (12, 12)
        assert set(np.unique(grid)) <= {0, 1}


def test_figures_of_every_experiment(tiny):
    from matplotlib.figure import Figure

    from actlab.plotting.lab import figures

    expected = {
        "vanishing-gradients": {"ratio", "profile"},
        "dead-relu": {"dead"},
        "output-pairing": {"loss", "accuracy"},
        "zero-centred": {"accuracy"},
        "shoot-out": {"accuracy", "regions"},
    }
    for name, r in tiny[0].items():
        figs = figures(r)
        assert set(figs) == expected[name]
        assert all(isinstance(f, Figure) for f in figs.values())
    # the ratio figure plots the measured ratios, nothing else
    r = tiny[0]["vanishing-gradients"]
    ax = figures(r)["ratio"].axes[0]
    plotted = {
        line.get_label(): line.get_ydata() for line in ax.lines if line.get_label()[0] != "_"
    }
    for act in ("sigmoid", "relu"):
        np.testing.assert_array_equal(plotted[act], [r.ratio(act, 2), r.ratio(act, 20)])
    with pytest.raises(ValueError, match="not a lab result"):
        figures(object())


def test_cli_writes_json_and_figures(tmp_path, capsys):
    assert main(["lab", "output-pairing", "--tiny", "--seed", "1", "-o", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "output-pairing.json").read_text())
    assert data["name"] == "output-pairing"
    assert data["seed"] == 1
    assert "timings" in data
    assert data["finding"]
    assert (tmp_path / "output-pairing-loss.png").stat().st_size > 1000
    assert (tmp_path / "output-pairing-accuracy.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert data["finding"][:40] in " ".join(out.split())


def test_cli_unknown_experiment_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["lab", "dead-rellu"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "did you mean dead-relu" in err
    assert err.count("\n") == 1
