import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.sigmoid import sigmoid
from dlhandbook.activations.softplus import softplus, softplus_grad, softplus_torch
from helpers import assert_matches_torch, rel_error

Z = np.linspace(-30, 30, 3001)


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("beta", "threshold"), [(1.0, 20.0), (2.0, 5.0), (0.5, 20.0)])
def test_matches_torch_values_and_gradients(device, beta, threshold):
    assert_matches_torch(lambda z: softplus(z, beta, threshold),
                         lambda z: F.softplus(z, beta=beta, threshold=threshold), [Z],
                         np_grad_fn=lambda z, g: g * softplus_grad(z, beta, threshold), device=device)


def test_derivative_is_the_sigmoid():
    small = Z[Z < 20]
    np.testing.assert_allclose(softplus_grad(small), sigmoid(small), atol=1e-15, rtol=0)


def test_is_positive_and_above_relu():
    z = np.linspace(-30, 19, 1000)
    assert np.all(softplus(z) > 0) and np.all(softplus(z) > np.maximum(z, 0))


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert softplus(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1000.0]
        assert softplus(np.array([1000.0]), threshold=1e6).tolist() == [1000.0]  # no overflow
        assert softplus_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: softplus_torch(t, beta=2.0), (z,))   # away from the kink
    torch.testing.assert_close(softplus_torch(z, 2.0, 8.0), F.softplus(z, 2.0, 8.0), rtol=1e-12, atol=1e-14)
    assert_same_gradients(lambda t: softplus_torch(t, 2.0, 8.0), lambda t: F.softplus(t, 2.0, 8.0), z)


def test_validates_arguments():
    with pytest.raises(ValueError, match="beta"):
        softplus(Z, beta=0.0)
    with pytest.raises(TypeError, match="beta"):
        softplus_torch(torch.zeros(2), beta="1")
    with pytest.raises(ValueError, match="threshold"):
        softplus_grad(Z, threshold=float("nan"))
    with pytest.raises(TypeError, match="z must be"):
        softplus(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        softplus_torch(torch.tensor([1, 2]))


@pytest.mark.parametrize("param", [1.0, 3.0])
def test_derivative_matches_finite_differences(param):
    z = np.linspace(-5, 5, 40)                          # a smooth function: any grid will do
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (softplus(z + h, param) - softplus(z - h, param)) / (2 * h)
    assert rel_error(softplus_grad(z, param), numeric) < 1e-6
