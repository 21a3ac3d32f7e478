r"""BFGS: a quasi-Newton method that learns the inverse Hessian from gradient differences.

With $s_k = \theta_{k+1} - \theta_k$, $y_k = g_{k+1} - g_k$ and $\rho_k = 1/(y_k^\top s_k)$,

$$H_{k+1} = (I - \rho_k s_k y_k^\top)\, H_k\, (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top,
\qquad \theta_{k+1} = \theta_k - \alpha_k H_k g_k .$$

$H_{k+1}$ is the matrix closest to $H_k$ (in a weighted norm) that is symmetric and satisfies the
secant equation $H_{k+1} y_k = s_k$; the change $H_{k+1} - H_k$ has rank (at most) 2, and $H_{k+1}$
stays positive definite whenever the curvature condition $y_k^\top s_k > 0$ holds, which a
Wolfe line search guarantees. $\alpha_k$ comes from a line search (backtracking here). Memory is
$n^2$: for large $n$ use L-BFGS.

Reference: Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed., ch. 6 (eq. 6.17);
Broyden, Fletcher, Goldfarb and Shanno (1970).
"""

from typing import NamedTuple

import numpy as np
import torch


# --8<-- [start:numpy]
def bfgs_inverse_update(H, s, y):
    """The BFGS update of the inverse-Hessian approximation H from one pair (s, y).

    Raises ValueError if the curvature condition y^T s > 0 fails (H would lose definiteness).
    """
    H = np.asarray(H, dtype=np.float64)
    s, y = np.asarray(s, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = s.shape[0]
    if s.shape != (n,) or y.shape != (n,) or H.shape != (n, n):
        raise ValueError(f"s and y must be vectors of one length n and H (n, n); "
                         f"got {s.shape}, {y.shape}, {H.shape}")
    ys = y @ s
    if not ys > 0:
        raise ValueError(f"curvature condition y^T s > 0 fails (y^T s = {ys:.3g})")
    rho = 1.0 / ys
    V = np.eye(n) - rho * np.outer(y, s)                  # I - rho y s^T
    return V.T @ H @ V + rho * np.outer(s, s)             # (I - rho s y^T) H (I - rho y s^T) + ...


class BFGSResult(NamedTuple):
    theta: np.ndarray          # the last iterate
    thetas: np.ndarray         # every iterate, (k + 1, n)
    losses: np.ndarray         # loss at every iterate, (k + 1,)


def backtracking(loss_fn, theta, loss, grad, direction, alpha=1.0, c1=1e-4, shrink=0.5,
                 max_halvings=60):
    """Largest alpha in {1, 1/2, 1/4, ...} with sufficient decrease (Armijo condition)."""
    slope = grad @ direction                              # < 0 for a descent direction
    for _ in range(max_halvings):
        if loss_fn(theta + alpha * direction) <= loss + c1 * alpha * slope:
            return alpha
        alpha *= shrink
    return alpha


def bfgs_minimize(loss_fn, grad_fn, theta0, max_iter=200, tol=1e-10):
    """Minimise with BFGS from theta0 (H_0 = I, backtracking line search).

    The update is skipped when y^T s <= 0, which keeps H positive definite.
    Stops when |g|_inf <= tol or after ``max_iter`` iterations.
    """
    if not (callable(loss_fn) and callable(grad_fn)):
        raise TypeError("loss_fn and grad_fn must be callable")
    theta = np.array(theta0, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a vector, got shape {theta.shape}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
    H = np.eye(theta.size)
    loss, g = loss_fn(theta), grad_fn(theta)
    thetas, losses = [theta], [loss]
    for _ in range(max_iter):
        if np.abs(g).max() <= tol:
            break
        direction = -H @ g                                # quasi-Newton direction
        alpha = backtracking(loss_fn, theta, loss, g, direction)
        theta_new = theta + alpha * direction
        g_new = grad_fn(theta_new)
        s, y = theta_new - theta, g_new - g
        if y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            H = bfgs_inverse_update(H, s, y)
        theta, g, loss = theta_new, g_new, loss_fn(theta_new)
        thetas.append(theta)
        losses.append(loss)
    return BFGSResult(theta, np.stack(thetas), np.array(losses))
# --8<-- [end:numpy]


# --8<-- [start:torch]
def bfgs_inverse_update_torch(H, s, y):
    """The same rank-2 update on tensors (any device), written with outer products."""
    if not (H.ndim == 2 and s.ndim == 1 and y.shape == s.shape and H.shape[0] == s.shape[0]):
        raise ValueError("H must be (n, n) and s, y vectors of length n")
    ys = torch.dot(y, s)
    if not ys > 0:
        raise ValueError("curvature condition y^T s > 0 fails")
    rho = 1.0 / ys
    Hy = H @ y                                            # (n,)
    # Expanded form: H - rho (s (Hy)^T + Hy s^T) + (rho^2 y^T H y + rho) s s^T
    return (H - rho * (torch.outer(s, Hy) + torch.outer(Hy, s))
            + (rho * rho * torch.dot(y, Hy) + rho) * torch.outer(s, s))
# --8<-- [end:torch]


if __name__ == "__main__":
    def loss(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    def grad(p):
        return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                         200 * (p[1] - p[0] ** 2)])

    result = bfgs_minimize(loss, grad, np.array([-1.2, 1.0]))
    print(len(result.losses) - 1, "iterations to", result.theta)
