"""Tests of dlhandbook/regularization/penalties.py: L1, L2, elastic net and their steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlhandbook.regularization.penalties import (
    decayed_parameters,
    elastic_net_penalty,
    elastic_net_prox_step,
    elastic_net_subgradient,
    l1_penalty,
    l1_penalty_torch,
    l1_prox_,
    l1_prox_step,
    l1_subgradient,
    l1_subgradient_descent,
    l2_decay_step,
    l2_gradient,
    l2_penalty,
    l2_penalty_torch,
    lasso_ista,
    lasso_lambda_max,
    regularization_path,
    ridge_closed_form,
    soft_threshold,
)
from helpers import assert_matches_torch, central_difference, rel_error

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
TOL = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2, torch.float32: 1e-6, torch.float64: 1e-12}


def sparse_problem(seed=0, n=100, d=50, k=5, noise=0.5):
    """y = X w_true + noise with k non-zero weights of size 1 to 3."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = np.zeros(d)
    w_true[:k] = rng.uniform(1, 3, k) * rng.choice([-1, 1], k)
    return X, X @ w_true + noise * rng.standard_normal(n), w_true


# ---- penalties and (sub)gradients ----------------------------------------------------

def test_penalties_and_gradients_match_torch_autograd():
    w = np.random.default_rng(0).standard_normal(20)        # no exact zeros
    lam, a = 0.3, 0.7
    cases = [
        (l1_penalty, l1_subgradient, lambda t: lam * t.abs().sum()),
        (l2_penalty, l2_gradient, lambda t: 0.5 * lam * (t * t).sum()),
        (lambda w, lam: elastic_net_penalty(w, lam, a),
         lambda w, lam: elastic_net_subgradient(w, lam, a),
         lambda t: lam * (a * t.abs().sum() + (1 - a) / 2 * (t * t).sum())),
    ]
    for pen, grad, torch_fn in cases:
        assert_matches_torch(lambda w, pen=pen: pen(w, lam), torch_fn, [w],
                             np_grad_fn=lambda w, up, grad=grad: up * grad(w, lam))
        num = central_difference(lambda v, pen=pen: pen(v, lam), w.copy())
        assert rel_error(num, grad(w, lam)) < 1e-6


def test_l1_subgradient_at_zero_is_zero_as_in_torch_autograd():
    w = np.array([0.0, 0.0, 1.0, -2.0])
    t = torch.tensor(w, requires_grad=True)
    (0.5 * t.abs().sum()).backward()
    np.testing.assert_array_equal(l1_subgradient(w, 0.5), t.grad.numpy())
    assert l1_subgradient(w, 0.5)[0] == 0.0                   # a valid choice in [-lam, lam]


def test_elastic_net_with_ratio_one_is_l1_and_with_ratio_zero_is_l2():
    rng = np.random.default_rng(1)
    w, g = rng.standard_normal(10), rng.standard_normal(10)
    assert elastic_net_penalty(w, 0.4, 1.0) == l1_penalty(w, 0.4)
    assert elastic_net_penalty(w, 0.4, 0.0) == l2_penalty(w, 0.4)
    np.testing.assert_array_equal(elastic_net_prox_step(w, g, 0.1, 0.4, 1.0),
                                  l1_prox_step(w, g, 0.1, 0.4))
    # ratio 0: the proximal L2 step (w - lr g) / (1 + lr lam), not the gradient step
    np.testing.assert_allclose(elastic_net_prox_step(w, g, 0.1, 0.4, 0.0),
                               (w - 0.1 * g) / (1 + 0.04), rtol=1e-15)


def test_l1_penalty_is_larger_for_a_larger_weight_but_its_gradient_is_the_same():
    small, large = np.array([0.01]), np.array([10.0])
    assert l1_penalty(large, 1.0) > 100 * l1_penalty(small, 1.0)
    assert l1_subgradient(large, 1.0)[0] == l1_subgradient(small, 1.0)[0] == 1.0
    assert l2_gradient(large, 1.0)[0] == 1000 * l2_gradient(small, 1.0)[0]


# ---- one step of each ------------------------------------------------------------------

