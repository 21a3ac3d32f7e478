import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.losses.regression import (
    fit_constant,
    huber_loss,
    huber_loss_grad,
    huber_loss_torch,
    l1_loss,
    l1_loss_grad,
    mse_loss,
    mse_loss_grad,
)
from helpers import assert_matches_torch, central_difference, rel_error

PAIRS = {
    "mse": (mse_loss, mse_loss_grad, F.mse_loss),
    "mae": (l1_loss, l1_loss_grad, F.l1_loss),
    "huber": (huber_loss, huber_loss_grad, F.huber_loss),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch_values_and_gradients(device, rng, name, reduction):
    f, df, ref = PAIRS[name]
    y_hat, y = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5))
    yt = torch.tensor(y, device=device)
    assert_matches_torch(lambda x: f(x, y, reduction), lambda t: ref(t, yt, reduction=reduction),
                         [y_hat], np_grad_fn=lambda x, g: g * df(x, y, reduction),
                         device=device)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_torch_function_matches_torch(device, rng, delta):
    x = torch.tensor(rng.standard_normal(20) * 3, device=device, requires_grad=True)
    y = torch.zeros(20, dtype=torch.float64, device=device)
    ours, ref = huber_loss_torch(x, y, delta=delta), F.huber_loss(x, y, delta=delta)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(torch.autograd.grad(ours, x)[0], torch.autograd.grad(ref, x)[0],
                               rtol=1e-12, atol=1e-14)
    assert torch.autograd.gradcheck(lambda t: huber_loss_torch(t, y, delta=delta), (x,))
    np.testing.assert_allclose(huber_loss(x.detach().cpu().numpy(), y.cpu().numpy(), delta=delta),
                               ref.item(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_huber_torch_low_precision_matches_torch(device, dtype):
    x = (torch.randn(32) * 3).to(device=device, dtype=dtype).requires_grad_(True)
    y = torch.zeros(32, device=device, dtype=dtype)
    tol = {torch.float32: 1e-6, torch.float16: 1e-3, torch.bfloat16: 1e-2}[dtype]
    ours, ref = huber_loss_torch(x, y), F.huber_loss(x, y)
    torch.testing.assert_close(ours, ref, rtol=tol, atol=tol)
    torch.testing.assert_close(torch.autograd.grad(ours, x)[0], torch.autograd.grad(ref, x)[0],
                               rtol=tol, atol=tol)


def test_gradients_match_finite_differences(rng):
    y_hat, y = rng.standard_normal(9) * 2, rng.standard_normal(9)
    for f, df in [(mse_loss, mse_loss_grad), (l1_loss, l1_loss_grad),
                  (lambda a, b: huber_loss(a, b, delta=0.7),
                   lambda a, b: huber_loss_grad(a, b, delta=0.7))]:
        numeric = central_difference(lambda x, f=f: f(x, y), y_hat)
        assert rel_error(df(y_hat, y), numeric) < 1e-6


def test_mse_is_gaussian_nll_up_to_constants(rng):
    y_hat, y, sigma = rng.standard_normal(50), rng.standard_normal(50), 0.7
    nll = -torch.distributions.Normal(torch.tensor(y_hat), sigma).log_prob(torch.tensor(y)).mean()
    expected = mse_loss(y_hat, y) / (2 * sigma**2) + math.log(sigma * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(float(nll), expected, rtol=1e-13)


def test_mae_is_laplace_nll_up_to_constants(rng):
    y_hat, y, b = rng.standard_normal(50), rng.standard_normal(50), 0.7
    nll = -torch.distributions.Laplace(torch.tensor(y_hat), b).log_prob(torch.tensor(y)).mean()
    np.testing.assert_allclose(float(nll), l1_loss(y_hat, y) / b + math.log(2 * b), rtol=1e-13)


def test_constant_minimiser_is_mean_for_mse_and_median_for_mae(rng):
    y = rng.exponential(size=101)                          # skewed: mean != median
    assert abs(np.mean(y) - np.median(y)) > 0.2
    assert abs(fit_constant(y, mse_loss_grad) - np.mean(y)) < 1e-6
    assert abs(fit_constant(y, l1_loss_grad, steps=20000) - np.median(y)) < 0.02


def test_huber_gradient_is_mse_gradient_inside_delta_and_bounded_outside():
    r = np.linspace(-10, 10, 2001)
    delta = 1.5
    inside = np.abs(r) <= delta
    g_huber = huber_loss_grad(r, np.zeros_like(r), "none", delta)
    g_half_mse = 0.5 * mse_loss_grad(r, np.zeros_like(r), "none")   # d(r^2 / 2)/dr = r
    np.testing.assert_allclose(g_huber[inside], g_half_mse[inside], atol=0, rtol=0)
    assert np.max(np.abs(g_huber)) == delta
    assert np.max(np.abs(g_half_mse)) == 10.0


def test_one_outlier_moves_mse_fit_far_more_than_huber_or_mae():
    y = np.r_[np.linspace(0, 1, 99), 100.0]                 # 99 points in [0, 1], one at 100
    med = np.median(y)
    fits = {"mse": fit_constant(y, mse_loss_grad),
            "mae": fit_constant(y, l1_loss_grad, steps=20000),
            "huber": fit_constant(y, huber_loss_grad, steps=20000)}
    assert abs(fits["mse"] - med) > 0.9                      # the mean, 1.495
    assert abs(fits["mae"] - med) < 0.02
    assert abs(fits["huber"] - med) < 0.02
    assert abs(fits["mse"] - med) > 40 * max(abs(fits["mae"] - med), abs(fits["huber"] - med))


@pytest.mark.parametrize("f", [mse_loss, l1_loss, huber_loss, mse_loss_grad])
def test_bad_input_raises_naming_the_argument(f):
    with pytest.raises(ValueError, match="y must have"):
        f(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="y_hat"):
        f(np.zeros(3, dtype=int), np.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        f(np.zeros(3), np.zeros(3), "avg")


def test_bad_delta_raises():
    with pytest.raises(ValueError, match="delta"):
        huber_loss(np.zeros(3), np.zeros(3), delta=-1.0)
    with pytest.raises(ValueError, match="delta"):
        huber_loss_torch(torch.zeros(3), torch.zeros(3), delta=0.0)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_smooth_l1_is_huber_divided_by_delta(rng, delta):
    y_hat, y = rng.standard_normal(30) * 3, rng.standard_normal(30)
    ref = F.smooth_l1_loss(torch.tensor(y_hat), torch.tensor(y), beta=delta)
    np.testing.assert_allclose(huber_loss(y_hat, y, delta=delta) / delta, ref.item(), rtol=1e-13)
