r"""Softmax cross-entropy from logits: class weights, ignore_index, label smoothing.

$$\ell_i = -(1-\varepsilon)\, w_{y_i} \log p_{i y_i}
  - \frac{\varepsilon}{K} \sum_{k} w_k \log p_{ik}, \qquad
\log p_{ik} = z_{ik} - \log\sum_j e^{z_{ij}}, \qquad
\frac{\partial \ell_i}{\partial z_{ik}} = c_i\, p_{ik}
  - (1-\varepsilon) w_{y_i} [k = y_i] - \frac{\varepsilon}{K} w_k$$

with $c_i = (1-\varepsilon) w_{y_i} + \frac{\varepsilon}{K}\sum_k w_k$. Without weights
and smoothing the gradient is $p_i - \mathrm{onehot}(y_i)$. ``reduction="mean"``
divides the sum by $\sum_i w_{y_i}$ over the samples that are not ignored, as
``torch.nn.functional.cross_entropy`` does.

Reference: Bridle (1990), *Probabilistic Interpretation of Feedforward Classification
Network Outputs, with Relationships to Statistical Pattern Recognition*; label
smoothing: Szegedy et al. (2016), *Rethinking the Inception Architecture for Computer
Vision*, CVPR.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def log_softmax(z):
    """z - logsumexp(z) along the last axis; never overflows."""
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def cross_entropy(logits, target, weight=None, ignore_index=-100,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, K) against class indices (N,)."""
    z, y, w, keep = _check_ce(logits, target, weight, ignore_index,
                              reduction, label_smoothing)
    eps, K = label_smoothing, z.shape[1]
    logp = log_softmax(z)                                     # (N, K)
    y_safe = np.where(keep, y, 0)                             # ignored rows: any class
    nll = -logp[np.arange(len(y)), y_safe]                    # (N,)
    smooth = -(logp * w).sum(axis=1)                          # (N,) uniform target
    loss = (1 - eps) * w[y_safe] * nll + eps / K * smooth
    loss = np.where(keep, loss, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[y_safe] * keep).sum()              # weighted mean


def cross_entropy_grad(logits, target, weight=None, ignore_index=-100,
                       reduction="mean", label_smoothing=0.0, grad_out=1.0):
    """Gradient of the loss (times grad_out) with respect to the logits."""
    z, y, w, keep = _check_ce(logits, target, weight, ignore_index,
                              reduction, label_smoothing)
    eps, K = label_smoothing, z.shape[1]
    p = np.exp(log_softmax(z))                                # (N, K)
    y_safe = np.where(keep, y, 0)
    w_y = w[y_safe]                                           # (N,)
    c = (1 - eps) * w_y + eps / K * w.sum()                   # (N,)
    g = c[:, None] * p - eps / K * w[None, :]                 # (N, K)
    g[np.arange(len(y)), y_safe] -= (1 - eps) * w_y
    g = np.where(keep[:, None], g, 0.0)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if reduction == "none":
        return g * grad_out[:, None] if grad_out.ndim else g * grad_out
    if reduction == "mean":
        g = g / (w_y * keep).sum()
    return g * grad_out


def nll_loss(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    """-log_probs[i, y_i], weighted and reduced like cross_entropy; no softmax."""
    lp, y, w, keep = _check_ce(log_probs, target, weight, ignore_index, reduction,
                               0.0, name="log_probs")
    y_safe = np.where(keep, y, 0)
    loss = np.where(keep, -w[y_safe] * lp[np.arange(len(y)), y_safe], 0.0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / (w[y_safe] * keep).sum()


def softmax_then_log_cross_entropy(logits, target):
    """The naive mean loss -log(softmax(z)[y]): overflows or logs 0 (for comparison)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z)                                             # overflows for z > 709
    p = e / e.sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(target)), target]).mean()
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_ce(logits, target, weight, ignore_index, reduction, label_smoothing,
              name="logits"):
    z = np.asarray(logits)
    if not np.issubdtype(z.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"{name} must have shape (N, K), got shape {z.shape}")
    y = np.asarray(target)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"target must hold integer class indices, got dtype {y.dtype}")
    if y.shape != z.shape[:1]:
        raise ValueError(f"target must have shape {z.shape[:1]}, got shape {y.shape}")
    keep = y != ignore_index
    if np.any((y[keep] < 0) | (y[keep] >= z.shape[1])):
        raise ValueError(f"target values must lie in [0, {z.shape[1]}) or equal "
                         f"ignore_index={ignore_index}")
    w = np.ones(z.shape[1]) if weight is None else np.asarray(weight, np.float64)
    if w.shape != (z.shape[1],) or np.any(w < 0):
        raise ValueError(f"weight must be {z.shape[1]} non-negative numbers")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    return z.astype(np.float64), y, w, keep
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class CrossEntropyFunction(torch.autograd.Function):
    """Per-sample cross-entropy with the hand-written gradient c p - target_mix."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing):
        eps, K = label_smoothing, logits.shape[1]
        logp = torch.log_softmax(logits, dim=1)               # fused log-sum-exp
        keep = target != ignore_index
        y = torch.where(keep, target, torch.zeros_like(target))
        w_y = weight[y] * keep                                # (N,), 0 where ignored
        mix = eps / K * weight.expand_as(logits).clone()      # (N, K) target mixture
        mix[torch.arange(len(y)), y] += (1 - eps) * weight[y]
        mix = mix * keep[:, None]
        ctx.save_for_backward(logp, mix)
        ctx.mark_non_differentiable(w_y)
        return -(mix * logp).sum(dim=1), w_y

    @staticmethod
    def backward(ctx, grad_loss, _grad_w_y):
        logp, mix = ctx.saved_tensors
        g = mix.sum(dim=1, keepdim=True) * logp.exp() - mix   # c p - mix
        return g * grad_loss[:, None], None, None, None, None


def cross_entropy_torch(input, target, weight=None, ignore_index=-100,
                        reduction="mean", label_smoothing=0.0):
    """Same signature and result as torch.nn.functional.cross_entropy for (N, K)."""
    _check_ce_torch(input, target, weight, reduction, label_smoothing)
    if weight is None:
        weight = torch.ones(input.shape[1], dtype=input.dtype, device=input.device)
    loss, w_y = CrossEntropyFunction.apply(input, target, weight, ignore_index,
                                           label_smoothing)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w_y.sum()
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_ce_torch(input, target, weight, reduction, label_smoothing):
    if not isinstance(input, torch.Tensor) or not input.is_floating_point():
        raise TypeError("input must be a floating-point torch.Tensor")
    if input.ndim != 2:
        raise ValueError(f"input must have shape (N, K), got {tuple(input.shape)}")
    if not isinstance(target, torch.Tensor) or target.dtype != torch.long:
        raise TypeError("target must be a torch.long tensor of class indices")
    if target.shape != input.shape[:1]:
        raise ValueError(f"target must have shape {tuple(input.shape[:1])}, "
                         f"got {tuple(target.shape)}")
    if weight is not None and weight.shape != input.shape[1:]:
        raise ValueError(f"weight must have shape {tuple(input.shape[1:])}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    z = np.array([[2.0, -1.0, 0.5], [1e4, 0.0, -1e4]])
    y = np.array([0, 2])
    print(cross_entropy(z, y), cross_entropy_grad(z, y))
    zt = torch.tensor(z, requires_grad=True)
    print(cross_entropy_torch(zt, torch.tensor(y)))
