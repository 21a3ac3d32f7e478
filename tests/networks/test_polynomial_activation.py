import numpy as np
import pytest
import torch
from torch import nn

from dlhandbook.networks.polynomial_activation import (
    Square,
    best_polynomial_mse,
    fit_regression,
    square_net_coefficients,
)


def _data(device="cpu"):
    x = torch.linspace(-1, 1, 101, dtype=torch.float64, device=device)
    return x, torch.sin(3 * x).abs()


def test_square_activation_net_is_exactly_a_quadratic(rng):
    w, b, v, c = rng.standard_normal(64), rng.standard_normal(64), rng.standard_normal(64), 0.3
    x = np.linspace(-2, 2, 41)
    net = ((np.outer(x, w) + b) ** 2) @ v + c                            # (41,) the net's output
    a2, a1, a0 = square_net_coefficients(w, b, v, c)
    np.testing.assert_allclose(net, a2 * x**2 + a1 * x + a0, atol=1e-10, rtol=1e-12)


def test_square_activation_net_cannot_beat_the_best_quadratic(device):
    x, y = _data(device)
    best_quadratic = best_polynomial_mse(x.cpu().numpy(), y.cpu().numpy(), 2)
    torch.manual_seed(0)
    model, square_mse = fit_regression(Square(), x, y)
    assert square_mse >= best_quadratic - 1e-9
    first, last = model[0], model[2]                                     # the trained net is a quadratic
    a = square_net_coefficients(first.weight[:, 0].detach().cpu().numpy(), first.bias.detach().cpu().numpy(),
                                last.weight[0].detach().cpu().numpy(), last.bias.item())
    with torch.no_grad():
        np.testing.assert_allclose(model(x.unsqueeze(-1)).squeeze(-1).cpu().numpy(),
                                   np.polyval(a, x.cpu().numpy()), atol=1e-10)


def test_tanh_net_beats_the_best_quadratic_fivefold(device):
    x, y = _data(device)
    best_quadratic = best_polynomial_mse(x.cpu().numpy(), y.cpu().numpy(), 2)
    torch.manual_seed(0)
    _, tanh_mse = fit_regression(nn.Tanh(), x, y)
    assert tanh_mse < best_quadratic / 5


def test_validates_arguments():
    with pytest.raises(ValueError, match="degree"):
        best_polynomial_mse(np.zeros(3), np.zeros(3), -1)
    with pytest.raises(ValueError, match="x and y"):
        best_polynomial_mse(np.zeros(3), np.zeros(4), 2)
    with pytest.raises(ValueError, match="w, b and v"):
        square_net_coefficients(np.zeros(3), np.zeros(2), np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="x and y"):
        fit_regression(nn.Tanh(), torch.zeros(3), torch.zeros(4))
