import numpy as np
import pytest
import torch

from dlhandbook.rnn.lstm_cell import lstm_cell, lstm_cell_torch, set_forget_bias_
from dlhandbook.rnn.rnn_cell import input_gradient_norms

T, HIDDEN, INPUT = 100, 32, 8


def lstm_ratio(seed, forget_bias=None):
    torch.manual_seed(seed)
    cell = torch.nn.LSTMCell(INPUT, HIDDEN).double()
    if forget_bias is not None:
        set_forget_bias_(cell, forget_bias)
    norms = input_gradient_norms(cell, torch.randn(T, 1, INPUT, dtype=torch.float64))
    return (norms[0] / norms[-1]).item()


def test_numpy_cell_matches_nn_lstmcell():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(5, 7).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    h, c = torch.randn(4, 7, dtype=torch.float64), torch.randn(4, 7, dtype=torch.float64)
    params = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                           cell.bias_hh)]
    h1, c1 = lstm_cell(x.numpy(), h.numpy(), c.numpy(), *params)
    h2, c2 = cell(x, (h, c))
    np.testing.assert_allclose(h1, h2.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c1, c2.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_torch_cell_matches_nn_lstmcell_with_copied_weights(device):
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(5, 7).double().to(device)
    x = torch.randn(4, 5, dtype=torch.float64, device=device)
    state = (torch.randn(4, 7, dtype=torch.float64, device=device),
             torch.randn(4, 7, dtype=torch.float64, device=device))
    ours = lstm_cell_torch(x, state, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    for a, b in zip(ours, cell(x, state), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_lstm_with_forget_bias_3_keeps_the_gradient_a_vanilla_rnn_loses():
    for seed in range(3):
        assert lstm_ratio(seed, forget_bias=3.0) > 1e-2
        torch.manual_seed(seed)
        rnn = input_gradient_norms(torch.nn.RNNCell(INPUT, HIDDEN).double(),
                                   torch.randn(T, 1, INPUT, dtype=torch.float64))
        assert rnn[0] / rnn[-1] < 1e-15


def test_lstm_at_default_init_vanishes_too():
    for seed in range(3):
        assert lstm_ratio(seed) < 1e-12


def test_forget_bias_sets_the_sum_of_both_biases():
    cell = torch.nn.LSTMCell(3, 4)
    set_forget_bias_(cell, 1.0)
    total = (cell.bias_ih + cell.bias_hh).detach()
    assert torch.equal(total[4:8], torch.ones(4))
    layer = torch.nn.LSTM(3, 4, num_layers=2)
    set_forget_bias_(layer, 2.0)
    assert torch.equal((layer.bias_ih_l1 + layer.bias_hh_l1)[4:8].detach(), torch.full((4,), 2.0))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="W_ih"):
        lstm_cell(np.ones(2), np.ones(2), np.ones(2), np.ones((6, 2)), np.ones((8, 2)),
                  np.zeros(8), np.zeros(8))
    with pytest.raises(TypeError, match="cell"):
        set_forget_bias_(torch.nn.RNNCell(2, 2), 1.0)
    with pytest.raises(TypeError, match="state"):
        lstm_cell_torch(torch.ones(1, 2), torch.ones(1, 3), torch.ones(12, 2), torch.ones(12, 3),
                        torch.zeros(12), torch.zeros(12))
    with pytest.raises(ValueError, match="W_ih"):
        lstm_cell_torch(torch.ones(1, 2), (torch.ones(1, 3), torch.ones(1, 3)), torch.ones(8, 2),
                        torch.ones(12, 3), torch.zeros(12), torch.zeros(12))
