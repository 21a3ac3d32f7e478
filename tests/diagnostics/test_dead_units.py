import numpy as np
import pytest
import torch

from dlhandbook.diagnostics.dead_units import (
    dead_fraction_after_training,
    dead_relu_fraction,
    dead_relu_fractions,
    dead_unit_mask,
    make_moons,
)


def train_with_a_killed_unit(activation, steps=300, lr=0.1):
    """A 2-16-1 net on moons whose hidden unit 0 has bias -10 (negative on every input).

    Returns the unit's incoming weights before and after, and the largest |gradient| it got.
    """
    X, y = make_moons(256, seed=0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), activation, torch.nn.Linear(16, 1)).double()
    with torch.no_grad():
        model[0].bias[0] = -10.0
    before = model[0].weight[0].detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    largest = 0.0
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X).squeeze(1), y)
        opt.zero_grad()
        loss.backward()
        largest = max(largest, model[0].weight.grad[0].abs().max().item(),
                      abs(model[0].bias.grad[0].item()))
        opt.step()
    return before, model[0].weight[0].detach(), largest


def test_dead_relu_unit_gets_exactly_zero_gradient_and_never_moves():
    before, after, largest = train_with_a_killed_unit(torch.nn.ReLU())
    assert largest == 0.0
    assert torch.equal(before, after)                  # bit-identical after 300 steps


def test_leaky_relu_unit_keeps_a_gradient_and_recovers():
    before, after, largest = train_with_a_killed_unit(torch.nn.LeakyReLU(0.01))
    assert largest > 0.0
    assert not torch.equal(before, after)


def test_large_learning_rate_kills_measurably_more_units():
    newly_dead = {lr: [] for lr in (0.01, 3.0)}
    for lr in newly_dead:
        for seed in range(3):
            before, after = dead_fraction_after_training(lr, seed)
            newly_dead[lr].append(after - before)
    assert max(newly_dead[0.01]) == 0.0                 # small steps kill nothing ...
    assert np.mean(newly_dead[3.0]) > 0.1               # ... large ones kill over 10 % of units


def test_some_units_are_already_dead_at_pytorch_default_init():
    X, _ = make_moons(512, seed=0)
    fractions = []
    for seed in range(5):
        torch.manual_seed(seed)
        fractions.append(dead_relu_fractions(torch.nn.Sequential(
            torch.nn.Linear(2, 64), torch.nn.ReLU()).double(), X)[0])
    assert 0.0 < np.mean(fractions) < 0.3


def test_numpy_and_torch_counts_agree(device):
    torch.manual_seed(1)
    layer = torch.nn.Linear(2, 64).double().to(device)
    with torch.no_grad():
        layer.bias[:10] = -5.0
    X, _ = make_moons(128, seed=1)
    ours = dead_relu_fractions(torch.nn.Sequential(layer, torch.nn.ReLU()), X.to(device))[0]
    W, b = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    assert ours == dead_relu_fraction(X.numpy(), W, b)
    assert ours >= 10 / 64


def test_dead_mask_requires_every_row_non_positive():
    Z = np.array([[-1.0, 0.0, 2.0], [-3.0, 0.0, -1.0]])
    assert dead_unit_mask(Z).tolist() == [True, True, False]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Z"):
        dead_unit_mask(np.ones(3))
    with pytest.raises(ValueError, match="X"):
        dead_relu_fraction(np.ones((4, 2)), np.ones((3, 3)), np.ones(3))
    with pytest.raises(TypeError, match="model"):
        dead_relu_fractions("model", torch.ones(2, 2))
    with pytest.raises(TypeError, match="X"):
        dead_relu_fractions(torch.nn.ReLU(), torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="n must"):
        make_moons(0)
    with pytest.raises(ValueError, match="lr"):
        dead_fraction_after_training(0.0, seed=0)
