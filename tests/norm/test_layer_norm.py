import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.norm.batch_norm import batch_norm_forward
from dlhandbook.norm.layer_norm import (
    LayerNormFunction,
    layer_norm_backward,
    layer_norm_forward,
    layer_norm_torch,
)
from helpers import assert_matches_torch, central_difference, rel_error


@pytest.mark.parametrize("shape, norm_shape", [((8, 5, 16), (16,)), ((4, 3, 6), (3, 6))])
def test_numpy_matches_torch_layer_norm_values_and_gradients(device, rng, shape, norm_shape):
    x = 3 * rng.standard_normal(shape) + 1
    gamma = 1 + 0.5 * rng.standard_normal(norm_shape)
    beta = 0.3 * rng.standard_normal(norm_shape)
    assert_matches_torch(
        lambda x_, g_, b_: layer_norm_forward(x_, g_, b_)[0],
        lambda x_, g_, b_: F.layer_norm(x_, norm_shape, g_, b_, 1e-5),
        [x, gamma, beta],
        np_grad_fn=lambda x_, g_, b_, up: layer_norm_backward(
            up, layer_norm_forward(x_, g_, b_)[1]),
        device=device, grad_atol=1e-10)


def test_backward_passes_finite_difference_check(rng):
    x, dy = rng.standard_normal((3, 2, 5)), rng.standard_normal((3, 2, 5))
    gamma, beta = 1 + rng.standard_normal(5), rng.standard_normal(5)

    def loss(x_, g_, b_):
        return float(np.sum(dy * layer_norm_forward(x_, g_, b_)[0]))

    dx, dgamma, dbeta = layer_norm_backward(dy, layer_norm_forward(x, gamma, beta)[1])
    assert rel_error(dx, central_difference(lambda v: loss(v, gamma, beta), x)) < 1e-6
    assert rel_error(dgamma, central_difference(lambda v: loss(x, v, beta), gamma)) < 1e-6
    assert rel_error(dbeta, central_difference(lambda v: loss(x, gamma, v), beta)) < 1e-6


def test_torch_function_matches_nn_layernorm_and_passes_gradcheck(device):
    x = torch.randn(4, 7, 10, dtype=torch.float64, device=device, requires_grad=True)
    ref = torch.nn.LayerNorm(10, dtype=torch.float64, device=device)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 1.5, 10))
        ref.bias.copy_(torch.linspace(-1, 1, 10))
    w = ref.weight.detach().clone().requires_grad_()
    b = ref.bias.detach().clone().requires_grad_()
    dy = torch.randn_like(x)
    got = torch.autograd.grad(layer_norm_torch(x, w, b), [x, w, b], dy)
    exp = torch.autograd.grad(ref(x), [x, ref.weight, ref.bias], dy)
    for g, e in zip(got, exp, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ref.eval()(x), ref.train()(x), rtol=0, atol=0)
    small = (x[:2, :3, :4].detach().clone().requires_grad_(),
             w[:4].detach().clone().requires_grad_(),
             b[:4].detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(lambda *a: LayerNormFunction.apply(*a, 1e-5), small)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 5e-2),
                                        (torch.float16, 5e-3)])
def test_torch_function_matches_torch_in_low_precision(device, dtype, tol):
    x = (3 * torch.randn(16, 32, device=device) + 1).to(dtype)
    w = torch.linspace(0.5, 1.5, 32, device=device).to(dtype)
    b = torch.linspace(-1, 1, 32, device=device).to(dtype)
    y = layer_norm_torch(x, w, b)
    assert y.dtype == dtype
    torch.testing.assert_close(y.float(), F.layer_norm(x, (32,), w, b).float(), rtol=tol,
                               atol=tol)


def test_a_samples_output_never_depends_on_its_batch_mates_unlike_batch_norm(rng):
    sample = rng.standard_normal((1, 6))
    gamma, beta = np.ones(6), np.zeros(6)
    batch_a = np.vstack([sample, rng.standard_normal((7, 6))])
    batch_b = np.vstack([sample, 5 + 3 * rng.standard_normal((7, 6))])
    alone = layer_norm_forward(sample, gamma, beta)[0][0]
    assert np.array_equal(layer_norm_forward(batch_a, gamma, beta)[0][0], alone)
    assert np.array_equal(layer_norm_forward(batch_b, gamma, beta)[0][0], alone)
    bn = [batch_norm_forward(b, gamma, beta, np.zeros(6), np.ones(6))[0][0]
          for b in (batch_a, batch_b)]
    assert np.max(np.abs(bn[0] - bn[1])) > 0.5


def test_output_is_invariant_to_rescaling_and_shifting_each_sample(rng):
    x = rng.standard_normal((10, 16))
    s = rng.uniform(0.1, 10.0, size=(10, 1))
    c = 5 * rng.standard_normal((10, 1))
    gamma, beta = 1 + rng.standard_normal(16), rng.standard_normal(16)
    y = layer_norm_forward(x, gamma, beta, eps=0.0)[0]
    np.testing.assert_allclose(layer_norm_forward(s * x + c, gamma, beta, eps=0.0)[0], y,
                               atol=1e-9)


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="gamma must"):
        layer_norm_forward(np.ones((2, 4)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="beta must"):
        layer_norm_forward(np.ones((2, 4)), np.ones(4), np.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        layer_norm_forward(np.ones((2, 4)), np.ones(4), np.zeros(4), eps=-1)
    cache = layer_norm_forward(np.ones((2, 4)), np.ones(4), np.zeros(4))[1]
    with pytest.raises(ValueError, match="dy must"):
        layer_norm_backward(np.ones((2, 3)), cache)
    with pytest.raises(ValueError, match="weight must"):
        layer_norm_torch(torch.ones(2, 4), torch.ones(3), torch.zeros(3))
    with pytest.raises(TypeError, match="x must"):
        layer_norm_torch(torch.ones(2, 4, dtype=torch.long), torch.ones(4), torch.zeros(4))
