import numpy as np
import pytest
import torch
from torch import nn

from dlhandbook.networks.xor import fit_linear_least_squares, make_mlp, make_xor, train_classifier


def test_best_linear_fit_is_the_constant_one_half():
    w, b, mse = fit_linear_least_squares(*make_xor())
    assert abs(mse - 0.25) < 1e-12
    np.testing.assert_allclose(w, 0.0, atol=1e-12)
    assert abs(b - 0.5) < 1e-12


def test_no_linear_classifier_gets_more_than_three_of_four(rng):
    X, y = make_xor()
    w, b = rng.standard_normal((20000, 2)), rng.standard_normal((20000, 1))
    accuracy = (((w @ X.T + b) > 0) == y).mean(axis=1)                  # (20000,) one per classifier
    assert accuracy.max() <= 0.75


def test_every_affine_function_obeys_the_identity_that_rules_out_xor(rng):
    """f(0,1) + f(1,0) = f(0,0) + f(1,1) for f(x) = w.x + b. XOR needs the left side > 0
    (both terms positive) and the right side <= 0, so no affine f classifies all four."""
    X, y = make_xor()                                   # rows (0,0), (0,1), (1,0), (1,1)
    w, b = rng.standard_normal((1000, 2)), rng.standard_normal((1000, 1))
    f = w @ X.T + b                                     # (1000, 4)
    np.testing.assert_allclose(f[:, 1] + f[:, 2], f[:, 0] + f[:, 3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(X[1] + X[2], X[0] + X[3], rtol=0, atol=0)    # the reason
    assert y[1] == y[2] == 1 and y[0] == y[3] == 0


def _fit(activation, device):
    X, y = (torch.tensor(a, device=device) for a in make_xor())
    torch.manual_seed(0)
    model = make_mlp([2, 8, 1], activation).to(dtype=torch.float64, device=device)
    return train_classifier(model, X, y, steps=500, lr=0.05)


def test_linear_activation_net_cannot_separate_xor(device):
    assert _fit(nn.Identity, device) <= 0.75


def test_relu_net_separates_xor(device):
    assert _fit(nn.ReLU, device) == 1.0


def test_validates_arguments():
    with pytest.raises(ValueError, match="sizes"):
        make_mlp([2])
    with pytest.raises(ValueError, match="steps"):
        train_classifier(make_mlp([2, 1]), torch.zeros(4, 2), torch.zeros(4), steps=0)
    with pytest.raises(ValueError, match="X must be"):
        fit_linear_least_squares(np.zeros(4), np.zeros(4))
