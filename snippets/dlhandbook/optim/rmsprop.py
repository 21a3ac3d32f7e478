r"""RMSProp: divide the step by a running root-mean-square of recent gradients.

$$v_t = \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2, \qquad
\theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t$$

$v_t$ is an exponential moving average of squared first-order gradients (an uncentred
second moment), not a second derivative. The centred variant divides by an estimate of
the standard deviation instead, $\sqrt{v_t - \bar g_t^2}$ with $\bar g_t = \alpha \bar
g_{t-1} + (1-\alpha) g_t$; the momentum variant accumulates the normalised step in a
buffer $b_t = \mu b_{t-1} + g_t/(\sqrt{v_t}+\epsilon)$ and moves by $\eta\, b_t$. There
is no bias correction: the first step is $\eta/\sqrt{1-\alpha}$ per coordinate when
$\epsilon$ is negligible.

Reference: Tieleman & Hinton (2012), *Lecture 6.5, rmsprop: Divide the gradient by a
running average of its recent magnitude*, COURSERA: Neural Networks for Machine
Learning; the centred form (with eps outside the root, as torch writes it; Graves puts
it inside) from Graves (2013), *Generating Sequences With Recurrent Neural Networks*.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class RMSpropState(NamedTuple):
    v: np.ndarray        # EMA of g^2
    g_bar: np.ndarray    # EMA of g (centred variant only)
    b: np.ndarray        # momentum buffer
    step: int            # updates taken


def rmsprop_init(theta):
    """State for parameters theta: all moving averages start at zero."""
    zeros = np.zeros(_check_theta(theta).shape)
    return RMSpropState(v=zeros, g_bar=zeros, b=zeros, step=0)


def rmsprop_update(theta, grad, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                   momentum=0.0, centered=False):
    """One RMSProp step; names and defaults follow torch.optim.RMSprop.

    alpha: decay of the moving averages (Hinton's lecture used 0.9); eps is
    added outside the square root, as in torch; weight_decay is coupled L2;
    momentum accumulates the normalised step in a buffer b; centered divides
    by sqrt(v - g_bar^2), an estimate of the gradient's std. Returns (theta, state).
    """
    theta, grad = _check_rmsprop_args(theta, grad, lr, alpha, eps, weight_decay,
                                      momentum, centered)
    if weight_decay:
        grad = grad + weight_decay * theta
    v = alpha * state.v + (1 - alpha) * grad * grad        # EMA of the squared gradient
    g_bar = state.g_bar
    if centered:
        g_bar = alpha * g_bar + (1 - alpha) * grad         # EMA of the gradient
        var = np.maximum(v - g_bar * g_bar, 0.0)           # >= 0 exactly; clip rounding
        denom = np.sqrt(var) + eps                         # ~ standard deviation of g
    else:
        denom = np.sqrt(v) + eps                           # root mean square of g
    b = state.b
    if momentum > 0:
        b = momentum * b + grad / denom                    # momentum on the step
        theta = theta - lr * b
    else:
        theta = theta - lr * grad / denom
    return theta, RMSpropState(v=v, g_bar=g_bar, b=b, step=state.step + 1)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_hyper(name, value, low=0.0, high=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    bad = not np.isfinite(value) or value < low or (strict and value == low)
    if bad or (high is not None and value >= high):
        raise ValueError(f"{name} is out of range, got {value}")


def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got {theta.dtype}")
    return theta


def _check_rmsprop_args(theta, grad, lr, alpha, eps, weight_decay, momentum, centered):
    _check_hyper("lr", lr, strict=True)
    _check_hyper("alpha", alpha, high=1.0)
    _check_hyper("eps", eps)
    _check_hyper("weight_decay", weight_decay)
    _check_hyper("momentum", momentum)
    if not isinstance(centered, bool):
        raise TypeError("centered must be a bool")
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, "
                         f"got {grad.shape}")
    return theta, grad
# --8<-- [end:checks]


if __name__ == "__main__":
    state = rmsprop_init(np.zeros(3))
    theta, _ = rmsprop_update(np.zeros(3), np.array([1e-3, 1.0, 1e3]), state)
    print(-theta)                          # eta / sqrt(1 - alpha) = 0.1 each
