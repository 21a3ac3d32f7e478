r"""Adam: momentum on the gradient, RMSProp's scaling, a correction for the zero start.

$$m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t, \qquad
v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2,$$
$$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
\theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.$$

$m_t$ and $v_t$ are moving-average estimates of $\mathbb E[g]$ and $\mathbb E[g^2]$;
since both start at zero they are biased towards zero by the factors $1-\beta^t$, which
$\hat m_t$ and $\hat v_t$ undo. Options: ``amsgrad`` divides by the running maximum of
$v$, bias-corrected as torch does (Reddi et al. 2018 use the maximum without correction,
so that the per-coordinate rate never grows); ``weight_decay`` adds $\lambda\theta$ to
the gradient (L2 regularisation, *coupled*: it is rescaled by $1/\sqrt{\hat v}$ like the
gradient, which is why AdamW exists); ``bias_correction=False`` gives the uncorrected
algorithm, whose first step is $\eta(1-\beta_1)/\sqrt{1-\beta_2}$.

Reference: Kingma & Ba (2015), *Adam: A Method for Stochastic Optimization*, ICLR.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class AdamState(NamedTuple):
    m: np.ndarray        # first moment estimate
    v: np.ndarray        # second moment estimate (uncentred)
    v_max: np.ndarray    # running max of v (AMSGrad)
    step: int            # t, updates taken


def adam_init(theta):
    """State for parameters theta: both moments start at zero, t = 0."""
    zeros = np.zeros(_check_theta(theta).shape)
    return AdamState(m=zeros, v=zeros, v_max=zeros, step=0)


def adam_update(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                weight_decay=0.0, amsgrad=False, bias_correction=True):
    """One Adam step; names and defaults follow torch.optim.Adam.

    eps is added to sqrt(v_hat) (PyTorch's placement); weight_decay is coupled
    L2 (g + lambda theta); amsgrad divides by the running max of v;
    bias_correction=False is the uncorrected algorithm. Returns (theta, state).
    """
    theta, grad = _check_adam_args(theta, grad, lr, betas, eps, weight_decay)
    beta1, beta2 = betas
    t = state.step + 1
    if weight_decay:
        grad = grad + weight_decay * theta              # L2: the penalty's gradient
    m = beta1 * state.m + (1 - beta1) * grad            # first moment estimate
    v = beta2 * state.v + (1 - beta2) * grad * grad     # second moment estimate
    v_max = np.maximum(state.v_max, v) if amsgrad else state.v_max
    v_used = v_max if amsgrad else v
    if bias_correction:
        m_hat = m / (1 - beta1**t)                      # undo the zero initialisation
        v_hat = v_used / (1 - beta2**t)
    else:
        m_hat, v_hat = m, v_used
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, AdamState(m=m, v=v, v_max=v_max, step=t)
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


def _check_adam_args(theta, grad, lr, betas, eps, weight_decay):
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
    g = np.array([1e-3, 1.0, 1e3])
    for bc in (True, False):
        theta, _ = adam_update(np.zeros(3), g, adam_init(np.zeros(3)),
                               bias_correction=bc)
        print(f"bias_correction={bc}: first step / lr =", -theta / 1e-3)
