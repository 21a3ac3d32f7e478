r"""Adadelta: RMSProp's denominator; the learning rate replaced by the RMS of past
updates.

$$E[g^2]_t = \rho\,E[g^2]_{t-1} + (1-\rho)\,g_t^2, \qquad
\Delta\theta_t = -\frac{\sqrt{E[\Delta\theta^2]_{t-1} + \epsilon}}
{\sqrt{E[g^2]_t + \epsilon}}\; g_t,$$
$$E[\Delta\theta^2]_t = \rho\,E[\Delta\theta^2]_{t-1} + (1-\rho)\,\Delta\theta_t^2,
\qquad \theta_t = \theta_{t-1} + \eta\,\Delta\theta_t .$$

The numerator has the units of $\theta$ and the ratio $g_t/\sqrt{E[g^2]_t}$ is unitless,
so the step has the units of the parameter, as Newton's step $H^{-1}g$ does. Zeiler's
algorithm has no learning rate ($\eta = 1$); torch keeps an ``lr`` multiplier and
accumulates the unscaled $\Delta\theta_t$, which this code reproduces. Code names:
``Eg2`` is $E[g^2]$, ``Edx2`` is $E[\Delta\theta^2]$, ``delta`` is $\Delta\theta$.

Reference: Zeiler (2012), *ADADELTA: An Adaptive Learning Rate Method*, arXiv:1212.5701.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class AdadeltaState(NamedTuple):
    Eg2: np.ndarray     # EMA of g^2
    Edx2: np.ndarray    # EMA of the squared updates
    step: int           # updates taken


def adadelta_init(theta):
    """State for parameters theta: both accumulators start at zero."""
    shape = _check_theta(theta).shape
    return AdadeltaState(Eg2=np.zeros(shape), Edx2=np.zeros(shape), step=0)


def adadelta_update(theta, grad, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
                    eps_delta=None):
    """One Adadelta step; names and defaults follow torch.optim.Adadelta.

    Zeiler uses rho=0.95 and lr=1 (no learning rate). eps is added inside both
    square roots; since E[dtheta^2] starts at zero it also sets the first step.
    eps_delta: a separate epsilon for the numerator (default eps), used to
    show the units argument exactly; torch has a single eps. Returns (theta, state).
    """
    theta, grad = _check_adadelta_args(theta, grad, lr, rho, eps, weight_decay)
    eps_delta = eps if eps_delta is None else eps_delta
    _check_hyper("eps_delta", eps_delta, strict=True)
    if weight_decay:
        grad = grad + weight_decay * theta
    Eg2 = rho * state.Eg2 + (1 - rho) * grad * grad              # E[g^2]_t
    delta = np.sqrt(state.Edx2 + eps_delta) / np.sqrt(Eg2 + eps) * grad
    Edx2 = rho * state.Edx2 + (1 - rho) * delta * delta          # E[dtheta^2]_t
    theta = theta - lr * delta                     # RMS[dtheta]_{t-1} replaces the lr
    return theta, AdadeltaState(Eg2=Eg2, Edx2=Edx2, step=state.step + 1)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_hyper(name, value, low=0.0, high=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    bad = not np.isfinite(value) or value < low or (strict and value == low)
    if bad or (high is not None and value > high):
        raise ValueError(f"{name} is out of range, got {value}")


def _check_theta(theta):
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got {theta.dtype}")
    return theta


def _check_adadelta_args(theta, grad, lr, rho, eps, weight_decay):
    _check_hyper("lr", lr, strict=True)
    _check_hyper("rho", rho, high=1.0)
    _check_hyper("eps", eps, strict=True)
    _check_hyper("weight_decay", weight_decay)
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, "
                         f"got {grad.shape}")
    return theta, grad
# --8<-- [end:checks]


if __name__ == "__main__":
    theta, state = np.array([1.0, 1.0]), adadelta_init(np.zeros(2))
    for _ in range(3):
        grad = np.array([2.0, 200.0]) * theta
        theta, state = adadelta_update(theta, grad, state, rho=0.95)
        print(theta)
