import numpy as np
import pytest
import torch
from torch import nn

from dlhandbook.basics.neuron import (
    count_params,
    network_forward,
    neuron,
    neuron_torch,
    sequential_from_weights,
)

ACTS = ["identity", "sigmoid", "tanh", "relu"]
TORCH_ACTS = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
              "relu": torch.relu}


def _layers(sizes, rng):
    Ws = [rng.standard_normal((o, i)) for i, o in zip(sizes, sizes[1:], strict=False)]
    bs = [rng.standard_normal(o) for o in sizes[1:]]
    return Ws, bs


@pytest.mark.parametrize("activation", ACTS)
def test_neuron_equals_torch_linear_then_activation(activation, rng, device):
    X, w, b = rng.standard_normal((50, 3)), rng.standard_normal(3), 0.7
    linear = nn.Linear(3, 1, dtype=torch.float64, device=device)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(w)[None, :])
        linear.bias.fill_(b)
    expected = TORCH_ACTS[activation](linear(torch.tensor(X, device=device))).squeeze(-1)
    got = neuron(X, w, b, activation)
    np.testing.assert_allclose(got, expected.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
    ours = neuron_torch(w, b, activation).to(device)(torch.tensor(X, device=device))
    np.testing.assert_allclose(ours.squeeze(-1).detach().cpu().numpy(), got, rtol=1e-12,
                               atol=1e-14)


def test_sigmoid_neuron_is_logistic_regression_and_its_boundary_is_the_hyperplane(rng):
    """sigma(w.x + b) > 1/2 exactly where w.x + b > 0: the boundary is w.x + b = 0."""
    X, w, b = rng.standard_normal((1000, 2)), np.array([3.0, -2.0]), 1.0
    p = neuron(X, w, b, "sigmoid")
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(X @ w + b))), rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(p > 0.5, X @ w + b > 0)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_network_forward_equals_nn_sequential_with_the_same_weights(activation, rng, device):
    sizes = [4, 16, 16, 3]
    Ws, bs = _layers(sizes, rng)
    X = rng.standard_normal((64, 4))
    layers = []
    for W, b in zip(Ws, bs, strict=True):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W))
            linear.bias.copy_(torch.tensor(b))
        layers += [linear, {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[activation]()]
    reference = nn.Sequential(*layers[:-1]).to(device)
    expected = reference(torch.tensor(X, device=device)).detach().cpu().numpy()
    got = network_forward(X, Ws, bs, activation)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    ours = sequential_from_weights(Ws, bs, activation).to(device)
    np.testing.assert_allclose(ours(torch.tensor(X, device=device)).detach().cpu().numpy(),
                               got, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float16, 1e-2),
                                        (torch.bfloat16, 5e-2)])
def test_torch_builders_work_in_low_precision(dtype, tol, rng, device):
    sizes = [3, 8, 2]
    Ws, bs = _layers(sizes, rng)
    X = rng.standard_normal((32, 3))
    exact = network_forward(X, Ws, bs, "tanh")
    model = sequential_from_weights(Ws, bs, "tanh", dtype=dtype).to(device)
    out = model(torch.tensor(X, dtype=dtype, device=device))
    assert out.dtype == dtype
    scale = np.abs(exact).max()
    assert np.abs(out.float().detach().cpu().numpy() - exact).max() < tol * 4 * scale
    one = neuron_torch(Ws[0][0], bs[0][0], "sigmoid", dtype=dtype).to(device)
    p = one(torch.tensor(X, dtype=dtype, device=device)).squeeze(-1)
    assert np.abs(p.float().detach().cpu().numpy()
                  - neuron(X, Ws[0][0], bs[0][0], "sigmoid")).max() < tol * 4


def test_count_params_matches_torch_and_the_formula():
    sizes = [4, 3, 1]
    model = sequential_from_weights(*_layers(sizes, np.random.default_rng(0)))
    assert count_params(sizes) == sum(p.numel() for p in model.parameters()) == 19
    assert count_params([784, 256, 10]) == 785 * 256 + 257 * 10


def test_without_a_bias_the_boundary_is_pinned_to_the_origin():
    """1-D points 1..2 labelled 0 and 3..4 labelled 1: w x > 0 has one sign for every x > 0,
    so no bias-free neuron gets more than half right; with a bias one is perfect."""
    X = np.array([[1.0], [1.5], [2.0], [3.0], [3.5], [4.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    best_without = max(np.mean((neuron(X, [w], 0.0, "identity") > 0) == y)
                       for w in np.linspace(-5, 5, 101))
    assert best_without == 0.5
    assert np.mean((neuron(X, [1.0], -2.5, "identity") > 0) == y) == 1.0


def test_bad_input_raises_naming_the_argument(rng):
    X = rng.standard_normal((5, 3))
    with pytest.raises(ValueError, match="w must have shape"):
        neuron(X, np.ones(2), 0.0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        neuron(np.ones(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="b must be a scalar"):
        neuron(X, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="activation"):
        neuron(X, np.ones(3), 0.0, "step")
    Ws, bs = _layers([3, 4, 2], rng)
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        network_forward(X, [Ws[0], Ws[0]], bs)
    with pytest.raises(ValueError, match=r"biases\[0\]"):
        network_forward(X, Ws, [bs[1], bs[1]])
    with pytest.raises(ValueError, match="equal length"):
        network_forward(X, Ws, bs[:1])
    with pytest.raises(ValueError, match="sizes"):
        count_params([3, 0, 1])
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        sequential_from_weights([Ws[0], Ws[0]], bs)
    with pytest.raises(ValueError, match="activation"):
        sequential_from_weights(Ws, bs, "step")
    with pytest.raises(ValueError, match="w must be 1-D"):
        neuron_torch(np.ones((2, 2)), 0.0)


def test_local_gradient_is_phi_prime_of_z_times_the_input(rng, device):
    """d a / d w = sigma'(z) x and d a / d b = sigma'(z), with sigma' = a (1 - a)."""
    x, w, b = rng.standard_normal(4), rng.standard_normal(4), -0.3
    model = neuron_torch(w, b, "sigmoid").to(device)
    a = model(torch.tensor(x[None, :], device=device)).squeeze()
    a.backward()
    a_np = neuron(x[None, :], w, b, "sigmoid")[0]
    linear = model[0]
    np.testing.assert_allclose(linear.weight.grad[0].cpu().numpy(), a_np * (1 - a_np) * x,
                               rtol=1e-12)
    np.testing.assert_allclose(linear.bias.grad.item(), a_np * (1 - a_np), rtol=1e-12)
