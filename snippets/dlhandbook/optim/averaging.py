r"""Weight averaging: evaluate an average of the iterates instead of the last one.

Uniform (Polyak-Ruppert, and SWA when it starts late in training with a high or cyclic
lr):

$$\bar\theta_n = \frac1n \sum_{k=1}^{n} \theta_k
\quad\Longleftrightarrow\quad
\bar\theta_{n} = \bar\theta_{n-1} + \frac{\theta_n - \bar\theta_{n-1}}{n}.$$

Exponential moving average (EMA) with decay $\beta$, started at the first iterate:

$$\tilde\theta_1 = \theta_1, \qquad
\tilde\theta_n = \beta\,\tilde\theta_{n-1} + (1-\beta)\,\theta_n .$$

SGD with a constant step does not converge: it keeps bouncing around the minimum with a
spread set by the gradient noise and the step size. Averaging the bouncing iterates
cancels much of that noise, for free, without changing the training run. The uniform
average weights all iterates equally; the EMA forgets with a window of about
$1/(1-\beta)$ steps, so it also tracks a moving target. Networks with BatchNorm need
their running statistics recomputed for the averaged weights
(``torch.optim.swa_utils.update_bn``).

With a constant step the average converges to the mean of the iterates' stationary
distribution: the minimiser for a quadratic, O(lr) away from it in general.

Reference: Polyak (1990), *New stochastic approximation type procedures*, Avtomatika i
Telemekhanika 7; Polyak & Juditsky (1992), *Acceleration of Stochastic Approximation by
Averaging*, SIAM J. Control Optim. 30(4); Izmailov et al. (2018), *Averaging Weights
Leads to Wider Optima and Better Generalization*, UAI.
"""

# --8<-- [start:imports_numpy]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class AverageState(NamedTuple):
    theta_avg: np.ndarray    # the running average
    n_averaged: int          # how many iterates it contains


def average_init(theta):
    """Start an average (uniform or EMA) at the first iterate theta_1."""
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got {theta.dtype}")
    return AverageState(theta_avg=theta.astype(np.float64), n_averaged=1)


def uniform_update(state, theta):
    """Add iterate theta to the uniform (Polyak / SWA) average."""
    theta = _check_theta(state, theta)
    n = state.n_averaged + 1
    theta_avg = state.theta_avg + (theta - state.theta_avg) / n    # running mean
    return AverageState(theta_avg=theta_avg, n_averaged=n)


def ema_update(state, theta, decay=0.999):
    """Add iterate theta to the exponential moving average with decay beta."""
    _check_decay(decay)
    theta = _check_theta(state, theta)
    theta_avg = decay * state.theta_avg + (1 - decay) * theta
    return AverageState(theta_avg=theta_avg, n_averaged=state.n_averaged + 1)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_theta(state, theta):
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != state.theta_avg.shape:
        raise ValueError(f"theta must have shape {state.theta_avg.shape}, "
                         f"got {theta.shape}")
    return theta


def _check_decay(decay):
    if (isinstance(decay, bool) or not isinstance(decay, (int, float))
            or not 0 <= decay < 1):
        raise ValueError(f"decay must be a number in [0, 1), got {decay!r}")
# --8<-- [end:checks]


# --8<-- [start:torch]
def train_with_averaging(model, loss_fn, batches, lr=0.1, ema_decay=0.999, swa_start=0):
    """Train model with SGD on batches, keeping an EMA copy and a uniform (SWA) copy.

    loss_fn(model, batch) returns a scalar loss; one SGD step per batch.
    swa_start: first step that joins the uniform average (SWA averages only the
    late, bouncing phase). Returns (ema_model, swa_model), AveragedModel wrappers.
    """
    _check_averaging_args(model, ema_decay, swa_start)
    swa_utils = torch.optim.swa_utils
    ema_avg = swa_utils.get_ema_multi_avg_fn(ema_decay)
    ema_model = swa_utils.AveragedModel(model, multi_avg_fn=ema_avg)
    swa_model = swa_utils.AveragedModel(model)       # default: uniform running mean
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for step, batch in enumerate(batches):
        opt.zero_grad()
        loss_fn(model, batch).backward()
        opt.step()
        ema_model.update_parameters(model)                # first call copies, then EMA
        if step >= swa_start:
            swa_model.update_parameters(model)       # first copies, then running mean
    # With BatchNorm layers: torch.optim.swa_utils.update_bn(train_loader, swa_model)
    return ema_model, swa_model
# --8<-- [end:torch]


# --8<-- [start:torch_checks]
def _check_averaging_args(model, ema_decay, swa_start):
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not 0 <= ema_decay < 1:
        raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
    if swa_start < 0:
        raise ValueError(f"swa_start must be >= 0, got {swa_start}")
# --8<-- [end:torch_checks]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    theta = np.ones(2)
    ema = swa = average_init(theta)
    for _ in range(2000):                   # SGD on |theta|^2 / 2 with noisy grads
        theta = theta - 0.1 * (theta + rng.standard_normal(2))
        ema, swa = ema_update(ema, theta, 0.99), uniform_update(swa, theta)
    print("last", np.linalg.norm(theta), "ema", np.linalg.norm(ema.theta_avg),
          "uniform", np.linalg.norm(swa.theta_avg))
