r"""L1, L2 and elastic-net penalties, their (sub)gradients and proximal steps.

The regularised objective is $\tilde J(w) = J(w) + \Omega(w)$ with

$$\Omega_{L1}(w) = \lambda\lVert w\rVert_1, \qquad
\Omega_{L2}(w) = \frac{\lambda}{2}\lVert w\rVert_2^2, \qquad
\Omega_{EN}(w) = \lambda\Bigl(\alpha\lVert w\rVert_1
+ \frac{1-\alpha}{2}\lVert w\rVert_2^2\Bigr).$$

The factor $\tfrac12$ makes $\nabla\Omega_{L2} = \lambda w$, which is what
``torch.optim.SGD(weight_decay=lam)`` adds to the gradient. A gradient step on the L2
term is weight decay, $w \leftarrow (1-\eta\lambda)w - \eta\nabla J$. L1 has no gradient
at $0$; its proximal step is soft-thresholding,

$$w \leftarrow S_{\eta\lambda}(w - \eta\nabla J), \qquad
S_t(v) = \operatorname{sign}(v)\max(|v| - t, 0),$$

which sets every coordinate with $|v| \le \eta\lambda$ exactly to zero (ISTA). For the
least-squares loss $J(w) = \frac{1}{2n}\lVert Xw - y\rVert^2$ the lasso solution is
$w = 0$ exactly when $\lambda \ge \lVert X^\top y\rVert_\infty / n$.

References: Tibshirani (1996), *Regression Shrinkage and Selection via the Lasso*,
JRSS B; Zou & Hastie (2005), *Regularization and Variable Selection via the Elastic
Net*, JRSS B.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def l1_penalty(w, lam):
    """lam * sum |w|."""
    w = _check_w(w)
    return _check_lam("lam", lam) * np.abs(w).sum()


def l1_subgradient(w, lam):
    """lam * sign(w): the gradient where w != 0, the subgradient 0 at w = 0."""
    w = _check_w(w)
    return _check_lam("lam", lam) * np.sign(w)


def l2_penalty(w, lam):
    """lam / 2 * sum w**2 (so that its gradient is lam * w)."""
    w = _check_w(w)
    return 0.5 * _check_lam("lam", lam) * (w * w).sum()


def l2_gradient(w, lam):
    """lam * w: proportional to the weight."""
    w = _check_w(w)
    return _check_lam("lam", lam) * w


def elastic_net_penalty(w, lam, l1_ratio=0.5):
    """lam * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2**2)."""
    a = _check_l1_ratio(l1_ratio)
    return l1_penalty(w, lam * a) + l2_penalty(w, lam * (1 - a))


def elastic_net_subgradient(w, lam, l1_ratio=0.5):
    a = _check_l1_ratio(l1_ratio)
    return l1_subgradient(w, lam * a) + l2_gradient(w, lam * (1 - a))


def soft_threshold(v, t):
    """sign(v) * max(|v| - t, 0): the proximal map of t * |.|_1."""
    v = _check_w(v, "v")
    return np.sign(v) * np.maximum(np.abs(v) - _check_lam("t", t), 0.0)


def l2_decay_step(w, grad, lr, lam):
    """Gradient step on J + L2: the same as (1 - lr*lam) * w - lr * grad."""
    w, grad = _check_step(w, grad, lr)
    return (1 - lr * _check_lam("lam", lam)) * w - lr * grad


def l1_prox_step(w, grad, lr, lam):
    """Proximal gradient (ISTA) step on J + L1: a gradient step, then shrink."""
    w, grad = _check_step(w, grad, lr)
    return soft_threshold(w - lr * grad, lr * _check_lam("lam", lam))


def elastic_net_prox_step(w, grad, lr, lam, l1_ratio=0.5):
    """Proximal step on J + elastic net: soft-threshold, then divide."""
    w, grad = _check_step(w, grad, lr)
    lam, a = _check_lam("lam", lam), _check_l1_ratio(l1_ratio)
    shrunk = soft_threshold(w - lr * grad, lr * lam * a)
    return shrunk / (1 + lr * lam * (1 - a))
# --8<-- [end:numpy]


# --8<-- [start:solvers]
def ridge_closed_form(X, y, lam):
    """argmin 1/(2n) |Xw - y|^2 + lam/2 |w|^2 = (X'X/n + lam I)^-1 X'y/n."""
    X, y = _check_Xy(X, y)
    n, d = X.shape
    A = X.T @ X / n + _check_lam("lam", lam) * np.eye(d)
    return np.linalg.solve(A, X.T @ y / n)


def lasso_ista(X, y, lam, n_iter=3000, lr=None):
    """argmin 1/(2n) |Xw - y|^2 + lam |w|_1 by ISTA from w = 0."""
    X, y = _check_Xy(X, y)
    n, d = X.shape
    G, c = X.T @ X / n, X.T @ y / n                  # (d, d), (d,)
    if lr is None:
        lr = 1.0 / np.linalg.eigvalsh(G)[-1]         # 1/L, L = largest eig of G
    w = np.zeros(d)
    for _ in range(_check_n_iter(n_iter)):
        grad = G @ w - c                             # = X'(Xw - y)/n, the data term
        w = l1_prox_step(w, grad, lr, lam)
    return w


def l1_subgradient_descent(X, y, lam, lr, n_iter=3000):
    """Plain (sub)gradient descent on the same lasso objective: no prox."""
    X, y = _check_Xy(X, y)
    if _check_lam("lr", lr) == 0:
        raise ValueError("lr must be > 0, got 0")
    w = np.zeros(X.shape[1])
    for _ in range(_check_n_iter(n_iter)):
        grad = X.T @ (X @ w - y) / len(y) + l1_subgradient(w, lam)
        w = w - lr * grad
    return w


def lasso_lambda_max(X, y):
    """Smallest lam for which the lasso solution is w = 0: |X'y|_inf / n."""
    X, y = _check_Xy(X, y)
    return np.abs(X.T @ y).max() / len(y)


def regularization_path(X, y, lams, kind="l1", n_iter=3000):
    """Solutions for each lam in lams, one row each: shape (len(lams), d)."""
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    solve = lasso_ista if kind == "l1" else ridge_closed_form
    extra = {"n_iter": n_iter} if kind == "l1" else {}
    return np.stack([solve(X, y, lam, **extra) for lam in lams])
# --8<-- [end:solvers]


# --8<-- [start:checks_numpy]
def _check_lam(name, lam):
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(lam).__name__}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {lam}")
    return float(lam)


