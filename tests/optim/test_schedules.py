import numpy as np
import pytest
import torch

from dlhandbook.optim.schedules import (
    cosine_warm_restarts_lr,
    exponential_lr,
    inverse_time,
    inverse_time_lr,
    linear_warmup_lr,
    step_lr,
    warmup_cosine,
)
from dlhandbook.optim.sgd import sgd

LR0 = 0.1


def _torch_lrs(make_scheduler, n_steps):
    """The lr PyTorch uses at steps 0 .. n_steps - 1 (one scheduler.step() per optimizer step)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(n_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


S = torch.optim.lr_scheduler


@pytest.mark.parametrize("name, ours, theirs", [
    ("step", lambda t: step_lr(t, LR0, step_size=30, gamma=0.5),
     lambda o: S.StepLR(o, step_size=30, gamma=0.5)),
    ("exponential", lambda t: exponential_lr(t, LR0, gamma=0.995),
     lambda o: S.ExponentialLR(o, gamma=0.995)),
    ("1/t", lambda t: inverse_time_lr(t, LR0, k=0.01), lambda o: inverse_time(o, k=0.01)),
    ("cosine restarts", lambda t: cosine_warm_restarts_lr(t, LR0, T_0=50, eta_min=1e-3),
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=50, eta_min=1e-3)),
    ("cosine restarts x2", lambda t: cosine_warm_restarts_lr(t, LR0, T_0=10, T_mult=2),
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2)),
    ("linear warm-up", lambda t: linear_warmup_lr(t, LR0, total_iters=400, start_factor=0.01),
     lambda o: S.LinearLR(o, start_factor=0.01, total_iters=400)),
    ("linear decay to zero",
     lambda t: linear_warmup_lr(t, LR0, total_iters=800, start_factor=1.0, end_factor=0.0),
     lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=800)),
])
def test_matches_torch_lr_scheduler_over_1000_steps(name, ours, theirs):
    t = np.arange(1000)
    np.testing.assert_allclose(ours(t), _torch_lrs(theirs, 1000), rtol=1e-12, atol=0,
                               err_msg=name)


def test_cosine_restarts_jump_back_to_lr0_at_each_cycle_start():
    t = np.arange(10 + 20 + 40)
    lr = cosine_warm_restarts_lr(t, LR0, T_0=10, T_mult=2)
    np.testing.assert_allclose(lr[[0, 10, 30]], LR0, rtol=1e-15)
    assert np.all(np.diff(lr[10:30]) < 0)                    # decays within a cycle


def test_inverse_time_satisfies_robbins_monro_and_constant_does_not():
    # partial sums to 10^6 steps: sum lr_t keeps growing (like log t), sum lr_t^2 levels off
    t = np.arange(10**6)
    lr = inverse_time_lr(t, LR0, k=0.01)
    half = len(t) // 2
    assert lr.sum() > 1.05 * lr[:half].sum()                 # still growing
    assert (lr**2).sum() < 1.0001 * (lr[:half] ** 2).sum()   # converged
    const = np.full(len(t), LR0)
    assert (const**2).sum() > 1.9 * (const[:half] ** 2).sum()  # constant lr: sum lr^2 diverges


def _linreg(n=2000, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, w_star, lambda w, idx: X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)


def test_a_decaying_schedule_reaches_the_optimum_where_a_constant_lr_stalls():
    X, y, w_star, grad_fn = _linreg()
    n_steps = 10_000
    _, const = sgd(grad_fn, np.zeros(5), len(X), 1, 0.05, n_steps, seed=0, replace=True,
                   record_every=10)
    lrs = inverse_time_lr(np.arange(n_steps), 0.05, k=0.02)
    w_decay, _ = sgd(grad_fn, np.zeros(5), len(X), 1, lambda t: lrs[t], n_steps, seed=0,
                     replace=True)
    noise_ball = np.mean(np.sum((const[len(const) // 2:] - w_star) ** 2, axis=1))
    err_decay = np.sum((w_decay - w_star) ** 2)
    assert err_decay < 0.05 * noise_ball
    assert err_decay < 2e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_warmup_trains_where_the_same_peak_rate_without_it_diverges(seed):
    # f(x) = sum x^4 / 4 + x^2 / 2: curvature 3 x^2 + 1 is far larger at the start than at
    # the minimum, the situation warm-up is for. Peak lr 0.5 is stable near x = 0 (lr h < 2).
    def grad_fn(x, idx):
        return x**3 + x

    x0 = 4.0 * np.random.default_rng(seed).standard_normal(10)
    assert 0.5 * (3 * np.max(x0**2) + 1) > 2                  # unstable at the start
    with np.errstate(over="ignore", invalid="ignore"):
        x_const, _ = sgd(grad_fn, x0, 1, 1, 0.5, 300)
    lrs = linear_warmup_lr(np.arange(300), 0.5, total_iters=100, start_factor=0.01)
    x_warm, _ = sgd(grad_fn, x0, 1, 1, lambda t: lrs[t], 300)
    assert not np.all(np.isfinite(x_const)) or np.linalg.norm(x_const) > 1e6   # diverged
    assert np.linalg.norm(x_warm) < 1e-6                                      # converged


def test_pytorch_cosine_annealing_is_one_cosine_and_climbs_back_after_t_max():
    T = 100
    lrs = _torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=T), 2 * T + 1)
    ours = cosine_warm_restarts_lr(np.arange(T), LR0, T_0=T)      # one cycle, no restart
    np.testing.assert_allclose(lrs[:T], ours, rtol=1e-9, atol=1e-15)
    assert lrs[T] == pytest.approx(0.0, abs=1e-15)                # the floor at T_max ...
    assert lrs[2 * T] == pytest.approx(LR0, rel=1e-9)             # ... and back at 2 T_max
    assert np.all(np.diff(lrs[T:2 * T + 1]) > 0)


def test_warmup_cosine_ramps_up_then_decays_to_the_floor():
    lrs = _torch_lrs(lambda o: warmup_cosine(o, warmup_steps=100, total_steps=1000,
                                             min_factor=0.01), 1000)
    assert np.all(np.diff(lrs[:100]) > 0) and lrs[99] == pytest.approx(LR0)
    assert np.all(np.diff(lrs[100:]) <= 0)
    assert lrs[-1] == pytest.approx(0.01 * LR0, rel=1e-3)


def test_rejects_bad_arguments():
    with pytest.raises(TypeError, match="t must be"):
        step_lr(np.array([0.5]), LR0, 10)
    with pytest.raises(ValueError, match="t must be"):
        exponential_lr(np.array([-1]), LR0, 0.9)
    with pytest.raises(ValueError, match="lr0"):
        inverse_time_lr(3, -1.0, 0.1)
    with pytest.raises(ValueError, match="gamma"):
        exponential_lr(3, LR0, 1.5)
    with pytest.raises(ValueError, match="T_0"):
        cosine_warm_restarts_lr(3, LR0, T_0=0)
    with pytest.raises(ValueError, match="total_iters"):
        linear_warmup_lr(3, LR0, total_iters=0)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_cosine(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0), 10, 5)
