import numpy as np
import pytest

from dlhandbook.optim.adagrad import adagrad_init, adagrad_update
from optim.problems import quadratic, rosenbrock
from optim.references import adagrad_torch_reference


def run(theta0, grad_fn, n_steps, **hyper):
    """Our AdaGrad from theta0; returns the iterates and the gradients it was fed."""
    theta, state = np.array(theta0, dtype=np.float64), adagrad_init(theta0)
    thetas, grads = [theta], []
    for _ in range(n_steps):
        g = grad_fn(theta)
        theta, state = adagrad_update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    return np.stack(thetas), grads


@pytest.mark.parametrize("hyper", [
    {"lr": 0.1},
    {"lr": 0.1, "eps": 1e-6, "weight_decay": 0.05},
    {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5},
])
def test_matches_torch_adagrad_over_300_steps(hyper, device):
    _, grad = rosenbrock()
    hyper = dict(hyper)                                 # parametrize shares the dict across devices
    init_value = hyper.pop("initial_accumulator_value", 0.0)
    theta0 = np.array([-1.2, 1.0])
    state = adagrad_init(theta0, initial_accumulator_value=init_value)
    theta, thetas, grads = theta0, [theta0], []
    for _ in range(300):
        g = grad(theta)
        theta, state = adagrad_update(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    expected = adagrad_torch_reference(theta0, grads, device=device,
                                       initial_accumulator_value=init_value, **hyper)
    np.testing.assert_allclose(np.stack(thetas), expected, rtol=0, atol=1e-10)


def test_step_decays_like_one_over_sqrt_t_for_a_constant_gradient():
    g = np.array([1e-3, 1.0, 1e3])                      # three very different scales
    thetas, _ = run(np.zeros(3), lambda th: g, 10_000, lr=0.1)
    steps = -np.diff(thetas, axis=0)                    # (T, 3)
    t = np.arange(1, 10_001)[:, None]
    np.testing.assert_allclose(steps, 0.1 / np.sqrt(t) * np.ones(3), rtol=1e-6)
    assert abs(steps[3, 0] / steps[0, 0] - 0.5) < 1e-6      # t = 4: half the first step
    assert abs(steps[99, 2] / steps[0, 2] - 0.1) < 1e-6     # t = 100: a tenth


def test_first_step_is_lr_in_every_coordinate_whatever_the_curvature():
    _, grad = quadratic(np.diag([1.0, 100.0]))
    thetas, _ = run(np.array([1.0, 1.0]), grad, 1, lr=0.1)
    np.testing.assert_allclose(thetas[0] - thetas[1], [0.1, 0.1], rtol=1e-9)


def _sparse_logistic(seed=0, n=5000, rare_frac=0.02, w_rare=3.0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal((n, 5)), (rng.random(n) < rare_frac).astype(float)])
    w_true = np.r_[0.5 * rng.standard_normal(5), w_rare]
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return X, y


def _train_rare(X, y, optimizer, lr, epochs=2, batch=50, seed=1):
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    state = adagrad_init(w)
    for _ in range(epochs):
        perm = rng.permutation(len(X))
        for i in range(0, len(X), batch):
            idx = perm[i:i + batch]
            p = 1 / (1 + np.exp(-X[idx] @ w))
            g = X[idx].T @ (p - y[idx]) / len(idx)      # mean logistic-loss gradient
            if optimizer == "sgd":
                w = w - lr * g
            else:
                w, state = adagrad_update(w, g, state, lr=lr)
    return w


def _train_loss(X, y, w):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)   # mean logistic loss


RARE_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)         # learning rates, factor ~3 apart


@pytest.mark.parametrize("seed", range(5))
def test_learns_a_rare_feature_that_tuned_sgd_barely_moves(seed):
    # Each method's lr is tuned separately on the final training loss over RARE_GRID;
    # both optima lie strictly inside the grid. Equal budget: 2 epochs of batch 50.
    X, y = _sparse_logistic(seed)
    best = {}
    for name in ("sgd", "adagrad"):
        ws = [_train_rare(X, y, name, lr, seed=seed + 1) for lr in RARE_GRID]
        losses = [_train_loss(X, y, w) for w in ws]
        i = int(np.argmin(losses))
        assert 0 < i < len(RARE_GRID) - 1, (name, RARE_GRID[i])
        best[name] = (losses[i], ws[i][-1])
    (loss_sgd, w_sgd), (loss_ada, w_ada) = best["sgd"], best["adagrad"]
    assert w_ada > 2.0 and w_sgd < 1.3                  # the true weight is 3
    assert loss_ada < loss_sgd


@pytest.mark.parametrize("lr", [0.1, 0.3, 1.0])
def test_at_an_equal_learning_rate_the_rare_weight_moves_over_twice_as_far(lr):
    for seed in range(3):
        X, y = _sparse_logistic(seed)
        w_sgd = _train_rare(X, y, "sgd", lr, seed=seed + 1)[-1]
        w_ada = _train_rare(X, y, "adagrad", lr, seed=seed + 1)[-1]
        assert w_ada > 2 * w_sgd > 0


def test_rejects_bad_arguments():
    state = adagrad_init(np.zeros(2))
    with pytest.raises(ValueError, match="lr"):
        adagrad_update(np.zeros(2), np.zeros(2), state, lr=-1.0)
    with pytest.raises(TypeError, match="eps"):
        adagrad_update(np.zeros(2), np.zeros(2), state, eps="small")
    with pytest.raises(ValueError, match="grad"):
        adagrad_update(np.zeros(2), np.zeros(3), state)
    with pytest.raises(TypeError, match="theta"):
        adagrad_init(np.array([1, 2]))
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        adagrad_init(np.zeros(2), initial_accumulator_value=-1.0)


def test_a_diagonal_preconditioner_cannot_undo_a_45_degree_rotation():
    # The best diagonal scaling D = diag(A)^(-1/2) (what per-coordinate methods approximate)
    # makes an axis-aligned ravine perfectly conditioned but leaves the rotated one as it was.
    for angle, kappa_after in ((0.0, 1.0), (np.pi / 4, 100.0)):
        c, s = np.cos(angle), np.sin(angle)
        R = np.array([[c, -s], [s, c]])
        A = R @ np.diag([1.0, 100.0]) @ R.T             # condition number 100 at any angle
        D = np.diag(1 / np.sqrt(np.diag(A)))
        assert np.linalg.cond(A) == pytest.approx(100.0, rel=1e-9)
        assert np.linalg.cond(D @ A @ D) == pytest.approx(kappa_after, rel=1e-9)
