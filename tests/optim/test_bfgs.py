import numpy as np
import pytest
import torch

from dlhandbook.optim.bfgs import backtracking, bfgs_inverse_update, bfgs_minimize
from optim.problems import quadratic, rosenbrock
from optim.references import bfgs_inverse_update_torch


def random_pair(n=6, seed=0):
    """A positive-definite H and a pair (s, y) with y^T s > 0 (y = A s for an SPD A)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    H = M @ M.T + n * np.eye(n)
    B = rng.standard_normal((n, n))
    A = B @ B.T + np.eye(n)
    s = rng.standard_normal(n)
    return H, s, A @ s


def test_update_has_rank_two_and_satisfies_the_secant_equation():
    H, s, y = random_pair()
    H_new = bfgs_inverse_update(H, s, y)
    assert np.linalg.matrix_rank(H_new - H) == 2        # not rank 1: that would be SR1
    np.testing.assert_allclose(H_new @ y, s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H_new, H_new.T, rtol=0, atol=1e-12)


def test_update_keeps_the_approximation_positive_definite():
    H, s, y = random_pair(seed=1)
    for seed in range(2, 12):                           # ten more pairs with y^T s > 0
        _, s, y = random_pair(seed=seed)
        H = bfgs_inverse_update(H, s, y)
        assert np.linalg.eigvalsh(H).min() > 0


def test_on_a_quadratic_with_exact_steps_the_inverse_hessian_is_recovered_in_n_steps():
    """With exact line searches BFGS on a quadratic is a conjugate-direction method and
    H_n = A^{-1} after n steps (Nocedal & Wright 2006, ch. 6)."""
    rng = np.random.default_rng(0)
    n = 5
    B = rng.standard_normal((n, n))
    A = B @ B.T + np.eye(n)
    _, grad = quadratic(A)
    H, x = np.eye(n), rng.standard_normal(n)
    for _ in range(n):
        d = -H @ grad(x)
        alpha = -(grad(x) @ d) / (d @ A @ d)            # exact minimiser along d
        x_new = x + alpha * d
        H = bfgs_inverse_update(H, x_new - x, grad(x_new) - grad(x))
        x = x_new
    np.testing.assert_allclose(H, np.linalg.inv(A), rtol=1e-6, atol=1e-8)



def test_with_h0_identity_and_exact_steps_bfgs_reproduces_the_conjugate_gradient_iterates():
    """Nazareth (1979): on a quadratic, BFGS from H_0 = I with exact line searches generates
    the same iterates as linear conjugate gradient from the same start."""
    rng = np.random.default_rng(3)
    n = 6
    B = rng.standard_normal((n, n))
    A, b = B @ B.T + np.eye(n), rng.standard_normal(n)
    _, grad = quadratic(A, b)
    x0 = rng.standard_normal(n)
    H, x, bfgs = np.eye(n), x0, [x0]
    for _ in range(n):
        d = -H @ grad(x)
        x_new = x - (grad(x) @ d) / (d @ A @ d) * d     # exact minimiser along d
        H = bfgs_inverse_update(H, x_new - x, grad(x_new) - grad(x))
        x = x_new
        bfgs.append(x)
    x, r = x0, -grad(x0)                                # linear CG (Nocedal & Wright Alg. 5.2)
    p, cg = r.copy(), [x0]
    for _ in range(n):
        alpha = (r @ r) / (p @ A @ p)
        x, r_new = x + alpha * p, r - alpha * (A @ p)
        p, r = r_new + (r_new @ r_new) / (r @ r) * p, r_new
        cg.append(x)
    np.testing.assert_allclose(np.stack(bfgs), np.stack(cg), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(cg[-1], np.linalg.solve(A, b), rtol=1e-7, atol=1e-9)

def test_minimises_rosenbrock_far_faster_than_gradient_descent():
    loss, grad = rosenbrock()
    result = bfgs_minimize(loss, grad, np.array([-1.2, 1.0]), max_iter=200)
    np.testing.assert_allclose(result.theta, [1.0, 1.0], atol=1e-8)
    n_bfgs = len(result.losses) - 1
    assert n_bfgs < 100
    x = np.array([-1.2, 1.0])
    for _ in range(10 * n_bfgs):                        # GD with a stable step, 10x the iterations
        x = x - 1e-3 * grad(x)
    assert loss(x) > 1e-3


def test_losses_never_increase():
    loss, grad = rosenbrock()
    result = bfgs_minimize(loss, grad, np.array([-1.2, 1.0]))
    assert np.all(np.diff(result.losses) <= 0)


def test_torch_update_matches_numpy(device):
    H, s, y = random_pair()
    got = bfgs_inverse_update_torch(*(torch.tensor(a, device=device) for a in (H, s, y)))
    np.testing.assert_allclose(got.cpu().numpy(), bfgs_inverse_update(H, s, y), rtol=1e-12,
                               atol=1e-12)


def test_backtracking_returns_a_step_with_sufficient_decrease():
    loss, grad = rosenbrock()
    x = np.array([-1.2, 1.0])
    d = -grad(x)
    alpha, f = backtracking(loss, x, loss(x), grad(x), d)
    assert f == loss(x + alpha * d)
    assert f <= loss(x) + 1e-4 * alpha * (grad(x) @ d)
    with pytest.raises(RuntimeError, match="no sufficient decrease"):
        backtracking(loss, x, loss(x), grad(x), -d)     # uphill: no step decreases f


def test_rejects_bad_arguments():
    H, s, y = random_pair()
    with pytest.raises(ValueError, match="curvature"):
        bfgs_inverse_update(H, s, -y)
    with pytest.raises(ValueError, match="s and y"):
        bfgs_inverse_update(H, s, y[:3])
    with pytest.raises(TypeError, match="callable"):
        bfgs_minimize(None, None, np.zeros(2))
    with pytest.raises(ValueError, match="theta0"):
        bfgs_minimize(lambda x: 0.0, lambda x: x, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="curvature"):
        bfgs_inverse_update_torch(*(torch.tensor(a) for a in (H, s, -y)))
