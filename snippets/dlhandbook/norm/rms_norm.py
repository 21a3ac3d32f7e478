r"""RMS normalization: rescale each sample by the root mean square of its features.

$$\mathrm{RMS}(a) = \sqrt{\frac1H\sum_i a_i^2 + \epsilon},\qquad
y_i = \gamma_i\,\frac{a_i}{\mathrm{RMS}(a)} .$$

Layer norm without the mean subtraction and without $\beta$: cheaper, invariant to
rescaling a sample but not to shifting it. With $r = 1/\mathrm{RMS}(a)$ and
$g_i = \gamma_i\,\partial L/\partial y_i$,

$$\frac{\partial L}{\partial a_i}
= r\Bigl(g_i - a_i\,r^2\,\frac1H\sum_j g_j a_j\Bigr).$$

Reference: Zhang & Sennrich (2019), *Root Mean Square Layer Normalization*, NeurIPS.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def rms_norm_forward(x, gamma, eps=1e-6):
    """RMS norm over the last gamma.ndim axes of x. Returns (y, cache)."""
    x, gamma, axes = _check_rms_norm_args(x, gamma, eps)
    r = 1.0 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)  # per sample
    return gamma * x * r, (x, r, gamma, axes)


def rms_norm_backward(dy, cache):
    """Gradients (dx, dgamma) given dy = dL/dy."""
    x, r, gamma, axes = cache
    dy = np.asarray(dy, dtype=np.float64)
    if dy.shape != x.shape:
        raise ValueError(f"dy must have shape {x.shape}, got {dy.shape}")
    lead = tuple(range(x.ndim - gamma.ndim))
    dgamma = (dy * x * r).sum(axis=lead)
    g = dy * gamma
    dx = r * (g - x * r**2 * (g * x).mean(axis=axes, keepdims=True))
    return dx, dgamma
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_rms_norm_args(x, gamma, eps):
    x = np.asarray(x, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    if gamma.ndim == 0 or gamma.shape != x.shape[x.ndim - gamma.ndim:]:
        raise ValueError(f"gamma must have the shape of x's last axes, got "
                         f"{gamma.shape} for x of shape {x.shape}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    return x, gamma, tuple(range(x.ndim - gamma.ndim, x.ndim))
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class RMSNormFunction(torch.autograd.Function):
    """RMS norm over the last weight.dim() axes, with the hand-derived backward."""

    @staticmethod
    def forward(ctx, x, weight, eps):
        dims = list(range(x.dim() - weight.dim(), x.dim()))
        r = torch.rsqrt((x * x).mean(dim=dims, keepdim=True) + eps)
        ctx.save_for_backward(x, r, weight)
        ctx.dims = dims
        return weight * x * r

    @staticmethod
    def backward(ctx, dy):
        x, r, weight = ctx.saved_tensors
        lead = list(range(x.dim() - weight.dim()))
        g = dy * weight
        dx = r * (g - x * r**2 * (g * x).mean(dim=ctx.dims, keepdim=True))
        dweight = (dy * x * r).sum(dim=lead) if lead else dy * x * r
        return dx, dweight, None


def rms_norm_torch(x, weight, eps=1e-6):
    """Like F.rms_norm(x, weight.shape, weight, eps)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if weight.dim() == 0 or tuple(x.shape[x.dim() - weight.dim():]) != weight.shape:
        raise ValueError("weight must have the shape of x's last axes, got "
                         f"{tuple(weight.shape)} for x of shape {tuple(x.shape)}")
    return RMSNormFunction.apply(x, weight, eps)
# --8<-- [end:torch]


if __name__ == "__main__":
    x = np.random.default_rng(0).standard_normal((2, 8)) * 3
    y, _ = rms_norm_forward(x, np.ones(8))
    print("per-sample RMS", np.sqrt((y * y).mean(axis=-1)).round(6))
