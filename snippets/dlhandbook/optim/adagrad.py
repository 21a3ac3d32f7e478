r"""AdaGrad: divide each coordinate's step by the root of its summed squared gradients.

$$G_t = G_{t-1} + g_t^2, \qquad
\theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t$$

(all operations elementwise). The square root matters: it makes the step invariant to
the scale of the gradient, and under a constant gradient $g$ the step is
$\eta\,g/(\sqrt{t}\,|g|)$, so it decays like $1/\sqrt{t}$. Coordinates that rarely
receive a gradient keep a small $G$ and hence a large step, which is why AdaGrad suits
sparse features.

Reference: Duchi, Hazan & Singer (2011), *Adaptive Subgradient Methods for Online
Learning and Stochastic Optimization*, JMLR 12.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class AdagradState(NamedTuple):
    G: np.ndarray    # running sum of squared gradients, theta's shape
    step: int        # updates taken


def adagrad_init(theta, initial_accumulator_value=0.0):
    """State for parameters theta: G starts at initial_accumulator_value."""
    theta = _check_theta(theta)
    _check_hyper("initial_accumulator_value", initial_accumulator_value)
    G = np.full(theta.shape, float(initial_accumulator_value))
    return AdagradState(G=G, step=0)


def adagrad_update(theta, grad, state, lr=1e-2, eps=1e-10, weight_decay=0.0,
                   lr_decay=0.0):
    """One AdaGrad step; names and defaults follow torch.optim.Adagrad.

    eps is added to sqrt(G) (outside the root, as in torch); weight_decay is
    coupled L2; lr_decay is torch's schedule lr / (1 + (t - 1) lr_decay).
    Returns (theta, state).
    """
    theta, grad = _check_adagrad_args(theta, grad, lr, eps, weight_decay, lr_decay)
    step = state.step + 1
    if weight_decay:
        grad = grad + weight_decay * theta              # coupled L2 penalty
    G = state.G + grad * grad                           # G_t = G_{t-1} + g_t^2
    lr_t = lr / (1.0 + (step - 1) * lr_decay)
    theta = theta - lr_t * grad / (np.sqrt(G) + eps)    # the square root is essential
    return theta, AdagradState(G=G, step=step)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_hyper(name, value, low=0.0, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value < low or (strict and value == low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {value}")


def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got {theta.dtype}")
    return theta


def _check_adagrad_args(theta, grad, lr, eps, weight_decay, lr_decay):
    _check_hyper("lr", lr, strict=True)
    _check_hyper("eps", eps)
    _check_hyper("weight_decay", weight_decay)
    _check_hyper("lr_decay", lr_decay)
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, "
                         f"got {grad.shape}")
    return theta, grad
# --8<-- [end:checks]


if __name__ == "__main__":
    theta, state = np.zeros(2), adagrad_init(np.zeros(2))
    for t in range(1, 5):
        new, state = adagrad_update(theta, np.array([1.0, 100.0]), state, lr=0.1)
        print(t, theta - new)                   # eta / sqrt(t) in both coordinates
        theta = new
