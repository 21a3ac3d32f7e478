"""Tests of dlhandbook/regularization/overfitting.py: overfitting, weight size, sensitivity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlhandbook.regularization.overfitting import (
    capacity_curve,
    fit_polynomial,
    gd_weights,
    lipschitz_upper_bound,
    make_data,
    mse,
    polynomial_features,
    rebalance_,
    time_curve,
)

SEEDS = [0, 1, 2, 3, 4]
N_TRAIN, MAX_DEGREE = 20, 15
STEPS = [0] + [int(t) for t in np.unique(np.geomspace(1, 1e8, 40).astype(np.int64))]


def split(seed):
    return make_data(N_TRAIN, seed=seed), make_data(200, seed=100 + seed)


# ---- capacity ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_training_error_falls_with_degree_while_validation_error_is_u_shaped(seed):
    train, val = split(seed)
    tr, va, _ = capacity_curve(train, val, range(MAX_DEGREE + 1))
    assert np.all(np.diff(tr) <= 1e-12)                       # nested models
    best = int(va.argmin())
    assert 0 < best < MAX_DEGREE                              # strictly inside the grid
    assert va[-1] > 100 * va[best]
    assert tr[-1] < tr[best]                                  # fits train better...


@pytest.mark.parametrize("seed", SEEDS)
def test_the_overfitting_fit_has_far_larger_weights(seed):
    train, val = split(seed)
    _, va, norm = capacity_curve(train, val, range(MAX_DEGREE + 1))
    assert norm[-1] > 30 * norm[int(va.argmin())]


def test_interpolating_degree_fits_the_training_points_exactly():
    train, val = make_data(12, seed=0), make_data(200, seed=1)
    w = fit_polynomial(*train, 11)                            # 12 coefficients, 12 points
    assert mse(*train, w) < 1e-12
    assert mse(*val, w) > 10 * mse(*val, fit_polynomial(*train, 3))


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_on_the_largest_degree_cuts_validation_error_and_weight_norm(seed):
    """lam from a grid whose best value lies strictly inside it."""
    train, val = split(seed)
    lams = np.geomspace(1e-8, 10.0, 19)
    vals = np.array([mse(*val, fit_polynomial(*train, MAX_DEGREE, lam)) for lam in lams])
    best = int(vals.argmin())
    assert 0 < best < len(lams) - 1
    ols = fit_polynomial(*train, MAX_DEGREE)
    ridge = fit_polynomial(*train, MAX_DEGREE, lams[best])
    assert vals[best] < mse(*val, ols) / 10
    assert np.linalg.norm(ridge) < np.linalg.norm(ols) / 10


# ---- training time ---------------------------------------------------------------------

def test_closed_form_gradient_descent_equals_iterating_it():
    (x, y), _ = split(0)
    Phi = polynomial_features(x, 9)
    lr = 0.5 / np.linalg.eigvalsh(Phi.T @ Phi / len(y))[-1]
    w, path = np.zeros(10), [np.zeros(10)]
    for _ in range(300):
        w = w - lr * Phi.T @ (Phi @ w - y) / len(y)
        path.append(w)
    np.testing.assert_allclose(gd_weights(x, y, 9, range(301), lr=lr), np.array(path),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_along_gradient_descent_train_error_falls_weight_norm_grows_validation_turns_up(seed):
    train, val = split(seed)
    tr, va, norm = time_curve(train, val, MAX_DEGREE, STEPS)
    assert np.all(np.diff(tr) <= 1e-12)                       # lr <= 1/L: monotone
    assert np.all(np.diff(norm) >= -1e-12)                    # from 0: |w_t| never falls
    best = int(va.argmin())
    assert 0 < best < len(STEPS) - 1
    assert va[-1] > 100 * va[best]
    assert norm[-1] > 30 * norm[best]


# ---- large weights and sensitivity (PyTorch) ----------------------------------------

def relu_mlp(seed, widths=(5, 32, 32, 1), bias=True, dtype=torch.float64):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [torch.nn.Linear(a, b, bias=bias), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1]).to(dtype)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_product_of_spectral_norms_bounds_the_sensitivity(seed, device):
    model = relu_mlp(seed).to(device)
    bound = lipschitz_upper_bound(model)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(500, 5, generator=g, dtype=torch.float64).to(device)
    dx = 1e-3 * torch.randn(500, 5, generator=g, dtype=torch.float64).to(device)
    with torch.no_grad():
        ratio = (model(x + dx) - model(x)).norm(dim=1) / dx.norm(dim=1)
    assert ratio.max().item() <= bound
    assert ratio.max().item() > 1e-3 * bound                  # not vacuous


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32,
                                   torch.float64], ids=str)
def test_lipschitz_bound_is_computed_in_every_dtype(dtype):
    ref = lipschitz_upper_bound(relu_mlp(0))
    got = lipschitz_upper_bound(relu_mlp(0).to(dtype))
    assert got == pytest.approx(ref, rel={torch.float16: 5e-3, torch.bfloat16: 3e-2}
                                .get(dtype, 1e-5))


def test_scaling_all_weights_by_c_scales_a_bias_free_relu_net_by_c_to_the_depth():
    model = relu_mlp(0, bias=False)                           # 3 layers, 1-homogeneous each
    x = torch.randn(100, 5, dtype=torch.float64)
    with torch.no_grad():
        y = model(x)
        for p in model.parameters():
            p.mul_(3.0)
        torch.testing.assert_close(model(x), 27.0 * y, rtol=1e-12, atol=0)
    assert lipschitz_upper_bound(model) == pytest.approx(
        27 * lipschitz_upper_bound(relu_mlp(0, bias=False)), rel=1e-12)


def test_rebalancing_relu_layers_changes_the_weight_norm_not_the_function():
    model = relu_mlp(1)
    x = torch.randn(100, 5, dtype=torch.float64)
    norm = sum(p.square().sum() for p in model.parameters()).sqrt().item()
    with torch.no_grad():
        y = model(x)
        rebalance_(model[0], model[2], 10.0)
        torch.testing.assert_close(model(x), y, rtol=1e-12, atol=1e-12)
    new_norm = sum(p.square().sum() for p in model.parameters()).sqrt().item()
    assert new_norm > 5 * norm


def test_under_batch_norm_the_weight_scale_does_not_change_the_output():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(16, eps=1e-10)                 # eps: the only scale it sees
    model = torch.nn.Sequential(torch.nn.Linear(5, 16, bias=False), bn,
                                torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    x = torch.randn(64, 5, dtype=torch.float64)
    with torch.no_grad():
        y = model(x)                                          # train mode: batch statistics
        model[0].weight.mul_(100.0)
        torch.testing.assert_close(model(x), y, rtol=1e-8, atol=1e-8)
        assert lipschitz_upper_bound(torch.nn.Sequential(model[0])) > 50


# ---- bad input -----------------------------------------------------------------------

def test_rejects_bad_input():
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(np.zeros(3), -1)
    with pytest.raises(TypeError, match="degree"):
        polynomial_features(np.zeros(3), 2.5)
    with pytest.raises(ValueError, match="lam"):
        fit_polynomial(np.zeros(3), np.zeros(3), 1, lam=-1.0)
    with pytest.raises(ValueError, match="noise"):
        make_data(5, noise=-0.1)
    with pytest.raises(ValueError, match="n must"):
        make_data(0)
    with pytest.raises(ValueError, match="lr"):
        gd_weights(np.linspace(-1, 1, 5), np.zeros(5), 2, [1], lr=100.0)
    with pytest.raises(ValueError, match="steps"):
        gd_weights(np.linspace(-1, 1, 5), np.zeros(5), 2, [-1])
    with pytest.raises(TypeError, match="model"):
        lipschitz_upper_bound([torch.ones(2)])
    with pytest.raises(ValueError, match="Linear"):
        lipschitz_upper_bound(torch.nn.ReLU())
    with pytest.raises(ValueError, match="c must"):
        rebalance_(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), -1.0)
    with pytest.raises(TypeError, match="second"):
        rebalance_(torch.nn.Linear(2, 2), torch.nn.ReLU(), 2.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_as_the_ridge_penalty_grows_train_error_rises_and_weight_norm_falls(seed):
    """The sweep of the figure reg-ridge-sweep (37 values of lam from 1e-8 to 10)."""
    train, val = split(seed)
    lams = np.geomspace(1e-8, 10.0, 37)
    ws = [fit_polynomial(*train, MAX_DEGREE, lam) for lam in lams]
    tr = np.array([mse(*train, w) for w in ws])
    va = np.array([mse(*val, w) for w in ws])
    assert np.all(np.diff(tr) >= -1e-12)
    assert np.all(np.diff(np.linalg.norm(ws, axis=1)) < 0)
    best = int(va.argmin())
    assert 0 < best < len(lams) - 1                           # U-shape, minimum inside
    assert va[0] > 100 * va[best] and va[-1] > 3 * va[best]
