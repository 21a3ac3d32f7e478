r"""SGD with momentum (Polyak's heavy ball): PyTorch's form and the moving-average form.

PyTorch form (``torch.optim.SGD``), buffer $b$ and dampening $\tau$:

$$b_1 = g_1, \quad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t, \qquad
\theta_{t} = \theta_{t-1} - \eta\, b_t$$

Moving-average (EMA) form, $v_0 = 0$:

$$v_t = \beta\, v_{t-1} + (1 - \beta)\, g_t, \qquad
\theta_t = \theta_{t-1} - \eta\, v_t$$

With $\tau = 0$ the two are the same algorithm: $v_t = (1-\beta)\, b_t$, so the EMA form
with step $\eta$ is the PyTorch form with step $\eta(1-\beta)$. With a constant $\eta$
the PyTorch form is Polyak's heavy ball,
$\theta_{t+1} = \theta_t - \eta\nabla J(\theta_t) + \mu(\theta_t - \theta_{t-1})$.

Reference: Polyak (1964), *Some methods of speeding up the convergence of iteration
methods*; Sutskever, Martens, Dahl & Hinton (2013), *On the importance of initialization
and momentum in deep learning*.
"""

# --8<-- [start:imports_numpy]
import math
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class MomentumState(NamedTuple):
    """The momentum buffer b (a running sum of past gradients) and the step count t."""

    b: np.ndarray
    step: int


def momentum_init(theta):
    """Start with an empty buffer, b = 0."""
    _check_theta(theta)
    return MomentumState(b=np.zeros_like(theta), step=0)


def momentum_update(theta, grad, state, lr, momentum=0.9, dampening=0.0,
                    weight_decay=0.0):
    """One step of torch.optim.SGD(lr, momentum, dampening, weight_decay)."""
    theta, grad = _check_update(theta, grad, lr, momentum, dampening, weight_decay)
    g = grad + weight_decay * theta  # L2 penalty folded into g
    if state.step == 0 or momentum == 0:
        b = g.copy()  # b_1 = g_1: the first step is never dampened (as in torch)
    else:
        b = momentum * state.b + (1 - dampening) * g  # b_t = mu b_{t-1} + (1 - tau) g_t
    return theta - lr * b, MomentumState(b=b, step=state.step + 1)


class EMAMomentumState(NamedTuple):
    """The moving average v of past gradients and the step count t."""

    v: np.ndarray
    step: int


def ema_momentum_init(theta):
    """Start with v = 0."""
    _check_theta(theta)
    return EMAMomentumState(v=np.zeros_like(theta), step=0)


def ema_momentum_update(theta, grad, state, lr, beta=0.9):
    """v <- beta v + (1 - beta) g; theta <- theta - lr v.

    Equal to the PyTorch form at learning rate lr * (1 - beta).
    """
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    theta, grad = _check_update(theta, grad, lr, 0.0, 0.0, 0.0)
    v = beta * state.v + (1 - beta) * grad  # exponential moving average of g
    return theta - lr * v, EMAMomentumState(v=v, step=state.step + 1)


def heavy_ball_optimal_params(mu, L):
    """Polyak's best (lr, momentum) for a quadratic with Hessian eigenvalues in [mu, L].

    The error then shrinks asymptotically like ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^t
    with kappa = L / mu, against ((kappa - 1) / (kappa + 1))^t for the best plain
    gradient descent, lr = 2 / (L + mu).
    """
    if not (0 < mu <= L and math.isfinite(L)):
        raise ValueError(f"need 0 < mu <= L < inf, got mu={mu}, L={L}")
    sqrt_L, sqrt_mu = math.sqrt(L), math.sqrt(mu)
    lr = 4.0 / (sqrt_L + sqrt_mu) ** 2
    momentum = ((sqrt_L - sqrt_mu) / (sqrt_L + sqrt_mu)) ** 2
    return lr, momentum
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a float array, got dtype {theta.dtype}")


def _check_update(theta, grad, lr, momentum, dampening, weight_decay):
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if not 0 <= dampening <= 1:
        raise ValueError(f"dampening must be in [0, 1], got {dampening}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    theta, grad = np.asarray(theta), np.asarray(grad)
    if theta.shape != grad.shape:
        raise ValueError(f"grad shape {grad.shape} != theta shape {theta.shape}")
    return theta, grad
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def momentum_optimizer(params, lr, momentum=0.9, weight_decay=0.0, ema_form=False):
    """torch.optim.SGD with heavy-ball momentum.

    With ema_form=True, lr is read as the step of the moving-average form
    v = momentum v + (1 - momentum) g, which is PyTorch's form with lr * (1 - momentum).
    (dampening=momentum is not the same: PyTorch never dampens the first step.)
    """
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    step = lr * (1 - momentum) if ema_form else lr
    return torch.optim.SGD(params, lr=step, momentum=momentum,
                           weight_decay=weight_decay)
# --8<-- [end:torch]


if __name__ == "__main__":
    A = np.diag([100.0, 1.0])
    lr, mu = heavy_ball_optimal_params(1.0, 100.0)
    theta, state = np.array([1.0, 1.0]), momentum_init(np.zeros(2))
    for _ in range(100):
        theta, state = momentum_update(theta, A @ theta, state, lr, mu)
    print(f"heavy ball lr={lr:.4f} momentum={mu:.4f}: "
          f"|theta_100| = {np.linalg.norm(theta):.2e}")
