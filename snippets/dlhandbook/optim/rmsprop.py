r"""RMSProp: divide the step by a running root-mean-square of recent gradients.

$$v_t = \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2, \qquad
\theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t$$

$v_t$ is an exponential moving average of squared first-order gradients (an uncentred second
moment), not a second derivative. The centred variant divides by an estimate of the standard
deviation instead, $\sqrt{v_t - \bar g_t^2}$ with $\bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t$;
the momentum variant accumulates the normalised step in a buffer $b_t = \mu b_{t-1} +
g_t/(\sqrt{v_t}+\epsilon)$ and moves by $\eta\, b_t$. There is no bias correction: the first step
is $\eta/\sqrt{1-\alpha}$ per coordinate when $\epsilon$ is negligible.

Reference: Tieleman & Hinton (2012), *Lecture 6.5, rmsprop: Divide the gradient by a running
average of its recent magnitude*, COURSERA: Neural Networks for Machine Learning; centred form
from Graves (2013), *Generating Sequences With Recurrent Neural Networks*.
"""

from typing import NamedTuple

import numpy as np
import torch


# --8<-- [start:numpy]
class RMSpropState(NamedTuple):
    """v: EMA of g^2; g_bar: EMA of g (centred only); b: momentum buffer; step: updates taken."""

    v: np.ndarray
    g_bar: np.ndarray
    b: np.ndarray
    step: int


def _check_hyper(name, value, low=0.0, high=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    bad = not np.isfinite(value) or value < low or (strict and value == low)
    if bad or (high is not None and value >= high):
        raise ValueError(f"{name} is out of range, got {value}")


def rmsprop_init(theta):
    """State for parameters ``theta``: all moving averages start at zero."""
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got dtype {theta.dtype}")
    zeros = np.zeros(theta.shape)
    return RMSpropState(v=zeros, g_bar=zeros, b=zeros, step=0)


def rmsprop_update(theta, grad, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                   momentum=0.0, centered=False):
    """One RMSProp step; argument names and defaults follow ``torch.optim.RMSprop``.

    Args:
        theta, grad: parameters and the gradient at theta, float arrays of one shape.
        state: an ``RMSpropState``.
        lr: step size eta. alpha: decay of the moving averages (Hinton's lecture used 0.9).
        eps: added outside the square root, as in torch.
        weight_decay: coupled L2 coefficient (added to the gradient).
        momentum: mu >= 0; the normalised step is accumulated in a buffer b.
        centered: divide by sqrt(v - g_bar^2), an estimate of the gradient's std.
    Returns:
        (new theta, new state).
    """
    _check_hyper("lr", lr, strict=True)
    _check_hyper("alpha", alpha, high=1.0)
    _check_hyper("eps", eps)
    _check_hyper("weight_decay", weight_decay)
    _check_hyper("momentum", momentum)
    if not isinstance(centered, bool):
        raise TypeError("centered must be a bool")
    theta, grad = np.asarray(theta, dtype=np.float64), np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, got {grad.shape}")
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
        b = momentum * b + grad / denom                    # momentum on the normalised step
        theta = theta - lr * b
    else:
        theta = theta - lr * grad / denom
    return theta, RMSpropState(v=v, g_bar=g_bar, b=b, step=state.step + 1)
# --8<-- [end:numpy]


# --8<-- [start:torch]
def rmsprop_torch_reference(theta0, grads, device="cpu", **hyper):
    """Feed a fixed list of gradients to ``torch.optim.RMSprop``; return every iterate.

    ``hyper`` goes to ``torch.optim.RMSprop`` (lr, alpha, eps, weight_decay, momentum,
    centered). Returns an array of shape (len(grads) + 1, *theta0.shape), float64.
    """
    theta = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64, device=device))
    opt = torch.optim.RMSprop([theta], **hyper)
    out = [theta.detach().clone()]
    for g in grads:
        theta.grad = torch.as_tensor(g, dtype=torch.float64, device=device).clone()
        opt.step()
        out.append(theta.detach().clone())
    return torch.stack(out).cpu().numpy()
# --8<-- [end:torch]


if __name__ == "__main__":
    state = rmsprop_init(np.zeros(3))
    theta, _ = rmsprop_update(np.zeros(3), np.array([1e-3, 1.0, 1e3]), state)
    print(-theta)                                          # eta / sqrt(1 - alpha) = 0.1 each
