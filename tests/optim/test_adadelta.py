import numpy as np
import pytest

from dlhandbook.optim.adadelta import adadelta_init, adadelta_update
from dlhandbook.optim.rmsprop import rmsprop_init, rmsprop_update
from optim.problems import quadratic, rosenbrock
from optim.references import adadelta_torch_reference


def run(theta0, grad_fn, n_steps, **hyper):
    theta, state = np.array(theta0, dtype=np.float64), adadelta_init(theta0)
    thetas, grads = [theta], []
    for _ in range(n_steps):
        g = grad_fn(theta)
        theta, state = adadelta_update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    return np.stack(thetas), grads


@pytest.mark.parametrize("hyper", [
    {},
    {"rho": 0.95, "eps": 1e-6},
    {"lr": 0.5, "rho": 0.9, "eps": 1e-4, "weight_decay": 0.1},
], ids=["torch-defaults", "zeiler", "lr-wd"])
def test_matches_torch_adadelta_over_300_steps(hyper, device):
    _, grad = rosenbrock()
    theta0 = np.array([-1.2, 1.0])
    thetas, grads = run(theta0, grad, 300, **hyper)
    expected = adadelta_torch_reference(theta0, grads, device=device, **hyper)
    np.testing.assert_allclose(thetas, expected, rtol=0, atol=1e-10)


def test_first_step_is_set_by_eps_not_by_a_learning_rate():
    g = np.array([1e-3, 1.0, 1e3])
    thetas, _ = run(np.zeros(3), lambda th: g, 1, rho=0.95, eps=1e-6)
    expected = np.sqrt(1e-6) / np.sqrt(0.05 * g**2 + 1e-6) * g
    np.testing.assert_allclose(-thetas[1], expected, rtol=1e-14)


def test_is_not_rmsprop():
    _, grad = rosenbrock()
    theta0 = np.array([-1.2, 1.0])
    ada, _ = run(theta0, grad, 300, rho=0.95, eps=1e-6)
    theta, state = theta0, rmsprop_init(theta0)
    for _ in range(300):                                # RMSProp with the same decay and eps
        theta, state = rmsprop_update(theta, grad(theta), state, lr=1.0, alpha=0.95, eps=1e-6)
    assert np.abs(ada[-1] - theta).max() > 1e-2



def test_even_from_an_identical_first_step_adadelta_and_rmsprop_part_ways():
    # RMSProp at lr = sqrt(eps) takes Adadelta's first step (to 1e-5); under a constant
    # gradient RMSProp's step then falls to lr while Adadelta's grows with its own history.
    g = np.array([1.0])
    ada, _ = run(np.zeros(1), lambda th: g, 100, rho=0.95, eps=1e-6)
    theta, state, rms = np.zeros(1), rmsprop_init(np.zeros(1)), [np.zeros(1)]
    for _ in range(100):
        theta, state = rmsprop_update(theta, g, state, lr=1e-3, alpha=0.95, eps=1e-12)
        rms.append(theta)
    step_ada, step_rms = -np.diff(ada[:, 0]), -np.diff(np.stack(rms)[:, 0])
    assert abs(step_ada[0] / step_rms[0] - 1) < 1e-5
    assert np.all(np.diff(step_ada) > 0)                # Adadelta: steps keep growing
    assert abs(step_rms[-1] / 1e-3 - 1) < 1e-2          # RMSProp: settles at lr
    assert step_ada[-1] > 5 * step_rms[-1]

def test_update_is_invariant_to_rescaling_a_parameter():
    """Run once in x and once in u = x / c. With the epsilons carried over in matching units
    (eps on E[g^2] scales like c^2, eps on E[dx^2] like 1/c^2), the u-run is the x-run divided by
    c, step for step: the update has the units of the parameter. RMSProp's update does not."""
    c = 10.0
    _, grad_x = quadratic(np.diag([1.0, 25.0]))

    def grad_u(u):
        return c * grad_x(c * u)                # chain rule: d f(c u) / du

    x0 = np.array([1.0, 1.0])
    tx, _ = run(x0, grad_x, 200, rho=0.95, eps=1e-6, eps_delta=1e-6)
    tu, _ = run(x0 / c, grad_u, 200, rho=0.95, eps=1e-6 * c**2, eps_delta=1e-6 / c**2)
    np.testing.assert_allclose(tx, c * tu, rtol=1e-9, atol=1e-12)
    rx, ru, sx, su = x0, x0 / c, rmsprop_init(x0), rmsprop_init(x0)
    for _ in range(10):
        rx, sx = rmsprop_update(rx, grad_x(rx), sx, lr=0.01, eps=1e-8)
        ru, su = rmsprop_update(ru, grad_u(ru), su, lr=0.01, eps=1e-8 * c**2)
    assert np.abs(rx - c * ru).max() > 0.1              # RMSProp's step is lr in either unit


def test_rejects_bad_arguments():
    state = adadelta_init(np.zeros(2))
    with pytest.raises(ValueError, match="rho"):
        adadelta_update(np.zeros(2), np.zeros(2), state, rho=1.5)
    with pytest.raises(ValueError, match="eps"):
        adadelta_update(np.zeros(2), np.zeros(2), state, eps=0.0)
    with pytest.raises(TypeError, match="lr"):
        adadelta_update(np.zeros(2), np.zeros(2), state, lr=None)
    with pytest.raises(ValueError, match="grad"):
        adadelta_update(np.zeros(2), np.zeros((2, 1)), state)
