r"""Learning-rate schedules as functions of the step count $t = 0, 1, 2, \dots$

$$\text{step: } \eta_t = \eta_0\,\gamma^{\lfloor t/s \rfloor} \qquad
\text{exponential: } \eta_t = \eta_0\,\gamma^{t} \qquad
\text{1/t: } \eta_t = \frac{\eta_0}{1 + k t}$$

$$\text{cosine with warm restarts: } \eta_t = \eta_{\min}
+ \tfrac12(\eta_0 - \eta_{\min})\Bigl(1 + \cos\frac{\pi\, T_{cur}}{T_i}\Bigr)$$

$$\text{linear warm-up: }
\eta_t = \eta_0\Bigl(f_0 + (f_1 - f_0)\,\frac{\min(t, T)}{T}\Bigr)$$

Each matches the PyTorch scheduler of the same name (``StepLR``, ``ExponentialLR``,
``LambdaLR`` for 1/t, ``CosineAnnealingWarmRestarts``, ``LinearLR``) after ``t`` calls
to ``scheduler.step()``. The 1/t decay satisfies the Robbins-Monro conditions
$\sum_t \eta_t = \infty$, $\sum_t \eta_t^2 < \infty$; a constant rate does not.

Reference: Loshchilov & Hutter (2017), *SGDR: Stochastic Gradient Descent with Warm
Restarts*; Goyal et al. (2017), *Accurate, Large Minibatch SGD: Training ImageNet in 1
Hour*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import math

import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def step_lr(t, lr0, step_size, gamma=0.1):
    """Multiply by gamma every step_size steps (StepLR)."""
    t = _check(t, lr0)
    if not (isinstance(step_size, int) and step_size >= 1):
        raise ValueError(f"step_size must be a positive int, got {step_size!r}")
    _check_gamma(gamma)
    return lr0 * gamma ** (t // step_size)


def exponential_lr(t, lr0, gamma):
    """Multiply by gamma every step (ExponentialLR)."""
    t = _check(t, lr0)
    _check_gamma(gamma)
    return lr0 * gamma ** t.astype(np.float64)


def inverse_time_lr(t, lr0, k):
    """lr0 / (1 + k t): sum lr_t diverges, sum lr_t^2 converges (Robbins-Monro)."""
    t = _check(t, lr0)
    if not k > 0:
        raise ValueError(f"k must be positive, got {k}")
    return lr0 / (1.0 + k * t)


def cosine_warm_restarts_lr(t, lr0, T_0, T_mult=1, eta_min=0.0):
    """Cosine from lr0 to eta_min over T_i steps, then restart; T_i = T_0 * T_mult^i."""
    t = _check(t, lr0)
    _check_cosine(lr0, T_0, T_mult, eta_min)
    if T_mult == 1:
        T_cur, T_i = t % T_0, np.full_like(t, T_0)
    else:  # cycle i starts at T_0 (T_mult^i - 1) / (T_mult - 1): count the cycles
        i = np.floor(np.log(t / T_0 * (T_mult - 1) + 1) / np.log(T_mult))
        i = i.astype(np.int64)
        start = T_0 * (T_mult**i - 1) // (T_mult - 1)
        T_i = T_0 * T_mult**i
        i = np.where(t >= start + T_i, i + 1, i)  # guard the log against rounding
        start = T_0 * (T_mult**i - 1) // (T_mult - 1)
        T_cur, T_i = t - start, T_0 * T_mult**i
    return eta_min + 0.5 * (lr0 - eta_min) * (1.0 + np.cos(np.pi * T_cur / T_i))


def linear_warmup_lr(t, lr0, total_iters, start_factor=1.0 / 3, end_factor=1.0):
    """Scale lr0 linearly, start_factor to end_factor over total_iters (LinearLR)."""
    t = _check(t, lr0)
    if not (isinstance(total_iters, int) and total_iters >= 1):
        raise ValueError(f"total_iters must be a positive int, got {total_iters!r}")
    if not (0 < start_factor <= 1 and 0 <= end_factor <= 1):
        raise ValueError("start_factor must be in (0, 1] and end_factor in [0, 1]")
    frac = np.minimum(t, total_iters) / total_iters
    return lr0 * (start_factor + (end_factor - start_factor) * frac)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check(t, lr0):
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"t must be an integer step count (or array), got {t.dtype}")
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    if not lr0 > 0:
        raise ValueError(f"lr0 must be positive, got {lr0}")
    return t


def _check_gamma(gamma):
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")


def _check_cosine(lr0, T_0, T_mult, eta_min):
    if not (isinstance(T_0, int) and T_0 >= 1):
        raise ValueError(f"T_0 must be a positive int, got {T_0!r}")
    if not (isinstance(T_mult, int) and T_mult >= 1):
        raise ValueError(f"T_mult must be a positive int, got {T_mult!r}")
    if not 0 <= eta_min < lr0:
        raise ValueError(f"eta_min must be in [0, lr0), got {eta_min}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def warmup_cosine(optimizer, warmup_steps, total_steps, min_factor=0.0):
    """Linear warm-up from ~0 to the optimizer's lr, then one cosine decay.

    The decay ends at min_factor * lr and stays there. Call scheduler.step() once
    after every optimizer.step().
    """
    _check_warmup(warmup_steps, total_steps, min_factor)

    def factor(t):
        if t < warmup_steps:
            return (t + 1) / warmup_steps  # (Goyal et al. 2017)
        progress = min(1.0, (t - warmup_steps) / (total_steps - warmup_steps))
        return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def inverse_time(optimizer, k):
    """lr_t = lr0 / (1 + k t); PyTorch has no built-in class for it, so use LambdaLR."""
    if not k > 0:
        raise ValueError(f"k must be positive, got {k}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + k * t))


# The built-in equivalents of the NumPy functions above:
#   torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
#   torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
#   torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult,
#                                                        eta_min)
#   torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, end_factor, total_iters)
#   torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], [warmup_steps])
# CosineAnnealingLR(optimizer, T_max) climbs back up after T_max steps (at 2 T_max it
# is at lr0 again): stop stepping it, or use warmup_cosine, which stays at its floor.
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_warmup(warmup_steps, total_steps, min_factor):
    ints = isinstance(warmup_steps, int) and isinstance(total_steps, int)
    if not (ints and 0 <= warmup_steps < total_steps):
        raise ValueError("need ints 0 <= warmup_steps < total_steps")
    if not 0 <= min_factor <= 1:
        raise ValueError(f"min_factor must be in [0, 1], got {min_factor}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    t = np.arange(12)
    print(step_lr(t, 0.1, 4))
    print(cosine_warm_restarts_lr(t, 0.1, T_0=3, T_mult=2))
