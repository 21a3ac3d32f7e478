import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.losses.binary_cross_entropy import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    binary_cross_entropy_with_logits_torch,
)
from helpers import assert_matches_torch, central_difference, rel_error


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_logits_form_matches_torch(device, rng, reduction):
    z, y = rng.standard_normal(12) * 4, (rng.random(12) < 0.5).astype(float)
    yt = torch.tensor(y, device=device)
    assert_matches_torch(
        lambda x: binary_cross_entropy_with_logits(x, y, reduction=reduction),
        lambda t: F.binary_cross_entropy_with_logits(t, yt, reduction=reduction), [z],
        np_grad_fn=lambda x, g: g * binary_cross_entropy_with_logits_grad(
            x, y, reduction=reduction), device=device)
    zt = torch.tensor(z, device=device, requires_grad=True)
    ours = binary_cross_entropy_with_logits_torch(zt, yt, reduction)
    ref = F.binary_cross_entropy_with_logits(zt, yt, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-13)
    up = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, zt, up)[0],
                               torch.autograd.grad(ref, zt, up)[0], rtol=1e-12, atol=1e-13)


def test_pos_weight_matches_torch(rng):
    z, y = rng.standard_normal(10) * 3, (rng.random(10) < 0.5).astype(float)
    pw = 3.0
    ref = F.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y), pos_weight=torch.tensor(pw), reduction="none")
    assert_matches_torch(
        lambda x: binary_cross_entropy_with_logits(x, y, pw, reduction="none"),
        lambda t: F.binary_cross_entropy_with_logits(
            t, torch.tensor(y), pos_weight=torch.tensor(pw), reduction="none"), [z],
        np_grad_fn=lambda x, g: g * binary_cross_entropy_with_logits_grad(
            x, y, pw, reduction="none"))
    assert ref.shape == (10,)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probability_form_matches_torch(device, rng, reduction):
    p, y = rng.uniform(0.05, 0.95, 12), rng.random(12)          # soft targets too
    yt = torch.tensor(y, device=device)
    assert_matches_torch(
        lambda x: binary_cross_entropy(x, y, reduction=reduction),
        lambda t: F.binary_cross_entropy(t, yt, reduction=reduction), [p],
        np_grad_fn=lambda x, g: g * binary_cross_entropy_grad(x, y, reduction=reduction),
        device=device)


def test_probabilities_exactly_zero_and_one_give_finite_loss_like_torch():
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    loss = binary_cross_entropy(p, y, reduction="none")
    grad = binary_cross_entropy_grad(p, y, reduction="none")
    np.testing.assert_array_equal(loss, [0.0, 0.0, 100.0, 100.0])  # log clamped at -100
    pt = torch.tensor(p, requires_grad=True)
    ref = F.binary_cross_entropy(pt, torch.tensor(y), reduction="none")
    (ref_grad,) = torch.autograd.grad(ref.sum(), pt)
    np.testing.assert_array_equal(loss, ref.detach().numpy())
    # torch stores its 1e-12 floor as a float32 constant: equal to 1e-8 relative
    np.testing.assert_allclose(grad, ref_grad.numpy(), rtol=1e-8, atol=0)
    assert np.isfinite(grad).all()


def test_logits_form_is_exact_at_1e4_where_sigmoid_then_log_is_not():
    z, y = np.array([-1e4, 1e4, -1e4, 1e4]), np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        loss = binary_cross_entropy_with_logits(z, y, reduction="none")
        grad = binary_cross_entropy_with_logits_grad(z, y, reduction="none")
    np.testing.assert_array_equal(loss, [1e4, 1e4, 0.0, 0.0])
    np.testing.assert_array_equal(grad, [-1.0, 1.0, 0.0, 0.0])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        p = 1 / (1 + np.exp(-z))                                  # sigmoid first
        naive = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert not np.isfinite(naive[:2]).any()


def test_is_bernoulli_negative_log_likelihood(rng):
    z, y = rng.standard_normal(20) * 2, (rng.random(20) < 0.5).astype(float)
    nll = -torch.distributions.Bernoulli(logits=torch.tensor(z)).log_prob(
        torch.tensor(y)).mean()
    np.testing.assert_allclose(binary_cross_entropy_with_logits(z, y), float(nll),
                               atol=1e-13, rtol=0)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(binary_cross_entropy(p, y), float(nll), atol=1e-12, rtol=0)


def test_gradients_match_finite_differences(rng):
    z, y = rng.standard_normal(8) * 2, rng.random(8)
    numeric = central_difference(lambda x: binary_cross_entropy_with_logits(x, y, 2.0), z)
    assert rel_error(binary_cross_entropy_with_logits_grad(z, y, 2.0), numeric) < 1e-6
    p = rng.uniform(0.1, 0.9, 8)
    numeric = central_difference(lambda x: binary_cross_entropy(x, y), p)
    assert rel_error(binary_cross_entropy_grad(p, y), numeric) < 1e-6


def test_torch_function_passes_gradcheck(device):
    z = torch.randn(6, dtype=torch.float64, device=device, requires_grad=True)
    y = torch.rand(6, dtype=torch.float64, device=device)
    assert torch.autograd.gradcheck(
        lambda t: binary_cross_entropy_with_logits_torch(t, y), (z,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_low_precision_matches_torch(device, dtype):
    g = torch.Generator().manual_seed(0)
    z = (torch.randn(16, generator=g) * 3).to(device=device, dtype=dtype)
    z.requires_grad_(True)
    y = (torch.rand(16, generator=g) < 0.5).to(device=device, dtype=dtype)
    ours = binary_cross_entropy_with_logits_torch(z, y)
    ref = F.binary_cross_entropy_with_logits(z, y)
    tol = {torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 5e-2}[dtype]
    torch.testing.assert_close(ours, ref, rtol=tol, atol=tol)
    torch.testing.assert_close(torch.autograd.grad(ours, z)[0],
                               torch.autograd.grad(ref, z)[0], rtol=tol, atol=tol)


@pytest.mark.parametrize(("fn", "x", "y", "word"), [
    (binary_cross_entropy, np.array([0.5, 1.5]), np.array([0.0, 1.0]), "probs"),
    (binary_cross_entropy, np.array([0.5, -0.1]), np.array([0.0, 1.0]), "probs"),
    (binary_cross_entropy, np.array([0.5, 0.5]), np.array([0.0, 2.0]), "target"),
    (binary_cross_entropy, np.array([0.5, 0.5]), np.array([0.0]), "target"),
    (binary_cross_entropy_with_logits, np.array([1, 2]), np.array([0.0, 1.0]), "logits"),
    (binary_cross_entropy_with_logits, np.zeros(2), np.zeros(3), "target"),
])
def test_bad_input_raises_naming_the_argument(fn, x, y, word):
    with pytest.raises((ValueError, TypeError), match=word):
        fn(x, y)
    with pytest.raises(ValueError, match="reduction"):
        binary_cross_entropy(np.array([0.5]), np.array([1.0]), reduction="avg")
    with pytest.raises(ValueError, match="target"):
        binary_cross_entropy_with_logits_torch(torch.zeros(2), torch.zeros(3))
