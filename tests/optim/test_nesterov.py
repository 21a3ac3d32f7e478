import numpy as np
import pytest
import torch

from dlhandbook.optim.momentum import momentum_init, momentum_update
from dlhandbook.optim.nesterov import (
    nesterov_init,
    nesterov_lookahead,
    nesterov_optimizer,
    nesterov_update,
)
from dlhandbook.optim.sgd import sgd_init, sgd_update
from optim.problems import quadratic

RAVINE = np.diag([1.0, 100.0])   # f = 1/2 (x^2 + 100 y^2): shallow along x, steep along y


def _run(update, init, grad_fn, theta, n_steps, **hyper):
    state, out = init(theta), [theta]
    for _ in range(n_steps):
        theta, state = update(theta, grad_fn(theta), state, **hyper)
        out.append(theta)
    return np.stack(out)


@pytest.mark.parametrize("momentum, weight_decay", [(0.9, 0.0), (0.5, 0.0), (0.99, 1e-2)])
def test_matches_torch_sgd_nesterov_over_300_steps_on_the_same_gradients(device, momentum,
                                                                        weight_decay):
    rng = np.random.default_rng(0)
    theta, grads = rng.standard_normal(6), rng.standard_normal((300, 6))
    w = torch.tensor(theta, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.01, momentum=momentum, nesterov=True,
                          weight_decay=weight_decay)
    state = nesterov_init(theta)
    for g in grads:
        theta, state = nesterov_update(theta, g, state, lr=0.01, momentum=momentum,
                                       weight_decay=weight_decay)
        w.grad = torch.tensor(g, device=device)
        opt.step()
        np.testing.assert_allclose(theta, w.detach().cpu().numpy(), rtol=0, atol=1e-10)


def test_pytorch_form_iterates_are_the_lookahead_points_of_the_sutskever_form():
    _, grad = quadratic(RAVINE)
    x0 = np.array([-10.0, 1.0])
    ours = _run(nesterov_update, nesterov_init, grad, x0, 200, lr=0.01, momentum=0.9)
    thetas, vs = nesterov_lookahead(grad, x0, lr=0.01, momentum=0.9, n_steps=200)
    np.testing.assert_allclose(ours, thetas + 0.9 * vs, rtol=0, atol=1e-12)


def test_zero_momentum_is_plain_sgd():
    _, grad = quadratic(RAVINE)
    x0 = np.array([-10.0, 1.0])
    ours = _run(nesterov_update, nesterov_init, grad, x0, 100, lr=0.01, momentum=0.0)
    plain = _run(sgd_update, sgd_init, grad, x0, 100, lr=0.01)
    np.testing.assert_array_equal(ours, plain)


def _steps_to_stay_below(losses, tol):
    """The step after which the loss stays below tol for the rest of the run (None: never)."""
    above = np.flatnonzero(np.asarray(losses) >= tol)
    if len(above) == 0:
        return 0
    return int(above[-1]) + 1 if above[-1] + 1 < len(losses) else None


def test_steps_to_stay_below_ignores_a_loss_that_dips_and_climbs_back():
    assert _steps_to_stay_below([5.0, 0.5, 3.0, 0.5, 0.4], 1.0) == 3   # not 1: it came back
    assert _steps_to_stay_below([5.0, 2.0], 1.0) is None
    assert _steps_to_stay_below([0.5, 0.2], 1.0) == 0


def _ravine_runs(momentum, n_steps=2000):
    loss, grad = quadratic(RAVINE)
    x0 = np.array([-10.0, 1.0])
    hyper = dict(lr=0.01, momentum=momentum)
    hb = _run(momentum_update, momentum_init, grad, x0, n_steps, **hyper)
    nag = _run(nesterov_update, nesterov_init, grad, x0, n_steps, **hyper)
    return hb, nag, [loss(x) for x in hb], [loss(x) for x in nag]


