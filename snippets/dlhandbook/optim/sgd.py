r"""Stochastic gradient descent: gradient steps on the gradient of a random mini-batch.

$$g_t = \frac1B \sum_{i \in \mathcal B_t} \nabla \ell_i(\theta_t), \qquad
\theta_{t+1} = \theta_t - \eta_t \,(g_t + \lambda\,\theta_t)$$

With $\mathcal B_t$ drawn uniformly, $\mathbb E[g_t] = \nabla J(\theta_t)$: the step is
right on average. With a constant $\eta$ the iterates settle in a noise ball around the
minimiser whose size grows with $\eta$; with $\sum_t \eta_t = \infty$ and
$\sum_t \eta_t^2 < \infty$ they converge (convex case). $\lambda$ is ``weight_decay``
as in ``torch.optim.SGD``.

Reference: Robbins & Monro (1951), *A Stochastic Approximation Method*.
"""

# --8<-- [start:imports_numpy]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class SGDState(NamedTuple):
    """Plain SGD keeps no memory, only the step count t (for schedules)."""

    step: int


def sgd_init(theta):
    """Start the state for parameters theta."""
    _check_theta(theta)
    return SGDState(step=0)


def sgd_update(theta, grad, state, lr, weight_decay=0.0):
    """theta <- theta - lr * (grad + weight_decay * theta); returns (theta, state)."""
    theta, grad = _check_update(theta, grad, lr, weight_decay)
    g = grad + weight_decay * theta  # L2 penalty folded into the gradient
    return theta - lr * g, SGDState(step=state.step + 1)


def sgd(grad_fn, theta0, n, batch_size, lr, n_steps, seed=0, replace=False,
        record_every=1):
    """Mini-batch SGD: each step samples batch_size of the n examples uniformly.

    Args:
        grad_fn: callable (theta, idx) -> mean gradient over the examples idx.
        theta0: float array, the starting point.
        n: number of training examples.
        batch_size: B, 1 <= B <= n (B = n without replacement is gradient descent).
        lr: a positive float, or a callable t -> lr_t (a schedule, t = 0, 1, ...).
        n_steps: number of updates.
        seed: seed of the sampling generator; the run is a function of it.
        replace: sample each batch with replacement (True) or without (False).
        record_every: keep every k-th iterate in the trajectory.
    Returns:
        (theta, trajectory), trajectory of shape (n_steps // record_every + 1, ...).
    """
    _check_sgd(grad_fn, n, batch_size, n_steps, record_every)
    lr_at = lr if callable(lr) else (lambda t: lr)
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=np.float64)
    state = sgd_init(theta)
    trajectory = [theta]
    for t in range(n_steps):
        if replace:
            idx = rng.integers(0, n, size=batch_size)  # (B,) example indices
        else:
            idx = rng.choice(n, size=batch_size, replace=False)
        theta, state = sgd_update(theta, grad_fn(theta, idx), state, lr_at(t))
        if (t + 1) % record_every == 0:
            trajectory.append(theta)
    return theta, np.stack(trajectory)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a float array, got dtype {theta.dtype}")


def _check_update(theta, grad, lr, weight_decay):
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    theta, grad = np.asarray(theta), np.asarray(grad)
    if theta.shape != grad.shape:
        raise ValueError(f"grad shape {grad.shape} != theta shape {theta.shape}")
    return theta, grad


def _check_sgd(grad_fn, n, batch_size, n_steps, record_every):
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not (isinstance(batch_size, int) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an int in [1, n={n}], got {batch_size!r}")
    if not (isinstance(n_steps, int) and n_steps >= 0):
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
    if not (isinstance(record_every, int) and record_every >= 1):
        raise ValueError(f"record_every must be a positive int, got {record_every!r}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def train_epoch(model, loader, loss_fn, optimizer):
    """One epoch of mini-batch SGD; returns the mean training loss over the epoch.

    loader is e.g. DataLoader(dataset, batch_size=64, shuffle=True): it reshuffles
    every epoch and yields each example once. optimizer is e.g.
    torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).
    """
    _check_train(model, optimizer)
    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)  # mean loss of this mini-batch: unbiased estimate
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(X), count + len(X)
    if count == 0:
        raise ValueError("loader yielded no batches")
    return total / count
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_train(model, optimizer):
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError("optimizer must be a torch.optim.Optimizer")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(1000)

    def grad_fn(w, idx):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)

    w, _ = sgd(grad_fn, np.zeros(3), n=1000, batch_size=32, lr=0.05, n_steps=500)
    print(w)
