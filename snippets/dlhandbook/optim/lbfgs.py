r"""L-BFGS: the BFGS direction from the last m pairs (s, y), without ever forming a matrix.

The two-loop recursion computes $r = H_k g$, where $H_k$ is what $m$ BFGS updates
$H \leftarrow (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top$ would make of
$H_k^0 = \gamma_k I$, $\gamma_k = s_{k-1}^\top y_{k-1} / y_{k-1}^\top y_{k-1}$:

$$q \leftarrow g;\quad \text{for } i = k-1, \dots, k-m:\ \ a_i = \rho_i s_i^\top q,\ \
q \leftarrow q - a_i y_i;\qquad r \leftarrow \gamma_k q;$$
$$\text{for } i = k-m, \dots, k-1:\ \ b = \rho_i y_i^\top r,\ \ r \leftarrow r + (a_i - b)\, s_i .$$

Cost $O(mn)$ time and memory instead of $O(n^2)$. L-BFGS shines on deterministic, full-batch
problems; with mini-batch noise the differences $y$ mix curvature with noise and it degrades.

Reference: Liu & Nocedal (1989), *On the limited memory BFGS method for large scale
optimization*, Mathematical Programming 45; Nocedal & Wright (2006), Algorithm 7.4.
"""

from collections import deque

import numpy as np
import torch


# --8<-- [start:numpy]
def two_loop(grad, s_hist, y_hist, gamma=None):
    """r = H_k grad by the L-BFGS two-loop recursion (oldest pair first in the lists).

    gamma: the scale of H_k^0 = gamma I; default s^T y / y^T y of the newest pair (1 if none).
    """
    q = np.array(grad, dtype=np.float64)
    if q.ndim != 1:
        raise ValueError(f"grad must be a vector, got shape {q.shape}")
    if len(s_hist) != len(y_hist):
        raise ValueError("s_hist and y_hist must have the same length")
    rho = [1.0 / (y @ s) for s, y in zip(s_hist, y_hist, strict=True)]
    a = [0.0] * len(s_hist)
    for i in reversed(range(len(s_hist))):                # newest to oldest
        a[i] = rho[i] * (s_hist[i] @ q)
        q = q - a[i] * y_hist[i]
    if gamma is None:
        gamma = (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1]) if s_hist else 1.0
    r = gamma * q                                         # H_k^0 q
    for i in range(len(s_hist)):                          # oldest to newest
        b = rho[i] * (y_hist[i] @ r)
        r = r + (a[i] - b) * s_hist[i]
    return r


def wolfe_line_search(loss_fn, grad_fn, theta, direction, c1=1e-4, c2=0.9, max_evals=60):
    """A step alpha meeting the weak Wolfe conditions, by bracketing and bisection.

    Sufficient decrease f(x + a d) <= f(x) + c1 a g^T d, and curvature
    g(x + a d)^T d >= c2 g^T d. The second guarantees y^T s > 0, so every pair can be stored.
    """
    f0, slope = loss_fn(theta), grad_fn(theta) @ direction
    lo, hi, alpha = 0.0, np.inf, 1.0
    for _ in range(max_evals):
        if loss_fn(theta + alpha * direction) > f0 + c1 * alpha * slope:
            hi = alpha                                    # too long: shrink
        elif grad_fn(theta + alpha * direction) @ direction < c2 * slope:
            lo = alpha                                    # still steeply downhill: grow
        else:
            return alpha
        alpha = 0.5 * (lo + hi) if np.isfinite(hi) else 2.0 * lo
    return alpha


def lbfgs_minimize(loss_fn, grad_fn, theta0, history_size=10, max_iter=200, tol=1e-10,
                   line_search=True, lr=1.0):
    """Minimise with L-BFGS from theta0.

    line_search=True: a weak Wolfe line search from step 1. line_search=False: a fixed step
    ``lr`` (and min(1, 1/|g|_1) * lr on the first iteration), the rule ``torch.optim.LBFGS``
    uses with ``line_search_fn=None``. Pairs with y^T s <= 1e-10 are not stored.
    Returns (theta, thetas) with thetas of shape (k + 1, n).
    """
    if not (callable(loss_fn) and callable(grad_fn)):
        raise TypeError("loss_fn and grad_fn must be callable")
    if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
        raise ValueError(f"history_size must be a positive int, got {history_size!r}")
    theta = np.array(theta0, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a vector, got shape {theta.shape}")
    s_hist, y_hist = deque(maxlen=history_size), deque(maxlen=history_size)   # drop the oldest
    g, thetas = grad_fn(theta), [theta]
    for k in range(max_iter):
        if np.abs(g).max() <= tol:
            break
        direction = -two_loop(g, list(s_hist), list(y_hist))
        if line_search:
            alpha = wolfe_line_search(loss_fn, grad_fn, theta, direction)
        else:
            alpha = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 0 else lr
        theta_new = theta + alpha * direction
        g_new = grad_fn(theta_new)
        s, y = theta_new - theta, g_new - g
        if y @ s > 1e-10:                                 # keep H_k positive definite
            s_hist.append(s)
            y_hist.append(y)
        theta, g = theta_new, g_new
        thetas.append(theta)
    return theta, np.stack(thetas)
# --8<-- [end:numpy]


# --8<-- [start:torch]
def fit_lbfgs(loss_fn, params, max_iter=100, history_size=10, lr=1.0, tolerance_grad=1e-10):
    """Minimise ``loss_fn()`` over ``params`` with ``torch.optim.LBFGS`` (full batch).

    LBFGS calls the closure several times per step (the line search re-evaluates the loss),
    so the closure must recompute the loss and its gradients from scratch. Returns the loss.
    """
    if not callable(loss_fn):
        raise TypeError("loss_fn must be a callable returning a scalar tensor")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params must be a non-empty iterable of tensors with requires_grad")
    opt = torch.optim.LBFGS(params, lr=lr, max_iter=max_iter, history_size=history_size,
                            tolerance_grad=tolerance_grad, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)                                    # one call runs up to max_iter iterations
    with torch.no_grad():
        return loss_fn()
# --8<-- [end:torch]


if __name__ == "__main__":
    A = np.diag(np.arange(1.0, 101.0))                    # 100-d quadratic, condition number 100
    theta, thetas = lbfgs_minimize(lambda x: 0.5 * x @ A @ x, lambda x: A @ x, np.ones(100),
                                   history_size=5)
    print(len(thetas) - 1, "iterations, |theta| =", np.linalg.norm(theta))
