r"""Nesterov momentum: take the gradient where the momentum is about to carry you.

Look-ahead form (Sutskever et al. 2013), velocity $v$, $v_0 = 0$:

$$v_{t+1} = \mu\, v_t - \eta\,\nabla J(\theta_t + \mu v_t), \qquad
\theta_{t+1} = \theta_t + v_{t+1}$$

PyTorch form (``torch.optim.SGD(nesterov=True)``), buffer $b$, evaluated at the
look-ahead point $\tilde\theta_t = \theta_t + \mu v_t$ itself:

$$b_t = \mu\, b_{t-1} + g_t, \qquad
\tilde\theta_{t} = \tilde\theta_{t-1} - \eta\,(g_t + \mu\, b_t)$$

With a constant $\eta$ the two are the same algorithm under $b = -v/\eta$: PyTorch's
iterates are the look-ahead points. Compared with the heavy ball the gradient is
evaluated after the momentum step, so a step that overshoots is corrected one step
earlier.

Reference: Nesterov (1983), *A method of solving a convex programming problem with
convergence rate O(1/k^2)*; Sutskever, Martens, Dahl & Hinton (2013), *On the importance
of initialization and momentum in deep learning*.
"""

# --8<-- [start:imports_numpy]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class NesterovState(NamedTuple):
    """The momentum buffer b and the step count t."""

    b: np.ndarray
    step: int


def nesterov_init(theta):
    """Start with an empty buffer, b = 0."""
    _check_theta(theta)
    return NesterovState(b=np.zeros_like(theta), step=0)


def nesterov_update(theta, grad, state, lr, momentum=0.9, weight_decay=0.0):
    """One step of torch.optim.SGD(lr, momentum, nesterov=True, weight_decay)."""
    theta, grad = _check_update(theta, grad, lr, momentum, weight_decay)
    g = grad + weight_decay * theta
    if state.step == 0:
        b = g.copy()  # b_1 = g_1
    else:
        b = momentum * state.b + g  # b_t = mu b_{t-1} + g_t
    step = g + momentum * b  # gradient + look-ahead
    return theta - lr * step, NesterovState(b=b, step=state.step + 1)


def nesterov_lookahead(grad_fn, theta0, lr, momentum, n_steps):
    """The look-ahead form, evaluating grad_fn at theta + momentum * v.

    Returns:
        (thetas, vs): arrays of shape (n_steps + 1, *theta0.shape), theta_t and v_t.
    """
    _check_lookahead(grad_fn, lr, momentum, n_steps)
    theta = np.array(theta0, dtype=np.float64)
    v = np.zeros_like(theta)
    thetas, vs = [theta], [v]
    for _ in range(n_steps):
        v = momentum * v - lr * grad_fn(theta + momentum * v)  # gradient at look-ahead
        theta = theta + v
        thetas.append(theta)
        vs.append(v)
    return np.stack(thetas), np.stack(vs)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a float array, got dtype {theta.dtype}")


def _check_hyper(lr, momentum, weight_decay):
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")


def _check_update(theta, grad, lr, momentum, weight_decay):
    _check_hyper(lr, momentum, weight_decay)
    theta, grad = np.asarray(theta), np.asarray(grad)
    if theta.shape != grad.shape:
        raise ValueError(f"grad shape {grad.shape} != theta shape {theta.shape}")
    return theta, grad


def _check_lookahead(grad_fn, lr, momentum, n_steps):
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    _check_hyper(lr, momentum, 0.0)
    if not (isinstance(n_steps, int) and n_steps >= 0):
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def nesterov_optimizer(params, lr, momentum=0.9, weight_decay=0.0):
    """torch.optim.SGD with Nesterov momentum (needs momentum > 0, no dampening)."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not 0 < momentum < 1:
        raise ValueError(f"momentum must be in (0, 1) for Nesterov, got {momentum}")
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True,
                           weight_decay=weight_decay)
# --8<-- [end:torch]


if __name__ == "__main__":
    A = np.diag([100.0, 1.0])
    theta, state = np.array([1.0, 1.0]), nesterov_init(np.zeros(2))
    for _ in range(100):
        theta, state = nesterov_update(theta, A @ theta, state, lr=0.01, momentum=0.9)
    print(f"|theta_100| = {np.linalg.norm(theta):.2e}")
