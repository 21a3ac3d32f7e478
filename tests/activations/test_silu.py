import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.silu import silu, silu_grad, silu_torch
from helpers import assert_matches_torch, rel_error

Z = np.linspace(-10, 10, 2001)


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_matches_torch_values_and_gradients(device):
    assert_matches_torch(silu, F.silu, [Z], np_grad_fn=lambda z, g: g * silu_grad(z), device=device)


def test_is_non_monotonic_with_a_minimum_near_minus_1_28():
    z = np.linspace(-3, 0, 30001)
    i = np.argmin(silu(z))
    assert -1.29 < z[i] < -1.27 and -0.279 < silu(z[i]) < -0.278
    assert silu_grad(-2.0) < 0 < silu_grad(-1.0)


def test_stable_at_plus_minus_1000_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert silu(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1000.0]
        assert silu_grad(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_torch_backward_passes_gradcheck(device):
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(silu_torch, (z,))
    torch.testing.assert_close(silu_torch(z), F.silu(z), rtol=1e-12, atol=1e-14)
    assert_same_gradients(silu_torch, F.silu, z)


def test_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="z must be"):
        silu(np.array(["a"]))
    with pytest.raises(TypeError, match="z must be"):
        silu_torch(torch.tensor([1, 2]))


def test_derivative_matches_finite_differences():
    z = np.linspace(-5, 5, 40)                          # a smooth function: any grid will do
    h = 1e-5                                            # f acts elementwise: one centred difference per z
    numeric = (silu(z + h) - silu(z - h)) / (2 * h)
    assert rel_error(silu_grad(z), numeric) < 1e-6


def test_slope_peaks_slightly_above_one():
    slope = silu_grad(Z).max()                     # near z = 2.4
    assert 1.09 < slope < 1.11
