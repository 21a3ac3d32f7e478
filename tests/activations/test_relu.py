import numpy as np
import pytest
import torch

from dlhandbook.activations.relu import relu, relu_grad, relu_torch
from helpers import assert_matches_torch, rel_error

Z = np.concatenate([np.linspace(-10, 10, 2001), [0.0]])


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_matches_torch_values_and_gradients(device):
    assert_matches_torch(relu, torch.relu, [Z], np_grad_fn=lambda z, g: g * relu_grad(z), device=device)


def test_gradient_is_exactly_zero_for_negative_inputs():
    assert np.all(relu_grad(Z[Z < 0]) == 0.0)
    assert np.all(relu_grad(Z[Z > 0]) == 1.0)


def test_gradient_at_zero_is_zero_like_torch(device):
    z = torch.zeros(1, dtype=torch.float64, device=device, requires_grad=True)
    (g,) = torch.autograd.grad(relu_torch(z).sum(), z)
    assert relu_grad(0.0) == 0.0 and g.item() == 0.0


def test_torch_backward_blocks_gradient_for_negative_inputs(device):
    z = torch.tensor([-3.0, -1e-9, 2.0], dtype=torch.float64, device=device, requires_grad=True)
    (g,) = torch.autograd.grad(relu_torch(z).sum(), z)
    assert g.tolist() == [0.0, 0.0, 1.0]


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert relu(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1000.0]
        assert relu_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 24, dtype=torch.float64, device=device, requires_grad=True)  # avoids 0
    assert torch.autograd.gradcheck(relu_torch, (z,))
    torch.testing.assert_close(relu_torch(z), torch.relu(z), rtol=0, atol=0)
    assert_same_gradients(relu_torch, torch.relu, z)


def test_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="z must be"):
        relu(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        relu_grad(np.array([True]))
    with pytest.raises(TypeError, match="z must be"):
        relu_torch(torch.tensor([1, 2]))


def test_derivative_matches_finite_differences():
    z = np.linspace(-5, 5, 40)                          # avoids the kink at 0
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (relu(z + h) - relu(z - h)) / (2 * h)
    assert rel_error(relu_grad(z), numeric) < 1e-6


def _input_gradient_gain(weight_variance_times_fan_in, depth=30, width=64):
    """||dL/dx|| / ||dL/dh_L|| through `depth` ReLU layers with weights N(0, c / width)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, width, dtype=torch.float64, generator=gen, requires_grad=True)
    h = x
    for _ in range(depth):
        W = torch.randn(width, width, dtype=torch.float64, generator=gen)
        h = relu_torch(h @ (W * (weight_variance_times_fan_in / width) ** 0.5).T)   # (256, width)
    upstream = torch.randn(h.shape, dtype=torch.float64, generator=gen)
    (g,) = torch.autograd.grad(h, x, grad_outputs=upstream)
    return (g.norm() / upstream.norm()).item()


def test_relu_networks_still_vanish_or_explode_with_a_bad_weight_scale():
    assert _input_gradient_gain(1.0) < 1e-3       # variance 1/fan_in: each layer halves the squared norm
    assert _input_gradient_gain(4.0) > 1e3        # variance 4/fan_in: each layer doubles it
    assert 0.1 < _input_gradient_gain(2.0) < 10   # He: variance 2/fan_in keeps it of order one
