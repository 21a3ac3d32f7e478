r"""L-BFGS: the BFGS direction from the last m pairs (s, y), never forming a matrix.

The two-loop recursion computes $r = H_k g$, where $H_k$ is what $m$ BFGS updates
$H \leftarrow (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top$ would make of
$H_k^0 = \gamma_k I$, $\gamma_k = s_{k-1}^\top y_{k-1} / y_{k-1}^\top y_{k-1}$:

$$q \leftarrow g;\quad \text{for } i = k-1, \dots, k-m:\ \ a_i = \rho_i s_i^\top q,\ \
q \leftarrow q - a_i y_i;\qquad r \leftarrow \gamma_k q;$$
$$\text{for } i = k-m, \dots, k-1:\ \ b = \rho_i y_i^\top r,\ \
r \leftarrow r + (a_i - b)\, s_i .$$

Cost $O(mn)$ time and memory instead of $O(n^2)$. L-BFGS shines on deterministic,
full-batch problems; with mini-batch noise the differences $y$ mix curvature with noise
and it degrades.

The driver counts its loss and gradient evaluations (the honest cost, not iterations),
reuses the gradient that the line search computed at the accepted point, and reports a
line search that finds no Wolfe step instead of silently taking a bad one.

Reference: Nocedal (1980), *Updating quasi-Newton matrices with limited storage*,
Mathematics of Computation 35; Liu & Nocedal (1989), *On the limited memory BFGS method
for large scale optimization*, Mathematical Programming 45; Nocedal & Wright (2006),
Algorithm 7.4.
"""

# --8<-- [start:imports_numpy]
from collections import deque
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def two_loop(grad, s_hist, y_hist, gamma=None):
    """r = H_k grad by the two-loop recursion (oldest pair first in the lists)."""
    q = np.array(grad, dtype=np.float64)
    _check_history(q, s_hist, y_hist)
    rho = [1.0 / (y @ s) for s, y in zip(s_hist, y_hist, strict=True)]
    a = [0.0] * len(s_hist)
    for i in reversed(range(len(s_hist))):                # newest to oldest
        a[i] = rho[i] * (s_hist[i] @ q)
        q = q - a[i] * y_hist[i]
    if gamma is None:                                     # scale of H_k^0 = gamma I
        s, y = (s_hist[-1], y_hist[-1]) if s_hist else (None, None)
        gamma = (s @ y) / (y @ y) if s_hist else 1.0
    r = gamma * q                                         # H_k^0 q
    for i in range(len(s_hist)):                          # oldest to newest
        b = rho[i] * (y_hist[i] @ r)
        r = r + (a[i] - b) * s_hist[i]
    return r


class LbfgsResult(NamedTuple):
    theta: np.ndarray       # the last iterate
    thetas: np.ndarray      # every iterate, (k + 1, n)
    n_loss: int             # loss evaluations
    n_grad: int             # gradient evaluations
    converged: bool         # max |g| <= tol was reached
    message: str            # why it stopped


def lbfgs_minimize(loss_fn, grad_fn, theta0, history_size=10, max_iter=200,
                   tol=1e-10, line_search=True, lr=1.0):
    """Minimise with L-BFGS from theta0; returns an LbfgsResult.

    line_search=True: a weak Wolfe line search, trying step 1 first.
    line_search=False: a fixed step lr (min(1, 1/|g|_1) * lr on the first
    iteration), what torch.optim.LBFGS does with line_search_fn=None.
    """
    theta = _check_lbfgs_args(loss_fn, grad_fn, theta0, history_size)
    s_hist = deque(maxlen=history_size)                   # drops the oldest pair
    y_hist = deque(maxlen=history_size)
    f, g = loss_fn(theta), grad_fn(theta)
    n_loss, n_grad, thetas = 1, 1, [theta]
    message = "max_iter reached"
    for k in range(max_iter):
        if np.abs(g).max() <= tol:
            message = "converged"
            break
        direction = -two_loop(g, list(s_hist), list(y_hist))
        if line_search:
            try:
                alpha, f_new, g_new, nf, ng = wolfe_line_search(
                    loss_fn, grad_fn, theta, direction, f, g)
            except LineSearchError as err:                # stop loudly, keep theta
                message = f"line search failed: {err}"
                break
            n_loss, n_grad = n_loss + nf, n_grad + ng
        else:
            alpha = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 0 else lr
            f_new, g_new = None, grad_fn(theta + alpha * direction)
            n_grad += 1
        theta_new = theta + alpha * direction
        s, y = theta_new - theta, g_new - g
        if y @ s > 1e-10:                                 # keep H_k positive definite
            s_hist.append(s)
            y_hist.append(y)
        theta, f, g = theta_new, f_new, g_new             # reuse, never recompute
        thetas.append(theta)
    else:
        if np.abs(g).max() <= tol:
            message = "converged"
    return LbfgsResult(theta, np.stack(thetas), n_loss, n_grad,
                       message == "converged", message)
