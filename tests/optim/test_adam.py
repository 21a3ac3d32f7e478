import numpy as np
import pytest

from dlhandbook.optim.adam import adam_init, adam_update
from optim.problems import quadratic
from optim.references import adam_torch_reference


def noisy_quadratic_grad(seed=0, noise=0.5):
    """Gradient of 1/2 x^T diag(1, 10, 100) x plus Gaussian noise (a stochastic gradient)."""
    rng = np.random.default_rng(seed)
    _, grad = quadratic(np.diag([1.0, 10.0, 100.0]))
    return lambda theta: grad(theta) + noise * rng.standard_normal(theta.shape)


def run(theta0, grad_fn, n_steps, **hyper):
    theta, state = np.array(theta0, dtype=np.float64), adam_init(theta0)
    thetas, grads = [theta], []
    for _ in range(n_steps):
        g = grad_fn(theta)
        theta, state = adam_update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    return np.stack(thetas), grads


@pytest.mark.parametrize("hyper", [
    {"lr": 1e-2},
    {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 1e-2, "amsgrad": True},
    {"lr": 1e-2, "weight_decay": 0.1},
    {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True},
], ids=["defaults", "betas-eps", "amsgrad", "l2", "l2-amsgrad"])
def test_matches_torch_adam_over_300_steps(hyper, device):
    theta0 = np.array([1.0, -1.0, 0.5])
    thetas, grads = run(theta0, noisy_quadratic_grad(), 300, **hyper)
    expected = adam_torch_reference(theta0, grads, device=device, **hyper)
    np.testing.assert_allclose(thetas, expected, rtol=0, atol=1e-10)


G = np.array([-1e3, -1.0, -1e-3, 1e-3, 1.0, 1e3])        # six orders of magnitude, both signs


def test_first_step_has_magnitude_lr_in_every_coordinate():
    thetas, _ = run(np.zeros(6), lambda th: G, 1, lr=1e-3)
    np.testing.assert_allclose(thetas[1], -1e-3 * np.sign(G), rtol=1e-4)


def test_without_bias_correction_first_step_is_lr_times_one_minus_beta1_over_sqrt_one_minus_beta2():
    thetas, _ = run(np.zeros(6), lambda th: G, 1, lr=1e-3, bias_correction=False)
    factor = (1 - 0.9) / np.sqrt(1 - 0.999)             # = 3.162... for the default betas
    np.testing.assert_allclose(np.abs(thetas[1]), 1e-3 * factor * np.ones(6), rtol=1e-3)
    assert 3.16 < factor < 3.17


