from functools import cache

import numpy as np
import pytest
import torch

from dlhandbook.optim.sharpness import (
    hessian_vector_product,
    make_mlp,
    make_two_moons,
    power_iteration,
    top_hessian_eigenvalue,
    train_sgd,
    training_sharpness,
)

LR = 0.5            # the same learning rate for both batch sizes
TARGET = 0.01       # both runs stop at the first step with full training loss <= TARGET
SMALL, FULL = 8, 256


def _tiny_problem(device, seed=0):
    """A 2-3-1 tanh MLP on 12 points, its parameters and its training loss (float64)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(12, 2, generator=gen, dtype=torch.float64).to(device)
    y = (X[:, 0] * X[:, 1] > 0).to(torch.float64)
    params = [torch.randn(s, generator=gen, dtype=torch.float64).to(device).requires_grad_()
              for s in [(2, 3), (3,), (3, 1), (1,)]]

    def loss_of(W1, b1, W2, b2):
        logits = (torch.tanh(X @ W1 + b1) @ W2 + b2).squeeze(-1)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)

    return params, loss_of


def _full_hessian(params, loss_of):
    """The explicit Hessian over all parameters, flattened: shape (P, P)."""
    sizes = [p.numel() for p in params]
    shapes = [p.shape for p in params]

    def flat_loss(theta):
        return loss_of(*[t.reshape(s) for t, s in zip(torch.split(theta, sizes), shapes, strict=True)])

    theta = torch.cat([p.detach().reshape(-1) for p in params])   # (P,)
    return torch.autograd.functional.hessian(flat_loss, theta)


def test_numpy_power_iteration_finds_the_top_eigenvalue_of_a_symmetric_matrix(rng):
    Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    eigs = np.linspace(0.1, 5.0, 20)
    H = Q @ np.diag(eigs) @ Q.T
    eig, v = power_iteration(H, iters=300, seed=0)
    assert abs(eig - 5.0) < 1e-10
    np.testing.assert_allclose(H @ v, eig * v, atol=1e-6)


def test_hessian_vector_product_equals_the_explicit_hessian_times_the_vector(device):
    params, loss_of = _tiny_problem(device)
    H = _full_hessian(params, loss_of)
    vec = [torch.randn(p.shape, dtype=torch.float64).to(device) for p in params]
    Hv = hessian_vector_product(lambda: loss_of(*params), params, vec)
    expected = H @ torch.cat([v.reshape(-1) for v in vec])
    torch.testing.assert_close(torch.cat([h.reshape(-1) for h in Hv]), expected,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_hessian_eigenvalue_matches_eigvalsh_of_the_full_hessian(seed, device):
    params, loss_of = _tiny_problem(device, seed)
    eigs = torch.linalg.eigvalsh(_full_hessian(params, loss_of))
    expected = eigs[eigs.abs().argmax()].item()          # power iteration: largest magnitude
    got = top_hessian_eigenvalue(lambda: loss_of(*params), params, iters=500, seed=seed)
    assert abs(got - expected) < 1e-6 * abs(expected)
    before = [p.detach().clone() for p in params]
    top_hessian_eigenvalue(lambda: loss_of(*params), params, iters=3)
    assert all(torch.equal(p, b) for p, b in zip(params, before, strict=True))   # params are not modified


def test_gradient_descent_on_a_quadratic_is_stable_exactly_below_lr_2_over_lambda_max():
    """The stability bound behind the edge of stability, with lambda_max from the tool."""
    A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    lam = top_hessian_eigenvalue(lambda: 0.5 * w @ A @ w, [w], iters=200)
    assert abs(lam - torch.linalg.eigvalsh(A).max().item()) < 1e-10
    for factor, stable in [(0.98, True), (1.02, False)]:
        lr, x = factor * 2 / lam, torch.ones(2, dtype=torch.float64)
        for _ in range(2000):
            x = x - lr * (A @ x)
        assert (x.norm().item() < 1e-3) is stable


@cache
def _final_sharpness(seed):
    X, y = make_two_moons(256, noise=0.1, seed=seed)
    out = {}
    for B in (SMALL, FULL):
        model = make_mlp(seed=seed)
        curve = train_sgd(model, X, y, B, LR, max_steps=3000, target=TARGET, seed=seed)
        out[B] = training_sharpness(model, X, y, iters=30, seed=seed)   # (sharpness, loss)
        assert curve[-1] <= TARGET, f"B = {B} did not reach the target loss"
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_equal_training_loss_small_batch_sgd_ends_at_least_1_5_times_flatter(seed):
    """Same lr, same init, same data; both stopped at the same full training loss."""
    out = _final_sharpness(seed)
    (sharp_small, loss_small), (sharp_full, loss_full) = out[SMALL], out[FULL]
    assert loss_small <= TARGET and loss_full <= TARGET
    assert 0 < sharp_small < sharp_full / 1.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_batch_gradient_descent_ends_below_the_stability_bound_2_over_lr(seed):
    sharp_full, _ = _final_sharpness(seed)[FULL]
    assert 0 < sharp_full < 2 / LR


def test_rejects_bad_arguments():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="loss_fn"):
        top_hessian_eigenvalue(3.0, [w])
    with pytest.raises(TypeError, match="params"):
        top_hessian_eigenvalue(lambda: (w ** 2).sum(), [])
    with pytest.raises(TypeError, match="params"):
        top_hessian_eigenvalue(lambda: (w ** 2).sum(), [torch.zeros(2)])
    with pytest.raises(ValueError, match="iters"):
        top_hessian_eigenvalue(lambda: (w ** 2).sum(), [w], iters=0)
    with pytest.raises(TypeError, match="seed"):
        top_hessian_eigenvalue(lambda: (w ** 2).sum(), [w], seed=0.5)
    with pytest.raises(ValueError, match="H"):
        power_iteration(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        power_iteration(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="iters"):
        power_iteration(np.eye(2), iters=0)
    X, y = make_two_moons(16)
    with pytest.raises(ValueError, match="batch_size"):
        train_sgd(make_mlp(), X, y, 0, 0.1, 10)
    with pytest.raises(ValueError, match="lr"):
        train_sgd(make_mlp(), X, y, 4, -0.1, 10)
    with pytest.raises(ValueError, match="max_steps"):
        train_sgd(make_mlp(), X, y, 4, 0.1, 0)
    with pytest.raises(ValueError, match="n"):
        make_two_moons(1)
