import numpy as np
import pytest
import torch

from dlhandbook.optim.minibatch import (
    gradient_noise_scale,
    iterate_minibatches,
    linear_scaling_gap,
    minibatch_grad_variance,
    per_example_grads,
    per_example_grads_torch,
    steps_to_target,
    theoretical_minibatch_variance,
)
from helpers import central_difference, rel_error


def _linreg(n=1024, d=10, seed=0, scales=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (1.0 if scales is None else scales)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return X, y


def test_one_epoch_of_batches_is_a_partition_and_nothing_is_held_out():
    batches = list(iterate_minibatches(1000, 64, np.random.default_rng(0)))
    assert len(batches) == int(np.ceil(1000 / 64))
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
    dropped = list(iterate_minibatches(1000, 64, np.random.default_rng(0), drop_last=True))
    assert len(dropped) == 1000 // 64 and all(len(b) == 64 for b in dropped)


def test_per_example_gradients_pass_a_finite_difference_check():
    X, y = _linreg(n=8, d=4)
    w = np.random.default_rng(1).standard_normal(4)
    per_ex = per_example_grads(X, y, w)
    for i in range(len(X)):
        numeric = central_difference(lambda v, i=i: 0.5 * (X[i] @ v - y[i]) ** 2, w)
        assert rel_error(per_ex[i], numeric) < 1e-6


def test_mean_of_equal_batch_gradients_is_the_full_gradient():
    X, y = _linreg()
    w = np.ones(10)
    per_ex = per_example_grads(X, y, w)
    full = X.T @ (X @ w - y) / len(X)
    batch_means = [per_ex[idx].mean(0) for idx in iterate_minibatches(1024, 128,
                                                                        np.random.default_rng(0))]
    np.testing.assert_allclose(np.mean(batch_means, axis=0), full, rtol=0, atol=1e-12)


@pytest.mark.parametrize("B", [1, 8, 64])
def test_minibatch_gradient_is_unbiased(B):
    X, y = _linreg()
    per_ex = per_example_grads(X, y, np.zeros(10))
    rng = np.random.default_rng(B)
    n_draws = 4000
    idx = np.argsort(rng.random((n_draws, len(X))), axis=1)[:, :B]     # without replacement
    g_B = per_ex[idx].mean(axis=1)                                       # (n_draws, d)
    standard_error = g_B.std(axis=0, ddof=1) / np.sqrt(n_draws)
    assert np.all(np.abs(g_B.mean(axis=0) - per_ex.mean(axis=0)) < 4 * standard_error)


@pytest.mark.parametrize("B", [1, 8, 64, 512])
def test_variance_falls_as_one_over_B_with_the_finite_population_factor(B):
    X, y = _linreg()
    per_ex = per_example_grads(X, y, np.zeros(10))
    empirical = minibatch_grad_variance(per_ex, B, 2000, np.random.default_rng(B))
    theory = theoretical_minibatch_variance(per_ex, B)
    assert abs(empirical / theory - 1) < 0.1


def test_finite_population_factor_is_needed_for_large_batches():
    X, y = _linreg()
    per_ex = per_example_grads(X, y, np.zeros(10))
    B = 768                                           # 3/4 of the data: factor (N-B)/(N-1) ~ 1/4
    empirical = minibatch_grad_variance(per_ex, B, 2000, np.random.default_rng(0))
    with_replacement = theoretical_minibatch_variance(per_ex, B, replace=True)
    assert abs(empirical / theoretical_minibatch_variance(per_ex, B) - 1) < 0.1
    assert empirical < 0.35 * with_replacement        # plain tr(Sigma)/B is 4x too large
    assert theoretical_minibatch_variance(per_ex, 1024) == 0.0   # the whole set: no noise


def test_sampling_with_replacement_has_no_finite_population_factor():
    X, y = _linreg()
    per_ex = per_example_grads(X, y, np.zeros(10))
    empirical = minibatch_grad_variance(per_ex, 256, 2000, np.random.default_rng(0), replace=True)
    assert abs(empirical / theoretical_minibatch_variance(per_ex, 256, replace=True) - 1) < 0.1


LRS = np.geomspace(0.01, 1.0, 9)


def _steps_vs_batch_size(batch_sizes, lrs=LRS):
    """Fewest steps to an excess loss of 1% of the start, with lr tuned per batch size."""
    X, y = _linreg(n=1024, d=10, scales=np.geomspace(1.0, 0.1, 10))
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]

    def loss(w):
        return 0.5 * np.mean((X @ w - y) ** 2)

    def grad_fn(w, idx):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)

    w0 = np.zeros(10)
    target = loss(w_star) + 0.01 * (loss(w0) - loss(w_star))
    best = {}
    for B in batch_sizes:
        best[B] = 3000
        for lr in lrs[::-1]:                  # a run longer than the best so far cannot win
            steps = steps_to_target(grad_fn, loss, w0, len(X), B, lr, target, best[B])
            best[B] = min(best[B], steps or best[B])
    return best


