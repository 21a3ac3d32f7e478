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


def test_leaky_relu_unit_keeps_a_nonzero_gradient():
    before, after, largest = train_with_a_killed_unit(torch.nn.LeakyReLU(0.01))
    assert largest > 0.0
    assert not torch.equal(before, after)


def fit_one_unit(activation, steps=2000, lr=0.5):
    """Fit y = relu(x1 - x2 + 1) with one unit act(w.x + b) that starts at b = -5 (z < 0 on
    every input). Returns the first step after which some z > 0 (None if never) and the
    fraction of inputs with z > 0 at the end."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(128, 2, generator=gen, dtype=torch.float64)
    y = torch.relu(X @ torch.tensor([1.0, -1.0], dtype=torch.float64) + 1.0)
    w = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-5.0, dtype=torch.float64, requires_grad=True)
    assert ((X @ w + b) <= 0).all()                    # dead at the start
    opt = torch.optim.SGD([w, b], lr=lr)
    first_active = None
    for step in range(1, steps + 1):
        loss = ((activation(X @ w + b) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            active = (X @ w + b > 0).double().mean().item()
        if first_active is None and active > 0:
            first_active = step
    return first_active, active


def test_leaky_relu_unit_recovers_and_becomes_active():
    first_active, active = fit_one_unit(torch.nn.LeakyReLU(0.01))
    assert first_active is not None
    assert active > 0.5                                # on for most inputs at the end


def test_the_same_relu_unit_never_becomes_active():
    first_active, active = fit_one_unit(torch.nn.ReLU())
    assert first_active is None and active == 0.0


def dead_unit_under_weight_decay(optimizer, decay_bias, steps=1000, lr=0.1, weight_decay=0.1):
    """One ReLU unit on non-negative inputs (as after a ReLU layer) with w < 0 and b > 0, so
    z = w.x + b < 0 on every input. Decay w, and b too if ``decay_bias``. Returns z at the
    start, z at the end, and the first step after which some z > 0 (None if never)."""
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(64, 3, generator=gen, dtype=torch.float64)       # inputs in [0, 1)
    y = torch.ones(64, dtype=torch.float64)
    w = torch.full((3,), -1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    opt = optimizer([{"params": [w], "weight_decay": weight_decay},
                     {"params": [b], "weight_decay": weight_decay if decay_bias else 0.0}],
                    lr=lr)
    z_start = (X @ w + b).detach()
    revived = None
    for step in range(1, steps + 1):
        loss = ((torch.relu(X @ w + b) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        z = (X @ w + b).detach()
        if revived is None and (z > 0).any():
            revived = step
    return z_start, z, revived


@pytest.mark.parametrize("optimizer", [torch.optim.AdamW, torch.optim.SGD])
def test_decaying_only_the_weights_revives_a_dead_unit_with_positive_bias(optimizer):
    z_start, z, revived = dead_unit_under_weight_decay(optimizer, decay_bias=False)
    assert (z_start < 0).all()                         # dead at the start
    assert revived is not None                         # w -> 0 pulls z toward b > 0
    assert (z > 0).all()                               # and then it learns: on for every input


@pytest.mark.parametrize("optimizer", [torch.optim.AdamW, torch.optim.SGD])
def test_equal_multiplicative_decay_of_weights_and_bias_keeps_every_sign(optimizer):
    z_start, z, revived = dead_unit_under_weight_decay(optimizer, decay_bias=True)
    assert revived is None
    assert torch.equal(torch.sign(z), torch.sign(z_start))
    assert (z.abs() < z_start.abs()).all()             # every z shrank by the same factor
    torch.testing.assert_close(z / z_start, torch.full_like(z, z[0].item() / z_start[0].item()))


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