def test_bias_correction_matters_only_early():
    def g(th):
        return np.array([1.0])                      # constant gradient

    on, _ = run(np.zeros(1), g, 5000, lr=1e-3)
    off, _ = run(np.zeros(1), g, 5000, lr=1e-3, bias_correction=False)
    step_on, step_off = -np.diff(on[:, 0]), -np.diff(off[:, 0])
    np.testing.assert_allclose(step_on, 1e-3, rtol=1e-6)            # corrected: exactly lr
    t = np.arange(1, 5001)
    np.testing.assert_allclose(step_off, 1e-3 * (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-6)
    assert step_off.max() > 6e-3 and abs(step_off[-1] / 1e-3 - 1) < 0.01
    assert np.argmax(step_off) == 11                    # the peak is at t = 12
    assert 6.5e-3 < step_off.max() < 6.6e-3             # 6.57 lr


def _adam_eps_hat(theta, g, state, t, lr, betas, eps_hat):
    # Kingma & Ba's "efficient" ordering (TF1 / Keras): the bias corrections are folded
    # into the step size and eps_hat is added to sqrt(v), not to sqrt(v_hat).
    m, v = state
    m = betas[0] * m + (1 - betas[0]) * g
    v = betas[1] * v + (1 - betas[1]) * g * g
    lr_t = lr * np.sqrt(1 - betas[1] ** t) / (1 - betas[0] ** t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), (m, v)


@pytest.mark.parametrize("eps_hat", [1e-8, 1e-2, 1.0])
def test_tf_eps_hat_is_torch_eps_divided_by_sqrt_one_minus_beta2_power_t(eps_hat):
    # eps_hat on sqrt(v) equals a time-varying eps = eps_hat / sqrt(1 - beta2^t) on
    # sqrt(v_hat), so the same eps value means different things in the two frameworks.
    grad_fn, betas = noisy_quadratic_grad(), (0.9, 0.999)
    theta = ours = np.array([1.0, -1.0, 0.5])
    tf_state, state = (np.zeros(3), np.zeros(3)), adam_init(ours)
    same_eps = ours.copy()
    same_state = adam_init(ours)
    for t in range(1, 201):
        g = grad_fn(theta)
        theta, tf_state = _adam_eps_hat(theta, g, tf_state, t, 1e-2, betas, eps_hat)
        eps_t = eps_hat / np.sqrt(1 - betas[1] ** t)
        ours, state = adam_update(ours, g, state, lr=1e-2, betas=betas, eps=eps_t)
        same_eps, same_state = adam_update(same_eps, g, same_state, lr=1e-2, betas=betas,
                                           eps=eps_hat)
        np.testing.assert_allclose(ours, theta, rtol=0, atol=1e-12)
    if eps_hat >= 1e-2:                                 # a large eps: the forms differ
        assert np.abs(same_eps - theta).max() > 1e-3


def test_step_is_invariant_to_rescaling_the_gradient():
    _, grad = quadratic(np.diag([1.0, 10.0]))
    a, _ = run(np.array([1.0, 1.0]), grad, 200, lr=1e-2, eps=0.0)
    b, _ = run(np.array([1.0, 1.0]), lambda th: 1e4 * grad(th), 200, lr=1e-2, eps=0.0)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def reddi_counterexample(C, amsgrad, n_steps=3000, lr=0.1):
    """Reddi, Kale & Kumar (2018), Thm. 1: f_t(x) = C x if t % 3 == 1 else -x on [-1, 1],
    beta1 = 0, beta2 = 1 / (1 + C^2), step lr / sqrt(t). The best point is x = -1."""
    x, state = np.zeros(1), adam_init(np.zeros(1))
    xs = [x[0]]
    for t in range(1, n_steps + 1):
        g = np.array([C if t % 3 == 1 else -1.0])
        x, state = adam_update(x, g, state, lr=lr / np.sqrt(t), betas=(0.0, 1 / (1 + C**2)),
                               amsgrad=amsgrad)
        x = np.clip(x, -1.0, 1.0)                       # projection onto the feasible set
        xs.append(x[0])
    return np.array(xs)


@pytest.mark.parametrize("C", [3.0, 5.0])
def test_adam_ends_at_the_worst_point_of_reddi_counterexample_and_amsgrad_does_not(C):
    adam, ams = reddi_counterexample(C, False), reddi_counterexample(C, True)
    assert adam[-1] > 0.99                              # x = +1 maximises the average loss
    assert ams[-1] < -0.9                               # AMSGrad goes to the minimiser -1

    def regret(xs):
        return (C - 2) / 3 * (xs + 1)          # average loss per step minus the best

    assert regret(adam[-300:]).mean() > 10 * regret(ams[-300:]).mean()


def test_rejects_bad_arguments():
    state = adam_init(np.zeros(2))
    with pytest.raises(ValueError, match="betas"):
        adam_update(np.zeros(2), np.zeros(2), state, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="betas"):
        adam_update(np.zeros(2), np.zeros(2), state, betas=0.9)
    with pytest.raises(ValueError, match="lr"):
        adam_update(np.zeros(2), np.zeros(2), state, lr=0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        adam_update(np.zeros(2), np.zeros(2), state, weight_decay=-1.0)
    with pytest.raises(ValueError, match="grad"):
        adam_update(np.zeros(2), np.zeros(3), state)


def _steps_to_stay_below(losses, target):
    above = np.nonzero(np.asarray(losses) >= target)[0]
    if losses[-1] >= target:
        return np.inf
    return above[-1] + 2 if len(above) else 1          # steps after which it stays below


@pytest.mark.parametrize("seed", range(3))
def test_on_a_45_degree_ravine_tuned_adam_still_beats_gd_at_its_best_step(seed):
    # The diagonal scaling cannot help here (test_adagrad.py), but Adam's momentum and
    # sign-like steps still do. Adam's lr is tuned on a grid, optimum strictly inside.
    c = s = np.sqrt(0.5)
    R = np.array([[c, -s], [s, c]])
    A = R @ np.diag([1.0, 100.0]) @ R.T
    u = np.random.default_rng(seed).standard_normal(2)
    x0, target, T = R @ (u / np.linalg.norm(u)), 1e-6, 1000

    def losses_of(step):
        x, state, out = x0, None, []
        for _ in range(T):
            x, state = step(x, A @ x, state)
            out.append(0.5 * x @ A @ x)
        return out

    k_gd = _steps_to_stay_below(losses_of(lambda x, g, st: (x - 2 / 101 * g, st)), target)
    grid = np.geomspace(1e-3, 1.0, 13)
    k_adam = [_steps_to_stay_below(losses_of(
        lambda x, g, st, lr=lr: adam_update(x, g, st or adam_init(x), lr=lr)), target)
        for lr in grid]
    best = int(np.argmin(k_adam))
    assert 0 < best < len(grid) - 1
    assert k_adam[best] < k_gd < np.inf