def test_one_step_l2_multiplies_by_one_minus_lr_lam_and_l1_subtracts_lr_lam():
    w, zero = np.array([0.01, 0.1, 1.0, 10.0]), np.zeros(4)
    l2 = l2_decay_step(w, zero, lr=0.1, lam=1.0)
    np.testing.assert_allclose(l2 / w, 0.9, rtol=1e-15)      # same ratio for every weight
    assert np.all(l2 != 0)
    l1 = l1_prox_step(w, zero, lr=0.1, lam=1.0)
    np.testing.assert_array_equal(l1[:2], 0.0)                # |w| <= lr*lam: exactly zero
    np.testing.assert_allclose(w[2:] - l1[2:], 0.1, rtol=1e-12)   # same amount off each


def test_l2_step_is_sgd_on_the_penalised_loss():
    rng = np.random.default_rng(2)
    w, g = rng.standard_normal(8), rng.standard_normal(8)
    np.testing.assert_allclose(l2_decay_step(w, g, 0.05, 0.3),
                               w - 0.05 * (g + l2_gradient(w, 0.3)), rtol=1e-14)


def test_soft_threshold_matches_torch_softshrink_and_is_the_l1_proximal_map():
    v = np.random.default_rng(3).standard_normal(1000) * 2
    t = 0.7
    z = soft_threshold(v, t)
    ref = torch.nn.functional.softshrink(torch.tensor(v), t).numpy()
    np.testing.assert_allclose(z, ref, rtol=0, atol=1e-15)
    # optimality of argmin_z (z - v)^2 / 2 + t |z|: z - v + t sign(z) = 0, or |v| <= t
    nz = z != 0
    np.testing.assert_allclose(z[nz] - v[nz] + t * np.sign(z[nz]), 0, atol=1e-15)
    assert np.all(np.abs(v[~nz]) <= t)
    assert nz.sum() < len(v) and nz.sum() > 0


# ---- lasso, ridge and subgradient descent on a sparse problem ------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ista_gives_exact_zeros_ridge_and_subgradient_descent_do_not(seed):
    X, y, w_true = sparse_problem(seed)
    lam = 0.1
    lasso = lasso_ista(X, y, lam)
    ridge = ridge_closed_form(X, y, lam)
    sub = l1_subgradient_descent(X, y, lam, lr=0.05, n_iter=3000)
    assert np.sum(lasso == 0) >= 30                           # of 45 truly zero weights
    assert np.all(lasso[w_true != 0] != 0)                    # keeps the 5 true ones
    assert np.sum(ridge == 0) == 0
    assert np.sum(sub == 0) == 0                              # hovers near 0, never at 0
    assert np.sum(np.abs(sub) < 5e-2) >= 30                   # ... but it is near


def test_ista_solution_satisfies_the_lasso_optimality_conditions():
    X, y, _ = sparse_problem(0)
    lam = 0.1
    w = lasso_ista(X, y, lam, n_iter=5000)
    c = X.T @ (y - X @ w) / len(y)                            # minus the data gradient
    nz = w != 0
    np.testing.assert_allclose(c[nz], lam * np.sign(w[nz]), atol=1e-9)
    assert np.all(np.abs(c[~nz]) <= lam + 1e-9)


def test_with_an_orthonormal_design_lasso_soft_thresholds_and_ridge_divides():
    rng = np.random.default_rng(4)
    n, d = 60, 12
    Q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    X = np.sqrt(n) * Q                                        # X'X / n = I
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    w_ols = X.T @ y / n
    for lam in (0.05, 0.3, 1.0):
        np.testing.assert_allclose(lasso_ista(X, y, lam, n_iter=200),
                                   soft_threshold(w_ols, lam), atol=1e-10)
        np.testing.assert_allclose(ridge_closed_form(X, y, lam), w_ols / (1 + lam),
                                   atol=1e-10)


def test_nonzero_count_falls_as_the_l1_penalty_grows_while_l2_keeps_every_weight():
    X, y, _ = sparse_problem(0)
    lam_max = lasso_lambda_max(X, y)
    lams = lam_max * np.geomspace(1e-3, 1.0, 12)
    lasso = regularization_path(X, y, lams, "l1", n_iter=1500)
    counts = (lasso != 0).sum(axis=1)
    assert np.all(np.diff(counts) <= 0)                       # never increases
    assert counts[0] >= 45 and counts[-1] == 0
    ridge = regularization_path(X, y, lams, "l2")
    assert np.all(ridge != 0)
    assert np.all(np.diff(np.linalg.norm(ridge, axis=1)) < 0)   # shrinks steadily


