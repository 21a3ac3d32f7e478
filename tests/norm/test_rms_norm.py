import numpy as np
import pytest
import torch

from dlhandbook.norm.layer_norm import layer_norm_forward
from dlhandbook.norm.rms_norm import (
    RMSNormFunction,
    rms_norm_backward,
    rms_norm_forward,
    rms_norm_torch,
)
from helpers import assert_matches_torch, central_difference, rel_error


def test_numpy_matches_torch_rmsnorm_values_and_gradients(device, rng):
    x = 3 * rng.standard_normal((8, 5, 16)) + 1
    gamma = 1 + 0.5 * rng.standard_normal(16)

    def ref(x_, g_):
        m = torch.nn.RMSNorm(16, eps=1e-6, dtype=torch.float64, device=x_.device)
        return torch.func.functional_call(m, {"weight": g_}, (x_,))

    assert_matches_torch(
        lambda x_, g_: rms_norm_forward(x_, g_)[0], ref, [x, gamma],
        np_grad_fn=lambda x_, g_, up: rms_norm_backward(up, rms_norm_forward(x_, g_)[1]),
        device=device, grad_atol=1e-10)


def test_backward_passes_finite_difference_check(rng):
    x, dy = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    gamma = 1 + rng.standard_normal(6)

    def loss(x_, g_):
        return float(np.sum(dy * rms_norm_forward(x_, g_)[0]))

    dx, dgamma = rms_norm_backward(dy, rms_norm_forward(x, gamma)[1])
    assert rel_error(dx, central_difference(lambda v: loss(v, gamma), x)) < 1e-6
    assert rel_error(dgamma, central_difference(lambda v: loss(x, v), gamma)) < 1e-6


def test_torch_function_matches_nn_rmsnorm_and_passes_gradcheck(device):
    x = torch.randn(4, 7, 10, dtype=torch.float64, device=device, requires_grad=True)
    ref = torch.nn.RMSNorm(10, eps=1e-6, dtype=torch.float64, device=device)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 1.5, 10))
    w = ref.weight.detach().clone().requires_grad_()
    dy = torch.randn_like(x)
    got = torch.autograd.grad(rms_norm_torch(x, w), [x, w], dy)
    exp = torch.autograd.grad(ref(x), [x, ref.weight], dy)
    for g, e in zip(got, exp, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
    small = (x[:2, :3, :4].detach().clone().requires_grad_(),
             w[:4].detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(lambda *a: RMSNormFunction.apply(*a, 1e-6), small)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 5e-2),
                                        (torch.float16, 5e-3)])
def test_torch_function_matches_torch_in_low_precision(device, dtype, tol):
    x = (3 * torch.randn(16, 32, device=device)).to(dtype)
    w = torch.linspace(0.5, 1.5, 32, device=device).to(dtype)
    y = rms_norm_torch(x, w)
    assert y.dtype == dtype
    expected = torch.nn.functional.rms_norm(x, (32,), w, 1e-6)
    torch.testing.assert_close(y.float(), expected.float(), rtol=tol, atol=tol)


def test_invariant_to_rescaling_a_sample_but_not_to_shifting_it(rng):
    x = rng.standard_normal((10, 16))
    s = rng.uniform(0.1, 10.0, size=(10, 1))
    gamma = np.ones(16)
    y = rms_norm_forward(x, gamma, eps=0.0)[0]
    np.testing.assert_allclose(rms_norm_forward(s * x, gamma, eps=0.0)[0], y, atol=1e-12)
    assert np.max(np.abs(rms_norm_forward(x + 3.0, gamma, eps=0.0)[0] - y)) > 0.5


def test_equals_layer_norm_on_zero_mean_inputs(rng):
    x = rng.standard_normal((10, 16))
    x -= x.mean(axis=1, keepdims=True)
    gamma = 1 + rng.standard_normal(16)
    np.testing.assert_allclose(rms_norm_forward(x, gamma, eps=1e-5)[0],
                               layer_norm_forward(x, gamma, np.zeros(16), eps=1e-5)[0],
                               atol=1e-12)


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="gamma must"):
        rms_norm_forward(np.ones((2, 4)), np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        rms_norm_forward(np.ones((2, 4)), np.ones(4), eps=-1)
    cache = rms_norm_forward(np.ones((2, 4)), np.ones(4))[1]
    with pytest.raises(ValueError, match="dy must"):
        rms_norm_backward(np.ones((2, 3)), cache)
    with pytest.raises(ValueError, match="weight must"):
        rms_norm_torch(torch.ones(2, 4), torch.ones(3))
