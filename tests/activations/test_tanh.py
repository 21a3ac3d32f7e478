import numpy as np
import pytest
import torch

from dlhandbook.activations.sigmoid import sigmoid
from dlhandbook.activations.tanh import tanh, tanh_grad, tanh_torch
from helpers import assert_matches_torch, rel_error

Z = np.linspace(-10, 10, 2001)


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_matches_torch_values_and_gradients(device):
    assert_matches_torch(tanh, torch.tanh, [Z], np_grad_fn=lambda z, g: g * tanh_grad(z), device=device)


def test_is_a_rescaled_sigmoid():
    np.testing.assert_allclose(tanh(Z), 2 * sigmoid(2 * Z) - 1, atol=1e-12, rtol=0)


def test_derivative_peaks_at_one_at_zero():
    assert tanh_grad(0.0) == 1.0
    assert tanh_grad(Z).max() <= 1.0


def test_is_zero_centred_and_odd():
    assert tanh(0.0) == 0.0
    np.testing.assert_array_equal(tanh(-Z), -tanh(Z))


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert tanh(np.array([-1000.0, 1000.0])).tolist() == [-1.0, 1.0]
        assert tanh_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 0.0]


def test_saturates_for_large_inputs():
    assert tanh_grad(10.0) < 1e-8


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(tanh_torch, (z,))
    torch.testing.assert_close(tanh_torch(z), torch.tanh(z), rtol=0, atol=0)
    assert_same_gradients(tanh_torch, torch.tanh, z)


def test_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="z must be"):
        tanh(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        tanh_torch(torch.tensor([1, 2]))


def test_derivative_matches_finite_differences():
    z = np.linspace(-5, 5, 40)                          # a smooth function: any grid will do
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (tanh(z + h) - tanh(z - h)) / (2 * h)
    assert rel_error(tanh_grad(z), numeric) < 1e-6