@pytest.mark.slow
def test_steps_to_target_fall_with_batch_size_and_then_saturate():
    steps = _steps_vs_batch_size([1, 4, 64, 256, 1024])
    assert steps[4] < 0.5 * steps[1]                  # small B: bigger batch, fewer steps
    assert steps[1024] > 0.7 * steps[256]             # large B: no further gain
    assert 1024 * steps[1024] > 10 * 64 * steps[64]   # so examples processed grow ~ B


def test_linear_scaling_rule_holds_for_small_lr_and_breaks_for_large_lr():
    # 8 steps of batch 32 at lr vs 1 step of batch 256 at 8 lr, on the same 256 examples
    X, y = _linreg(n=256, d=10)

    def grad_fn(w, idx):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)

    batches = list(iterate_minibatches(256, 32, np.random.default_rng(0)))
    lrs = [1e-4, 1e-3, 1e-2, 5e-2]
    gaps = [linear_scaling_gap(grad_fn, np.zeros(10), batches, lr) for lr in lrs]
    assert gaps[0] < 0.01 and gaps[-1] > 0.1
    assert np.all(np.diff(gaps) > 0)


def test_gradient_noise_scale_is_trace_over_squared_norm():
    X, y = _linreg()
    per_ex = per_example_grads(X, y, np.zeros(10))
    G = per_ex.mean(0)
    expected = np.trace(np.cov(per_ex.T, bias=True)) / (G @ G)
    assert gradient_noise_scale(per_ex) == pytest.approx(expected, rel=1e-12)


def test_torch_per_example_grads_match_numpy(device):
    X, y = _linreg(n=32, d=4)
    model = torch.nn.Linear(4, 1, bias=False, dtype=torch.float64).to(device)
    w = model.weight.detach().cpu().numpy()[0]

    def loss_fn(y_hat, t):
        return 0.5 * ((y_hat[:, 0] - t) ** 2).mean()

    grads = per_example_grads_torch(model, loss_fn, torch.tensor(X, device=device),
                                    torch.tensor(y, device=device))
    np.testing.assert_allclose(grads["weight"][:, 0].cpu().numpy(), per_example_grads(X, y, w),
                               rtol=1e-12, atol=1e-12)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(10, 0, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="rng"):
        list(iterate_minibatches(10, 2))
    with pytest.raises(ValueError, match="X"):
        per_example_grads(np.zeros((3, 2)), np.zeros(4), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_grad_variance(np.zeros((4, 2)), 5, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="per_ex"):
        theoretical_minibatch_variance(np.zeros(4), 1)
    with pytest.raises(ValueError, match="batches"):
        linear_scaling_gap(lambda w, i: w, np.zeros(2), [np.arange(2), np.arange(3)], 0.1)
    with pytest.raises(ValueError, match="lr"):
        steps_to_target(lambda w, i: w, lambda w: 0.0, np.zeros(2), 4, 2, 0.0, 0.1, 10)
    with pytest.raises(ValueError, match="max_steps"):
        steps_to_target(lambda w, i: w, lambda w: 0.0, np.zeros(2), 4, 2, 0.1, 0.1, 0)
