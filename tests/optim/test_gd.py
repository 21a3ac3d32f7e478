import numpy as np
import pytest
import torch

from dlhandbook.optim.gd import full_batch_gd, gd_init, gd_update, gradient_descent
from helpers import central_difference
from optim.problems import quadratic, saddle

L = 4.0  # curvature of the 1-D quadratic f(x) = L/2 x^2


def _linreg(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    return X, y


def test_converges_below_two_over_L_and_diverges_above():
    _, grad = quadratic(np.array([[L]]))
    x_below, _ = gradient_descent(grad, np.array([1.0]), lr=1.9 / L, n_steps=100)
    x_above, _ = gradient_descent(grad, np.array([1.0]), lr=2.1 / L, n_steps=100)
    assert abs(x_below[0]) < 1e-4           # |1 - 1.9| ** 100 shrinks
    assert abs(x_above[0]) > 1e4            # |1 - 2.1| ** 100 grows


def test_error_contracts_by_one_minus_lr_times_curvature_each_step():
    A = np.diag([L, 1.0])
    _, grad = quadratic(A)
    lr = 0.3
    _, traj = gradient_descent(grad, np.array([1.0, 1.0]), lr, 20)
    expected = np.stack([(1 - lr * np.diag(A)) ** t for t in range(21)])
    np.testing.assert_allclose(traj, expected, rtol=1e-12, atol=0)
    # and for eigenvectors that are not the axes: A = Q diag(lam) Q^T, rotated at random
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    lam = np.array([L, 3.0, 1.0, 0.2])
    _, grad = quadratic(Q @ np.diag(lam) @ Q.T)
    x0 = rng.standard_normal(4)
    _, traj = gradient_descent(grad, x0, lr, 20)
    coords = traj @ Q                                  # (21, 4): error along each eigenvector
    expected = np.stack([(1 - lr * lam) ** t * (x0 @ Q) for t in range(21)])
    np.testing.assert_allclose(coords, expected, rtol=1e-10, atol=1e-12)


def test_zigzags_across_the_steep_direction_without_any_noise():
    # lr between 1/L and 2/L: the steep coordinate flips sign every step, the shallow one does not
    _, grad = quadratic(np.diag([50.0, 1.0]))
    _, traj = gradient_descent(grad, np.array([1.0, 1.0]), lr=1.9 / 50, n_steps=60)
    signs = np.sign(traj[:, 0])
    assert np.all(signs[1:] == -signs[:-1])
    assert np.all(np.diff(traj[:, 1]) < 0)


def test_reaches_least_squares_solution():
    X, y = _linreg()
    A = X.T @ X / len(X)
    lr = 1.0 / np.linalg.eigvalsh(A).max()
    theta, _ = gradient_descent(lambda w: X.T @ (X @ w - y) / len(X), np.zeros(5), lr, 500)
    w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.linalg.norm(theta - w_ols) < 1e-8


def test_matches_torch_sgd_full_batch_trajectory(device):
    X, y = _linreg()
    lr = 0.1
    _, traj = gradient_descent(lambda w: X.T @ (X @ w - y) / len(X), np.zeros(5), lr, 200)
    Xt = torch.tensor(X, device=device)
    yt = torch.tensor(y, device=device)
    w = torch.zeros(5, dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    for t in range(200):
        opt.zero_grad()
        (0.5 * ((Xt @ w - yt) ** 2).mean()).backward()
        opt.step()
        np.testing.assert_allclose(w.detach().cpu().numpy(), traj[t + 1], rtol=0, atol=1e-12)


def test_torch_full_batch_gd_decreases_the_loss_monotonically(device):
    X, y = _linreg()
    model = torch.nn.Linear(5, 1, dtype=torch.float64).to(device)
    Xt = torch.tensor(X, device=device)
    yt = torch.tensor(y, device=device)[:, None]
    lr = 0.1
    Xa = np.hstack([X, np.ones((len(X), 1))])          # (n, d + 1): weights and bias
    L_mse = np.linalg.eigvalsh(2 * Xa.T @ Xa / len(X)).max()  # curvature of mean((Xa w - y)^2)
    assert lr < 2 / L_mse                               # the regime the claim is about
    losses = full_batch_gd(model, torch.nn.functional.mse_loss, Xt, yt, lr=lr, n_steps=100)
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.05 * losses[0]


def test_is_deterministic():
    _, grad = quadratic(np.diag([3.0, 1.0]))
    _, a = gradient_descent(grad, np.array([1.0, -1.0]), 0.2, 50)
    _, b = gradient_descent(grad, np.array([1.0, -1.0]), 0.2, 50)
    assert np.array_equal(a, b)


def test_stalls_at_a_saddle_only_on_its_stable_manifold():
    _, grad = saddle()                      # f = x^2 - y^2
    on, _ = gradient_descent(grad, np.array([1.0, 0.0]), 0.1, 150)
    off, _ = gradient_descent(grad, np.array([1.0, 1e-8]), 0.1, 150)
    assert np.allclose(on, 0.0, atol=1e-8)  # converges to the saddle, a non-minimum
    assert abs(off[1]) > 1.0                # a 1e-8 perturbation escapes


def test_accuracy_has_zero_gradient_so_gradient_descent_cannot_use_it():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    labels = (X @ np.array([1.0, -1.0, 0.5]) > 0).astype(float)
    w = rng.standard_normal(3)

    def accuracy(v):
        return np.mean((X @ v > 0) == labels)

    assert np.array_equal(central_difference(accuracy, w), np.zeros(3))  # piecewise constant
    wt = torch.tensor(w, requires_grad=True)
    acc = ((torch.tensor(X) @ wt > 0).double() == torch.tensor(labels)).double().mean()
    assert acc.grad_fn is None                                           # autograd: no graph


def test_rejects_bad_arguments():
    theta = np.zeros(2)
    with pytest.raises(ValueError, match="lr"):
        gd_update(theta, theta, gd_init(theta), lr=-0.1)
    with pytest.raises(TypeError, match="lr"):
        gd_update(theta, theta, gd_init(theta), lr="0.1")
    with pytest.raises(ValueError, match="grad"):
        gd_update(theta, np.zeros(3), gd_init(theta), lr=0.1)
    with pytest.raises(TypeError, match="theta"):
        gd_init(np.array([1, 2]))
    with pytest.raises(ValueError, match="n_steps"):
        gradient_descent(lambda x: x, theta, 0.1, -1)
    with pytest.raises(TypeError, match="grad_fn"):
        gradient_descent(None, theta, 0.1, 1)
    with pytest.raises(ValueError, match="lr"):
        full_batch_gd(torch.nn.Linear(2, 1), torch.nn.functional.mse_loss,
                      torch.zeros(3, 2), torch.zeros(3, 1), lr=0.0, n_steps=1)
