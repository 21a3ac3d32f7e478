"""Tests of dlhandbook/regularization/dropout.py (Q41-Q44)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.regularization.dropout import (
    Dropout,
    dropout_backward,
    dropout_forward,
    dropout_linear_loss,
    dropout_ridge_solution,
    dropout_torch,
    enumerate_masks,
    mc_dropout_predict,
    normalized_geometric_mean,
    subnetwork_outputs,
    train_noisy_xor,
)
from helpers import central_difference, rel_error

LOW_PRECISION = [torch.float64, torch.float32, torch.float16, torch.bfloat16]


def _expectation_over_masks(h, p, fn, inverted=True):
    """Exact E[fn(dropout(h))] by enumerating all 2**n masks of the units h."""
    masks, probs = enumerate_masks(h.size, p)
    outs = np.stack([fn(dropout_forward(h, p, inverted=inverted, mask=m)[0])
                     for m in masks])
    return np.tensordot(probs, outs, axes=1)


# --- Q41: expectation of the next linear layer's pre-activation --------------------


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_inverted_dropout_keeps_expected_preactivation_exactly(rng, p):
    h, W = rng.standard_normal(10), rng.standard_normal((4, 10))
    inverted = _expectation_over_masks(h, p, lambda d: W @ d)
    classic = _expectation_over_masks(h, p, lambda d: W @ d, inverted=False)
    np.testing.assert_allclose(inverted, W @ h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(classic, (1 - p) * (W @ h), rtol=0, atol=1e-12)
    # the classic test-time rule (scale by 1 - p) reproduces that training mean
    np.testing.assert_allclose(W @ dropout_forward(h, p, False, inverted=False)[0],
                               classic, rtol=0, atol=1e-12)


def test_inverted_dropout_keeps_expected_preactivation_on_a_large_layer(rng):
    """T = 4000 masks of 2000 units: each of 20 means within 6 standard errors.

    By the CLT each check fails with probability < 2e-9, so all 20 with < 4e-8.
    """
    n, k, T, p = 2000, 20, 4000, 0.5
    h, W = rng.standard_normal(n), rng.standard_normal((k, n)) / np.sqrt(n)
    y, _ = dropout_forward(np.tile(h, (T, 1)), p, rng=rng)   # (T, n)
    z = y @ W.T                                               # (T, k)
    var = (W**2 * h**2).sum(axis=1) * p / (1 - p)             # Var z_k per mask
    assert np.all(np.abs(z.mean(axis=0) - W @ h) < 6 * np.sqrt(var / T))
    np.testing.assert_allclose(z.var(axis=0), var, rtol=0.15)


def test_after_a_relu_weight_scaling_is_not_the_expected_output(rng):
    h, W = rng.standard_normal(10), rng.standard_normal((6, 10))
    expected = _expectation_over_masks(h, 0.5, lambda d: np.maximum(W @ d, 0.0))
    test_time = np.maximum(W @ h, 0.0)        # eval mode = weight scaling
    assert np.all(expected >= test_time - 1e-12)        # Jensen: relu is convex
    assert np.max(expected - test_time) > 0.5


def test_sigmoid_unit_geometric_mean_is_weight_scaling_arithmetic_mean_is_not(rng):
    w, x, b = rng.standard_normal(12), rng.standard_normal(12), 0.3
    outputs, probs = subnetwork_outputs(w, x, b, p=0.5)
    assert outputs.shape == (4096,) and abs(probs.sum() - 1) < 1e-12
    scaled = 1 / (1 + np.exp(-(w @ x + b)))    # the eval-mode network
    assert abs(normalized_geometric_mean(outputs, probs) - scaled) < 1e-12
    assert abs(probs @ outputs - scaled) > 1e-3


# --- Q41/Q44: semantics of p, train versus eval -------------------------------------


def test_p_is_the_drop_probability_and_survivors_are_scaled(rng):
    """2e5 units, p = 0.2: dropped fraction within 6 sigma (failure prob < 2e-9)."""
    N, p = 200_000, 0.2
    x = np.full(N, 1.5)
    tol = 6 * np.sqrt(p * (1 - p) / N)
    y, mask = dropout_forward(x, p, rng=rng)
    assert abs(np.mean(~mask) - p) < tol
    assert np.all(y[mask] == 1.5 / 0.8) and np.all(y[~mask] == 0)
    y_torch = torch.nn.Dropout(p)(torch.full((N,), 1.5, dtype=torch.float64))
    assert abs((y_torch == 0).double().mean().item() - p) < tol
    assert torch.all(y_torch[y_torch != 0] == 1.5 / 0.8)     # torch's survivors too
    # the 2014 paper's p is the keep probability: its test-time factor is our 1 - p
    assert np.all(dropout_forward(x, p, training=False, inverted=False)[0] == 0.8 * x)


def test_training_variance_is_x_squared_p_over_one_minus_p(rng):
    """N = 2e5, p = 0.3: 1% of the mean is 6.8 standard errors (sd/mean = sqrt(p/(1-p)/N)),
    2% of the variance about 10 (kurtosis of a scaled Bernoulli): failure < 1e-11."""
    x, p, N = 1.5, 0.3, 200_000
    y, _ = dropout_forward(np.full(N, x), p, rng=rng)
    assert abs(y.mean() - x) < 0.01 * x
    np.testing.assert_allclose(y.var(), x**2 * p / (1 - p), rtol=0.02)


@pytest.mark.parametrize("module", [Dropout, torch.nn.Dropout])
def test_eval_is_the_identity_and_two_train_passes_differ(device, module):
    x = torch.randn(64, 100, device=device)
    model = torch.nn.Sequential(torch.nn.Linear(100, 100), module(0.5)).to(device)
    model.eval()
    assert torch.equal(model[1](x), x)
    assert torch.equal(model(x), model(x))
    model.train()
    a, b = model(x), model(x)
    assert (a != b).float().mean() > 0.3


def test_inverted_with_extra_test_scaling_is_a_bug_classic_and_inverted_agree(rng):
    h, W, p = rng.standard_normal(10), rng.standard_normal((3, 10)), 0.3
    train_mean = _expectation_over_masks(h, p, lambda d: W @ d)
    eval_out = W @ dropout_forward(h, p, training=False)[0]
    np.testing.assert_allclose(eval_out, train_mean, atol=1e-12, rtol=0)
    # scaling again by 1 - p at test shrinks every pre-activation by exactly 1 - p
    np.testing.assert_allclose(W @ ((1 - p) * h), (1 - p) * train_mean, atol=1e-12)
    # classic dropout with weights W equals inverted dropout with weights (1 - p) W,
    # in training (same mask) and at test
    y_cl, mask = dropout_forward(h, p, inverted=False, rng=rng)
    y_inv, _ = dropout_forward(h, p, mask=mask)
    np.testing.assert_allclose(W @ y_cl, ((1 - p) * W) @ y_inv, atol=1e-12)
    np.testing.assert_allclose(W @ dropout_forward(h, p, False, inverted=False)[0],
                               ((1 - p) * W) @ dropout_forward(h, p, False)[0],
                               atol=1e-12)


# --- equality with PyTorch ----------------------------------------------------------


@pytest.mark.parametrize("dtype", LOW_PRECISION)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_matches_torch_functional_dropout_with_the_same_seed_on_cpu(dtype, p):
    x = torch.randn(300, 37).to(dtype)
    torch.manual_seed(3)
    expected = F.dropout(x, p, training=True)
    got = dropout_torch(x, p, True, generator=torch.Generator().manual_seed(3))
    assert got.dtype == dtype and torch.equal(got, expected)
    torch.manual_seed(3)
    assert torch.equal(Dropout(p)(x), expected)       # global generator, as torch


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_matches_torch_dropout_given_its_mask(device, dtype):
    x = (torch.rand(256, 33, device=device) + 0.5).to(dtype)   # no zeros in x
    expected = F.dropout(x, 0.3, training=True)
    got = dropout_torch(x, 0.3, True, mask=expected != 0)
    assert got.dtype == dtype
    ulp = torch.finfo(dtype).eps
    # CPU: bit for bit; CUDA's fused kernel may round the 1 / (1 - p) product apart
    tol = 0.0 if device.type == "cpu" else 2 * ulp
    torch.testing.assert_close(got, expected, rtol=tol, atol=0)


def test_numpy_matches_torch_and_backward_passes_gradient_checks(rng):
    x, dy, p = rng.standard_normal((5, 7)), rng.standard_normal((5, 7)), 0.4
    mask = rng.random((5, 7)) >= p
    y, _ = dropout_forward(x, p, mask=mask)
    xt = torch.tensor(x, requires_grad=True)
    yt = dropout_torch(xt, p, mask=torch.tensor(mask))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-15, atol=0)
    (grad_t,) = torch.autograd.grad(yt, xt, torch.tensor(dy))
    dx = dropout_backward(dy, mask, p)
    np.testing.assert_allclose(dx, grad_t.numpy(), rtol=1e-15, atol=0)
    numeric = central_difference(
        lambda v: float(np.sum(dy * dropout_forward(v, p, mask=mask)[0])), x)
    assert rel_error(dx, numeric) < 1e-6
    dx_classic = dropout_backward(dy, mask, p, inverted=False)
    numeric_classic = central_difference(lambda v: float(np.sum(
        dy * dropout_forward(v, p, inverted=False, mask=mask)[0])), x)
    assert rel_error(dx_classic, numeric_classic) < 1e-6


# --- Q42: dropout on linear regression is a data-dependent ridge penalty ------------


def test_dropout_on_linear_regression_is_a_feature_scaled_ridge_penalty(rng):
    n, d, p = 30, 5, 0.3
    X = rng.standard_normal((n, d)) * np.array([0.5, 1, 2, 3, 4])
    y, w = rng.standard_normal(n), rng.standard_normal(d)
    exact = sum(_expectation_over_masks(X[i], p, lambda x_i, y_i=y[i]: (y_i - x_i @ w) ** 2)
                for i in range(n))
    assert abs(exact - dropout_linear_loss(X, y, w, p)) < 1e-10 * exact
    w_star = dropout_ridge_solution(X, y, p)
    grad = central_difference(lambda v: dropout_linear_loss(X, y, v, p), w_star)
    assert np.max(np.abs(grad)) < 1e-6
    w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    D = np.diag(X.T @ X)                        # the penalty's per-feature weights
    assert np.sum(D * w_star**2) < np.sum(D * w_ols**2)


# --- Q43: weight sharing --------------------------------------------------------------


def test_dropped_units_get_exactly_zero_gradient_in_and_out(rng):
    torch.manual_seed(0)
    lin1, lin2 = torch.nn.Linear(6, 10), torch.nn.Linear(10, 3)
    x = torch.randn(1, 6)
    mask = torch.tensor(rng.random((1, 10)) >= 0.5)
    loss = lin2(dropout_torch(torch.relu(lin1(x)) + 1.0, 0.5, mask=mask)).square().sum()
    loss.backward()
    dropped, kept = ~mask[0], mask[0]
    assert dropped.any() and kept.any()
    assert torch.all(lin1.weight.grad[dropped] == 0) and torch.all(lin1.bias.grad[dropped] == 0)
    assert torch.all(lin2.weight.grad[:, dropped] == 0)
    assert torch.all(lin2.weight.grad[:, kept] != 0)


def test_variance_of_an_average_of_correlated_models_has_the_floor_rho_sigma2(rng):
    """B = 25 members with variance 2 and pairwise correlation rho, 10**5 draws: the
    average's variance is rho s2 + (1 - rho) s2 / B within 3% (over 6 standard errors
    of a Gaussian sample variance, sqrt(2 / n) = 0.45%)."""
    B, n, s2 = 25, 100_000, 2.0
    for rho in (0.0, 0.3, 0.8):
        shared = rng.standard_normal((n, 1))                  # what all members share
        own = rng.standard_normal((n, B))                     # what each adds
        f = np.sqrt(s2) * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * own)   # (n, B)
        corr = np.corrcoef(f[:, 0], f[:, 1])[0, 1]
        assert abs(corr - rho) < 6 / np.sqrt(n)
        expected = rho * s2 + (1 - rho) * s2 / B
        np.testing.assert_allclose(f.mean(axis=1).var(), expected, rtol=0.03)


# --- Q44: MC dropout ------------------------------------------------------------------


def test_mc_dropout_mean_approaches_eval_output_and_leaves_other_layers_alone():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(50, 200), torch.nn.BatchNorm1d(200),
                                torch.nn.Dropout(0.5), torch.nn.Linear(200, 1))
    model.eval()
    x = torch.randn(8, 50)
    T = 1000
    stats = model[1].running_mean.clone(), model[1].running_var.clone()
    mean, std = mc_dropout_predict(model, x, T=T)
    assert not model.training and not model[2].training     # modes restored
    # BatchNorm stayed in eval during the passes: its running statistics never moved
    assert not model[1].training
    assert torch.equal(model[1].running_mean, stats[0])
    assert torch.equal(model[1].running_var, stats[1])
    # the last layer is linear, so the MC mean estimates the eval output:
    # each of 8 within 6 standard errors (failure probability < 2e-8)
    assert torch.all((mean - model(x)).abs() < 6 * std / T**0.5)
    assert torch.all(std > 0)
    # called on a model left in train mode: BatchNorm still runs in eval (same statistics,
    # same mean as from eval mode, since the masks are drawn alike) and train mode comes back
    model.train()
    torch.manual_seed(1)
    mean_eval = mc_dropout_predict(model.eval(), x, T=10)[0]
    model.train()
    torch.manual_seed(1)
    mean_train = mc_dropout_predict(model, x, T=10)[0]
    assert model.training and model[1].training and model[2].training
    assert torch.equal(model[1].running_mean, stats[0])
    torch.testing.assert_close(mean_train, mean_eval, rtol=0, atol=0)


# --- Q42: the train-test gap ----------------------------------------------------------


@pytest.mark.slow
def test_dropout_shrinks_the_train_test_gap_on_noisy_xor():
    """Final eval-mode cross-entropies after 400 full-batch Adam steps, seeds 0-2."""
    for seed in range(3):
        plain_run = train_noisy_xor(0.0, seed)
        plain, dropped = plain_run[-1], train_noisy_xor(0.5, seed)[-1]
        assert plain[1] > 2 * plain_run[:, 1].min()   # p = 0: the test loss climbs ...
        assert plain[2] == 1.0                    # ... while it fits every noisy label
        assert dropped[2] < 1.0
        gap_plain, gap_dropped = plain[1] - plain[0], dropped[1] - dropped[0]
        assert gap_dropped < 0.5 * gap_plain
        assert dropped[1] < plain[1]              # lower test cross-entropy too


# --- bad input --------------------------------------------------------------------------


def test_bad_arguments_raise_naming_the_argument():
    x = np.ones(4)
    for p in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="p "):
            dropout_forward(x, p)
        with pytest.raises(ValueError, match="p "):
            Dropout(p)
        with pytest.raises(ValueError, match="p "):
            dropout_torch(torch.ones(4), p)
    with pytest.raises(TypeError, match="p must"):
        dropout_forward(x, "0.5")
    with pytest.raises(TypeError, match="training"):
        dropout_forward(x, 0.5, training=1)
    with pytest.raises(TypeError, match="inverted"):
        dropout_forward(x, 0.5, inverted="yes")
    with pytest.raises(ValueError, match="mask"):
        dropout_forward(x, 0.5, mask=np.ones(3, dtype=bool))
    with pytest.raises(TypeError, match="mask"):
        dropout_forward(x, 0.5, mask=np.ones(4))
    with pytest.raises(TypeError, match="x must"):
        dropout_torch(torch.ones(4, dtype=torch.long), 0.5)
    with pytest.raises(TypeError, match="training"):
        dropout_torch(torch.ones(4), 0.5, training=None)
    with pytest.raises(ValueError, match="mask"):
        dropout_torch(torch.ones(4), 0.5, mask=torch.ones(4))
    with pytest.raises(ValueError, match="mask"):
        dropout_torch(torch.ones(4), 0.5, mask=np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="n must"):
        enumerate_masks(0, 0.5)
    with pytest.raises(ValueError, match="w and x"):
        subnetwork_outputs(np.ones(3), np.ones(4), 0.0, 0.5)
    with pytest.raises(ValueError, match="need X"):
        dropout_linear_loss(np.ones((3, 2)), np.ones(2), np.ones(2), 0.5)
    with pytest.raises(ValueError, match="T must"):
        mc_dropout_predict(torch.nn.Dropout(0.5), torch.ones(3), T=1)
    with pytest.raises(ValueError, match="p "):
        train_noisy_xor(1.0)


def test_relu_unit_training_mean_grows_with_p_above_the_test_time_output():
    """The setting of the figure dropout-train-vs-test: E[z] = 0.2, exact enumeration."""
    rng = np.random.default_rng(1)
    h, w = np.abs(rng.standard_normal(10)), rng.standard_normal(10)
    w -= (w @ h - 0.2) / (h @ h) * h
    means = []
    for p in np.linspace(0.0, 0.9, 19):
        means.append(_expectation_over_masks(h, float(p), lambda d: max(w @ d, 0.0)))
    means = np.array(means)
    from dlhandbook.figures.dropout import _relu_gap  # the figure draws these numbers

    ps, drawn, test_time = _relu_gap()
    np.testing.assert_allclose(drawn, means, rtol=0, atol=1e-12)
    assert abs(test_time - 0.2) < 1e-12 and len(ps) == len(means)
    assert abs(means[0] - 0.2) < 1e-12                # p = 0: no dropout
    assert np.all(np.diff(means) > 0)                 # grows with p
    assert means[10] > 1.5 * 0.2                      # p = 0.5: 50% above test time


def test_sgd_with_dropout_converges_to_the_dropout_ridge_solution_not_least_squares():
    """Full-batch gradient steps with a fresh input mask each step, iterates averaged
    over the second half of 5000 steps (lr 5e-3), for seeds 0-2."""
    n, d, p = 200, 5, 0.3
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d)) * np.array([0.5, 1, 2, 3, 4])
        y = X @ rng.standard_normal(d) + rng.standard_normal(n)
        w_star = dropout_ridge_solution(X, y, p)
        w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
        w, w_avg, steps = np.zeros(d), np.zeros(d), 5000
        for t in range(steps):
            X_drop, _ = dropout_forward(X, p, rng=rng)
            w -= 5e-3 * (-2 * X_drop.T @ (y - X_drop @ w) / n)
            if t >= steps // 2:
                w_avg += w / (steps - steps // 2)
        assert np.linalg.norm(w_avg - w_star) < 0.05 * np.linalg.norm(w_ols - w_star)


def test_batchnorm_after_dropout_sees_a_variance_shift_at_test_time():
    """Dropout(0.5) then BatchNorm1d on h ~ N(1, 1): training-mode variance is
    E[h^2] / (1 - p) - E[h]^2 = 3, the test-time input variance is 1."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(Dropout(0.5), torch.nn.BatchNorm1d(8, affine=False))
    model.train()
    with torch.no_grad():
        for _ in range(100):        # batches of 1024: running_var's sd is about 1.3%
            model(torch.randn(1024, 8) + 1.0)
    bn = model[1]
    torch.testing.assert_close(bn.running_var, torch.full((8,), 3.0), rtol=0.1, atol=0)
    model.eval()
    h = torch.randn(20_000, 8) + 1.0
    out_std = model(h).std(dim=0)
    # normalised with the training variance, eval outputs have std about 1/sqrt(3)
    assert torch.all((out_std - 3**-0.5).abs() < 0.05)
