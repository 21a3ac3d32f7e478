r"""AdamW: Adam with weight decay applied to the weights directly, not via the gradient.

$$\theta_{t-1}' = (1 - \eta\lambda)\,\theta_{t-1}, \qquad
\theta_t = \theta_{t-1}' - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},$$

with $m_t, v_t, \hat m_t, \hat v_t$ exactly as in Adam, computed from the *data*
gradient $g_t$ alone. With L2 regularisation in Adam the penalty's gradient
$\lambda\theta$ is added to $g_t$ and then divided by $\sqrt{\hat v_t}$, so weights with
large gradients are barely regularised and the strength $\lambda$ is largely normalised
away. Decoupling restores a shrinkage by the same factor $1-\eta\lambda$ for every
weight. For plain SGD the two are the same thing (with $\lambda_{L2} = \lambda$); for
Adam they are not.

The paper writes the decay as $\eta_t \lambda \theta$ with $\eta_t$ the schedule
multiplier only; torch (and this code) multiply by the full learning rate, so $\lambda$
values do not transfer between the two conventions.

Reference: Loshchilov & Hutter (2019), *Decoupled Weight Decay Regularization*, ICLR.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class AdamWState(NamedTuple):
    m: np.ndarray        # first moment of the data gradient
    v: np.ndarray        # second moment of the data gradient
    v_max: np.ndarray    # running max of v (AMSGrad)
    step: int            # t, updates taken


def adamw_init(theta):
    """State for parameters theta: both moments start at zero, t = 0."""
    zeros = np.zeros(_check_theta(theta).shape)
    return AdamWState(m=zeros, v=zeros, v_max=zeros, step=0)


def adamw_update(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=1e-2, amsgrad=False):
    """One AdamW step; names and defaults follow torch.optim.AdamW.

    grad is the data gradient only; every step first multiplies theta by
    (1 - lr * weight_decay). lr, betas, eps, amsgrad as in Adam.
    Returns (theta, state).
    """
    theta, grad = _check_adamw_args(theta, grad, lr, betas, eps, weight_decay)
    beta1, beta2 = betas
    t = state.step + 1
    theta = theta * (1 - lr * weight_decay)         # decoupled decay: m, v never see it
    m = beta1 * state.m + (1 - beta1) * grad        # first moment of the data gradient
    v = beta2 * state.v + (1 - beta2) * grad * grad  # its second moment
    v_max = np.maximum(state.v_max, v) if amsgrad else state.v_max
    m_hat = m / (1 - beta1**t)
    v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, AdamWState(m=m, v=v, v_max=v_max, step=t)
# --8<-- [end:numpy]


# --8<-- [start:param_groups]
def adamw_param_groups(model, weight_decay=1e-2):
    """Two parameter groups: decay matrices and conv kernels, not biases or norm scales.

    Usage: torch.optim.AdamW(adamw_param_groups(model, 0.1), lr=3e-4).
    """
    if not callable(getattr(model, "parameters", None)):
        raise TypeError("model must be a torch.nn.Module (with .parameters())")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)   # 1-D: biases, norm weights
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]
# --8<-- [end:param_groups]


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


def _check_adamw_args(theta, grad, lr, betas, eps, weight_decay):
    _check_hyper("lr", lr, strict=True)
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise TypeError("betas must be a pair (beta1, beta2)")
    _check_hyper("betas[0]", betas[0], high=1.0)
    _check_hyper("betas[1]", betas[1], high=1.0)
    _check_hyper("eps", eps)
    _check_hyper("weight_decay", weight_decay)
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, "
                         f"got {grad.shape}")
    return theta, grad
# --8<-- [end:checks]


if __name__ == "__main__":
    theta, state = np.ones(1), adamw_init(np.ones(1))
    for _ in range(100):                         # zero data gradient: pure decay
        theta, state = adamw_update(theta, np.zeros(1), state, lr=1e-3,
                                    weight_decay=0.1)
    print(theta, (1 - 1e-4) ** 100)
