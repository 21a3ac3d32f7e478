r"""Gradient descent: step against the gradient, with a step size set by the curvature.

$$\theta_{t+1} = \theta_t - \eta\,\nabla J(\theta_t)$$

On a quadratic $J(\theta) = \tfrac12 \theta^\top A \theta$ the error along the
eigenvector with eigenvalue $\lambda$ is multiplied by $1 - \eta\lambda$ at every step,
so gradient descent converges if and only if $0 < \eta < 2/L$, where
$L = \lambda_{\max}(A)$.

Reference: Cauchy (1847), *Méthode générale pour la résolution des systèmes d'équations
simultanées*; rates as in Bottou, Curtis & Nocedal (2018), *Optimization Methods for
Large-Scale Machine Learning*.
"""

# --8<-- [start:imports_numpy]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class GDState(NamedTuple):
    """Plain gradient descent keeps no memory, only the step count t."""

    step: int


def gd_init(theta):
    """Start the state for parameters theta."""
    _check_theta(theta)
    return GDState(step=0)


def gd_update(theta, grad, state, lr):
    """One step theta <- theta - lr * grad; returns (new theta, new state)."""
    theta, grad = _check_update(theta, grad, lr)
    return theta - lr * grad, GDState(step=state.step + 1)


def gradient_descent(grad_fn, theta0, lr, n_steps):
    """Run n_steps of gradient descent from theta0.

    Args:
        grad_fn: callable theta -> gradient of the full (empirical) loss at theta.
        theta0: float array, the starting point.
        lr: step size eta > 0.
        n_steps: number of updates, >= 0.
    Returns:
        (theta, trajectory): the last iterate and an array (n_steps + 1, *theta0.shape).
    """
    _check_run(grad_fn, n_steps)
    theta = np.array(theta0, dtype=np.float64)
    state = gd_init(theta)
    trajectory = [theta]
    for _ in range(n_steps):
        theta, state = gd_update(theta, grad_fn(theta), state, lr)
        trajectory.append(theta)
    return theta, np.stack(trajectory)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a float array, got dtype {theta.dtype}")


def _check_update(theta, grad, lr):
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"lr must be a real number, got {type(lr).__name__}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    theta, grad = np.asarray(theta), np.asarray(grad)
    if theta.shape != grad.shape:
        raise ValueError(f"grad shape {grad.shape} != theta shape {theta.shape}")
    return theta, grad


def _check_run(grad_fn, n_steps):
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def full_batch_gd(model, loss_fn, X, y, lr, n_steps):
    """Train model by full-batch gradient descent; returns the loss before each step.

    Every step uses all of X: the gradient is exact for the training loss. The update
    is torch.optim.SGD with no momentum, i.e. theta <- theta - lr * grad.
    """
    _check_full_batch(model, X, y, lr, n_steps)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(n_steps):
        optimizer.zero_grad()  # gradients accumulate unless cleared
        loss = loss_fn(model(X), y)  # mean loss over the whole training set
        loss.backward()  # backprop fills p.grad for every parameter
        optimizer.step()  # theta <- theta - lr * grad
        losses.append(loss.item())
    return losses
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_full_batch(model, X, y, lr, n_steps):
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    tensors = isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)
    if not tensors or len(X) != len(y):
        raise ValueError("X and y must be tensors with the same first dimension")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    A = np.diag([4.0, 1.0])
    for lr in (0.1, 0.45, 0.55):              # 2 / L = 0.5
        theta, _ = gradient_descent(lambda th: A @ th, np.array([1.0, 1.0]), lr, 50)
        print(f"lr={lr}: |theta_50| = {np.linalg.norm(theta):.3g}")
