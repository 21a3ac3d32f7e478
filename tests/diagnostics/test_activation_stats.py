import math

import numpy as np
import pytest
import torch

from dlhandbook.diagnostics.activation_stats import activation_stats, activation_stats_torch

DEPTH, WIDTH = 30, 256


def relu_profile(std, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((512, WIDTH))
    Ws = [rng.normal(0.0, std, (WIDTH, WIDTH)) for _ in range(DEPTH)]
    return activation_stats(X, Ws, "relu")


def test_relu_activation_variance_collapses_with_xavier_and_is_preserved_with_he():
    xavier = relu_profile(math.sqrt(2 / (WIDTH + WIDTH)))   # 1 / fan_in for a square layer
    he = relu_profile(math.sqrt(2 / WIDTH))
    assert he["var"][-1] > 0.3 and he["second_moment"][-1] > 0.3
    assert xavier["var"][-1] < 1e-6 * he["var"][-1]
    # With Xavier the second moment halves at every ReLU layer: a factor 2^-29 over 30 layers.
    ratio = xavier["second_moment"][-1] / xavier["second_moment"][0]
    assert 0.5**29 / 3 < ratio < 3 * 0.5**29


def test_tanh_with_unit_variance_weights_saturates_most_units():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, WIDTH))
    Ws = [rng.normal(0.0, 1.0, (WIDTH, WIDTH)) for _ in range(10)]
    assert activation_stats(X, Ws, "tanh")["saturated"][-1] > 0.5


def test_torch_hooks_match_numpy(device):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5, bias=False), torch.nn.Tanh(),
                                torch.nn.Linear(5, 4, bias=False), torch.nn.Tanh()).double()
    model.to(device)
    X = torch.randn(20, 6, dtype=torch.float64, device=device)
    means, variances = activation_stats_torch(model, X)
    Ws = [model[0].weight.detach().cpu().numpy(), model[2].weight.detach().cpu().numpy()]
    stats = activation_stats(X.cpu().numpy(), Ws, "tanh")
    np.testing.assert_allclose(means.cpu().numpy(), stats["mean"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(variances.cpu().numpy(), stats["var"], rtol=1e-10)
    assert not model[1]._forward_hooks            # the hooks are removed afterwards


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        activation_stats(np.ones((2, 2)), [np.eye(2)], "gelu")
    with pytest.raises(ValueError, match="weights"):
        activation_stats(np.ones((2, 2)), [np.eye(3)], "relu")
    with pytest.raises(TypeError, match="model"):
        activation_stats_torch(lambda x: x, torch.ones(2, 2))
