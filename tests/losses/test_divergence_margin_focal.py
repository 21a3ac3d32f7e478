import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.losses.binary_cross_entropy import binary_cross_entropy_with_logits
from dlhandbook.losses.divergence_margin_focal import (
    kl_divergence,
    kl_divergence_grad,
    multi_margin_loss,
    multi_margin_loss_grad,
    sigmoid_focal_loss,
    sigmoid_focal_loss_grad,
)
from helpers import assert_matches_torch, central_difference, rel_error


def _dist(rng, shape):
    e = np.exp(rng.standard_normal(shape) * 2)
    return e / e.sum(axis=-1, keepdims=True)


def test_kl_matches_torch_batchmean(device, rng):
    p, log_q = _dist(rng, (5, 4)), np.log(_dist(rng, (5, 4)))
    p[0, 1] = 0.0                                              # a zero-probability class
    pt = torch.tensor(p, device=device)
    assert_matches_torch(lambda x: kl_divergence(p, x),
                         lambda t: F.kl_div(t, pt, reduction="batchmean"), [log_q],
                         np_grad_fn=lambda x, g: g * kl_divergence_grad(p, x), device=device)


def test_cross_entropy_is_entropy_plus_kl_and_kl_is_non_negative(rng):
    for _ in range(20):
        p, q = _dist(rng, (1, 6)), _dist(rng, (1, 6))
        h_pq = -(p * np.log(q)).sum()
        h_p = -(p * np.log(p)).sum()
        kl = kl_divergence(p, np.log(q))
        np.testing.assert_allclose(h_pq, h_p + kl, atol=1e-13, rtol=0)
        assert kl >= 0
    assert abs(kl_divergence(p, np.log(p))) < 1e-15


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.0])
def test_multi_margin_matches_torch(device, rng, margin):
    s, y = rng.standard_normal((6, 4)) * 2, np.array([0, 1, 2, 3, 0, 1])
    yt = torch.tensor(y, device=device)
    assert_matches_torch(lambda x: multi_margin_loss(x, y, margin),
                         lambda t: F.multi_margin_loss(t, yt, margin=margin), [s],
                         np_grad_fn=lambda x, g: g * multi_margin_loss_grad(x, y, margin),
                         device=device)


def test_hinge_is_zero_once_margin_is_met():
    s = np.array([[5.0, 3.9, 1.0]])
    assert multi_margin_loss(s, np.array([0]), margin=1.0) == 0.0
    assert (multi_margin_loss_grad(s, np.array([0])) == 0).all()


def _focal_reference(z, y, alpha, gamma):
    p = torch.sigmoid(z)
    ce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1, 1.0), (0.5, 3.0), (0.25, 0)])
def test_focal_matches_torch_formula_and_finite_differences(device, rng, alpha, gamma):
    z, y = rng.standard_normal(10) * 3, (rng.random(10) < 0.3).astype(float)
    yt = torch.tensor(y, device=device)
    assert_matches_torch(lambda x: sigmoid_focal_loss(x, y, alpha, gamma),
                         lambda t: _focal_reference(t, yt, alpha, gamma), [z],
                         np_grad_fn=lambda x, g: g * sigmoid_focal_loss_grad(x, y, alpha, gamma),
                         device=device)
    numeric = central_difference(lambda x: sigmoid_focal_loss(x, y, alpha, gamma), z)
    analytic = sigmoid_focal_loss_grad(z, y, alpha, gamma)
    big = np.abs(analytic) > 1e-4          # entries near 0: finite-difference rounding
    assert rel_error(analytic[big], numeric[big]) < 1e-6
    assert np.max(np.abs(analytic - numeric)) < 1e-9


def test_focal_with_gamma_zero_and_no_alpha_is_bce_and_downweights_easy_samples(rng):
    z, y = rng.standard_normal(10) * 3, (rng.random(10) < 0.5).astype(float)
    np.testing.assert_allclose(sigmoid_focal_loss(z, y, alpha=-1, gamma=0),
                               binary_cross_entropy_with_logits(z, y), atol=1e-14, rtol=0)
    easy, hard = np.array([4.0]), np.array([-4.0])              # target 1
    one = np.array([1.0])
    ratio_easy = sigmoid_focal_loss(easy, one, -1, 2) / binary_cross_entropy_with_logits(easy, one)
    ratio_hard = sigmoid_focal_loss(hard, one, -1, 2) / binary_cross_entropy_with_logits(hard, one)
    assert ratio_easy < 1e-3 and ratio_hard > 0.9


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match="log_q"):
        kl_divergence(np.ones((2, 3)) / 3, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="p must"):
        kl_divergence(-np.ones((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="margin"):
        multi_margin_loss(np.zeros((2, 3)), np.array([0, 1]), margin=-1.0)
    with pytest.raises(ValueError, match="target"):
        multi_margin_loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss(np.zeros(2), np.zeros(2), gamma=-1.0)
    with pytest.raises(ValueError, match="target"):
        sigmoid_focal_loss(np.zeros(2), np.array([0.0, 2.0]))


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1, 0.0), (0.5, 1.0)])
def test_torch_focal_matches_numpy_and_autograd_gradient(device, rng, alpha, gamma):
    from dlhandbook.losses.divergence_margin_focal import sigmoid_focal_loss_torch
    z, y = rng.standard_normal(12) * 3, (rng.random(12) < 0.4).astype(float)
    zt = torch.tensor(z, device=device, requires_grad=True)
    loss = sigmoid_focal_loss_torch(zt, torch.tensor(y, device=device), alpha, gamma)
    (g,) = torch.autograd.grad(loss, zt)
    np.testing.assert_allclose(loss.item(), sigmoid_focal_loss(z, y, alpha, gamma), rtol=1e-12)
    np.testing.assert_allclose(g.cpu().numpy(), sigmoid_focal_loss_grad(z, y, alpha, gamma),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_focal_low_precision_is_close_to_float64(device, dtype):
    from dlhandbook.losses.divergence_margin_focal import sigmoid_focal_loss_torch
    g = torch.Generator().manual_seed(0)
    z = torch.randn(64, generator=g, dtype=torch.float64) * 3
    y = (torch.rand(64, generator=g) < 0.3).double()
    ref = sigmoid_focal_loss_torch(z, y)
    got = sigmoid_focal_loss_torch(z.to(device, dtype), y.to(device, dtype))
    tol = {torch.float32: 1e-6, torch.float16: 5e-3, torch.bfloat16: 3e-2}[dtype]
    assert torch.isfinite(got)
    np.testing.assert_allclose(got.double().item(), ref.item(), rtol=tol)


def test_torch_focal_bad_input_raises_naming_the_argument():
    from dlhandbook.losses.divergence_margin_focal import sigmoid_focal_loss_torch
    with pytest.raises(ValueError, match="targets"):
        sigmoid_focal_loss_torch(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss_torch(torch.zeros(2), torch.zeros(2), gamma=-1.0)
    with pytest.raises(TypeError, match="inputs"):
        sigmoid_focal_loss_torch(torch.zeros(2, dtype=torch.long), torch.zeros(2))
