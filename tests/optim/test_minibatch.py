import numpy as np
import pytest
import torch

from dlhandbook.optim.minibatch import (
    accumulated_step,
    gradient_noise_scale,
    iterate_minibatches,
    linear_scaling_gap,
    minibatch_grad_variance,
    per_example_grads,
    per_example_grads_torch,
    steps_to_stay_below,
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


BATCH_PROBLEM = dict(n=1024, d=10, scales=np.geomspace(1.0, 0.1, 10))   # kappa ~ 100


def _batch_problem():
    rng = np.random.default_rng(0)
    n, d = BATCH_PROBLEM["n"], BATCH_PROBLEM["d"]
    X = rng.standard_normal((n, d)) * BATCH_PROBLEM["scales"]
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    lam_max = np.linalg.eigvalsh(X.T @ X / n).max()
    return X, y, np.geomspace(0.01, 2.5 / lam_max, 16)   # grid runs past 2 / lambda_max


def _tuned_steps(batch_sizes, seed):
    """Per B: the fewest steps after which the excess loss stays below 2% of the start,
    over the lr grid, and the index of the best lr in the grid."""
    X, y, lrs = _batch_problem()
    out = {}
    for B in batch_sizes:
        steps = steps_to_stay_below(X, y, B, lrs, 0.02, 4000, seed=seed)
        out[B] = (steps.min(), int(np.argmin(steps)), len(lrs))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_steps_to_target_fall_with_batch_size_and_then_saturate(seed):
    tuned = _tuned_steps([1, 4, 64, 256, 1024], seed)
    for B, (steps, best, n_lrs) in tuned.items():
        assert np.isfinite(steps), B
        assert 0 < best < n_lrs - 1, (B, best)        # tuned lr strictly inside the grid
    steps = {B: v[0] for B, v in tuned.items()}
    assert steps[4] < 0.5 * steps[1]                  # small B: bigger batch, fewer steps
    assert steps[1024] > 0.7 * steps[256]             # large B: no further gain
    assert 1024 * steps[1024] > 5 * 64 * steps[64]    # so examples processed grow with B


def test_steps_to_stay_below_counts_the_step_after_which_the_loss_stays_below():
    X, y, _ = _batch_problem()
    lrs = np.array([0.5])
    # full batch, no noise: a monotone decrease, so "stays below" is the first crossing
    steps = steps_to_stay_below(X, y, 1024, lrs, 0.02, 300)[0]
    w, H = np.zeros(10), X.T @ X / 1024
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    excess = [0.5 * (w - w_star) @ H @ (w - w_star)]
    for _ in range(300):
        w = w - 0.5 * X.T @ (X @ w - y) / 1024
        excess.append(0.5 * (w - w_star) @ H @ (w - w_star))
    first = int(np.argmax(np.array(excess) <= 0.02 * excess[0]))
    assert steps == first
    # too large an lr diverges, and a horizon too short to settle gives inf
    assert np.isinf(steps_to_stay_below(X, y, 1024, np.array([5.0]), 0.02, 300)[0])
    assert np.isinf(steps_to_stay_below(X, y, 1024, lrs, 0.02, first - 1)[0])


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


def _mlp(norm=False, dtype=torch.float64):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(4, 8, dtype=dtype)]
    if norm:
        layers.append(torch.nn.BatchNorm1d(8, dtype=dtype))
    layers += [torch.nn.Tanh(), torch.nn.Linear(8, 1, dtype=dtype)]
    return torch.nn.Sequential(*layers)


def _grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def _full_batch_grad(model, X, y):
    model.zero_grad()
    torch.nn.functional.mse_loss(model(X), y).backward()
    return _grads(model)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("k", [2, 4, 8])
def test_accumulating_micro_batch_losses_divided_by_k_gives_the_batch_gradient(device,
                                                                             dtype, tol, k):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(32, 4, generator=gen, dtype=dtype).to(device)
    y = torch.randn(32, 1, generator=gen, dtype=dtype).to(device)
    model = _mlp(dtype=dtype).to(device)
    full = _full_batch_grad(model, X, y)
    reference = [p.detach().clone() - 0.1 * p.grad for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = accumulated_step(model, torch.nn.functional.mse_loss, optimizer, X, y, k)
    torch.testing.assert_close(_grads(model), full, rtol=tol, atol=tol)
    for p, q in zip(model.parameters(), reference, strict=True):   # and the same step
        torch.testing.assert_close(p.detach(), q, rtol=tol, atol=tol)
    with torch.no_grad():
        expected_loss = torch.nn.functional.mse_loss(_mlp(dtype=dtype).to(device)(X), y)
    assert loss == pytest.approx(expected_loss.item(), rel=10 * tol)


@pytest.mark.parametrize("k", [2, 4, 8])
def test_accumulating_undivided_mean_losses_gives_k_times_the_batch_gradient(k):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(32, 1, generator=gen, dtype=torch.float64)
    model = _mlp()
    full = _full_batch_grad(model, X, y)
    model.zero_grad()
    for X_micro, y_micro in zip(X.chunk(k), y.chunk(k), strict=True):
        torch.nn.functional.mse_loss(model(X_micro), y_micro).backward()   # no / k
    torch.testing.assert_close(_grads(model), k * full, rtol=1e-12, atol=1e-12)


def test_batchnorm_breaks_the_equivalence_of_accumulation_and_a_large_batch():
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(32, 1, generator=gen, dtype=torch.float64)
    model = _mlp(norm=True)
    model.train()                        # batch statistics: per micro-batch when accumulating
    full = _full_batch_grad(model, X, y)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    accumulated_step(model, torch.nn.functional.mse_loss, optimizer, X, y, 4)
    assert torch.linalg.norm(_grads(model) - full) > 1e-2 * torch.linalg.norm(full)
    model.eval()                         # running statistics: no batch dependence, exact again
    full = _full_batch_grad(model, X, y)
    accumulated_step(model, torch.nn.functional.mse_loss, optimizer, X, y, 4)
    torch.testing.assert_close(_grads(model), full, rtol=1e-12, atol=1e-12)


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
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="lrs"):
        steps_to_stay_below(X, y, 2, np.array([0.0]), 0.1, 10)
    with pytest.raises(ValueError, match="n_steps"):
        steps_to_stay_below(X, y, 2, np.array([0.1]), 0.1, 0)
    with pytest.raises(ValueError, match="target_fraction"):
        steps_to_stay_below(X, y, 2, np.array([0.1]), 1.5, 10)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="accumulation_steps"):
        accumulated_step(model, torch.nn.functional.mse_loss, opt, torch.zeros(6, 2),
                         torch.zeros(6, 1), 4)
    with pytest.raises(TypeError, match="model"):
        accumulated_step(None, torch.nn.functional.mse_loss, opt, torch.zeros(4, 2),
                         torch.zeros(4, 1), 2)
