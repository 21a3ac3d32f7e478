r"""BFGS: a quasi-Newton method; it learns the inverse Hessian from gradient changes.

With $s_k = \theta_{k+1} - \theta_k$, $y_k = g_{k+1} - g_k$ and
$\rho_k = 1/(y_k^\top s_k)$,

$$H_{k+1} = (I - \rho_k s_k y_k^\top)\, H_k\, (I - \rho_k y_k s_k^\top)
+ \rho_k s_k s_k^\top, \qquad \theta_{k+1} = \theta_k - \alpha_k H_k g_k .$$

$H_{k+1}$ is the matrix closest to $H_k$ (in a weighted norm) that is symmetric and
satisfies the secant equation $H_{k+1} y_k = s_k$; the change $H_{k+1} - H_k$ has rank
(at most) 2, and $H_{k+1}$ stays positive definite whenever the curvature condition
$y_k^\top s_k > 0$ holds, which a Wolfe line search guarantees. $\alpha_k$ comes from a
line search (Armijo backtracking here, so the update is skipped when $y_k^\top s_k \le
0$). Memory is $n^2$: for large $n$ use L-BFGS.

Reference: Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed., ch. 6 (eq. 6.17);
Broyden (1970), Fletcher (1970), Goldfarb (1970) and Shanno (1970).
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
def bfgs_inverse_update(H, s, y):
    """The BFGS update of the inverse-Hessian approximation H from one pair (s, y).

    Raises ValueError if the curvature condition y^T s > 0 fails.
    """
    H, s, y = _check_pair(H, s, y)
    ys = y @ s
    if not ys > 0:
        raise ValueError(f"curvature condition y^T s > 0 fails (y^T s = {ys:.3g})")
    rho = 1.0 / ys
    V = np.eye(s.shape[0]) - rho * np.outer(y, s)       # I - rho y s^T
    return V.T @ H @ V + rho * np.outer(s, s)        # V^T H V + rho s s^T


class BFGSResult(NamedTuple):
    theta: np.ndarray          # the last iterate
    thetas: np.ndarray         # every iterate, (k + 1, n)
    losses: np.ndarray         # loss at every iterate, (k + 1,)
    converged: bool            # max |g| <= tol was reached
    message: str               # why it stopped


def bfgs_minimize(loss_fn, grad_fn, theta0, max_iter=200, tol=1e-10):
    """Minimise with BFGS from theta0 (H_0 = I, backtracking line search).

    The update is skipped when y^T s <= 0, which keeps H positive definite.
    Stops when max |g| <= tol, after max_iter iterations, or (flagged in the
    result) when the line search finds no decrease.
    """
    theta = _check_bfgs_args(loss_fn, grad_fn, theta0, max_iter)
    H = np.eye(theta.size)
    loss, g = loss_fn(theta), grad_fn(theta)
    thetas, losses, message = [theta], [loss], "max_iter reached"
    for _ in range(max_iter):
        if np.abs(g).max() <= tol:
            break
        direction = -H @ g                                # quasi-Newton direction
        try:
            alpha, loss_new = backtracking(loss_fn, theta, loss, g, direction)
        except RuntimeError as err:                       # stop loudly, keep theta
            message = f"line search failed: {err}"
            break
        theta_new = theta + alpha * direction
        g_new = grad_fn(theta_new)
        s, y = theta_new - theta, g_new - g
        if y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            H = bfgs_inverse_update(H, s, y)
        theta, g, loss = theta_new, g_new, loss_new       # reuse the line search's loss
        thetas.append(theta)
        losses.append(loss)
    converged = bool(np.abs(g).max() <= tol)
    return BFGSResult(theta, np.stack(thetas), np.array(losses), converged,
                      "converged" if converged else message)
# --8<-- [end:numpy]


# --8<-- [start:line_search]
def backtracking(loss_fn, theta, loss, grad, direction, alpha=1.0, c1=1e-4, shrink=0.5,
                 max_halvings=60):
    """Largest alpha in {1, 1/2, 1/4, ...} with sufficient decrease (Armijo).

    Returns (alpha, loss at the new point); raises RuntimeError if none is found.
    """
    slope = grad @ direction                              # < 0 for a descent direction
    for _ in range(max_halvings):
        loss_new = loss_fn(theta + alpha * direction)
        if loss_new <= loss + c1 * alpha * slope:
            return alpha, loss_new
        alpha *= shrink
    raise RuntimeError(f"no sufficient decrease after {max_halvings} halvings")
# --8<-- [end:line_search]


# --8<-- [start:checks]
def _check_pair(H, s, y):
    H = np.asarray(H, dtype=np.float64)
    s, y = np.asarray(s, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = s.shape[0]
    if s.shape != (n,) or y.shape != (n,) or H.shape != (n, n):
        raise ValueError(f"s and y must be vectors of one length n and H (n, n); "
                         f"got {s.shape}, {y.shape}, {H.shape}")
    return H, s, y


def _check_bfgs_args(loss_fn, grad_fn, theta0, max_iter):
    if not (callable(loss_fn) and callable(grad_fn)):
        raise TypeError("loss_fn and grad_fn must be callable")
    theta = np.array(theta0, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a vector, got shape {theta.shape}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
    return theta
# --8<-- [end:checks]


if __name__ == "__main__":
    def loss(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    def grad(p):
        return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                         200 * (p[1] - p[0] ** 2)])

    result = bfgs_minimize(loss, grad, np.array([-1.2, 1.0]))
    print(len(result.losses) - 1, "iterations to", result.theta)
