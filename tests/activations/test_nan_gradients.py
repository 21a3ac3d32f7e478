"""At a NaN input every hand-written backward does what PyTorch's own backward does.

PyTorch's ReLU and ELU pass the upstream gradient through at NaN (their kernels block or
rescale it only where z <= 0); the smooth activations return NaN. Ours match both, in
NumPy and in PyTorch.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.activations.elu import elu_grad, elu_torch
from dlhandbook.activations.gelu import gelu_grad, gelu_torch
from dlhandbook.activations.leaky_relu import leaky_relu_grad, leaky_relu_torch
from dlhandbook.activations.relu import relu_grad, relu_torch
from dlhandbook.activations.sigmoid import sigmoid_grad, sigmoid_torch
from dlhandbook.activations.silu import silu_grad, silu_torch
from dlhandbook.activations.softmax import softmax_grad, softmax_torch
from dlhandbook.activations.softplus import softplus_grad, softplus_torch
from dlhandbook.activations.tanh import tanh_grad, tanh_torch

ELEMENTWISE = {
    "relu": (relu_grad, relu_torch, torch.relu),
    "leaky_relu": (leaky_relu_grad, leaky_relu_torch, F.leaky_relu),
    "elu": (elu_grad, elu_torch, F.elu),
    "gelu": (gelu_grad, gelu_torch, F.gelu),
    "gelu_tanh": (lambda z: gelu_grad(z, "tanh"), lambda z: gelu_torch(z, "tanh"),
                  lambda z: F.gelu(z, approximate="tanh")),
    "sigmoid": (sigmoid_grad, sigmoid_torch, torch.sigmoid),
    "silu": (silu_grad, silu_torch, F.silu),
    "softplus": (softplus_grad, softplus_torch, F.softplus),
    "tanh": (tanh_grad, tanh_torch, torch.tanh),
}
Z = [math.nan, -2.0, 0.0, 3.0]


def torch_grad(fn, z, grad_out):
    z = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    fn(z).backward(grad_out)
    return z.grad


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_at_nan_matches_torch(name):
    ours_numpy, ours_torch, theirs = ELEMENTWISE[name]
    ones = torch.ones(len(Z), dtype=torch.float64)
    expected = torch_grad(theirs, Z, ones)
    torch.testing.assert_close(torch_grad(ours_torch, Z, ones), expected,
                               equal_nan=True, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_numpy(np.array(Z)), expected.numpy(), rtol=1e-12,
                               atol=1e-12, equal_nan=True)


def test_relu_and_elu_pass_the_upstream_gradient_through_at_nan():
    for name in ("relu", "elu"):
        grad = torch_grad(ELEMENTWISE[name][2], [math.nan], torch.tensor([2.5]).double())
        assert grad.item() == 2.5                       # torch's own kernel
        assert ELEMENTWISE[name][0](np.array([math.nan]))[0] == 1.0


def test_softmax_backward_at_nan_matches_torch():
    z = [[math.nan, 1.0, 2.0], [0.5, -1.0, 2.0]]
    grad_out = torch.tensor([[1.0, 0.0, -1.0], [0.3, 0.2, 0.1]], dtype=torch.float64)
    expected = torch_grad(lambda t: torch.softmax(t, -1), z, grad_out)
    torch.testing.assert_close(torch_grad(softmax_torch, z, grad_out), expected,
                               equal_nan=True)
    np.testing.assert_allclose(softmax_grad(np.array(z), grad_out.numpy()), expected.numpy(),
                               equal_nan=True, rtol=1e-12)
    assert torch.isnan(expected[0]).all() and not torch.isnan(expected[1]).any()
