r"""Adadelta: RMSProp's denominator, with the learning rate replaced by the RMS of past updates.

$$E[g^2]_t = \rho\,E[g^2]_{t-1} + (1-\rho)\,g_t^2, \qquad
\Delta\theta_t = -\frac{\sqrt{E[\Delta\theta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\; g_t,$$
$$E[\Delta\theta^2]_t = \rho\,E[\Delta\theta^2]_{t-1} + (1-\rho)\,\Delta\theta_t^2, \qquad
\theta_t = \theta_{t-1} + \eta\,\Delta\theta_t .$$

The numerator has the units of $\theta$ and the ratio $g_t/\sqrt{E[g^2]_t}$ is unitless, so the
step has the units of the parameter, as Newton's step $H^{-1}g$ does. Zeiler's algorithm has no
learning rate ($\eta = 1$); torch keeps an ``lr`` multiplier and accumulates the unscaled
$\Delta\theta_t$, which this code reproduces. Code names: ``Eg2`` is $E[g^2]$, ``Edx2`` is
$E[\Delta\theta^2]$, ``delta`` is $\Delta\theta$.

Reference: Zeiler (2012), *ADADELTA: An Adaptive Learning Rate Method*, arXiv:1212.5701.
"""

from typing import NamedTuple

import numpy as np
import torch


# --8<-- [start:numpy]
class AdadeltaState(NamedTuple):
    """Eg2: EMA of g^2; Edx2: EMA of the squared updates; step: updates taken."""

    Eg2: np.ndarray
    Edx2: np.ndarray
    step: int


def _check_hyper(name, value, low=0.0, high=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    bad = not np.isfinite(value) or value < low or (strict and value == low)
    if bad or (high is not None and value > high):
        raise ValueError(f"{name} is out of range, got {value}")


def adadelta_init(theta):
    """State for parameters ``theta``: both accumulators start at zero."""
    theta = np.asarray(theta)
    if not np.issubdtype(theta.dtype, np.floating):
        raise TypeError(f"theta must be a floating-point array, got dtype {theta.dtype}")
    return AdadeltaState(Eg2=np.zeros(theta.shape), Edx2=np.zeros(theta.shape), step=0)


def adadelta_update(theta, grad, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
                    eps_delta=None):
    """One Adadelta step; names and defaults follow ``torch.optim.Adadelta`` (Zeiler: rho=0.95).

    Args:
        theta, grad: parameters and the gradient at theta, float arrays of one shape.
        state: an ``AdadeltaState``.
        lr: multiplier on the update (1.0 is Zeiler's algorithm).
        rho: decay of both moving averages, in [0, 1].
        eps: added inside both square roots. It also sets the size of the very first step,
            sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g, since E[dtheta^2] starts at zero.
        weight_decay: coupled L2 coefficient (added to the gradient).
        eps_delta: a separate epsilon for the numerator RMS[dtheta]; defaults to ``eps``.
            (Used to show the units argument exactly; torch has a single eps.)
    Returns:
        (new theta, new state).
    """
    _check_hyper("lr", lr, strict=True)
    _check_hyper("rho", rho, high=1.0)
    _check_hyper("eps", eps, strict=True)
    _check_hyper("weight_decay", weight_decay)
    eps_delta = eps if eps_delta is None else eps_delta
    _check_hyper("eps_delta", eps_delta, strict=True)
    theta, grad = np.asarray(theta, dtype=np.float64), np.asarray(grad, dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"grad must have theta's shape {theta.shape}, got {grad.shape}")
    if weight_decay:
        grad = grad + weight_decay * theta
    Eg2 = rho * state.Eg2 + (1 - rho) * grad * grad                 # E[g^2]_t
    delta = np.sqrt(state.Edx2 + eps_delta) / np.sqrt(Eg2 + eps) * grad
    Edx2 = rho * state.Edx2 + (1 - rho) * delta * delta             # E[dtheta^2]_t
    theta = theta - lr * delta                                      # RMS[dtheta]_{t-1} replaces lr
    return theta, AdadeltaState(Eg2=Eg2, Edx2=Edx2, step=state.step + 1)
# --8<-- [end:numpy]


# --8<-- [start:torch]
def adadelta_torch_reference(theta0, grads, device="cpu", **hyper):
    """Feed a fixed list of gradients to ``torch.optim.Adadelta``; return every iterate.

    ``hyper`` goes to ``torch.optim.Adadelta`` (lr, rho, eps, weight_decay). Returns an array of
    shape (len(grads) + 1, *theta0.shape), float64.
    """
    theta = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64, device=device))
    opt = torch.optim.Adadelta([theta], **hyper)
    out = [theta.detach().clone()]
    for g in grads:
        theta.grad = torch.as_tensor(g, dtype=torch.float64, device=device).clone()
        opt.step()
        out.append(theta.detach().clone())
    return torch.stack(out).cpu().numpy()
# --8<-- [end:torch]


if __name__ == "__main__":
    theta, state = np.array([1.0, 1.0]), adadelta_init(np.zeros(2))
    for _ in range(3):
        theta, state = adadelta_update(theta, np.array([2.0, 200.0]) * theta, state, rho=0.95)
        print(theta)
