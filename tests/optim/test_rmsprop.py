import numpy as np
import pytest

from dlhandbook.optim.adam import adam_init, adam_update
from dlhandbook.optim.rmsprop import rmsprop_init, rmsprop_update
from optim.problems import quadratic
from optim.references import rmsprop_torch_reference


def noisy_quadratic_grad(seed=0, noise=0.5):
    """Gradient of 1/2 x^T diag(1, 10, 100) x plus Gaussian noise (a stochastic gradient)."""
    rng = np.random.default_rng(seed)
    _, grad = quadratic(np.diag([1.0, 10.0, 100.0]))
    return lambda theta: grad(theta) + noise * rng.standard_normal(theta.shape)


def run(theta0, grad_fn, n_steps, **hyper):
    theta, state = np.array(theta0, dtype=np.float64), rmsprop_init(theta0)
    thetas, grads = [theta], []
    for _ in range(n_steps):
        g = grad_fn(theta)
        theta, state = rmsprop_update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    return np.stack(thetas), grads


@pytest.mark.parametrize("hyper", [
    {"lr": 1e-2},
    {"lr": 1e-2, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1},
    {"lr": 1e-2, "centered": True},
    {"lr": 1e-3, "momentum": 0.9},
    {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 0.01},
], ids=["plain", "alpha-eps-wd", "centered", "momentum", "all"])
def test_matches_torch_rmsprop_over_300_steps(hyper, device):
    theta0 = np.array([1.0, -1.0, 0.5])
    thetas, grads = run(theta0, noisy_quadratic_grad(), 300, **hyper)
    expected = rmsprop_torch_reference(theta0, grads, device=device, **hyper)
    np.testing.assert_allclose(thetas, expected, rtol=0, atol=1e-10)


def test_first_step_is_lr_over_sqrt_one_minus_alpha_whatever_the_gradient_scale():
    g = np.array([1e-3, 1.0, 1e3])
    thetas, _ = run(np.zeros(3), lambda th: g, 1, lr=0.01, alpha=0.99)
    np.testing.assert_allclose(-thetas[1], 0.01 / np.sqrt(1 - 0.99) * np.ones(3), rtol=1e-4)


def test_step_does_not_decay_under_a_constant_gradient():
    thetas, _ = run(np.zeros(1), lambda th: np.array([2.0]), 2000, lr=0.01, alpha=0.99)
    step = thetas[-2] - thetas[-1]
    assert abs(step[0] - 0.01) < 1e-6                   # v -> g^2, so the step -> lr (AdaGrad -> 0)


def test_invariant_to_rescaling_the_loss_while_sgd_is_not():
    _, grad = quadratic(np.diag([1.0, 10.0]))
    theta0 = np.array([1.0, 1.0])
    a, _ = run(theta0, grad, 100, lr=0.01, eps=1e-12)
    b, _ = run(theta0, lambda th: 1000.0 * grad(th), 100, lr=0.01, eps=1e-12)
    assert np.abs(a - b).max() < 1e-9
    x, y = theta0.copy(), theta0.copy()
    for _ in range(100):                                # SGD, same lr, on the same two losses
        x, y = x - 0.01 * grad(x), y - 0.01 * 1000.0 * grad(y)
    assert not np.isfinite(y).all() or np.abs(x - y).max() > 1.0


def test_adam_with_beta1_zero_is_bias_corrected_rmsprop():
    """Adam(lr, betas=(0, b2), eps) at step t is RMSProp(alpha=b2) with lr_t = lr sqrt(1 - b2^t)
    and eps_t = eps sqrt(1 - b2^t): dividing by sqrt(v_hat) + eps = (sqrt(v) + eps_t) / sqrt(1 - b2^t)."""
    grad_fn = noisy_quadratic_grad(seed=3)
    lr, b2, eps = 1e-2, 0.99, 1e-8
    theta_a = theta_r = np.array([1.0, -1.0, 0.5])
    sa, sr = adam_init(theta_a), rmsprop_init(theta_r)
    for t in range(1, 301):
        g = grad_fn(theta_a)
        theta_a, sa = adam_update(theta_a, g, sa, lr=lr, betas=(0.0, b2), eps=eps)
        c = np.sqrt(1 - b2**t)
        theta_r, sr = rmsprop_update(theta_r, g, sr, lr=lr * c, alpha=b2, eps=eps * c)
        np.testing.assert_allclose(theta_r, theta_a, rtol=0, atol=1e-12)
    # and it is *not* plain RMSProp: the early steps differ by the factor 1 / sqrt(1 - b2^t)
    plain, _ = run(np.array([1.0, -1.0, 0.5]), noisy_quadratic_grad(seed=3), 300, lr=lr, alpha=b2)
    assert np.abs(plain[-1] - theta_a).max() > 1e-3


def test_rejects_bad_arguments():
    state = rmsprop_init(np.zeros(2))
    with pytest.raises(ValueError, match="alpha"):
        rmsprop_update(np.zeros(2), np.zeros(2), state, alpha=1.0)
    with pytest.raises(ValueError, match="momentum"):
        rmsprop_update(np.zeros(2), np.zeros(2), state, momentum=-0.5)
    with pytest.raises(TypeError, match="centered"):
        rmsprop_update(np.zeros(2), np.zeros(2), state, centered=1)
    with pytest.raises(ValueError, match="grad"):
        rmsprop_update(np.zeros(2), np.zeros(3), state)
    with pytest.raises(TypeError, match="theta"):
        rmsprop_init([1, 2])
