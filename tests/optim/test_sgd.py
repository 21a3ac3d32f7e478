import numpy as np
import pytest
import torch

from dlhandbook.optim.gd import gradient_descent
from dlhandbook.optim.sgd import sgd, sgd_init, sgd_update, train_epoch


def _linreg(n=2000, d=5, noise=1.0, seed=0):
    """Least squares J(w) = 1/(2n) ||X w - y||^2 with N(0, I) features and N(0, noise^2) noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]

    def grad_fn(w, idx=slice(None)):
        Xb = X[idx]
        return Xb.T @ (Xb @ w - y[idx]) / len(Xb)

    def loss(w):
        return 0.5 * np.mean((X @ w - y) ** 2)

    return X, y, w_star, grad_fn, loss


def _stationary_error(lr, n_steps=40_000, burn_in=4_000, seed=0, batch_size=1):
    X, y, w_star, grad_fn, _ = _linreg()
    _, traj = sgd(grad_fn, w_star, len(X), batch_size, lr, n_steps, seed=seed, replace=True,
                  record_every=10)
    return np.mean(np.sum((traj[burn_in // 10:] - w_star) ** 2, axis=1))


@pytest.mark.slow
def test_constant_lr_settles_in_a_noise_ball_that_grows_with_lr():
    small, large = _stationary_error(0.005), _stationary_error(0.02)
    # Exact steady state of this problem (B = 1, x ~ N(0, I), noise sigma = 1):
    # E||w - w*||^2 = d c with c = lr sigma^2 / (2 - 2 lr - d lr), which is d lr / 2 to first
    # order in lr (the small-step result); so the ball is about 4x larger at 4x the lr.
    d = 5
    theory = d * 0.005 / (2 - 2 * 0.005 - d * 0.005)
    assert 3.0 < large / small < 5.5
    assert abs(small / theory - 1) < 0.35
    assert small > 1e-3                       # it does not converge to w*


@pytest.mark.slow
def test_the_noise_ball_shrinks_with_the_batch_size():
    # to first order the ball is proportional to lr / B: four times the batch, a quarter
    one, four = _stationary_error(0.01), _stationary_error(0.01, batch_size=4)
    assert 3.0 < one / four < 5.5


def test_full_gradient_vanishes_at_the_optimum_but_per_example_gradients_do_not():
    X, y, w_star, grad_fn, _ = _linreg()
    per_example = (X @ w_star - y)[:, None] * X                       # (N, d)
    assert np.linalg.norm(grad_fn(w_star)) < 1e-10
    assert np.mean(np.sum((per_example - per_example.mean(0)) ** 2, axis=1)) > 0.1


def test_full_batch_sgd_without_replacement_is_gradient_descent():
    X, y, _, grad_fn, _ = _linreg(n=256)
    w_sgd, _ = sgd(grad_fn, np.zeros(5), 256, 256, 0.1, 100, replace=False)
    w_gd, _ = gradient_descent(grad_fn, np.zeros(5), 0.1, 100)
    np.testing.assert_allclose(w_sgd, w_gd, rtol=0, atol=1e-12)  # only summation order differs


def test_is_a_deterministic_function_of_the_seed():
    X, _, _, grad_fn, _ = _linreg(n=256)
    a, _ = sgd(grad_fn, np.zeros(5), 256, 8, 0.05, 100, seed=1)
    b, _ = sgd(grad_fn, np.zeros(5), 256, 8, 0.05, 100, seed=1)
    c, _ = sgd(grad_fn, np.zeros(5), 256, 8, 0.05, 100, seed=2)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_cheap_noisy_steps_beat_one_exact_step_at_equal_cost():
    # One SGD epoch (B = 1) and one full-batch GD step at lr = 1/L cost the same n gradients.
    X, y, w_star, grad_fn, loss = _linreg(n=2000)
    L = np.linalg.eigvalsh(X.T @ X / len(X)).max()
    w0 = np.full(5, 3.0)
    w_gd, _ = gradient_descent(grad_fn, w0, 1.0 / L, 1)
    w_sgd, _ = sgd(grad_fn, w0, len(X), 1, 0.01, len(X), seed=0)
    excess_gd, excess_sgd = loss(w_gd) - loss(w_star), loss(w_sgd) - loss(w_star)
    assert excess_sgd < 0.2 * excess_gd


@pytest.mark.slow
def test_gd_wins_asymptotically_while_constant_lr_sgd_hits_a_noise_floor():
    # equal budgets in epochs (example gradients / N), on an ill-conditioned problem
    rng = np.random.default_rng(0)
    n, d, epochs = 500, 5, 150
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 0.3, d)       # kappa ~ 11
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    H = X.T @ X / n

    def grad_fn(w, idx=slice(None)):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(X[idx])

    def excess(W):                                                  # (k, d) -> (k,)
        return 0.5 * np.einsum("ki,ij,kj->k", W - w_star, H, W - w_star)

    eig = np.linalg.eigvalsh(H)
    assert eig.max() / eig.min() > 8                                 # ill-conditioned
    _, gd_traj = gradient_descent(grad_fn, np.zeros(d), 1.0 / eig.max(), epochs)
    _, sgd_traj = sgd(grad_fn, np.zeros(d), n, 1, 0.01, epochs * n, seed=0, replace=True,
                      record_every=n)                                # one record per epoch
    gd, stochastic = excess(gd_traj), excess(sgd_traj)               # (epochs + 1,) each
    assert stochastic[1] < gd[1]                 # SGD is ahead after the first epoch
    assert gd[-1] < 1e-10 < 1e-4 < stochastic[-1]          # GD far below SGD at the end
    # and SGD has plateaued: its last 50 epochs are no better than the 50 before
    assert stochastic[-50:].mean() > 0.5 * stochastic[-100:-50].mean()


def test_update_with_weight_decay_matches_torch_sgd_over_300_steps(device):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(7)
    grads = rng.standard_normal((300, 7))          # the same gradients are fed to both
    w = torch.tensor(theta, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.05, weight_decay=0.01)
    state = sgd_init(theta)
    for g in grads:
        theta, state = sgd_update(theta, g, state, lr=0.05, weight_decay=0.01)
        w.grad = torch.tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(theta, w.detach().cpu().numpy(), rtol=0, atol=1e-10)
    assert state.step == 300


def test_torch_train_epoch_lowers_the_loss():
    X, y, _, _, _ = _linreg(n=512)
    data = torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)[:, None])
    loader = torch.utils.data.DataLoader(data, batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    model = torch.nn.Linear(5, 1, dtype=torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    first = train_epoch(model, loader, torch.nn.functional.mse_loss, opt)
    for _ in range(4):
        last = train_epoch(model, loader, torch.nn.functional.mse_loss, opt)
    assert last < 0.5 * first


def test_rejects_bad_arguments():
    theta = np.zeros(2)
    with pytest.raises(ValueError, match="lr"):
        sgd_update(theta, theta, sgd_init(theta), lr=0)
    with pytest.raises(ValueError, match="weight_decay"):
        sgd_update(theta, theta, sgd_init(theta), lr=0.1, weight_decay=-1)
    with pytest.raises(ValueError, match="batch_size"):
        sgd(lambda w, i: w, theta, 10, 11, 0.1, 1)
    with pytest.raises(ValueError, match="n_steps"):
        sgd(lambda w, i: w, theta, 10, 2, 0.1, -3)
    with pytest.raises(TypeError, match="grad_fn"):
        sgd(3, theta, 10, 2, 0.1, 1)
    with pytest.raises(TypeError, match="optimizer"):
        train_epoch(torch.nn.Linear(1, 1), [], torch.nn.functional.mse_loss, None)
