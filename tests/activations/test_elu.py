import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.elu import elu, elu_grad, elu_torch
from helpers import assert_matches_torch, rel_error

Z = np.concatenate([np.linspace(-10, 10, 2001), [0.0]])


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_matches_torch_values_and_gradients(device, alpha):
    assert_matches_torch(lambda z: elu(z, alpha), lambda z: F.elu(z, alpha), [Z],
                         np_grad_fn=lambda z, g: g * elu_grad(z, alpha), device=device)


def test_saturates_to_minus_alpha_with_positive_gradient():
    assert elu(-50.0, alpha=2.0) == pytest.approx(-2.0, abs=1e-15)
    assert np.all(elu_grad(Z[Z < 0]) > 0)


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert elu(np.array([-1000.0, 1000.0])).tolist() == [-1.0, 1000.0]
        assert elu_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 24, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: elu_torch(t, 1.5), (z,))
    torch.testing.assert_close(elu_torch(z, 1.5), F.elu(z, 1.5), rtol=1e-12, atol=1e-14)
    assert_same_gradients(lambda t: elu_torch(t, 1.5), lambda t: F.elu(t, 1.5), z)


def test_validates_arguments():
    with pytest.raises(TypeError, match="alpha"):
        elu(Z, alpha="1")
    with pytest.raises(ValueError, match="alpha"):
        elu_torch(torch.zeros(2), alpha=float("inf"))
    with pytest.raises(TypeError, match="z must be"):
        elu_grad(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        elu_torch(torch.tensor([1, 2]))


@pytest.mark.parametrize("param", [1.0, 2.0])
def test_derivative_matches_finite_differences(param):
    z = np.linspace(-5, 5, 40)                          # avoids the kink at 0
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (elu(z + h, param) - elu(z - h, param)) / (2 * h)
    assert rel_error(elu_grad(z, param), numeric) < 1e-6
