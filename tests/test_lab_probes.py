"""Probes, data sets and the training loop: definitions, NaN handling, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.lab import circles, digits, fit, probe, spirals
from actlab.lab.probes import flatten
from actlab.layers import (
    MLP,
    SGD,
    Activation,
    Adam,
    LabelError,
    LayerShapeError,
    Linear,
    Maxout,
    MSELoss,
    PReLU,
    Sequential,
    SoftmaxCrossEntropy,
)


def _net(act: str, bias: float = 0.0, seed: int = 0) -> MLP:
    return MLP(4, [6, 5], 3, act, rng=np.random.default_rng(seed), bias_init=bias)


def _xy(n: int = 40, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


def test_dead_and_inactive_units_by_definition():
    x, y = _xy()
    loss = SoftmaxCrossEntropy()
    # A bias of −100 puts every pre-activation far below 0 for every example.
    relu = probe(_net("relu", bias=-100.0), loss, x, y).of_kind("activation")
    leaky = probe(_net("leaky_relu", bias=-100.0), loss, x, y).of_kind("activation")
    assert [p.dead_fraction for p in relu] == [1.0, 1.0]
    assert [p.dead_fraction for p in leaky] == [0.0, 0.0]  # f′ = 0.01, never 0
    assert [p.inactive_fraction for p in leaky] == [1.0, 1.0]
    healthy = probe(_net("relu", bias=0.1), loss, x, y).of_kind("activation")
    assert all(p.dead_fraction < 1.0 for p in healthy)


def test_dead_fraction_counts_units_off_for_every_example():
    lin = Linear(2, 3, rng=np.random.default_rng(0))
    lin.weight.value[...] = [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]
    lin.bias.value[...] = [0.0, 0.0, -1.0]
    net = Sequential(lin, Activation("relu"), Linear(3, 2, rng=np.random.default_rng(1)))
    x = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]])
    act = probe(net, SoftmaxCrossEntropy(), x, np.array([0, 1, 0])).of_kind("activation")[0]
    # unit 0 is on for two examples, unit 1 for one, unit 2 for none
    assert act.dead_fraction == pytest.approx(1 / 3)


def test_saturated_fraction_and_statistics():
    x, y = _xy()
    net = _net("sigmoid")
    for layer in net.layers:
        if isinstance(layer, Linear):
            layer.weight.value *= 50.0  # drives σ deep into its flat tails
    hidden = probe(net, SoftmaxCrossEntropy(), x, y).of_kind("activation")
    assert hidden[0].saturated_fraction > 0.8
    tanh_net = _net("tanh")
    first = probe(tanh_net, SoftmaxCrossEntropy(), x, y).of_kind("activation")[0]
    a = np.tanh(x @ tanh_net.layers[0].weight.value)  # the bias starts at 0
    assert first.mean == pytest.approx(a.mean(), rel=1e-12)
    assert first.std == pytest.approx(a.std(), rel=1e-12)


def test_probe_gradient_norms_match_a_plain_backward_and_leave_the_network_alone():
    x, y = _xy()
    net = _net("elu")
    loss = SoftmaxCrossEntropy()
    for p in net.parameters():
        p.grad[...] = 7.0  # gradients a training step had accumulated
    net.train()
    report = probe(net, loss, x, y)
    assert all(np.all(p.grad == 7.0) for p in net.parameters())
    assert all(m.training for m in net.modules())
    net.zero_grad()
    loss(net.forward(x), y)
    net.backward(loss.backward())
    weights = [p for p in net.parameters() if p.name == "weight"]
    measured = [p.weight_grad_norm for p in report.layers if p.weight_grad_norm is not None]
    np.testing.assert_allclose(measured, [np.linalg.norm(w.grad) for w in weights], rtol=1e-14)
    assert report.finite
    assert report.message is None
    assert len(report.layers) == len(flatten(net))


def test_probes_report_nan_instead_of_crashing():
    x, y = _xy()
    net = _net("relu")
    net.layers[2].weight.value[0, 0] = np.nan
    report = probe(net, SoftmaxCrossEntropy(), x, y)
    assert not report.finite
    assert "loss is nan" in report.message
    assert "non-finite outputs" in report.message
    assert np.isnan(report.loss)


def test_maxout_and_prelu_in_probes():
    x, y = _xy()
    rng = np.random.default_rng(3)
    net = Sequential(Maxout(4, 5, 3, rng=rng), PReLU(5), Linear(5, 3, rng=rng))
    report = probe(net, SoftmaxCrossEntropy(), x, y)
    maxout, prelu = report.of_kind("activation")
    assert maxout.dead_fraction == 0.0
    assert maxout.weight_grad_norm > 0
    assert prelu.dead_fraction == 0.0


def test_a_diverging_run_stops_and_names_the_step():
    data = digits(0).subset(200, 50)
    net = MLP(64, [16], 10, "relu", rng=np.random.default_rng(0))
    hist = fit(
        net,
        SoftmaxCrossEntropy(),
        SGD(net.parameters(), 1e300, momentum=0.9),
        data,
        rng=np.random.default_rng(1),
        epochs=3,
        batch_size=50,
    )
    assert hist.diverged
    assert f"at step {hist.steps}" in hist.message
    assert hist.steps < 12
    assert len(hist.loss) == hist.steps
    assert not np.isfinite(hist.loss[-1])


def test_fit_records_per_step_norms_probes_and_target():
    data = digits(0).subset(300, 100)
    net = MLP(64, [16], 10, "tanh", rng=np.random.default_rng(0))
    hist = fit(
        net,
        SoftmaxCrossEntropy(),
        Adam(net.parameters(), 1e-2),
        data,
        rng=np.random.default_rng(1),
        steps=20,
        batch_size=50,
        eval_every=5,
        probe_every=10,
        record_grad_norms=True,
        target_accuracy=0.3,
    )
    assert hist.steps == 20
    assert len(hist.grad_norms) == 20
    assert all(len(g) == 2 for g in hist.grad_norms)
    assert hist.eval_steps == [5, 10, 15, 20]
    assert [s for s, _ in hist.probes] == [10, 20]
    assert hist.target_step in hist.eval_steps
    assert hist.loss[-1] < hist.loss[0]


def test_training_is_deterministic_for_a_seed():
    data = digits(0).subset(200, 50)

    def once() -> list[float]:
        net = MLP(64, [8], 10, "rrelu", rng=np.random.default_rng(5))
        opt = SGD(net.parameters(), 0.1, momentum=0.9)
        return fit(
            net, SoftmaxCrossEntropy(), opt, data, rng=np.random.default_rng(6), epochs=2
        ).loss

    assert once() == once()


def test_digits_split_is_stratified_seeded_and_scaled():
    a, b, c = digits(0), digits(0), digits(1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.y_train, c.y_train)
    assert a.x_train.shape == (1438, 64)
    assert a.x_test.shape == (359, 64)
    assert a.x_train.min() == 0.0
    assert a.x_train.max() == 1.0
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 35
    assert counts.max() <= 37


@pytest.mark.parametrize("make", [spirals, circles])
def test_two_dimensional_sets(make):
    d = make(n=200, seed=2)
    assert d.x_train.shape[1] == 2
    assert d.n_classes == 2
    assert len(d.y_train) + len(d.y_test) == 200
    np.testing.assert_array_equal(d.x_train, make(n=200, seed=2).x_train)


def test_bad_input_shape_mismatch_names_the_layers():
    rng = np.random.default_rng(0)
    with pytest.raises(
        LayerShapeError, match=r"layer 2 Linear\(8→3\) expects 8 .* layer 0 Linear\(4→6\) gives 6"
    ):
        Sequential(Linear(4, 6, rng=rng), Activation("relu"), Linear(8, 3, rng=rng))
    net = _net("relu")
    with pytest.raises(
        LayerShapeError,
        match=r"layer 0: Linear\(4→6\): expected input of shape \(batch, 4\), got \(2, 5\)",
    ):
        net.forward(np.ones((2, 5)))
    with pytest.raises(LayerShapeError, match="PReLU"):
        PReLU(3).forward(np.ones((2, 4)))


def test_bad_input_labels_out_of_range():
    z = np.zeros((3, 4))
    with pytest.raises(LabelError, match=r"labels must be in \[0, 4\) .* got \[4\]"):
        SoftmaxCrossEntropy()(z, np.array([0, 1, 4]))
    with pytest.raises(LabelError, match="got \\[-1\\]"):
        MSELoss()(z, np.array([0, -1, 2]))
    with pytest.raises(LabelError, match="must be integers"):
        SoftmaxCrossEntropy()(z, np.array([0.5, 1, 2]))
    with pytest.raises(LayerShapeError, match="expected 3 labels"):
        SoftmaxCrossEntropy()(z, np.array([0, 1]))


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_input_learning_rate(lr):
    params = _net("relu").parameters()
    with pytest.raises(ValueError, match="lr must be > 0"):
        SGD(params, lr)
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam(params, lr)


def test_bad_input_unknown_activation_suggests_close_names():
    with pytest.raises(actlab.UnknownActivationError, match="did you mean relu"):
        _net("reul")
    with pytest.raises(actlab.UnknownActivationError, match=r"did you mean .*leaky_relu"):
        Activation("leaky_rellu")
    with pytest.raises(TypeError, match="is a loss function, not an activation"):
        Activation("cross_entropy")
    with pytest.raises(TypeError, match="has no parameter gamma"):
        Activation("elu", gamma=2.0)
    with pytest.raises(ValueError, match="alpha must be in"):
        Activation("elu", alpha=-1.0)
