import numpy as np
import pytest
import torch

from dlhandbook.nn.residual import (
    ResidualBlock,
    gradient_norms,
    gradient_norms_torch,
    init_weights,
    plain_block,
)

WIDTH, BATCH = 64, 128


def torch_profile(depth, kind, seed, device="cpu"):
    torch.manual_seed(seed)
    blocks = [(plain_block(WIDTH) if kind == "plain" else ResidualBlock(WIDTH, norm=kind))
              .double().to(device) for _ in range(depth)]
    x = torch.randn(BATCH, WIDTH, dtype=torch.float64, device=device)
    readout = torch.randn(WIDTH, dtype=torch.float64, device=device)
    return gradient_norms_torch(blocks, x, readout).cpu().numpy()


@pytest.mark.parametrize("residual", [True, False])
def test_numpy_gradient_norms_match_torch_autograd(device, rng, residual):
    weights = init_weights(12, 16, seed=1)
    x, readout = rng.standard_normal((8, 16)), rng.standard_normal(16)
    blocks = []
    for W1, W2 in weights:
        b = ResidualBlock(16, residual=residual).double().to(device)
        with torch.no_grad():
            b.fc1.weight.copy_(torch.tensor(W1))
            b.fc2.weight.copy_(torch.tensor(W2))
        blocks.append(b)
    expected = gradient_norms_torch(blocks, torch.tensor(x, device=device),
                                    torch.tensor(readout, device=device))
    np.testing.assert_allclose(gradient_norms(weights, x, readout, residual=residual),
                               expected.cpu().numpy(), rtol=1e-10)


def test_block_jacobian_is_identity_plus_the_branch_jacobian():
    torch.manual_seed(0)
    block = ResidualBlock(6).double()
    branch = plain_block(6).double()
    branch.load_state_dict(block.state_dict())
    x = torch.randn(6, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(block, x)
    J_F = torch.autograd.functional.jacobian(branch, x)
    torch.testing.assert_close(J, torch.eye(6, dtype=torch.float64) + J_F, rtol=0,
                               atol=1e-12)


def test_block_with_zeroed_last_layer_is_exactly_the_identity():
    block = ResidualBlock(8)
    torch.nn.init.zeros_(block.fc2.weight)
    x = torch.randn(5, 8)
    assert torch.equal(block(x), x)


@pytest.mark.parametrize("depth", [10, 50, 100])
def test_plain_gradient_shrinks_geometrically_with_depth(depth):
    for seed in range(3):
        n = torch_profile(depth, "plain", seed)
        ratio = n[0] / n[-1]
        assert 0.2**depth < ratio < 0.3**depth


@pytest.mark.parametrize("depth", [10, 50, 100])
def test_residual_gradient_stays_within_a_bounded_factor(depth):
    bounds = {None: 20.0, "pre": 4.0, "post": 1.5}
    for seed in range(3):
        for kind, bound in bounds.items():
            n = torch_profile(depth, kind, seed)
            assert n.max() / n.min() < bound, (kind, seed)


def test_numpy_profile_shows_the_same_contrast(rng):
    x, readout = rng.standard_normal((BATCH, WIDTH)), rng.standard_normal(WIDTH)
    weights = init_weights(50, WIDTH, seed=0)
    plain = gradient_norms(weights, x, readout, residual=False)
    res = gradient_norms(weights, x, readout, residual=True)
    assert plain[0] / plain[-1] < 0.3**50
    assert res.max() / res.min() < 20


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="norm must"):
        ResidualBlock(4, norm="mid")
    with pytest.raises(ValueError, match="depth must"):
        init_weights(0, 4)
    with pytest.raises(TypeError, match="width must"):
        init_weights(3, 4.0)
    weights = init_weights(3, 4)
    with pytest.raises(ValueError, match="x must"):
        gradient_norms(weights, np.ones((2, 5)), np.ones(4))
    with pytest.raises(ValueError, match="readout must"):
        gradient_norms(weights, np.ones((2, 4)), np.ones(3))
