"""Tests of dlhandbook/regularization/dropout_family.py: DropConnect, spatial dropout,
stochastic depth (Q41)."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from dlhandbook.regularization.dropout_family import (
    drop_connect_linear,
    linear_decay_survival,
    spatial_dropout,
    stochastic_depth,
)

DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16]


def test_drop_connect_expected_output_is_the_plain_layer_exactly():
    """All 2**6 weight masks of a 2 x 3 layer, enumerated, p = 0.3."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, dtype=torch.float64)
    W, b, p = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64), 0.3
    expected = torch.zeros(4, 2, dtype=torch.float64)
    for bits in itertools.product([0.0, 1.0], repeat=6):
        M = torch.tensor(bits, dtype=torch.float64).reshape(2, 3)
        prob = (1 - p) ** M.sum() * p ** (6 - M.sum())
        expected += prob * F.linear(x, W * M / (1 - p), b)
    torch.testing.assert_close(expected, F.linear(x, W, b), rtol=0, atol=1e-12)
    assert torch.equal(drop_connect_linear(x, W, b, p, training=False), F.linear(x, W, b))


def test_drop_connect_masks_weights_not_units():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(1, 200, dtype=torch.float64)
    W = torch.ones(50, 200, dtype=torch.float64)
    y = drop_connect_linear(x, W, None, 0.5, generator=g)
    # every output keeps a different random subset of its 200 weights: no output is
    # zeroed whole, and the outputs differ (unit dropout would give 0 or 2 * 200)
    assert torch.all(y > 0) and y.unique().numel() > 10
    # with the same generator state, the mask is the one bernoulli_ draws
    g2 = torch.Generator().manual_seed(0)
    M = torch.empty(50, 200, dtype=torch.float64).bernoulli_(0.5, generator=g2)
    torch.testing.assert_close(y, x @ (W * M / 0.5).T, rtol=1e-15, atol=0)


def test_drop_connect_per_example_masks_differ_between_rows():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(8, 30)
    W = torch.ones(5, 30)
    y = drop_connect_linear(x, W, torch.zeros(5), 0.5, generator=g, per_example=True)
    assert y.shape == (8, 5)
    assert not torch.equal(y[0], y[1])
    shared = drop_connect_linear(x, W, None, 0.5, generator=g)
    assert torch.equal(shared[0], shared[1])        # one mask for the whole batch


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_dropout_matches_torch_dropout2d_with_the_same_seed_on_cpu(dtype):
    x = torch.randn(6, 8, 5, 5).to(dtype)
    torch.manual_seed(1)
    expected = F.dropout2d(x, 0.3, training=True)
    got = spatial_dropout(x, 0.3, generator=torch.Generator().manual_seed(1))
    assert got.dtype == dtype and torch.equal(got, expected)


def test_spatial_dropout_keeps_or_zeroes_whole_channels(device):
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(16, 12, 4, 4, device=device) + 0.5
    y = spatial_dropout(x, 0.5, generator=g)
    ratio = (y / x).flatten(2)                       # (N, C, H*W)
    assert torch.all(ratio.amax(dim=2) == ratio.amin(dim=2))   # constant per channel
    assert set(ratio[:, :, 0].unique().tolist()) == {0.0, 2.0}
    assert torch.equal(spatial_dropout(x, 0.5, training=False), x)


def test_stochastic_depth_drops_whole_branches_and_keeps_the_expectation(device):
    torch.manual_seed(0)
    x = torch.randn(64, 10, device=device, dtype=torch.float64)
    f = torch.randn(64, 10, device=device, dtype=torch.float64)   # a branch's output
    g = torch.Generator(device=device).manual_seed(0)
    out = stochastic_depth(f, 0.25, generator=g)
    kept, dropped = (out != 0).all(dim=1), (out == 0).all(dim=1)
    assert torch.all(kept | dropped) and kept.any() and dropped.any()   # per sample
    assert torch.equal(out[kept], f[kept] * (1 / 0.75))
    for _ in range(5):                                              # all or nothing
        whole = stochastic_depth(f, 0.25, mode="batch", generator=g)
        assert torch.equal(whole, f * (1 / 0.75)) or torch.all(whole == 0)
    assert torch.equal(x + stochastic_depth(f, 0.25, training=False), x + f)
    # the branch is kept with probability 0.75: over T = 4000 draws per sample the kept
    # fraction is within 6 sigma of 0.75, and the block's mean output within 6 standard
    # errors of the test-time block x + f (each check fails with probability < 2e-9)
    T = 4000
    draws = torch.stack([stochastic_depth(f, 0.25, generator=g) for _ in range(T)])
    kept_frac = (draws != 0).all(dim=2).double().mean(dim=0)          # (64,)
    assert torch.all((kept_frac - 0.75).abs() < 6 * (0.75 * 0.25 / T) ** 0.5)
    se = f.abs() * (0.25 / 0.75 / T) ** 0.5                  # sd of b f / 0.75 is |f| sqrt(p/q)
    assert torch.all(((x + draws).mean(dim=0) - (x + f)).abs() < 6 * se)


def test_linear_decay_survival_matches_huang_et_al():
    q = linear_decay_survival(54, 0.5)      # the paper's 110-layer ResNet: 54 blocks
    assert len(q) == 54 and q[-1] == 0.5 and abs(q[0] - (1 - 0.5 / 54)) < 1e-15
    assert all(a > b for a, b in zip(q, q[1:], strict=False))
    assert abs(sum(q) - (3 * 54 - 1) / 4) < 1e-12     # expected depth (3L - 1) / 4


@pytest.mark.parametrize("fn", [spatial_dropout, stochastic_depth])
def test_family_is_the_identity_in_eval_and_random_in_training(fn):
    x = torch.randn(64, 4, 3, 3)    # two draws coincide with probability 2**-64 at most
    assert torch.equal(fn(x, 0.5, training=False), x)
    assert not torch.equal(fn(x, 0.5), fn(x, 0.5))


def test_bad_arguments_raise_naming_the_argument():
    x, W = torch.ones(2, 3), torch.ones(4, 3)
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match="p "):
            drop_connect_linear(x, W, None, p)
        with pytest.raises(ValueError, match="p "):
            spatial_dropout(torch.ones(2, 3, 4), p)
        with pytest.raises(ValueError, match="p "):
            stochastic_depth(x, p)
    with pytest.raises(TypeError, match="p must"):
        stochastic_depth(x, None)
    with pytest.raises(TypeError, match="x must"):
        spatial_dropout(torch.ones(2, 3, 4, dtype=torch.int64), 0.5)
    with pytest.raises(TypeError, match="training"):
        spatial_dropout(torch.ones(2, 3, 4), 0.5, training="no")
    with pytest.raises(ValueError, match="x must"):
        spatial_dropout(torch.ones(2, 3), 0.5)
    with pytest.raises(ValueError, match="mode"):
        stochastic_depth(x, 0.5, mode="layer")
    with pytest.raises(ValueError, match="L must"):
        linear_decay_survival(0)
    with pytest.raises(ValueError, match="q_L"):
        linear_decay_survival(10, 0.0)
