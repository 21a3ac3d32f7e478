import numpy as np
import pytest
import torch
from torch import nn

from dlhandbook.activations.elu import elu
from dlhandbook.activations.gelu import gelu
from dlhandbook.activations.leaky_relu import leaky_relu
from dlhandbook.activations.relu import relu
from dlhandbook.activations.sigmoid import sigmoid
from dlhandbook.activations.silu import silu
from dlhandbook.activations.softplus import softplus
from dlhandbook.activations.tanh import tanh
from dlhandbook.networks.linear_collapse import collapse_linear_layers, collapse_linear_stack


def test_stack_of_linear_layers_is_one_affine_map(device):
    stack = nn.Sequential(nn.Linear(5, 16), nn.Linear(16, 16), nn.Linear(16, 8), nn.Linear(8, 3))
    stack = stack.to(dtype=torch.float64, device=device)
    X = torch.randn(64, 5, dtype=torch.float64, device=device)
    single = collapse_linear_stack(stack)
    torch.testing.assert_close(single(X), stack(X), atol=1e-12, rtol=0)
    W, b = collapse_linear_layers([m.weight.detach().cpu().numpy() for m in stack],
                                  [m.bias.detach().cpu().numpy() for m in stack])
    np.testing.assert_allclose(X.cpu().numpy() @ W.T + b, stack(X).detach().cpu().numpy(), atol=1e-12, rtol=0)


def test_bottleneck_limits_the_rank(device):
    stack = nn.Sequential(nn.Linear(5, 1), nn.Linear(1, 5)).to(dtype=torch.float64, device=device)
    single = collapse_linear_stack(stack)
    assert single.weight.shape == (5, 5)
    assert torch.linalg.matrix_rank(single.weight).item() == 1


def _affine_fit_residual(f, X):
    """RMS residual of the best affine fit to f over the rows of X (0 iff f is affine there)."""
    Y = f(X)
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    return float(np.sqrt(np.mean((A @ coef - Y) ** 2)))


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
               "gelu": gelu, "silu": silu, "softplus": softplus}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_no_activation_collapses_to_one_affine_map(rng, name):
    phi = ACTIVATIONS[name]
    W1, b1 = rng.standard_normal((16, 3)), rng.standard_normal(16)
    W2, b2 = rng.standard_normal((2, 16)), rng.standard_normal(2)
    X = rng.standard_normal((256, 3)) * 2
    def net(phi):
        return lambda X: phi(X @ W1.T + b1) @ W2.T + b2
    assert _affine_fit_residual(net(lambda z: z), X) < 1e-12          # identity: exactly affine
    assert _affine_fit_residual(net(phi), X) > 1e-2                     # every activation: not affine


def test_leaky_relu_with_slope_one_collapses(rng):
    W1, b1 = rng.standard_normal((16, 3)), rng.standard_normal(16)
    X = rng.standard_normal((256, 3))
    assert _affine_fit_residual(lambda X: leaky_relu(X @ W1.T + b1, 1.0), X) < 1e-12


def test_torch_net_with_identity_activation_equals_collapsed_map(device):
    net = nn.Sequential(nn.Linear(4, 8), nn.Identity(), nn.Linear(8, 2))
    net = net.to(dtype=torch.float64, device=device)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    X = torch.randn(32, 4, dtype=torch.float64, device=device)
    torch.testing.assert_close(collapse_linear_stack(linears)(X), net(X), atol=1e-12, rtol=0)
    relu_net = nn.Sequential(linears[0], nn.ReLU(), linears[1])
    assert (collapse_linear_stack(linears)(X) - relu_net(X)).abs().max() > 1e-3


def test_validates_arguments():
    with pytest.raises(ValueError, match="equal length"):
        collapse_linear_layers([np.eye(2)], [])
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        collapse_linear_layers([np.zeros((3, 2)), np.zeros((2, 2))], [np.zeros(3), np.zeros(2)])
    with pytest.raises(ValueError, match=r"biases\[0\]"):
        collapse_linear_layers([np.zeros((3, 2))], [np.zeros(2)])
    with pytest.raises(TypeError, match="weights and biases"):
        collapse_linear_layers(np.zeros((1, 3, 2)), [np.zeros(3)])
    with pytest.raises(TypeError, match="layers"):
        collapse_linear_stack([nn.Linear(2, 2), nn.ReLU()])
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        collapse_linear_stack([nn.Linear(2, 3), nn.Linear(2, 2)])


def test_deep_linear_loss_is_not_convex_in_the_weights():
    # L(w1, w2) = (w2 * w1 - 1)^2 is the loss of a 1-1-1 linear net on the example x = 1, y = 1.
    loss = lambda w: (w[1] * w[0] - 1.0) ** 2  # noqa: E731
    hessian = torch.autograd.functional.hessian(loss, torch.zeros(2, dtype=torch.float64))
    eigenvalues = torch.linalg.eigvalsh(hessian)
    torch.testing.assert_close(eigenvalues, torch.tensor([-2.0, 2.0], dtype=torch.float64))
    assert eigenvalues.min() < 0          # a saddle point: the loss is not convex
