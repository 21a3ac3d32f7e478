import numpy as np
import pytest
import torch

from dlhandbook.activations.sigmoid import sigmoid, sigmoid_grad, sigmoid_torch
from helpers import assert_matches_torch, rel_error

Z = np.linspace(-10, 10, 2001)


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_matches_torch_values_and_gradients(device):
    assert_matches_torch(sigmoid, torch.sigmoid, [Z], np_grad_fn=lambda z, g: g * sigmoid_grad(z),
                         device=device)


def test_derivative_peaks_at_one_quarter_at_zero():
    assert sigmoid_grad(0.0) == 0.25
    assert sigmoid_grad(Z).max() <= 0.25


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", under="ignore"):
        assert sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_saturates_for_large_inputs():
    assert sigmoid_grad(10.0) < 5e-5


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(sigmoid_torch, (z,))
    torch.testing.assert_close(sigmoid_torch(z), torch.sigmoid(z), rtol=0, atol=0)
    assert_same_gradients(sigmoid_torch, torch.sigmoid, z)


def test_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="z must be"):
        sigmoid(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        sigmoid_torch(torch.tensor([1, 2]))


def test_derivative_matches_finite_differences():
    z = np.linspace(-5, 5, 40)                          # a smooth function: any grid will do
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    assert rel_error(sigmoid_grad(z), numeric) < 1e-6
