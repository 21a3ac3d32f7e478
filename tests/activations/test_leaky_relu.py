import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.leaky_relu import leaky_relu, leaky_relu_grad, leaky_relu_torch
from helpers import assert_matches_torch, rel_error

Z = np.concatenate([np.linspace(-10, 10, 2001), [0.0]])


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, -0.5])
def test_matches_torch_values_and_gradients(device, slope):
    assert_matches_torch(lambda z: leaky_relu(z, slope), lambda z: F.leaky_relu(z, slope), [Z],
                         np_grad_fn=lambda z, g: g * leaky_relu_grad(z, slope), device=device)


def test_negative_side_is_slope_times_z_not_a_constant():
    assert leaky_relu(-5.0, negative_slope=0.01) == pytest.approx(-0.05, abs=1e-15)
    assert leaky_relu(-5.0, negative_slope=0.01) != 0.01
    reference = F.leaky_relu(torch.tensor(-5.0, dtype=torch.float64), 0.01).item()
    assert reference == pytest.approx(-0.05, abs=1e-15)


def test_gradient_is_the_slope_for_negative_inputs():
    assert np.all(leaky_relu_grad(Z[Z < 0], 0.01) == 0.01)
    assert np.all(leaky_relu_grad(Z[Z > 0], 0.01) == 1.0)


def test_slope_one_is_the_identity():
    np.testing.assert_array_equal(leaky_relu(Z, 1.0), Z)


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        np.testing.assert_allclose(leaky_relu(np.array([-1000.0, 1000.0])), [-10.0, 1000.0], rtol=1e-15)
        assert leaky_relu_grad(np.array([-1000.0, 1000.0])).tolist() == [0.01, 1.0]


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 24, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: leaky_relu_torch(t, 0.1), (z,))
    torch.testing.assert_close(leaky_relu_torch(z, 0.1), F.leaky_relu(z, 0.1), rtol=0, atol=0)
    assert_same_gradients(lambda t: leaky_relu_torch(t, 0.01), lambda t: F.leaky_relu(t, 0.01), z)


def test_validates_arguments():
    with pytest.raises(TypeError, match="negative_slope"):
        leaky_relu(Z, negative_slope="0.01")
    with pytest.raises(TypeError, match="negative_slope"):
        leaky_relu_torch(torch.zeros(2), negative_slope=True)
    with pytest.raises(ValueError, match="negative_slope"):
        leaky_relu_grad(Z, negative_slope=float("nan"))
    with pytest.raises(TypeError, match="z must be"):
        leaky_relu(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        leaky_relu_torch(torch.tensor([1, 2]))


@pytest.mark.parametrize("param", [0.01, 0.2])
def test_derivative_matches_finite_differences(param):
    z = np.linspace(-5, 5, 40)                          # avoids the kink at 0
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (leaky_relu(z + h, param) - leaky_relu(z - h, param)) / (2 * h)
    assert rel_error(leaky_relu_grad(z, param), numeric) < 1e-6
