import numpy as np
import pytest
import torch

from dlhandbook.optim.adam import adam_init, adam_update
from dlhandbook.optim.adamw import adamw_init, adamw_param_groups, adamw_update
from optim.problems import quadratic
from optim.references import adamw_torch_reference, torch_reference


def noisy_quadratic_grad(seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    _, grad = quadratic(np.diag([1.0, 10.0, 100.0]))
    return lambda theta: grad(theta) + noise * rng.standard_normal(theta.shape)


def run(init, update, theta0, grad_fn, n_steps, **hyper):
    theta, state = np.array(theta0, dtype=np.float64), init(theta0)
    thetas, grads = [theta], []
    for _ in range(n_steps):
        g = grad_fn(theta)
        theta, state = update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    return np.stack(thetas), grads


@pytest.mark.parametrize("hyper", [
    {"lr": 1e-2},
    {"lr": 1e-2, "weight_decay": 0.1},
    {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99)},
], ids=["default-decay", "decay-0.1", "amsgrad"])
def test_matches_torch_adamw_over_300_steps(hyper, device):
    theta0 = np.array([1.0, -1.0, 0.5])
    thetas, grads = run(adamw_init, adamw_update, theta0, noisy_quadratic_grad(), 300, **hyper)
    expected = adamw_torch_reference(theta0, grads, device=device, **hyper)
    np.testing.assert_allclose(thetas, expected, rtol=0, atol=1e-10)


def test_adamw_with_zero_weight_decay_is_adam():
    theta0 = np.array([1.0, -1.0, 0.5])
    w, _ = run(adamw_init, adamw_update, theta0, noisy_quadratic_grad(), 300, lr=1e-2,
               weight_decay=0.0)
    a, _ = run(adam_init, adam_update, theta0, noisy_quadratic_grad(), 300, lr=1e-2)
    np.testing.assert_array_equal(w, a)


def test_adamw_and_adam_with_l2_differ():
    """Same lambda, deterministic quadratic f = sum a_i (theta_i - c_i)^2 / 2. Adam + L2 minimises
    f + lambda |theta|^2 / 2 and converges to (A + lambda I)^{-1} A c; AdamW ends somewhere else."""
    a, c, lam = np.array([1.0, 10.0]), np.array([1.0, -1.0]), 0.1

    def grad(th):
        return a * (th - c)

    l2, _ = run(adam_init, adam_update, np.zeros(2), grad, 3000, lr=1e-2, weight_decay=lam)
    w, _ = run(adamw_init, adamw_update, np.zeros(2), grad, 3000, lr=1e-2, weight_decay=lam)
    l2_minimiser = a * c / (a + lam)
    np.testing.assert_allclose(l2[-1], l2_minimiser, rtol=0, atol=1e-6)
    assert np.abs(w[-1] - l2_minimiser).max() > 5e-2
    # With noise-free gradients AdamW ends at the *unregularised* minimiser c: its decay
    # acts like an L2 penalty of strength lam * (sqrt(v_hat) + eps) (Loshchilov & Hutter,
    # Prop. 3), which vanishes as the gradient does.
    assert np.abs(w[-1] - c).max() < 1e-2


def test_torch_adam_with_decoupled_weight_decay_is_adamw(device):
    theta0 = np.array([1.0, -1.0, 0.5])
    grad_fn = noisy_quadratic_grad()
    grads = [grad_fn(theta0) for _ in range(100)]
    hyper = {"lr": 1e-2, "weight_decay": 0.1}
    adam_dwd = torch_reference(torch.optim.Adam, theta0, grads, device=device,
                               decoupled_weight_decay=True, **hyper)
    adamw = adamw_torch_reference(theta0, grads, device=device, **hyper)
    np.testing.assert_array_equal(adam_dwd, adamw)      # bit for bit
    it = iter(grads)
    ours, _ = run(adamw_init, adamw_update, theta0, lambda th: next(it), 100, **hyper)
    np.testing.assert_allclose(ours, adamw, rtol=0, atol=1e-12)


def _zero_gradient_run(update, init, T=100, **hyper):
    thetas, _ = run(init, update, np.ones(1), lambda th: np.zeros(1), T, **hyper)
    return thetas[:, 0]


