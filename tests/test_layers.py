"""Layers: every gradient against central finite differences (float64), initialisation, modes."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.layers import (
    INITS,
    MLP,
    Activation,
    BCEWithLogitsLoss,
    Linear,
    Maxout,
    MSELoss,
    NLLLoss,
    PReLU,
    RReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Swish,
    init_weight,
)
from test_layers_support import check_module, numeric_grad

ELEMENTWISE = actlab.names("elementwise")


def _away_from_kinks(x: np.ndarray, name: str) -> np.ndarray:
    # Finite differences straddling a kink measure neither one-sided derivative.
    for k in actlab.get(name).kinks:
        x = np.where(np.abs(x - k.at) < 1e-3, x + 0.01, x)
    return x


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_layer_backward_is_the_registry_derivative(name):
    rng = np.random.default_rng(1)
    x = _away_from_kinks(rng.standard_normal((4, 5)) * 3 + (3 if name == "relu6" else 0), name)
    check_module(Activation(name), x)


@pytest.mark.parametrize(
    ("name", "params"),
    [("softmax", {}), ("log_softmax", {}), ("softmin", {}), ("maxout", {"pieces": 3})],
)
def test_row_and_grouped_activations_backward_by_their_vjp(name, params):
    x = np.random.default_rng(2).standard_normal((3, 6))
    check_module(Activation(name, **params), x)


def test_linear_gradients():
    rng = np.random.default_rng(3)
    check_module(Linear(5, 4, rng=rng, bias_init=0.3), rng.standard_normal((6, 5)))
    check_module(Linear(5, 4, rng=rng, bias=False), rng.standard_normal((6, 5)))


@pytest.mark.parametrize("num_parameters", [1, 5])
def test_prelu_weight_gradient(num_parameters):
    layer = PReLU(num_parameters, init=0.1)
    layer.weight.value[...] = np.linspace(-0.3, 0.6, num_parameters)
    check_module(layer, np.random.default_rng(4).standard_normal((7, 5)))


@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_swish_beta_gradient(beta):
    layer = Swish(beta)
    check_module(layer, np.random.default_rng(5).standard_normal((6, 4)) * 2)
    assert [p.name for p in layer.parameters()] == ["beta"]
    assert Swish(beta, learnable=False).parameters() == []


def test_maxout_layer_gradients():
    rng = np.random.default_rng(6)
    check_module(Maxout(4, 3, pieces=3, rng=rng), rng.standard_normal((5, 4)))


def test_rrelu_eval_gradient_and_mean_slope():
    layer = RReLU(0.1, 0.3, rng=0).eval()
    x = _away_from_kinks(np.random.default_rng(7).standard_normal((5, 4)), "rrelu")
    check_module(layer, x)
    np.testing.assert_allclose(layer.forward(np.array([[-2.0]])), [[-0.4]])


def test_rrelu_train_backward_uses_the_slopes_the_forward_drew():
    layer = RReLU(0.1, 0.3, rng=np.random.default_rng(8)).train()
    x = -np.abs(np.random.default_rng(9).standard_normal((50, 20))) - 0.1
    y = layer.forward(x)
    slopes = y / x
    assert np.all((slopes >= 0.1) & (slopes <= 0.3))
    assert np.std(slopes) > 0.03  # really random, not the mean slope
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), slopes, rtol=1e-15)
    # the same seed draws the same slopes
    again = RReLU(0.1, 0.3, rng=np.random.default_rng(8)).train().forward(x)
    np.testing.assert_array_equal(again, y)


def _loss_check(loss, z, target, rtol=1e-6):
    loss.forward(z, target)
    g = loss.backward()
    num = numeric_grad(lambda: loss.forward(z, target), z)
    np.testing.assert_allclose(g, num, rtol=rtol, atol=1e-9)


def test_loss_layer_gradients():
    rng = np.random.default_rng(10)
    z = rng.standard_normal((6, 4)) * 2
    labels = rng.integers(0, 4, 6)
    _loss_check(SoftmaxCrossEntropy(), z, labels)
    _loss_check(SoftmaxCrossEntropy(label_smoothing=0.1), z, labels)
    _loss_check(NLLLoss(), z, labels)
    _loss_check(MSELoss(), z, labels)
    _loss_check(MSELoss(), z, rng.standard_normal((6, 4)))
    _loss_check(BCEWithLogitsLoss(), z, rng.random((6, 4)))
    _loss_check(BCEWithLogitsLoss(), z, labels)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_layer_equals_the_registry_loss(smoothing):
    rng = np.random.default_rng(14)
    z = rng.standard_normal((9, 5)) * 4
    labels = rng.integers(0, 5, 9)
    loss = SoftmaxCrossEntropy(label_smoothing=smoothing)
    value = loss(z, labels)
    expected = actlab.cross_entropy(z, labels, label_smoothing=smoothing)
    assert value == pytest.approx(float(expected), rel=4e-16, abs=0)
    np.testing.assert_allclose(
        loss.backward(),
        actlab.cross_entropy_grad(z, labels, label_smoothing=smoothing),
        rtol=1e-15,
        atol=1e-17,
    )


def test_cross_entropy_value_is_the_mean_negative_log_likelihood():
    z = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[[0, 1], [0, 2]]))
    assert SoftmaxCrossEntropy()(z, np.array([0, 2])) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "prelu", "swish", "maxout", "elu"])
def test_whole_network_gradient(activation):
    rng = np.random.default_rng(11)
    net = MLP(5, [6, 4], 3, activation, rng=rng, bias_init=0.05)
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 3, 8)
    loss = SoftmaxCrossEntropy()

    def f() -> float:
        return loss(net.forward(x), y)

    net.zero_grad()
    f()
    gx = net.backward(loss.backward())
    np.testing.assert_allclose(gx, numeric_grad(f, x), rtol=1e-6, atol=1e-10)
    assert len(net.parameters()) >= 6
    for p in net.parameters():
        np.testing.assert_allclose(p.grad, numeric_grad(f, p.value), rtol=1e-6, atol=1e-10)


def test_gradients_accumulate_until_zero_grad():
    rng = np.random.default_rng(12)
    layer = Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any()


@pytest.mark.parametrize(
    ("scheme", "variance"),
    [
        ("glorot", lambda i, o: 2 / (i + o)),
        ("glorot_normal", lambda i, o: 2 / (i + o)),
        ("he", lambda i, o: 2 / i),
        ("he_uniform", lambda i, o: 2 / i),
        ("lecun", lambda i, o: 1 / i),
        ("lecun_uniform", lambda i, o: 1 / i),
    ],
)
def test_init_variance(scheme, variance):
    w = init_weight(scheme, 400, 300, np.random.default_rng(13))
    assert w.shape == (400, 300)
    assert abs(w.mean()) < 3e-3
    assert w.var() == pytest.approx(variance(400, 300), rel=0.02)


def test_init_names_and_bad_scheme():
    assert {"glorot", "xavier", "he", "kaiming", "lecun"} <= set(INITS)
    with pytest.raises(ValueError, match="init must be one of"):
        Linear(2, 2, init="orthogonal", rng=np.random.default_rng(0))


def test_train_eval_modes_propagate():
    net = MLP(3, [4], 2, "rrelu", rng=np.random.default_rng(0))
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    x = -np.ones((2, 3))
    net.eval()
    np.testing.assert_array_equal(net(x), net(x))


def test_sgd_momentum_and_adam_update_rules_by_hand():
    from actlab.layers import SGD, Adam, Parameter

    p = Parameter(np.array([1.0, -2.0]))
    opt = SGD([p], 0.1, momentum=0.5)
    grads = [np.array([1.0, 2.0]), np.array([-1.0, 4.0])]
    v = np.zeros(2)
    expected = p.value.copy()
    for i, g in enumerate(grads):
        p.grad[...] = g
        opt.step()
        v = g if i == 0 else 0.5 * v + g
        expected = expected - 0.1 * v
        np.testing.assert_allclose(p.value, expected, rtol=1e-15)
    q = Parameter(np.array([0.3, -0.7, 5.0]))
    adam = Adam([q], 0.01)
    q.grad[...] = [2.0, -1e-3, 0.0]
    adam.step()
    # the first Adam step moves every coordinate with a gradient by lr·sign(g)
    np.testing.assert_allclose(q.value, [0.29, -0.69, 5.0], rtol=1e-6)


def test_sequential_collects_parameters_in_order():
    rng = np.random.default_rng(0)
    a, b = Linear(3, 4, rng=rng), Linear(4, 2, rng=rng)
    net = Sequential(a, PReLU(), b)
    assert net.parameters() == [a.weight, a.bias, net[1].weight, b.weight, b.bias]
