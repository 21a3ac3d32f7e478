import copy

import numpy as np
import pytest
import torch

from dlhandbook.optim.gd import gradient_descent
from dlhandbook.optim.momentum import (
    ema_momentum_init,
    ema_momentum_update,
    heavy_ball_optimal_params,
    momentum_init,
    momentum_optimizer,
    momentum_update,
)
from dlhandbook.optim.sgd import sgd_init, sgd_update
from optim.problems import quadratic, rosenbrock


def _run_numpy(update, init, grads, theta, **hyper):
    state, out = init(theta), []
    for g in grads:
        theta, state = update(theta, g, state, **hyper)
        out.append(theta)
    return np.stack(out), state


def _run_torch(grads, theta, device, **hyper):
    w = torch.tensor(theta, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], **hyper)
    out = []
    for g in grads:
        w.grad = torch.tensor(g, device=device)
        opt.step()
        out.append(w.detach().cpu().numpy().copy())
    return np.stack(out)


@pytest.mark.parametrize("momentum, dampening, weight_decay",
                         [(0.9, 0.0, 0.0), (0.5, 0.3, 0.0), (0.9, 0.0, 1e-2), (0.99, 0.5, 1e-3),
                          (0.0, 0.5, 0.0)])
def test_matches_torch_sgd_over_300_steps_on_the_same_gradients(device, momentum, dampening,
                                                                 weight_decay):
    rng = np.random.default_rng(0)
    theta0, grads = rng.standard_normal(6), rng.standard_normal((300, 6))
    hyper = dict(lr=0.01, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    ours, _ = _run_numpy(momentum_update, momentum_init, grads, theta0, **hyper)
    np.testing.assert_allclose(ours, _run_torch(grads, theta0, device, **hyper), rtol=0,
                               atol=1e-10)


def test_matches_torch_sgd_on_rosenbrock_with_its_own_gradients(device):
    _, grad = rosenbrock()
    theta, state = np.array([-1.2, 1.0]), momentum_init(np.zeros(2))
    w = torch.tensor([-1.2, 1.0], dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1e-4, momentum=0.9)
    for _ in range(300):
        theta, state = momentum_update(theta, grad(theta), state, lr=1e-4, momentum=0.9)
        x, y = w[0], w[1]
        opt.zero_grad()
        ((1 - x) ** 2 + 100 * (y - x**2) ** 2).backward()
        opt.step()
    np.testing.assert_allclose(theta, w.detach().cpu().numpy(), rtol=0, atol=1e-10)


def test_ema_form_is_pytorch_form_with_lr_times_one_minus_beta():
    rng = np.random.default_rng(1)
    theta0, grads = rng.standard_normal(4), rng.standard_normal((300, 4))
    beta, lr = 0.9, 0.05
    ema, _ = _run_numpy(ema_momentum_update, ema_momentum_init, grads, theta0, lr=lr, beta=beta)
    torch_form, _ = _run_numpy(momentum_update, momentum_init, grads, theta0,
                               lr=lr * (1 - beta), momentum=beta)
    np.testing.assert_allclose(ema, torch_form, rtol=0, atol=1e-12)


def test_dampening_is_not_the_ema_form_because_the_first_step_is_undampened():
    rng = np.random.default_rng(2)
    theta0, grads = rng.standard_normal(4), rng.standard_normal((50, 4))
    beta, lr = 0.9, 0.05
    ema, ema_state = _run_numpy(ema_momentum_update, ema_momentum_init, grads, theta0,
                                lr=lr, beta=beta)
    damp, damp_state = _run_numpy(momentum_update, momentum_init, grads, theta0, lr=lr,
                                  momentum=beta, dampening=beta)
    assert np.max(np.abs(ema - damp)) > 1e-3
    # exact relation: b_t = v_t + beta^t g_1 (the undampened first gradient decays away)
    np.testing.assert_allclose(damp_state.b, ema_state.v + beta**50 * grads[0], rtol=0,
                               atol=1e-12)


def test_velocity_form_equals_pytorch_form_only_while_lr_is_constant():
    # textbook velocity form: v = mu v + lr g; theta -= v  (lr inside the buffer)
    rng = np.random.default_rng(5)
    theta0, grads = rng.standard_normal(4), rng.standard_normal((100, 4))
    for lrs, should_match in (([0.01] * 100, True), ([0.01] * 50 + [0.001] * 50, False)):
        theta_v, v = theta0.copy(), np.zeros(4)
        theta_b, state = theta0.copy(), momentum_init(theta0)
        for lr, g in zip(lrs, grads, strict=True):
            v = 0.9 * v + lr * g
            theta_v = theta_v - v
            theta_b, state = momentum_update(theta_b, g, state, lr=lr, momentum=0.9)
        assert np.allclose(theta_v, theta_b, rtol=0, atol=1e-12) == should_match
    assert np.max(np.abs(theta_v - theta_b)) > 1e-6


def test_zero_momentum_is_plain_sgd():
    rng = np.random.default_rng(3)
    theta0, grads = rng.standard_normal(4), rng.standard_normal((100, 4))
    ours, _ = _run_numpy(momentum_update, momentum_init, grads, theta0, lr=0.1, momentum=0.0)
    plain, _ = _run_numpy(sgd_update, sgd_init, grads, theta0, lr=0.1)
    np.testing.assert_array_equal(ours, plain)


def test_constant_gradient_gives_a_step_of_lr_over_one_minus_momentum():
    g = np.array([1.0, -2.0])
    ours, _ = _run_numpy(momentum_update, momentum_init, np.tile(g, (400, 1)), np.zeros(2),
                         lr=0.1, momentum=0.9)
    np.testing.assert_allclose(ours[-1] - ours[-2], -0.1 / (1 - 0.9) * g, rtol=1e-12)


def _ill_conditioned(d=20, mu=1.0, L=100.0, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eigs = np.linspace(mu, L, d)
    return quadratic(Q @ np.diag(eigs) @ Q.T), rng.standard_normal(d)


def _steps_until(traj, tol=1e-6):
    """The step after which ||x_t|| stays below tol for the rest of the run (None: never)."""
    above = np.flatnonzero(np.linalg.norm(traj, axis=1) >= tol)
    return int(above[-1]) + 1 if above[-1] + 1 < len(traj) else None


def test_momentum_reaches_the_target_in_far_fewer_steps_than_the_best_gd():
    (_, grad), x0 = _ill_conditioned()
    mu, L = 1.0, 100.0
    _, gd_traj = gradient_descent(grad, x0, 2 / (L + mu), 2000)
    lr, momentum = heavy_ball_optimal_params(mu, L)
    theta, state, hb_traj = x0, momentum_init(x0), [x0]
    for _ in range(2000):
        theta, state = momentum_update(theta, grad(theta), state, lr, momentum)
        hb_traj.append(theta)
    gd_steps, hb_steps = _steps_until(gd_traj), _steps_until(np.stack(hb_traj))
    kappa = L / mu
    theory_gd = np.log(1e6 * np.linalg.norm(x0)) / -np.log((kappa - 1) / (kappa + 1))
    assert 0.7 * theory_gd < gd_steps <= theory_gd      # GD's rate is (kappa-1)/(kappa+1)
    assert 5 * hb_steps < gd_steps                       # momentum: ~sqrt(kappa) faster


def test_torch_optimizer_in_ema_form_matches_the_numpy_ema_form(device):
    rng = np.random.default_rng(4)
    theta0, grads = rng.standard_normal(3), rng.standard_normal((200, 3))
    ema, _ = _run_numpy(ema_momentum_update, ema_momentum_init, grads, theta0, lr=0.1, beta=0.9)
    w = torch.tensor(theta0, device=device, requires_grad=True)
    opt = momentum_optimizer([w], lr=0.1, momentum=0.9, ema_form=True)
    for g in grads:
        w.grad = torch.tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(w.detach().cpu().numpy(), ema[-1], rtol=0, atol=1e-12)


def test_rejects_bad_arguments():
    theta = np.zeros(2)
    state = momentum_init(theta)
    with pytest.raises(ValueError, match="momentum"):
        momentum_update(theta, theta, state, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="dampening"):
        momentum_update(theta, theta, state, lr=0.1, dampening=2.0)
    with pytest.raises(ValueError, match="lr"):
        ema_momentum_update(theta, theta, ema_momentum_init(theta), lr=-1.0)
    with pytest.raises(ValueError, match="beta"):
        ema_momentum_update(theta, theta, ema_momentum_init(theta), lr=0.1, beta=1.0)
    with pytest.raises(ValueError, match="grad"):
        momentum_update(theta, np.zeros(3), state, lr=0.1)
    with pytest.raises(TypeError, match="theta"):
        momentum_init([1, 2])
    with pytest.raises(ValueError, match="mu"):
        heavy_ball_optimal_params(0.0, 1.0)
    with pytest.raises(ValueError, match="momentum"):
        momentum_optimizer([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=1.5)


def _stationary_second_moment(update, init, lr, h, n_chains, seed, n_steps=3000,
                              burn_in=1500, **hyper):
    """E x^2 per direction of a noisy quadratic 1/2 sum h_i x_i^2, gradient h x + N(0, 1),
    averaged over n_chains independent chains and the steps after burn_in."""
    rng = np.random.default_rng(seed)
    theta = np.zeros((n_chains, len(h)))                # (chains, d): all chains at once
    state, total = init(theta), np.zeros(len(h))
    for t in range(n_steps):
        grad = h * theta + rng.standard_normal(theta.shape)
        theta, state = update(theta, grad, state, lr=lr, **hyper)
        if t >= burn_in:
            total += np.mean(theta**2, axis=0)
    return total / (n_steps - burn_in)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_momentum_does_not_reduce_gradient_noise_at_equal_effective_step(seed):
    h, lr, mu = np.array([1.0, 0.5]), 1e-2, 0.9
    sgd_var = _stationary_second_moment(sgd_update, sgd_init, lr, h, 2000, seed)
    hb_var = _stationary_second_moment(momentum_update, momentum_init, lr * (1 - mu), h,
                                       2000, seed + 100, momentum=mu)
    # closed forms (unit gradient noise): SGD lr / (h (2 - lr h)); heavy ball at lr' and mu:
    # lr' (1 + mu) / (h (1 - mu) (2 (1 + mu) - lr' h))
    sgd_theory = lr / (h * (2 - lr * h))
    lr_hb = lr * (1 - mu)
    hb_theory = lr_hb * (1 + mu) / (h * (1 - mu) * (2 * (1 + mu) - lr_hb * h))
    np.testing.assert_allclose(sgd_var, sgd_theory, rtol=0.05)
    np.testing.assert_allclose(hb_var, hb_theory, rtol=0.05)
    np.testing.assert_allclose(hb_var / sgd_var, 1.0, rtol=0.05)   # the same noise ball
    # at the same lr, instead, momentum multiplies the noise ball by about 1 / (1 - mu)
    hb_same_lr = _stationary_second_moment(momentum_update, momentum_init, lr, h, 2000,
                                           seed + 200, momentum=mu)
    assert np.all(hb_same_lr > 0.8 / (1 - mu) * sgd_var)


def test_resuming_needs_the_optimizer_state_dict_too():
    def run(n_steps, w, opt):
        for _ in range(n_steps):
            opt.zero_grad()
            ((w - torch.arange(3.0, dtype=torch.float64)) ** 2).sum().backward()
            opt.step()
        return w

    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.05, momentum=0.9)
    run(10, w, opt)
    # state_dict() returns references to the live buffers: copy it, as torch.save would
    checkpoint = {"w": w.detach().clone(), "opt": copy.deepcopy(opt.state_dict())}
    straight = run(10, w, opt).detach().clone()        # 20 steps without interruption

    w2 = checkpoint["w"].clone().requires_grad_(True)
    opt2 = torch.optim.SGD([w2], lr=0.05, momentum=0.9)
    opt2.load_state_dict(checkpoint["opt"])            # momentum buffer restored
    torch.testing.assert_close(run(10, w2, opt2).detach(), straight, rtol=0, atol=0)

    w3 = checkpoint["w"].clone().requires_grad_(True)
    fresh = torch.optim.SGD([w3], lr=0.05, momentum=0.9)   # model only: buffer restarts at 0
    assert torch.linalg.norm(run(10, w3, fresh).detach() - straight) > 1e-3
