import math

import numpy as np
import pytest
import torch

from dlhandbook.diagnostics.backward_signal import (
    backward_signal_norms,
    backward_signal_norms_torch,
    make_mlp_blocks,
    mlp_backward_signal,
    random_mlp_weights,
    weight_grad_norms,
)
from helpers import central_difference, rel_error

DEPTH, WIDTH, BATCH = 30, 64, 256
HE = math.sqrt(2 / WIDTH)


def signal(activation, std, seed=0, depth=DEPTH):
    """||dL/dh_l||, l = 1 .. depth, of a bias-free MLP with N(0, std^2) weights."""
    rng = np.random.default_rng(seed)
    X, G = rng.standard_normal((BATCH, WIDTH)), rng.standard_normal((BATCH, WIDTH))
    return backward_signal_norms(X, random_mlp_weights(depth, WIDTH, std, rng), activation, G)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_backward_signal_matches_torch_autograd(device, activation):
    rng = np.random.default_rng(1)
    X, G = rng.standard_normal((16, 8)), rng.standard_normal((16, 5))
    Ws = [rng.standard_normal((6, 8)), rng.standard_normal((7, 6)), rng.standard_normal((5, 7))]
    grads, _ = mlp_backward_signal(X, Ws, activation, G)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z,
           "leaky_relu": torch.nn.functional.leaky_relu}[activation]
    hs = [torch.tensor(X, device=device, requires_grad=True)]
    for W in Ws:
        hs.append(act(hs[-1] @ torch.tensor(W, device=device).T))
        hs[-1].retain_grad()
    hs[-1].backward(torch.tensor(G, device=device))
    for ours, h in zip(grads, hs, strict=True):
        np.testing.assert_allclose(ours, h.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu"])
def test_hand_written_backward_passes_finite_differences(activation):
    rng = np.random.default_rng(2)
    X, G = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    Ws = [rng.standard_normal((6, 5)), rng.standard_normal((3, 6))]
    f = lambda x: float(np.sum(G * mlp_backward_signal(x, Ws, activation, G)[1][-1]))  # noqa: E731
    grads, _ = mlp_backward_signal(X, Ws, activation, G)
    assert rel_error(grads[0], central_difference(f, X)) < 1e-6


def test_torch_blocks_give_the_same_signal_as_numpy(device):
    torch.manual_seed(0)
    blocks = [b.to(device) for b in make_mlp_blocks(5, 8, torch.nn.Tanh())]
    X = torch.randn(10, 8, dtype=torch.float64, device=device)
    G = torch.randn(10, 8, dtype=torch.float64, device=device)
    ours = backward_signal_norms_torch(blocks, X, G)
    Ws = [b[0].weight.detach().cpu().numpy() for b in blocks]
    expected = backward_signal_norms(X.cpu().numpy(), Ws, "tanh", G.cpu().numpy())
    np.testing.assert_allclose(ours.cpu().numpy(), expected, rtol=1e-10)


def test_sigmoid_network_loses_many_orders_of_magnitude():
    s = signal("sigmoid", std=1 / math.sqrt(WIDTH))
    assert s[0] / s[-1] < 1e-12
    assert 0.25**10 < 1e-6            # sigma' <= 1/4: ten layers alone cost a factor 1e-6


def test_relu_with_he_init_stays_within_a_small_factor():
    for seed in range(3):
        s = signal("relu", std=HE, seed=seed)
        assert 0.2 < s[0] / s[-1] < 5
        assert s.max() / s.min() < 10


@pytest.mark.parametrize("scale, bound", [(0.7, 1e-3), (1.5, 1e4)])
def test_relu_off_he_scale_vanishes_or_explodes_geometrically(scale, bound):
    s = signal("relu", std=scale * HE)
    ratio = s[0] / s[-1]
    assert (ratio < bound) if scale < 1 else (ratio > bound)
    assert scale ** (DEPTH - 1) / 5 < ratio < 5 * scale ** (DEPTH - 1)
    # Geometric: log ||dL/dh_l|| is a straight line in l with slope -log(scale), within 10 %.
    slope = np.polyfit(np.arange(DEPTH), np.log(s), 1)[0]
    assert abs(-slope / math.log(scale) - 1) < 0.1


def test_weight_gradient_norms_hide_what_the_backward_signal_shows():
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal((BATCH, WIDTH)), rng.standard_normal((BATCH, WIDTH))
    Ws = random_mlp_weights(DEPTH, WIDTH, 0.7 * HE, rng)
    s = backward_signal_norms(X, Ws, "relu", G)
    w = weight_grad_norms(X, Ws, "relu", G)
    assert s[0] / s[-1] < 1e-3                        # the signal vanishes ...
    assert 0.2 < w[0] / w[-1] < 5                     # ... the weight gradients barely move


def blocks_ratio(activation, init, norm=None, residual=False, seed=0):
    torch.manual_seed(seed)
    blocks = make_mlp_blocks(DEPTH, WIDTH, activation, init, norm, residual)
    X = torch.randn(BATCH, WIDTH, dtype=torch.float64)
    G = torch.randn(BATCH, WIDTH, dtype=torch.float64)
    s = backward_signal_norms_torch(blocks, X, G)
    return (s[0] / s[-1]).item()


def test_remedies_restore_the_signal_that_plain_networks_lose():
    xavier = torch.nn.init.xavier_normal_
    assert blocks_ratio(torch.nn.Sigmoid(), xavier) < 1e-12
    for seed in range(3):                           # the table's 'preserved' band
        assert 0.1 < blocks_ratio(torch.nn.Tanh(), xavier, seed=seed) < 10
    assert blocks_ratio(torch.nn.ReLU(), None) < 1e-8                  # PyTorch default init
    assert 0.1 < blocks_ratio(torch.nn.ReLU(), None, norm="layer") < 10
    assert 0.5 < blocks_ratio(torch.nn.Sigmoid(), xavier, residual=True) < 10


def test_batchnorm_at_init_makes_the_signal_grow_with_depth():
    # Yang et al. (2019): deep BatchNorm networks have exploding gradients at initialisation.
    assert blocks_ratio(torch.nn.ReLU(), None, norm="batch") > 10


def test_unscaled_residual_relu_branches_explode():
    he = lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")  # noqa: E731
    assert blocks_ratio(torch.nn.ReLU(), he, residual=True) > 1e3


def test_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    Ws = random_mlp_weights(2, 4, 0.5, rng)
    with pytest.raises(ValueError, match="activation"):
        backward_signal_norms(np.ones((2, 4)), Ws, "gelu", np.ones((2, 4)))
    with pytest.raises(ValueError, match="grad_out"):
        backward_signal_norms(np.ones((2, 4)), Ws, "relu", np.ones((2, 3)))
    with pytest.raises(ValueError, match="weights"):
        backward_signal_norms(np.ones((2, 5)), Ws, "relu", np.ones((2, 4)))
    with pytest.raises(ValueError, match="X"):
        backward_signal_norms(np.ones(4), Ws, "relu", np.ones((2, 4)))
    with pytest.raises(ValueError, match="depth"):
        random_mlp_weights(0, 4, 0.5, rng)
    with pytest.raises(TypeError, match="X"):
        backward_signal_norms_torch(make_mlp_blocks(2, 4, torch.nn.ReLU()), np.ones((2, 4)))
    with pytest.raises(TypeError, match="blocks"):
        backward_signal_norms_torch([], torch.ones(2, 4))
    with pytest.raises(ValueError, match="norm"):
        make_mlp_blocks(2, 4, torch.nn.ReLU(), norm="group")
    with pytest.raises(ValueError, match="depth"):
        make_mlp_blocks(0, 4, torch.nn.ReLU())