def test_with_zero_data_gradient_adamw_decays_as_one_minus_lr_lambda_to_the_t():
    lr, T = 1e-3, 100
    for lam in (0.01, 0.1):
        q = _zero_gradient_run(adamw_update, adamw_init, T, lr=lr, weight_decay=lam)
        np.testing.assert_allclose(q, (1 - lr * lam) ** np.arange(T + 1), rtol=1e-12)


def test_with_zero_data_gradient_adam_l2_shrinks_by_about_lr_per_step_whatever_lambda():
    lr, T = 1e-3, 100
    q01 = _zero_gradient_run(adam_update, adam_init, T, lr=lr, weight_decay=0.01)[-1]
    q1 = _zero_gradient_run(adam_update, adam_init, T, lr=lr, weight_decay=0.1)[-1]
    assert abs(q01 - q1) < 1e-6                         # ten times the lambda, the same weight
    assert abs(q1 - (1 - T * lr)) < 5e-3                # a step of ~lr: lambda * theta / |lambda * theta|


def test_l2_and_weight_decay_are_the_same_for_sgd_but_not_for_adam():
    rng = np.random.default_rng(0)
    lr, lam = 0.05, 0.1
    x_l2 = x_wd = np.array([1.0, -2.0, 0.5])
    for _ in range(200):
        g = rng.standard_normal(3)                      # the same data gradients for both
        x_l2 = x_l2 - lr * (g + lam * x_l2)             # SGD on loss + lam/2 |x|^2
        x_wd = (1 - lr * lam) * x_wd - lr * g           # SGD with decoupled decay
    np.testing.assert_allclose(x_l2, x_wd, rtol=0, atol=1e-12)
    grads = list(np.random.default_rng(1).standard_normal((200, 3)))
    it = iter(grads)
    a, _ = run(adam_init, adam_update, np.ones(3), lambda th: next(it), 200, lr=lr,
               weight_decay=lam)
    it = iter(grads)
    w, _ = run(adamw_init, adamw_update, np.ones(3), lambda th: next(it), 200, lr=lr,
               weight_decay=lam)
    assert np.abs(a[-1] - w[-1]).max() > 1e-2             # rounding is ~1e-16: clearly different


def test_adam_l2_decays_weights_with_large_gradients_less_adamw_decays_all_alike():
    """Loshchilov & Hutter (2019), Sec. 2: under Adam + L2 the penalty is divided by sqrt(v_hat),
    so weights with large gradient variance are barely regularised."""
    rng = np.random.default_rng(0)
    n, T, lr, lam = 500, 300, 1e-2, 1e-2
    scale = np.r_[np.full(n, 10.0), np.full(n, 0.01)]    # group A: noisy; group B: quiet
    noise = [scale * rng.standard_normal(2 * n) for _ in range(T)]
    it = iter(noise)
    a, _ = run(adam_init, adam_update, np.ones(2 * n), lambda th: next(it), T, lr=lr,
               weight_decay=lam)
    it = iter(noise)
    w, _ = run(adamw_init, adamw_update, np.ones(2 * n), lambda th: next(it), T, lr=lr,
               weight_decay=lam)

    def gap(th):
        return th[:n].mean() - th[n:].mean()

    assert gap(a[-1]) > 0.3                             # B shrinks far more than A under L2
    assert abs(gap(w[-1])) < 0.02                       # AdamW: both groups near (1 - lr lam)^T


def test_param_groups_exclude_biases_and_norm_weights_from_decay():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 1))
    decay, no_decay = adamw_param_groups(model, 0.1)
    assert [p.shape for p in decay["params"]] == [(8, 4), (1, 8)]
    assert len(no_decay["params"]) == 4 and no_decay["weight_decay"] == 0.0
    torch.optim.AdamW(adamw_param_groups(model, 0.1), lr=1e-3)   # accepted by torch


def test_rejects_bad_arguments():
    state = adamw_init(np.zeros(2))
    with pytest.raises(ValueError, match="weight_decay"):
        adamw_update(np.zeros(2), np.zeros(2), state, weight_decay=-0.1)
    with pytest.raises(ValueError, match="betas"):
        adamw_update(np.zeros(2), np.zeros(2), state, betas=(-0.1, 0.9))
    with pytest.raises(TypeError, match="model"):
        adamw_param_groups([1, 2])
