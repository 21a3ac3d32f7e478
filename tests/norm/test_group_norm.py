import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.norm.group_norm import (
    GroupNormFunction,
    group_norm_backward,
    group_norm_forward,
    group_norm_torch,
)
from dlhandbook.norm.layer_norm import layer_norm_forward
from helpers import assert_matches_torch, central_difference, rel_error


@pytest.mark.parametrize("shape, G", [((4, 6, 5, 5), 3), ((3, 8, 7), 2), ((5, 4), 4)])
def test_numpy_matches_torch_group_norm_values_and_gradients(device, rng, shape, G):
    C = shape[1]
    x = 3 * rng.standard_normal(shape) + 1
    gamma, beta = 1 + 0.5 * rng.standard_normal(C), 0.3 * rng.standard_normal(C)
    assert_matches_torch(
        lambda x_, g_, b_: group_norm_forward(x_, G, g_, b_)[0],
        lambda x_, g_, b_: F.group_norm(x_, G, g_, b_, 1e-5),
        [x, gamma, beta],
        np_grad_fn=lambda x_, g_, b_, up: group_norm_backward(
            up, group_norm_forward(x_, G, g_, b_)[1]),
        device=device, grad_atol=1e-10)


def test_backward_passes_finite_difference_check(rng):
    x, dy = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    gamma, beta = 1 + rng.standard_normal(4), rng.standard_normal(4)

    def loss(x_, g_, b_):
        return float(np.sum(dy * group_norm_forward(x_, 2, g_, b_)[0]))

    dx, dgamma, dbeta = group_norm_backward(dy, group_norm_forward(x, 2, gamma, beta)[1])
    assert rel_error(dx, central_difference(lambda v: loss(v, gamma, beta), x)) < 1e-6
    assert rel_error(dgamma, central_difference(lambda v: loss(x, v, beta), gamma)) < 1e-6
    assert rel_error(dbeta, central_difference(lambda v: loss(x, gamma, v), beta)) < 1e-6


def test_torch_function_matches_nn_groupnorm_and_passes_gradcheck(device):
    x = torch.randn(3, 6, 4, 4, dtype=torch.float64, device=device, requires_grad=True)
    ref = torch.nn.GroupNorm(3, 6, dtype=torch.float64, device=device)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 1.5, 6))
        ref.bias.copy_(torch.linspace(-1, 1, 6))
    w = ref.weight.detach().clone().requires_grad_()
    b = ref.bias.detach().clone().requires_grad_()
    dy = torch.randn_like(x)
    got = torch.autograd.grad(group_norm_torch(x, 3, w, b), [x, w, b], dy)
    exp = torch.autograd.grad(ref(x), [x, ref.weight, ref.bias], dy)
    for g, e in zip(got, exp, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
    small = (x[:2, :4, :2, :2].detach().clone().requires_grad_(), 2,
             w[:4].detach().clone().requires_grad_(),
             b[:4].detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(lambda *a: GroupNormFunction.apply(*a, 1e-5), small)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 5e-2),
                                        (torch.float16, 5e-3)])
def test_torch_function_matches_torch_in_low_precision(device, dtype, tol):
    x = (3 * torch.randn(4, 8, 5, 5, device=device) + 1).to(dtype)
    w = torch.linspace(0.5, 1.5, 8, device=device).to(dtype)
    b = torch.linspace(-1, 1, 8, device=device).to(dtype)
    y = group_norm_torch(x, 4, w, b)
    assert y.dtype == dtype
    torch.testing.assert_close(y.float(), F.group_norm(x, 4, w, b).float(), rtol=tol,
                               atol=tol)


def test_one_group_is_layer_norm_and_c_groups_is_instance_norm(rng):
    x = rng.standard_normal((3, 4, 5, 5))
    ones, zeros = np.ones(4), np.zeros(4)
    ln = layer_norm_forward(x, np.ones((4, 5, 5)), np.zeros((4, 5, 5)))[0]
    np.testing.assert_allclose(group_norm_forward(x, 1, ones, zeros)[0], ln, atol=1e-12)
    inst = F.instance_norm(torch.tensor(x)).numpy()
    np.testing.assert_allclose(group_norm_forward(x, 4, ones, zeros)[0], inst, atol=1e-12)


def test_output_does_not_depend_on_the_batch(rng):
    x = rng.standard_normal((6, 4, 3, 3))
    ones, zeros = np.ones(4), np.zeros(4)
    alone = group_norm_forward(x[:1], 2, ones, zeros)[0]
    assert np.array_equal(group_norm_forward(x, 2, ones, zeros)[0][:1], alone)


def test_bad_arguments_raise_naming_the_argument():
    ok = np.ones(6), np.zeros(6)
    with pytest.raises(ValueError, match="num_groups must divide"):
        group_norm_forward(np.ones((2, 6, 3)), 4, *ok)
    with pytest.raises(TypeError, match="num_groups"):
        group_norm_forward(np.ones((2, 6, 3)), 2.0, *ok)
    with pytest.raises(ValueError, match="gamma must"):
        group_norm_forward(np.ones((2, 6, 3)), 2, np.ones(3), np.zeros(6))
    with pytest.raises(ValueError, match="x must"):
        group_norm_forward(np.ones(6), 2, *ok)
    with pytest.raises(ValueError, match="num_groups must divide"):
        group_norm_torch(torch.ones(2, 6, 3), 4, torch.ones(6), torch.zeros(6))
