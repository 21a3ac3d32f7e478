r"""Binary cross-entropy (log loss) from probabilities and from logits.

$$\ell(p, y) = -\bigl[y \log p + (1-y)\log(1-p)\bigr], \qquad
\ell(z, y) = (1-y)\,z + \operatorname{softplus}(-z), \qquad
\frac{\partial \ell}{\partial z} = \sigma(z) - y$$

$\operatorname{softplus}(-z) = \max(-z, 0) + \log(1 + e^{-|z|})$ never overflows, so the
logit form is finite for any $z$. The probability form clamps each log at $-100$, as
PyTorch's ``binary_cross_entropy`` does, so $p = 0$ or $1$ gives a finite loss.

Reference: Cox (1958), *The Regression Analysis of Binary Sequences*, JRSS B.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def binary_cross_entropy_with_logits(logits, target, pos_weight=None,
                                     reduction="mean"):
    """-[y log sigma(z) + (1 - y) log(1 - sigma(z))], stable for any logit z."""
    z, y = _check_binary(logits, target, "logits", reduction)
    l = 1.0 if pos_weight is None else 1.0 + (np.asarray(pos_weight) - 1.0) * y
    softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # -log sigma(z)
    return _reduce((1 - y) * z + l * softplus_neg, reduction)


def binary_cross_entropy_with_logits_grad(logits, target, pos_weight=None,
                                          reduction="mean"):
    """d loss / d z = sigma(z) - y without pos_weight."""
    z, y = _check_binary(logits, target, "logits", reduction)
    l = 1.0 if pos_weight is None else 1.0 + (np.asarray(pos_weight) - 1.0) * y
    e = np.exp(-np.abs(z))
    sig = np.where(z >= 0, 1 / (1 + e), e / (1 + e))                 # sigma(z)
    g = (1 - y) - l * (1 - sig)
    return g / z.size if reduction == "mean" else g


def binary_cross_entropy(probs, target, reduction="mean"):
    """-[y log p + (1 - y) log(1 - p)] with each log clamped at -100."""
    p, y = _check_binary(probs, target, "probs", reduction)
    with np.errstate(divide="ignore"):                                # log(0) = -inf
        log_p = np.maximum(np.log(p), -100.0)
        log_1mp = np.maximum(np.log1p(-p), -100.0)
    return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction)


def binary_cross_entropy_grad(probs, target, reduction="mean"):
    """d loss / d p = (p - y) / (p (1 - p)), its denominator floored at 1e-12."""
    p, y = _check_binary(probs, target, "probs", reduction)
    g = (p - y) / np.maximum(p * (1 - p), 1e-12)
    return g / p.size if reduction == "mean" else g


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_binary(x, target, name, reduction):
    x, y = np.asarray(x), np.asarray(target)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {x.dtype}")
    if y.shape != x.shape:
        raise ValueError(f"target must have {name}'s shape {x.shape}, got {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("target values must lie in [0, 1]")
    if name == "probs" and np.any((x < 0) | (x > 1) | np.isnan(x)):
        raise ValueError("probs must lie in [0, 1]")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    return x.astype(np.float64), y.astype(np.float64)
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class BCEWithLogitsFunction(torch.autograd.Function):
    """Elementwise stable log loss of logits with the gradient sigma(z) - y."""

    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        return (1 - y) * z - torch.nn.functional.logsigmoid(z)  # softplus(-z)

    @staticmethod
    def backward(ctx, grad_out):
        z, y = ctx.saved_tensors
        return grad_out * (torch.sigmoid(z) - y), None


def binary_cross_entropy_with_logits_torch(input, target, reduction="mean"):
    """Like torch.nn.functional.binary_cross_entropy_with_logits (no weights)."""
    if not isinstance(input, torch.Tensor) or not input.is_floating_point():
        raise TypeError("input must be a floating-point torch.Tensor")
    if not isinstance(target, torch.Tensor) or target.shape != input.shape:
        raise ValueError(f"target must be a tensor of shape {tuple(input.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    loss = BCEWithLogitsFunction.apply(input, target.to(input.dtype))
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
# --8<-- [end:torch]


if __name__ == "__main__":
    z, y = np.array([-1e4, -2.0, 0.0, 3.0, 1e4]), np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    print(binary_cross_entropy_with_logits(z, y, reduction="none"))
    print(binary_cross_entropy(np.array([0.0, 0.3, 1.0]), np.array([1.0, 0.0, 1.0])))
    print(binary_cross_entropy_with_logits_torch(torch.tensor(z), torch.tensor(y)))
