import numpy as np
import pytest
import torch

from dlhandbook.rnn.rnn_cell import (
    input_gradient_norms,
    input_jacobians,
    linear_rnn_gradient_norms,
    rnn_cell,
    rnn_cell_torch,
)
from helpers import central_difference, rel_error


def cell_params(cell):
    return [p.detach().cpu().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                               cell.bias_hh)]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_numpy_cell_matches_nn_rnncell(nonlinearity):
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(5, 7, nonlinearity=nonlinearity).double()
    x, h = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 7, dtype=torch.float64)
    np.testing.assert_allclose(rnn_cell(x.numpy(), h.numpy(), *cell_params(cell), nonlinearity),
                               cell(x, h).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_torch_cell_matches_nn_rnncell_with_copied_weights(device):
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(5, 7).double().to(device)
    x = torch.randn(4, 5, dtype=torch.float64, device=device)
    h = torch.randn(4, 7, dtype=torch.float64, device=device)
    ours = rnn_cell_torch(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(ours, cell(x, h), rtol=1e-12, atol=1e-14)


def test_jacobian_product_matches_finite_differences_and_autograd():
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(3, 4).double()
    params = cell_params(cell)
    rng = np.random.default_rng(0)
    xs, h0 = rng.standard_normal((6, 3)), np.zeros(4)
    J = input_jacobians(xs, h0, *params)                  # (T, H, D)

    def h_T(x_seq):
        h = h0
        for x in x_seq:
            h = rnn_cell(x, h, *params)
        return h

    for k in range(4):                                    # one output unit at a time
        numeric = central_difference(lambda s: float(h_T(s)[k]), xs)  # noqa: B023
        assert rel_error(J[:, k, :], numeric) < 1e-6
    norms = input_gradient_norms(cell, torch.tensor(xs)[:, None, :])
    np.testing.assert_allclose(norms.numpy(), np.linalg.norm(J.sum(axis=1), axis=1), rtol=1e-10)


@pytest.mark.parametrize("rho", [0.9, 1.0, 1.1])
def test_linear_rnn_gradient_is_exactly_rho_to_the_T_for_a_scaled_orthogonal_matrix(rho):
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((32, 32)))
    norms = linear_rnn_gradient_norms(rho * Q, 50)
    np.testing.assert_allclose(norms, rho ** np.arange(1, 51), rtol=1e-9)


def test_linear_rnn_gradient_grows_like_the_spectral_radius_for_any_matrix():
    W = np.random.default_rng(1).standard_normal((32, 32)) / np.sqrt(32)   # not normal
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    norms = linear_rnn_gradient_norms(W, 400)
    assert abs(norms[-1] ** (1 / 400) / rho - 1) < 0.02   # Gelfand: ||W^T||^(1/T) -> rho(W)


def test_vanilla_rnn_loses_the_gradient_over_100_steps():
    for seed in range(3):
        torch.manual_seed(seed)
        norms = input_gradient_norms(torch.nn.RNNCell(8, 32).double(),
                                     torch.randn(100, 1, 8, dtype=torch.float64))
        assert norms[0] / norms[-1] < 1e-15


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_cell(np.ones(2), np.ones(2), np.eye(2), np.eye(2), np.zeros(2), np.zeros(2), "gelu")
    with pytest.raises(ValueError, match="W"):
        linear_rnn_gradient_norms(np.ones((2, 3)), 5)
    with pytest.raises(ValueError, match="T"):
        linear_rnn_gradient_norms(np.eye(2), 0)
    with pytest.raises(ValueError, match="xs"):
        input_jacobians(np.ones((3, 5)), np.zeros(2), np.ones((2, 4)), np.eye(2), np.zeros(2),
                        np.zeros(2))
    with pytest.raises(TypeError, match="cell"):
        input_gradient_norms(torch.nn.Linear(2, 2), torch.ones(3, 1, 2))
    with pytest.raises(ValueError, match="xs"):
        input_gradient_norms(torch.nn.RNNCell(2, 2), torch.ones(3, 2))


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="W_hh"):
        rnn_cell(np.ones(2), np.ones(3), np.ones((3, 2)), np.eye(2), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="x must"):
        rnn_cell(np.ones(4), np.ones(3), np.ones((3, 2)), np.eye(3), np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match="W_ih"):
        rnn_cell_torch(torch.ones(2), torch.ones(3), np.ones((3, 2)), torch.eye(3), torch.zeros(3),
                       torch.zeros(3))
    with pytest.raises(ValueError, match="W_hh"):
        rnn_cell_torch(torch.ones(2), torch.ones(3), torch.ones(3, 2), torch.eye(2), torch.zeros(3),
                       torch.zeros(3))