def _check_l1_ratio(l1_ratio):
    _check_lam("l1_ratio", l1_ratio)
    if l1_ratio > 1:
        raise ValueError(f"l1_ratio must lie in [0, 1], got {l1_ratio}")
    return float(l1_ratio)


def _check_w(w, name="w"):
    w = np.asarray(w)
    if not np.issubdtype(w.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got {w.dtype}")
    return w


def _check_step(w, grad, lr):
    w, grad = _check_w(w), _check_w(grad, "grad")
    if grad.shape != w.shape:
        raise ValueError(f"grad must have w's shape {w.shape}, got {grad.shape}")
    if _check_lam("lr", lr) == 0:
        raise ValueError("lr must be > 0, got 0")
    return w, grad


def _check_Xy(X, y):
    X, y = _check_w(X, "X"), _check_w(y, "y")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    return X, y


def _check_n_iter(n_iter):
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
        raise ValueError(f"n_iter must be an integer >= 1, got {n_iter!r}")
    return n_iter
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def l1_penalty_torch(params, lam):
    """lam * sum of |p| over params, summed in float32 or wider."""
    params, lam = _check_params(params), _check_lam_torch("lam", lam)
    return lam * sum(p.abs().sum(dtype=_acc(p)) for p in params)


def l2_penalty_torch(params, lam):
    """lam / 2 * sum of p**2: same gradient as SGD(weight_decay=lam)."""
    params, lam = _check_params(params), _check_lam_torch("lam", lam)
    return 0.5 * lam * sum(p.to(_acc(p)).square().sum() for p in params)


@torch.no_grad()
def l1_prox_(params, lr, lam):
    """In place, after optimizer.step(): p <- sign(p) * max(|p| - lr*lam, 0)."""
    params = _check_params(params)
    t = _check_lam_torch("lr", lr) * _check_lam_torch("lam", lam)
    for p in params:
        shrunk = (p.abs() - t).clamp_(min=0)        # exact zeros below t
        p.copy_(p.sign() * shrunk)
    return params


def decayed_parameters(model):
    """The weights a penalty usually covers: no biases, no norm scales."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _acc(p):
    return torch.promote_types(p.dtype, torch.float32)   # fp16/bf16 sum in fp32


def _check_lam_torch(name, lam):
    if isinstance(lam, bool) or not isinstance(lam, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(lam).__name__}")
    if not (lam >= 0 and lam < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {lam}")
    return float(lam)


def _check_params(params):
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    for p in params:
        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            raise TypeError("params must be floating-point tensors")
    return params
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    w, g = np.array([0.01, 0.1, 1.0, 10.0]), np.zeros(4)
    print("L2 step:", l2_decay_step(w, g, lr=0.1, lam=1.0))
    print("L1 prox:", l1_prox_step(w, g, lr=0.1, lam=1.0))
    p = torch.tensor([0.01, -0.1, 1.0, -10.0])
    print("torch prox:", l1_prox_(p, lr=0.1, lam=1.0)[0])
