import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.gelu import gelu, gelu_grad, gelu_torch
from helpers import assert_matches_torch, rel_error

Z = np.concatenate([np.linspace(-10, 10, 2001), [0.0]])


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_matches_torch_values_and_gradients(device, approximate):
    assert_matches_torch(lambda z: gelu(z, approximate), lambda z: F.gelu(z, approximate=approximate), [Z],
                         np_grad_fn=lambda z, g: g * gelu_grad(z, approximate), device=device)


def test_tanh_form_is_close_to_the_exact_form():
    assert np.max(np.abs(gelu(Z, "tanh") - gelu(Z, "none"))) < 1e-3


def test_dips_below_zero_for_negative_inputs():
    assert gelu(-1.0) < 0 and gelu_grad(-1.0) < 0
    z = np.linspace(-3, 0, 30001)
    i = np.argmin(gelu(z))
    assert -0.76 < z[i] < -0.74 and -0.171 < gelu(z[i]) < -0.169
    assert gelu(0.0) == 0.0 and gelu_grad(0.0) == 0.5


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_stable_at_plus_minus_1000_without_overflow(approximate):
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert gelu(np.array([-1000.0, 1000.0]), approximate).tolist() == [0.0, 1000.0]
        assert gelu_grad(np.array([-1000.0, 1000.0]), approximate).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_torch_backward_passes_gradcheck(device, approximate):
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: gelu_torch(t, approximate), (z,))
    torch.testing.assert_close(gelu_torch(z, approximate), F.gelu(z, approximate=approximate),
                               rtol=1e-12, atol=1e-14)
    assert_same_gradients(lambda t: gelu_torch(t, approximate),
                          lambda t: F.gelu(t, approximate=approximate), z)


def test_validates_arguments():
    with pytest.raises(ValueError, match="approximate"):
        gelu(Z, approximate="erf")
    with pytest.raises(TypeError, match="approximate"):
        gelu_torch(torch.zeros(2), approximate=None)
    with pytest.raises(TypeError, match="z must be"):
        gelu_grad(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        gelu_torch(torch.tensor([1, 2]))


@pytest.mark.parametrize("param", ["none", "tanh"])
def test_derivative_matches_finite_differences(param):
    z = np.linspace(-5, 5, 40)                          # a smooth function: any grid will do
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (gelu(z + h, param) - gelu(z - h, param)) / (2 * h)
    assert rel_error(gelu_grad(z, param), numeric) < 1e-6


def test_slope_peaks_slightly_above_one():
    slope = gelu_grad(Z).max()                     # at z = sqrt(2)
    assert 1.12 < slope < 1.13
