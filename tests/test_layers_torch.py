"""The same network, weights and data trained a few steps in actlab and in PyTorch: the
parameters and losses agree to float64 round-off."""

from __future__ import annotations

import numpy as np
import pytest

from actlab.layers import MLP, SGD, Adam, Linear, PReLU, SoftmaxCrossEntropy

torch = pytest.importorskip("torch")


def _torch_twin(net: MLP, activation: str) -> torch.nn.Sequential:
    layers = []
    for layer in net.layers:
        if isinstance(layer, Linear):
            lin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.weight.value.T.copy()))
                lin.bias.copy_(torch.from_numpy(layer.bias.value.copy()))
            layers.append(lin)
        elif isinstance(layer, PReLU):
            p = torch.nn.PReLU(layer.weight.shape[0], dtype=torch.float64)
            with torch.no_grad():
                p.weight.copy_(torch.from_numpy(layer.weight.value.copy()))
            layers.append(p)
        else:
            layers.append(
                {
                    "tanh": torch.nn.Tanh(),
                    "relu": torch.nn.ReLU(),
                    "elu": torch.nn.ELU(),
                    "sigmoid": torch.nn.Sigmoid(),
                    "silu": torch.nn.SiLU(),
                }[activation]
            )
    return torch.nn.Sequential(*layers)


def _ours_params(net: MLP) -> list[np.ndarray]:
    out = []
    for layer in net.layers:
        if isinstance(layer, Linear):
            out += [layer.weight.value.T, layer.bias.value]
        elif isinstance(layer, PReLU):
            out.append(layer.weight.value)
    return out


@pytest.mark.parametrize(
    ("activation", "optimiser"),
    [
        ("tanh", "sgd"),
        ("relu", "sgd"),
        ("elu", "adam"),
        ("sigmoid", "adam"),
        ("prelu", "sgd"),
        ("prelu", "adam"),
        ("silu", "adam"),
    ],
)
def test_training_matches_pytorch(activation, optimiser):
    rng = np.random.default_rng(20)
    net = MLP(6, [8, 7], 4, activation, rng=rng, bias_init=0.1)
    twin = _torch_twin(net, activation)
    x = rng.standard_normal((5, 32, 6))
    y = rng.integers(0, 4, (5, 32))
    loss = SoftmaxCrossEntropy()
    if optimiser == "sgd":
        ours = SGD(net.parameters(), 0.1, momentum=0.9)
        theirs = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    else:
        ours = Adam(net.parameters(), 0.01)
        theirs = torch.optim.Adam(twin.parameters(), lr=0.01)
    for step in range(5):
        ours.zero_grad()
        value = loss(net.forward(x[step]), y[step])
        net.backward(loss.backward())
        ours.step()
        theirs.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(
            twin(torch.from_numpy(x[step])), torch.from_numpy(y[step])
        )
        t_loss.backward()
        theirs.step()
        assert value == pytest.approx(t_loss.item(), rel=1e-12)
    for a, p in zip(_ours_params(net), twin.parameters(), strict=True):
        np.testing.assert_allclose(a, p.detach().numpy(), rtol=1e-12, atol=1e-15)