# --8<-- [end:numpy]


# --8<-- [start:line_search]
class LineSearchError(RuntimeError):
    """No step meeting the Wolfe conditions was found within max_evals."""


def wolfe_line_search(loss_fn, grad_fn, theta, direction, f0, g0, c1=1e-4, c2=0.9,
                      max_evals=60):
    """A step meeting the weak Wolfe conditions, by bracketing and bisection.

    Sufficient decrease f(x + a d) <= f(x) + c1 a g^T d and curvature
    g(x + a d)^T d >= c2 g^T d; the second makes y^T s > 0. Returns
    (alpha, f, g at the new point, loss evaluations, gradient evaluations)
    and raises LineSearchError if max_evals trials find no such step.
    """
    slope = g0 @ direction
    if not slope < 0:
        raise LineSearchError(f"direction is not a descent direction ({slope=:.3g})")
    lo, hi, alpha, n_grad = 0.0, np.inf, 1.0, 0
    for n_loss in range(1, max_evals + 1):
        x = theta + alpha * direction
        f = loss_fn(x)
        if not f <= f0 + c1 * alpha * slope:
            hi = alpha                                    # too long: shrink
        else:
            g = grad_fn(x)
            n_grad += 1
            if g @ direction < c2 * slope:
                lo = alpha                                # still steeply downhill: grow
            else:
                return alpha, f, g, n_loss, n_grad
        alpha = 0.5 * (lo + hi) if np.isfinite(hi) else 2.0 * lo
    raise LineSearchError(f"no Wolfe step in {max_evals} trials "
                          f"(max |g| = {np.abs(g0).max():.3g}; is tol below rounding?)")
# --8<-- [end:line_search]


# --8<-- [start:checks]
def _check_history(q, s_hist, y_hist):
    if q.ndim != 1:
        raise ValueError(f"grad must be a vector, got shape {q.shape}")
    if len(s_hist) != len(y_hist):
        raise ValueError("s_hist and y_hist must have the same length")


def _check_lbfgs_args(loss_fn, grad_fn, theta0, history_size):
    if not (callable(loss_fn) and callable(grad_fn)):
        raise TypeError("loss_fn and grad_fn must be callable")
    if (isinstance(history_size, bool) or not isinstance(history_size, int)
            or history_size < 1):
        raise ValueError(f"history_size must be a positive int, got {history_size!r}")
    theta = np.array(theta0, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a vector, got shape {theta.shape}")
    return theta
# --8<-- [end:checks]


# --8<-- [start:torch]
def fit_lbfgs(loss_fn, params, max_iter=100, history_size=10, lr=1.0,
              tolerance_grad=1e-10):
    """Minimise loss_fn() over params with torch.optim.LBFGS (full batch).

    LBFGS calls the closure several times per step (the line search re-evaluates
    the loss), so the closure recomputes the loss and its gradients from scratch.
    torch's defaults are line_search_fn=None (a fixed step) and history_size=100;
    we ask for the strong Wolfe search. Returns the final loss.
    """
    if not callable(loss_fn):
        raise TypeError("loss_fn must be a callable returning a scalar tensor")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad
                             for p in params):
        raise ValueError("params must be a non-empty iterable of tensors "
                         "with requires_grad")
    opt = torch.optim.LBFGS(params, lr=lr, max_iter=max_iter, history_size=history_size,
                            tolerance_grad=tolerance_grad, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)                            # one call runs up to max_iter steps
    with torch.no_grad():
        return loss_fn()
# --8<-- [end:torch]


if __name__ == "__main__":
    A = np.diag(np.arange(1.0, 101.0))            # 100-d quadratic, condition 100
    result = lbfgs_minimize(lambda x: 0.5 * x @ A @ x, lambda x: A @ x, np.ones(100),
                            history_size=5, max_iter=1000, tol=1e-8)
    print(result.message, len(result.thetas) - 1, "iterations,", result.n_grad,
          "gradients,", result.n_loss, "losses")
