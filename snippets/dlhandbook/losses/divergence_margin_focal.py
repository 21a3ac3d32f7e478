r"""KL divergence, the multi-class hinge loss and the binary focal loss; gradients.

$$\mathrm{KL}(p\,\|\,q) = \sum_k p_k \log\frac{p_k}{q_k}, \qquad
\mathrm{hinge}(s, y) = \frac1K \sum_{k \ne y} \max(0,\ m - s_y + s_k), \qquad
\mathrm{FL}(z, y) = -\alpha_t (1 - p_t)^\gamma \log p_t$$

with $p_t = \sigma(z)$ for $y = 1$, $1 - \sigma(z)$ for $y = 0$. Cross-entropy is
$H(p, q) = H(p) + \mathrm{KL}(p\,\|\,q)$; the focal loss with $\gamma = 0$ and
$\alpha_t = 1$ is binary cross-entropy.

References: Kullback & Leibler (1951), *On Information and Sufficiency*; Crammer &
Singer (2001), *On the Algorithmic Implementation of Multiclass Kernel-based Vector
Machines*, JMLR; Lin, Goyal, Girshick, He & Dollár (2017), *Focal Loss for Dense
Object Detection*, ICCV.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def kl_divergence(p, log_q):
    """Mean over rows of sum_k p_k (log p_k - log q_k); terms with p_k = 0 are 0."""
    p, log_q = _check_same_shape(p, log_q, "p", "log_q")
    if np.any(p < 0):
        raise ValueError("p must be non-negative")
    with np.errstate(divide="ignore"):
        log_p = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
    return (p * (log_p - log_q)).sum(axis=-1).mean()


def kl_divergence_grad(p, log_q):
    """d KL / d log_q = -p / (number of rows)."""
    p, log_q = _check_same_shape(p, log_q, "p", "log_q")
    return -p / (p.size // p.shape[-1])


def multi_margin_loss(scores, target, margin=1.0):
    """Mean multi-class hinge loss of scores (N, K); torch's multi_margin_loss."""
    s, y = _check_scores(scores, target, margin)
    n, k = s.shape
    s_y = s[np.arange(n), y][:, None]                          # (N, 1)
    viol = np.maximum(0.0, margin - s_y + s)                   # (N, K)
    viol[np.arange(n), y] = 0.0                                # no term for k = y
    return viol.sum() / (n * k)


def multi_margin_loss_grad(scores, target, margin=1.0):
    s, y = _check_scores(scores, target, margin)
    n, k = s.shape
    active = (margin - s[np.arange(n), y][:, None] + s > 0).astype(float)
    active[np.arange(n), y] = 0.0
    g = active.copy()
    g[np.arange(n), y] = -active.sum(axis=1)
    return g / (n * k)


def sigmoid_focal_loss(logits, target, alpha=0.25, gamma=2.0):
    """Mean binary focal loss of logits; down-weights easy, well-classified samples."""
    z, y = _check_same_shape(logits, target, "logits", "target")
    _check_focal(y, alpha, gamma)
    p = 1 / (1 + np.exp(-np.clip(z, -700, 700)))
    ce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))  # stable BCE
    p_t = p * y + (1 - p) * (1 - y)
    a_t = 1.0 if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)
    return (a_t * (1 - p_t) ** gamma * ce).mean()


def sigmoid_focal_loss_grad(logits, target, alpha=0.25, gamma=2.0):
    z, y = _check_same_shape(logits, target, "logits", "target")
    _check_focal(y, alpha, gamma)
    p = 1 / (1 + np.exp(-np.clip(z, -700, 700)))
    ce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    p_t = p * y + (1 - p) * (1 - y)
    a_t = 1.0 if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)
    dpt_dz = (2 * y - 1) * p * (1 - p)                         # d p_t / d z
    with np.errstate(divide="ignore"):
        d_mod = -gamma * (1 - p_t) ** (gamma - 1) * dpt_dz if gamma else 0.0
    g = a_t * (d_mod * ce + (1 - p_t) ** gamma * (p - y))
    return g / z.size
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_same_shape(a, b, name_a, name_b):
    a, b = np.asarray(a), np.asarray(b)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name_a} must be a floating-point array, got {a.dtype}")
    if a.shape != b.shape or a.ndim == 0:
        raise ValueError(
            f"{name_b} must have {name_a}'s shape {a.shape}, got {b.shape}")
    return a.astype(np.float64), b.astype(np.float64)


def _check_scores(scores, target, margin):
    s, y = np.asarray(scores), np.asarray(target)
    if not np.issubdtype(s.dtype, np.floating) or s.ndim != 2:
        raise ValueError(f"scores must be a float array of shape (N, K), got {s.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.shape != s.shape[:1]:
        raise ValueError(f"target must be integers of shape {s.shape[:1]}")
    if np.any((y < 0) | (y >= s.shape[1])):
        raise ValueError(f"target values must lie in [0, {s.shape[1]})")
    if not margin >= 0:
        raise ValueError(f"margin must be non-negative, got {margin}")
    return s.astype(np.float64), y


def _check_focal(y, alpha, gamma):
    if np.any((y < 0) | (y > 1)):
        raise ValueError("target values must lie in [0, 1]")
    if not (alpha < 0 or 0 <= alpha <= 1):
        raise ValueError(f"alpha must lie in [0, 1] (or be negative: off), got {alpha}")
    if not gamma >= 0:
        raise ValueError(f"gamma must be non-negative, got {gamma}")
# --8<-- [end:checks]


# --8<-- [start:torch]
def sigmoid_focal_loss_torch(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """Binary focal loss of logits, torchvision's argument names; autograd backward."""
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        raise TypeError("inputs must be a floating-point torch.Tensor")
    if not isinstance(targets, torch.Tensor) or targets.shape != inputs.shape:
        raise ValueError(f"targets must be a tensor of shape {tuple(inputs.shape)}")
    if not gamma >= 0:
        raise ValueError(f"gamma must be non-negative, got {gamma}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    targets = targets.to(inputs.dtype)
    p = torch.sigmoid(inputs)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(
        inputs, targets, reduction="none")                     # stable -log p_t
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma                             # down-weight easy ones
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    s, y = rng.standard_normal((4, 3)), np.array([0, 1, 2, 0])
    print(multi_margin_loss(s, y), sigmoid_focal_loss(s[:, 0], (y == 0) * 1.0))
    p = np.array([[0.0, 0.5, 0.5]])
    print(kl_divergence(p, np.log(np.array([[0.2, 0.3, 0.5]]))))
    print(sigmoid_focal_loss_torch(torch.tensor(s[:, 0]), torch.tensor((y == 0) * 1.0)))
