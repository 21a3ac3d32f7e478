import numpy as np
import pytest
import torch

from dlhandbook.optim.bfgs import bfgs_inverse_update
from dlhandbook.optim.lbfgs import fit_lbfgs, lbfgs_minimize, two_loop
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
    _, ours = lbfgs_minimize(loss, grad, theta0, history_size=3, max_iter=25, tol=0.0,
                             line_search=False, lr=0.5)
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


def test_on_a_1000_dimensional_quadratic_memory_5_beats_the_best_fixed_step_gd():
    a = np.linspace(1.0, 100.0, 1000)                  # diagonal of A: condition number 100

    def loss(x):
        return 0.5 * x @ (a * x) - x.sum()

    def grad(x):
        return a * x - 1.0

    theta, thetas = lbfgs_minimize(loss, grad, np.zeros(1000), history_size=5, max_iter=1000,
                                   tol=1e-8)
    assert np.abs(grad(theta)).max() <= 1e-8
    x, k_gd = np.zeros(1000), 0
    while np.abs(grad(x)).max() > 1e-8:                # GD with the optimal step 2 / (L + mu)
        x, k_gd = x - 2 / 101 * grad(x), k_gd + 1
    assert len(thetas) - 1 < 0.5 * k_gd


def test_numpy_lbfgs_solves_rosenbrock():
    loss, grad = rosenbrock()
    theta, _ = lbfgs_minimize(loss, grad, np.array([-1.2, 1.0]), max_iter=500)
    np.testing.assert_allclose(theta, [1.0, 1.0], atol=1e-6)


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