def test_lasso_is_exactly_zero_from_lambda_max_on():
    X, y, _ = sparse_problem(1)
    lam_max = lasso_lambda_max(X, y)
    assert np.all(lasso_ista(X, y, lam_max) == 0)
    assert np.all(lasso_ista(X, y, 2 * lam_max) == 0)
    assert np.sum(lasso_ista(X, y, 0.95 * lam_max) != 0) >= 1


def test_gaussian_prior_map_is_ridge_and_laplace_prior_map_is_lasso():
    """-log p(w | data) = |y - Xw|^2 / (2 s^2) + prior; divided by n/s^2 it is the
    objective of ridge with lam = s^2 / (n tau^2), or lasso with lam = s^2 / (n b)."""
    X, y, _ = sparse_problem(2)
    n, s, tau, b = len(y), 0.5, 0.8, 2.0
    w = ridge_closed_form(X, y, s**2 / (n * tau**2))
    grad = -X.T @ (y - X @ w) / s**2 + w / tau**2             # of -log posterior, Gaussian
    assert np.abs(grad).max() < 1e-9
    w = lasso_ista(X, y, s**2 / (n * b), n_iter=5000)
    c = X.T @ (y - X @ w) / s**2                              # minus the likelihood term
    nz = w != 0
    np.testing.assert_allclose(c[nz], np.sign(w[nz]) / b, atol=1e-7)   # Laplace: |w|/b
    assert np.all(np.abs(c[~nz]) <= 1 / b + 1e-7)


# ---- PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_torch_penalties_match_numpy_in_every_dtype(dtype, device):
    rng = np.random.default_rng(5)
    ws = [rng.standard_normal((30, 20)), rng.standard_normal(40)]
    params = [torch.tensor(w, dtype=dtype, device=device) for w in ws]
    ws = [p.double().cpu().numpy() for p in params]           # the values torch holds
    l1 = l1_penalty_torch(params, 0.2)
    l2 = l2_penalty_torch(params, 0.2)
    assert l1.dtype == torch.promote_types(dtype, torch.float32)
    np.testing.assert_allclose(l1.item(), sum(l1_penalty(w, 0.2) for w in ws), rtol=1e-6)
    np.testing.assert_allclose(l2.item(), sum(l2_penalty(w, 0.2) for w in ws), rtol=1e-6)


def test_torch_l2_penalty_does_not_overflow_in_float16():
    p = torch.full((100_000,), 3.0, dtype=torch.float16)     # sum of squares 9e5 > 65504
    assert torch.isinf((p * p).sum())                          # the naive fp16 sum
    assert l2_penalty_torch([p], 1.0).item() == pytest.approx(4.5e5, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_torch_l1_prox_matches_softshrink_with_exact_zeros_in_every_dtype(dtype, device):
    g = torch.Generator().manual_seed(0)
    w = (torch.randn(2000, generator=g, dtype=torch.float64) * 2).to(device, dtype)
    lr, lam = 0.1, 3.0
    expected = torch.nn.functional.softshrink(w.double(), lr * lam)
    p = w.clone()
    l1_prox_([p], lr, lam)
    assert p.dtype == dtype
    clear = (w.double().abs() - lr * lam).abs() > 1e-2         # not at the threshold
    np.testing.assert_array_equal((p == 0)[clear].cpu().numpy(),
                                  (expected == 0)[clear].cpu().numpy())
    assert (p == 0).sum() > 100
    err = (p.double() - expected).abs().max().item()
    assert err <= TOL[dtype] * 4 * 8                            # |w| up to ~8


def test_proximal_sgd_in_torch_follows_numpy_ista(device):
    X, y, _ = sparse_problem(0)
    lam, steps = 0.1, 300
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X / len(y))[-1]
    model = torch.nn.Linear(50, 1, bias=False).double().to(device)
    torch.nn.init.zeros_(model.weight)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((model(Xt).squeeze(1) - yt) ** 2).mean()  # data term only
        loss.backward()
        opt.step()
        l1_prox_(model.parameters(), lr, lam)                  # then shrink
    w = model.weight.detach().cpu().numpy()[0]
    np.testing.assert_allclose(w, lasso_ista(X, y, lam, n_iter=steps, lr=lr), atol=1e-10)
    assert np.sum(w == 0) >= 30


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_torch_weight_decay_is_the_gradient_of_our_l2_penalty(name):
    """SGD(momentum) and Adam: weight_decay=lam equals adding lam/2 |w|^2 to the loss;
    AdamW is different (Q32)."""
    X, y, _ = sparse_problem(3, n=64, d=8)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    lam = 0.1
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}

    def train(weight_decay, penalty, opt_cls):
        torch.manual_seed(0)
        model = torch.nn.Linear(8, 1).double()
        opt = opt_cls(model.parameters(), weight_decay=weight_decay, **kwargs)
        for _ in range(100):
            opt.zero_grad()
            loss = 0.5 * ((model(Xt).squeeze(1) - yt) ** 2).mean()
            if penalty:
                loss = loss + l2_penalty_torch(model.parameters(), lam)
            loss.backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    opt_cls = getattr(torch.optim, name)
    builtin, ours = train(lam, False, opt_cls), train(0.0, True, opt_cls)
    torch.testing.assert_close(builtin, ours, rtol=0, atol=1e-12)
    if name == "Adam":
        decoupled = train(lam, False, torch.optim.AdamW)
        assert (decoupled - ours).abs().max() > 1e-3


