import numpy as np
import pytest
import torch

from dlhandbook.optim.bfgs import bfgs_inverse_update
from dlhandbook.optim.lbfgs import (
    LineSearchError,
    fit_lbfgs,
    lbfgs_minimize,
    two_loop,
    wolfe_line_search,
)
from optim.problems import quadratic, rosenbrock


def history(n=8, m=5, seed=0):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    A = B @ B.T + np.eye(n)
    s_hist = [rng.standard_normal(n) for _ in range(m)]
    return A, s_hist, [A @ s for s in s_hist]


@pytest.mark.parametrize("gamma", [None, 0.7])
def test_two_loop_equals_the_explicit_bfgs_matrix_product(gamma):
    A, s_hist, y_hist = history()
    g = np.random.default_rng(1).standard_normal(8)
    scale = (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1]) if gamma is None else gamma
    H = scale * np.eye(8)
    for s, y in zip(s_hist, y_hist, strict=True):       # oldest pair first
        H = bfgs_inverse_update(H, s, y)
    np.testing.assert_allclose(two_loop(g, s_hist, y_hist, gamma=gamma), H @ g, rtol=1e-10,
                               atol=1e-12)


def test_with_no_history_the_direction_is_the_gradient():
    g = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(two_loop(g, [], []), g)


def test_fixed_step_run_follows_torch_lbfgs_step_for_step(device):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = Q @ np.diag(np.linspace(1.0, 4.0, 6)) @ Q.T
    b = rng.standard_normal(6)
    loss, grad = quadratic(A, b)
    theta0 = rng.standard_normal(6)
    ours = lbfgs_minimize(loss, grad, theta0, history_size=3, max_iter=25, tol=0.0,
                          line_search=False, lr=0.5).thetas
    At, bt = torch.tensor(A, device=device), torch.tensor(b, device=device)
    x = torch.tensor(theta0, device=device, requires_grad=True)
    opt = torch.optim.LBFGS([x], lr=0.5, max_iter=1, history_size=3, tolerance_grad=0.0,
                            tolerance_change=0.0, line_search_fn=None)

    def closure():
        opt.zero_grad()
        f = 0.5 * x @ At @ x - bt @ x
        f.backward()
        return f

    theirs = [theta0]
    for _ in range(25):
        opt.step(closure)                               # one L-BFGS iteration per call
        theirs.append(x.detach().cpu().numpy().copy())
    np.testing.assert_allclose(ours, np.stack(theirs), rtol=0, atol=1e-10)
    assert np.linalg.norm(ours[-1] - np.linalg.solve(A, b)) < 1e-6


def _diagonal_quadratic(n=1000):
    a = np.linspace(1.0, 100.0, n)                     # diagonal of A: condition number 100

    def loss(x):
        return 0.5 * x @ (a * x) - x.sum()

    def grad(x):
        return a * x - 1.0

    return loss, grad


def _counted(fn):
    def wrapped(x):
        wrapped.calls += 1
        return fn(x)
    wrapped.calls = 0
    return wrapped


def test_on_a_1000_dimensional_quadratic_memory_5_costs_under_half_the_gradients_of_gd():
    # Cost is counted in evaluations, and every loss evaluation is charged as if it were
    # a gradient too. tol 1e-6 is above the loss's rounding level (see the next test).
    loss, grad = _diagonal_quadratic()
    loss_c, grad_c = _counted(loss), _counted(grad)
    result = lbfgs_minimize(loss_c, grad_c, np.zeros(1000), history_size=5, max_iter=1000,
                            tol=1e-6)
    assert result.converged and np.abs(grad(result.theta)).max() <= 1e-6
    assert (result.n_loss, result.n_grad) == (loss_c.calls, grad_c.calls)   # honest counts
    x, k_gd = np.zeros(1000), 0
    while np.abs(grad(x)).max() > 1e-6:                # GD with the optimal step 2 / (L + mu)
        x, k_gd = x - 2 / 101 * grad(x), k_gd + 1      # one gradient per step
    assert result.n_grad + result.n_loss < 0.5 * k_gd


def test_a_tolerance_below_rounding_stops_with_a_line_search_failure_not_silently():
    loss, grad = _diagonal_quadratic()
    result = lbfgs_minimize(loss, grad, np.zeros(1000), history_size=5, max_iter=1000,
                            tol=1e-8)
    assert not result.converged
    assert result.message.startswith("line search failed")
    assert np.abs(grad(result.theta)).max() < 1e-5     # it still got close


def test_line_search_step_meets_both_wolfe_conditions_and_returns_its_gradient():
    loss, grad = rosenbrock()
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.uniform(-2, 2, size=2)
        f0, g0 = loss(x), grad(x)
        d = -g0 / np.linalg.norm(g0)
        alpha, f, g, n_loss, n_grad = wolfe_line_search(loss, grad, x, d, f0, g0)
        assert f <= f0 + 1e-4 * alpha * (g0 @ d)                    # sufficient decrease
        assert g @ d >= 0.9 * (g0 @ d)                               # curvature
        assert f == loss(x + alpha * d)
        np.testing.assert_array_equal(g, grad(x + alpha * d))
        assert 1 <= n_grad <= n_loss
    with pytest.raises(LineSearchError, match="descent"):
        wolfe_line_search(loss, grad, x, -d, f0, g0)


def test_numpy_lbfgs_solves_rosenbrock():
    loss, grad = rosenbrock()
    result = lbfgs_minimize(loss, grad, np.array([-1.2, 1.0]), max_iter=500)
    np.testing.assert_allclose(result.theta, [1.0, 1.0], atol=1e-6)


def test_torch_lbfgs_with_a_closure_solves_rosenbrock_and_least_squares(device):
    p = torch.tensor([-1.2, 1.0], dtype=torch.float64, device=device, requires_grad=True)
    f = fit_lbfgs(lambda: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [p], max_iter=200)
    assert f.item() < 1e-12
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 3, generator=g, dtype=torch.float64).to(device)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, device=device)
    model = torch.nn.Linear(3, 1, dtype=torch.float64, device=device)
    fit_lbfgs(lambda: ((model(X).squeeze(1) - y) ** 2).mean(), model.parameters())
    torch.testing.assert_close(model.weight.detach().squeeze(0),
                               torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, device=device),
                               rtol=0, atol=1e-6)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="history_size"):
        lbfgs_minimize(lambda x: 0.0, lambda x: x, np.zeros(2), history_size=0)
    with pytest.raises(ValueError, match="same length"):
        two_loop(np.zeros(2), [np.ones(2)], [])
    with pytest.raises(TypeError, match="loss_fn"):
        fit_lbfgs(None, [])
    with pytest.raises(ValueError, match="params"):
        fit_lbfgs(lambda: torch.zeros(()), [torch.zeros(2)])