@pytest.mark.parametrize("momentum", [0.85, 0.9, 0.95, 0.97])
def test_when_heavy_ball_oscillates_nesterov_overshoots_less_and_settles_sooner(momentum):
    # lr = 0.01 on the shallow axis (h = 1): heavy ball oscillates there once
    # momentum > (1 - sqrt(lr * h))^2 = 0.81
    hb, nag, hb_loss, nag_loss = _ravine_runs(momentum)
    assert 0 < nag[:, 0].max() < 0.9 * hb[:, 0].max()   # overshoot past the minimum x = 0
    hb_steps, nag_steps = _steps_to_stay_below(hb_loss, 1e-6), _steps_to_stay_below(nag_loss,
                                                                                    1e-6)
    assert nag_steps < 0.92 * hb_steps


@pytest.mark.parametrize("momentum", [0.5, 0.7, 0.8])
def test_when_neither_oscillates_nesterov_is_slightly_slower_than_heavy_ball(momentum):
    hb, nag, hb_loss, nag_loss = _ravine_runs(momentum)
    assert hb[:, 0].max() <= 0 and nag[:, 0].max() <= 0   # neither passes x = 0
    hb_steps, nag_steps = _steps_to_stay_below(hb_loss, 1e-6), _steps_to_stay_below(nag_loss,
                                                                                    1e-6)
    assert hb_steps < nag_steps < 1.1 * hb_steps


@pytest.mark.parametrize("mu", [0.5, 0.8, 0.9])
def test_nesterov_tolerates_a_smaller_step_than_heavy_ball(mu):
    # On curvature h: heavy ball is stable for lr*h < 2(1+mu), Nesterov for lr*h < 2(1+mu)/(1+2mu)
    h = 100.0
    nag_edge = 2 * (1 + mu) / (1 + 2 * mu) / h
    _, grad = quadratic(np.array([[h]]))
    x0 = np.array([1.0])
    below = _run(nesterov_update, nesterov_init, grad, x0, 400, lr=0.97 * nag_edge, momentum=mu)
    above = _run(nesterov_update, nesterov_init, grad, x0, 400, lr=1.03 * nag_edge, momentum=mu)
    hb = _run(momentum_update, momentum_init, grad, x0, 400, lr=1.03 * nag_edge, momentum=mu)
    assert abs(below[-1, 0]) < 1e-3 and abs(above[-1, 0]) > 1e3
    assert abs(hb[-1, 0]) < 1e-6


def test_torch_nesterov_optimizer_follows_the_numpy_update(device):
    rng = np.random.default_rng(1)
    theta, grads = rng.standard_normal(3), rng.standard_normal((200, 3))
    w = torch.tensor(theta, device=device, requires_grad=True)
    opt = nesterov_optimizer([w], lr=0.05, momentum=0.9)
    state = nesterov_init(theta)
    for g in grads:
        theta, state = nesterov_update(theta, g, state, lr=0.05, momentum=0.9)
        w.grad = torch.tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(theta, w.detach().cpu().numpy(), rtol=0, atol=1e-10)


def test_rejects_bad_arguments():
    theta = np.zeros(2)
    with pytest.raises(ValueError, match="momentum"):
        nesterov_update(theta, theta, nesterov_init(theta), lr=0.1, momentum=-0.1)
    with pytest.raises(ValueError, match="lr"):
        nesterov_update(theta, theta, nesterov_init(theta), lr=0.0)
    with pytest.raises(ValueError, match="grad"):
        nesterov_update(theta, np.zeros(3), nesterov_init(theta), lr=0.1)
    with pytest.raises(TypeError, match="theta"):
        nesterov_init(np.array([1, 2]))
    with pytest.raises(TypeError, match="grad_fn"):
        nesterov_lookahead(None, theta, 0.1, 0.9, 3)
    with pytest.raises(ValueError, match="n_steps"):
        nesterov_lookahead(lambda x: x, theta, 0.1, 0.9, -1)
    with pytest.raises(ValueError, match="momentum"):
        nesterov_optimizer([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.0)