def test_decayed_parameters_skip_biases_and_norm_scales():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8),
                                torch.nn.Linear(8, 2))
    assert [tuple(p.shape) for p in decayed_parameters(model)] == [(8, 4), (2, 8)]


# ---- bad input -------------------------------------------------------------------------

def test_rejects_bad_input():
    w = np.ones(3)
    for fn in (l1_penalty, l2_penalty, l1_subgradient, l2_gradient):
        with pytest.raises(ValueError, match="lam"):
            fn(w, -0.1)
    with pytest.raises(ValueError, match="lam"):
        l1_prox_step(w, w, 0.1, -1.0)
    with pytest.raises(ValueError, match="lam"):
        ridge_closed_form(np.ones((3, 2)), w, float("nan"))
    with pytest.raises(ValueError, match="t must"):
        soft_threshold(w, -1.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        elastic_net_penalty(w, 0.1, 1.5)
    with pytest.raises(ValueError, match="lr"):
        l2_decay_step(w, w, 0.0, 0.1)
    with pytest.raises(ValueError, match="grad"):
        l1_prox_step(w, np.ones(2), 0.1, 0.1)
    with pytest.raises(ValueError, match="lr"):
        l1_subgradient_descent(np.ones((3, 2)), w, 0.1, lr=-0.1)
    with pytest.raises(TypeError, match="w must"):
        l1_penalty(np.array([1, 2]), 0.1)
    with pytest.raises(TypeError, match="lam"):
        l2_penalty(w, "0.1")
    with pytest.raises(ValueError, match="kind"):
        regularization_path(np.ones((3, 2)), w, [0.1], kind="l3")
    with pytest.raises(ValueError, match="n_iter"):
        lasso_ista(np.ones((3, 2)), w, 0.1, n_iter=0)
    with pytest.raises(ValueError, match="X must"):
        lasso_ista(np.ones((3, 2)), np.ones(4), 0.1)
    p = torch.ones(3)
    with pytest.raises(ValueError, match="lam"):
        l1_penalty_torch([p], -1.0)
    with pytest.raises(ValueError, match="lam"):
        l1_prox_([p], 0.1, -1.0)
    with pytest.raises(TypeError, match="params"):
        l2_penalty_torch([torch.ones(3, dtype=torch.int64)], 0.1)
    with pytest.raises(TypeError, match="model"):
        decayed_parameters([p])


def test_on_a_correlated_2d_quadratic_the_l1_solution_is_on_an_axis_and_l2_is_not():
    """The setting of the figure reg-l1-l2-geometry: J = (w - w*)' A (w - w*) / 2."""
    A, w_star, lam = np.array([[2.0, 0.9], [0.9, 1.0]]), np.array([1.6, 0.6]), 0.8
    X = np.sqrt(2.0) * np.linalg.cholesky(A).T                # X'X/2 = A
    lasso = lasso_ista(X, X @ w_star, lam, n_iter=2000)
    ridge = ridge_closed_form(X, X @ w_star, lam)
    assert lasso[1] == 0 and lasso[0] > 0                     # a corner of the diamond
    assert np.all(ridge != 0)
    np.testing.assert_allclose(ridge, np.linalg.solve(A + lam * np.eye(2), A @ w_star))


def test_ridge_shrinks_each_eigendirection_by_s_over_s_plus_lam():
    """With X'X/n = V diag(s) V', ridge = V diag(s / (s + lam)) V' w_ols."""
    X, y, _ = sparse_problem(4, n=80, d=10)
    s, V = np.linalg.eigh(X.T @ X / len(y))
    w_ols = ridge_closed_form(X, y, 0.0)
    for lam in (0.1, 1.0):
        shrink = (V.T @ ridge_closed_form(X, y, lam)) / (V.T @ w_ols)
        np.testing.assert_allclose(shrink, s / (s + lam), rtol=1e-9)


def test_with_no_data_gradient_l1_prox_reaches_zero_and_stays_subgradient_oscillates():
    """The setting of the figure reg-update-maps: w0 = 0.45, lr * lam = 0.1, 40 steps."""
    lr, lam, zero = 0.1, 1.0, np.zeros(1)
    l2, prox, sub = [np.array([0.45])] * 3
    prox_path, sub_path = [], []
    for _ in range(40):
        l2 = l2_decay_step(l2, zero, lr, lam)
        prox = l1_prox_step(prox, zero, lr, lam)
        sub = sub - lr * l1_subgradient(sub, lam)
        prox_path.append(prox[0])
        sub_path.append(sub[0])
        assert l2[0] > 0                                      # geometric: 0.45 * 0.9^t
    assert all(p == 0 for p in prox_path[4:]) and prox_path[3] > 0   # zero from step 5 on
    tail = np.array(sub_path[5:])
    assert np.all(tail != 0) and np.all(np.abs(np.abs(tail) - 0.05) < 1e-9)  # +-0.05
    assert np.all(np.sign(tail[1:]) != np.sign(tail[:-1]))   # crosses zero every step


def test_ridge_splits_a_duplicated_feature_equally():
    X, y, _ = sparse_problem(5, n=80, d=6)
    X2 = np.column_stack([X, X[:, 0]])                        # feature 0 twice
    w = ridge_closed_form(X2, y, 0.1)
    np.testing.assert_allclose(w[0], w[-1], rtol=1e-10)
    assert abs(w[0]) > 0.1


def test_with_duplicated_features_the_lasso_optimum_is_not_unique_but_ridge_is():
    X, y, _ = sparse_problem(5, n=80, d=6)
    X2 = np.column_stack([X, X[:, 0]])                        # feature 0 twice
    lam = 0.1

    def objective(w, penalty):
        return 0.5 * np.mean((X2 @ w - y) ** 2) + penalty(w, lam)

    w = lasso_ista(X2, y, lam, n_iter=5000)
    total = w[0] + w[-1]
    for share in (0.0, 0.3, 0.5, 1.0):                        # move weight between twins
        v = w.copy()
        v[0], v[-1] = share * total, (1 - share) * total
        assert objective(v, l1_penalty) == pytest.approx(objective(w, l1_penalty),
                                                         rel=1e-12)
    r = ridge_closed_form(X2, y, lam)
    uneven = r.copy()
    uneven[0], uneven[-1] = 0.3 * (r[0] + r[-1]), 0.7 * (r[0] + r[-1])
    assert objective(uneven, l2_penalty) > objective(r, l2_penalty) + 1e-4


def test_on_the_path_figure_problem_lasso_zeroes_the_useless_weights_first():
    """The data of the figure reg-paths: 8 correlated features, 3 truly non-zero."""
    from dlhandbook.figures.regularization import sparse_regression

    X, y, w_true = sparse_regression()
    lam_max = lasso_lambda_max(X, y)
    lams = lam_max * np.geomspace(1e-3, 1.0, 40)
    path = regularization_path(X, y, lams, "l1", n_iter=300)
    counts = (path != 0).sum(axis=1)
    assert np.all(np.diff(counts) <= 0) and counts[-1] == 0
    useless_gone = np.argmax(np.all(path[:, w_true == 0] == 0, axis=1))
    assert np.all(path[useless_gone:, w_true == 0] == 0)      # and they stay zero
    assert np.all(path[useless_gone, w_true != 0] != 0)       # while the true ones remain
    ridge = regularization_path(X, y, np.geomspace(1e-2, 1e3, 40), "l2")
    assert np.all(ridge != 0)
