import numpy as np
import pytest
import torch

from dlhandbook.optim.newton import hessian, hessian_fd, hvp, newton_step_torch, newton_update
from helpers import rel_error
from optim.problems import quadratic, rosenbrock, saddle


def ill_conditioned_quadratic(kappa, d=10, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = Q @ np.diag(np.geomspace(1.0, kappa, d)) @ Q.T   # eigenvalues from 1 to kappa
    b = rng.standard_normal(d)
    return A, b


@pytest.mark.parametrize("kappa", [10.0, 1e3, 1e6])
def test_newton_solves_a_quadratic_in_one_step_whatever_its_conditioning(kappa):
    A, b = ill_conditioned_quadratic(kappa)
    _, grad = quadratic(A, b)
    x_star = np.linalg.solve(A, b)
    x0 = np.zeros(10)
    x1 = newton_update(x0, grad(x0), A)
    assert np.linalg.norm(x1 - x_star) / np.linalg.norm(x_star) < 1e-8
    x = x0                                              # GD with its best fixed step, 100 steps
    for _ in range(100):
        x = x - 2 / (1 + kappa) * grad(x)
    if kappa >= 1e3:
        assert np.linalg.norm(x - x_star) / np.linalg.norm(x_star) > 1e-2


def test_newton_jumps_to_the_saddle_while_gradient_descent_leaves_it():
    _, grad = saddle()                                  # f = x^2 - y^2, H = diag(2, -2)
    H = np.diag([2.0, -2.0])
    p = np.array([1.0, 0.5])
    np.testing.assert_array_equal(newton_update(p, grad(p), H), [0.0, 0.0])
    x = p
    for _ in range(30):
        x = x - 0.1 * grad(x)                           # y grows by 1.2 per step
    assert abs(x[0]) < 1e-2 and abs(x[1]) > 100


def test_with_a_quartic_newton_converges_to_the_saddle_and_gd_to_a_minimum():
    """f = x^2 - y^2 + y^4 / 4: a saddle at 0, minima at (0, +-sqrt 2)."""

    def grad(p):
        return np.array([2 * p[0], -2 * p[1] + p[1] ** 3])

    def hess(p):
        return np.diag([2.0, -2.0 + 3 * p[1] ** 2])

    x = np.array([1.0, 0.5])
    for _ in range(6):
        x = newton_update(x, grad(x), hess(x))
    assert np.linalg.norm(x) < 1e-8                     # the saddle, a maximum along y
    z = np.array([1.0, 0.5])
    for _ in range(200):
        z = z - 0.1 * grad(z)
    np.testing.assert_allclose(z, [0.0, np.sqrt(2)], atol=1e-3)


def torch_rosenbrock(p, a=1.0, b=100.0):
    return (a - p[0]) ** 2 + b * (p[1] - p[0] ** 2) ** 2


def test_hessian_matches_the_analytic_rosenbrock_hessian_and_finite_differences(device):
    p = np.array([-1.2, 1.0])
    x, y = p
    exact = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
    H = hessian(torch_rosenbrock, torch.tensor(p, dtype=torch.float64, device=device))
    np.testing.assert_allclose(H.cpu().numpy(), exact, rtol=1e-14, atol=0)
    _, grad = rosenbrock()
    assert rel_error(hessian_fd(grad, p), exact) < 1e-8


def mlp_loss_and_params(seed=0):
    """A 2-5-1 tanh network with its 21 parameters flattened into one vector."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(20, 2, generator=g, dtype=torch.float64)
    y = torch.sin(X[:, 0]) * X[:, 1]

    def loss(theta):
        W1, b1 = theta[:10].reshape(2, 5), theta[10:15]        # (2, 5), (5,)
        W2, b2 = theta[15:20].reshape(5, 1), theta[20]         # (5, 1), ()
        y_hat = (torch.tanh(X @ W1 + b1) @ W2).squeeze(1) + b2  # (20,)
        return ((y_hat - y) ** 2).mean()

    return loss, torch.randn(21, generator=g, dtype=torch.float64)


def test_hessian_vector_product_equals_H_times_v(device):
    loss, theta = mlp_loss_and_params()
    theta = theta.to(device)
    H = hessian(loss, theta)
    v = torch.randn(21, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).to(device)
    torch.testing.assert_close(hvp(loss, theta, v), H @ v, rtol=0, atol=1e-12)
    torch.testing.assert_close(H, H.T, rtol=0, atol=1e-12)


def test_hessian_matches_finite_differences_of_autograd_gradients():
    loss, theta = mlp_loss_and_params()

    def grad(th):
        th = torch.tensor(th, requires_grad=True)
        return torch.autograd.grad(loss(th), th)[0].numpy()

    H = hessian(loss, theta).numpy()
    assert rel_error(hessian_fd(grad, theta.numpy(), eps=1e-5), H) < 1e-6


def test_a_neural_network_hessian_is_indefinite():
    loss, theta = mlp_loss_and_params()
    eig = torch.linalg.eigvalsh(hessian(loss, theta))
    assert eig.min() < -1e-3 and eig.max() > 1e-3       # curvature of both signs: a saddle region


def test_torch_newton_step_matches_numpy_and_solves_the_quadratic(device):
    A, b = ill_conditioned_quadratic(1e3)
    At, bt = torch.tensor(A, device=device), torch.tensor(b, device=device)

    def loss(th):
        return 0.5 * th @ At @ th - bt @ th

    x1 = newton_step_torch(loss, torch.zeros(10, dtype=torch.float64, device=device))
    np.testing.assert_allclose(x1.cpu().numpy(), np.linalg.solve(A, b), rtol=1e-9)


def test_damping_turns_newton_into_small_gradient_steps():
    H = np.diag([2.0, -2.0])
    g = np.array([2.0, -1.0])
    mu = 1e6
    step = newton_update(np.zeros(2), g, H, damping=mu)
    np.testing.assert_allclose(step, -g / mu, rtol=1e-5)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="hessian"):
        newton_update(np.zeros(2), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="damping"):
        newton_update(np.zeros(2), np.zeros(2), np.eye(2), damping=-1.0)
    with pytest.raises(TypeError, match="theta"):
        newton_update(np.array([1, 2]), np.zeros(2), np.eye(2))
    with pytest.raises(TypeError, match="lr"):
        newton_update(np.zeros(2), np.zeros(2), np.eye(2), lr="1")
    with pytest.raises(TypeError, match="grad_fn"):
        hessian_fd(None, np.zeros(2))
    with pytest.raises(TypeError, match="theta"):
        hessian(torch_rosenbrock, torch.zeros(2, 1))
    with pytest.raises(ValueError, match="v must"):
        hvp(torch_rosenbrock, torch.zeros(2, dtype=torch.float64), torch.zeros(3))


def _logistic_ridge(n=4, seed=0):
    """f(x) = sum_i log(1 + exp(a_i . x)) + |x|^2 / 2: smooth, strictly convex, not quadratic."""
    A = np.random.default_rng(seed).standard_normal((10, n))

    def sig(z):
        return 1 / (1 + np.exp(-z))

    def grad(x):
        return A.T @ sig(A @ x) + x

    def hess(x):
        s = sig(A @ x)
        return A.T @ ((s * (1 - s))[:, None] * A) + np.eye(n)

    return grad, hess


def test_newton_converges_quadratically_near_the_minimum():
    grad, hess = _logistic_ridge()
    x, xs = np.full(4, 2.0), []
    for _ in range(10):
        xs.append(x)
        x = newton_update(x, grad(x), hess(x))
    x_star = x
    e = [np.linalg.norm(v - x_star) for v in xs]
    pairs = [(e[k], e[k + 1]) for k in range(len(e) - 1) if e[k] > 1e-6]
    assert len(pairs) >= 5
    assert all(e1 < 0.5 * e0**2 for e0, e1 in pairs)   # e_{k+1} <= C e_k^2 with C = 0.5
    assert e[6] < 1e-12                                # from an error of 4 to 1e-12 in 6 steps


def test_newton_is_invariant_to_an_affine_change_of_variables():
    # Minimise f(x) and g(y) = f(M y + c): Newton's iterates map exactly, x_k = M y_k + c.
    # Gradient descent's do not.
    grad_f, hess_f = _logistic_ridge()
    rng = np.random.default_rng(1)
    M, c = rng.standard_normal((4, 4)) + 3 * np.eye(4), rng.standard_normal(4)

    def grad_g(y):
        return M.T @ grad_f(M @ y + c)

    def hess_g(y):
        return M.T @ hess_f(M @ y + c) @ M

    y = rng.standard_normal(4)
    x = M @ y + c
    xg, yg = x, y
    for _ in range(6):
        x = newton_update(x, grad_f(x), hess_f(x))
        y = newton_update(y, grad_g(y), hess_g(y))
        np.testing.assert_allclose(x, M @ y + c, rtol=1e-9, atol=1e-9)
        xg, yg = xg - 0.05 * grad_f(xg), yg - 0.05 * grad_g(yg)
    assert np.abs(xg - (M @ yg + c)).max() > 1e-2
