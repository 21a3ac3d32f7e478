import math

import pytest
import torch

from dlhandbook.generative.autoregressive import (
    Autoregressive2D,
    bin_centres,
    discretise,
    fit_autoregressive,
    log_density,
)
from dlhandbook.generative.toy_data import two_moons

BINS, LOW, HIGH = 12, -1.5, 2.5


def _random_model(seed, bins=BINS):
    torch.manual_seed(seed)
    model = Autoregressive2D(bins, hidden=16).double()
    with torch.no_grad():
        model.first_logits.normal_(0, 2.0)           # far from uniform
    return model


def _all_pairs(bins):
    i, j = torch.meshgrid(torch.arange(bins), torch.arange(bins), indexing="ij")
    return torch.stack([i.ravel(), j.ravel()], dim=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probabilities_sum_to_one_over_the_discrete_space(seed):
    model = _random_model(seed)
    with torch.no_grad():
        table = model.prob_table()
        log_p = model.log_prob(_all_pairs(BINS))
    assert table.min() > 0
    assert abs(table.sum().item() - 1) < 1e-12
    torch.testing.assert_close(log_p.exp(), table.ravel(), rtol=1e-12, atol=0)
    assert table.max() / table.min() > 10             # not the uniform distribution


def test_probabilities_still_sum_to_one_after_training():
    idx = discretise(torch.tensor(two_moons(500, seed=0)), BINS, LOW, HIGH)
    model = Autoregressive2D(BINS, hidden=16).double()
    losses = fit_autoregressive(model, idx, steps=40, batch_size=128)
    with torch.no_grad():
        assert abs(model.prob_table().sum().item() - 1) < 1e-12
        assert -model.log_prob(idx).mean().item() < math.log(BINS**2) - 0.3   # learnt
    assert losses[-1] < losses[0]


def test_dequantised_density_integrates_to_one():
    model = _random_model(0)
    centres = bin_centres(_all_pairs(BINS), BINS, LOW, HIGH)
    side = (HIGH - LOW) / BINS
    with torch.no_grad():
        mass = (log_density(model, centres, LOW, HIGH).exp() * side**2).sum().item()
    assert abs(mass - 1) < 1e-12


def test_ancestral_samples_follow_the_table():
    """Each of the 144 cell frequencies of 200k samples within 6 standard errors (+1e-4)."""
    model = _random_model(1)
    n = 200_000
    samples = model.sample(n, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(samples[:, 0] * BINS + samples[:, 1], minlength=BINS**2)
    with torch.no_grad():
        p = model.prob_table().ravel()
    se = torch.sqrt(p * (1 - p) / n)
    # a 6-SE deviation has probability < 2e-9 per cell, < 3e-7 for all cells together
    assert torch.all((counts / n - p).abs() <= 6 * se + 1e-4)


def test_discretise_clamps_outside_points_to_edge_bins():
    X = torch.tensor([[-10.0, 0.0], [LOW, HIGH], [10.0, 0.49]], dtype=torch.float64)
    idx = discretise(X, BINS, LOW, HIGH)
    assert idx.tolist() == [[0, 4], [0, BINS - 1], [BINS - 1, 5]]


@pytest.mark.parametrize("call, error, match", [
    (lambda: Autoregressive2D(0), ValueError, "bins must be positive"),
    (lambda: Autoregressive2D(4, hidden=-1), ValueError, "hidden"),
    (lambda: discretise(torch.zeros(3, 2), 4, 1.0, 0.0), ValueError, "low must be below"),
    (lambda: discretise(torch.zeros(3, 3), 4, 0.0, 1.0), ValueError, "X must have shape"),
    (lambda: discretise(torch.zeros(3, 2, dtype=torch.long), 4, 0.0, 1.0), TypeError, "X"),
    (lambda: Autoregressive2D(4).log_prob(torch.tensor([[0, 4]])), ValueError, "idx must lie"),
    (lambda: Autoregressive2D(4).log_prob(torch.tensor([[0.0, 1.0]])), TypeError, "idx"),
    (lambda: Autoregressive2D(4).log_prob(torch.tensor([0, 1])), ValueError, "idx must have"),
    (lambda: Autoregressive2D(4).sample(0), ValueError, "n must be positive"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
