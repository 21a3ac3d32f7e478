r"""Layer normalization: standardise each sample over its own features.

For one sample's $H$ features $a_1, \dots, a_H$ (the last dimensions of the input, e.g.
$d_{\text{model}}$ for each token of a Transformer),

$$\mu = \frac1H\sum_i a_i,\qquad \sigma^2 = \frac1H\sum_i (a_i-\mu)^2,\qquad
y_i = \gamma_i\,\frac{a_i-\mu}{\sqrt{\sigma^2+\epsilon}} + \beta_i .$$

No statistic is shared between samples, so training and evaluation compute the same
thing and there are no running averages. With $g_i = \gamma_i\,\partial L/\partial y_i$
and $\hat a_i = (a_i-\mu)/\sqrt{\sigma^2+\epsilon}$,

$$\frac{\partial L}{\partial a_i} = \frac{1}{H\sqrt{\sigma^2+\epsilon}}
\Bigl(H\,g_i - \sum_j g_j - \hat a_i \sum_j g_j \hat a_j\Bigr).$$

Reference: Ba, Kiros & Hinton (2016), *Layer Normalization*, arXiv:1607.06450.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def layer_norm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm over the last gamma.ndim axes of x. Returns (y, cache)."""
    x, gamma, beta, axes = _check_layer_norm_args(x, gamma, beta, eps)
    mean = x.mean(axis=axes, keepdims=True)           # one mean per sample
    var = x.var(axis=axes, keepdims=True)             # biased, per sample
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma, axes)


def layer_norm_backward(dy, cache):
    """Gradients (dx, dgamma, dbeta) given dy = dL/dy."""
    x_hat, inv_std, gamma, axes = cache
    dy = np.asarray(dy, dtype=np.float64)
    if dy.shape != x_hat.shape:
        raise ValueError(f"dy must have shape {x_hat.shape}, got {dy.shape}")
    lead = tuple(range(x_hat.ndim - gamma.ndim))       # the batch-like axes
    dgamma, dbeta = (dy * x_hat).sum(axis=lead), dy.sum(axis=lead)
    g = dy * gamma                                     # dL/dx_hat
    H = gamma.size                                     # features per sample
    g_sum = g.sum(axis=axes, keepdims=True)
    gx_sum = (g * x_hat).sum(axis=axes, keepdims=True)
    dx = inv_std / H * (H * g - g_sum - x_hat * gx_sum)
    return dx, dgamma, dbeta
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_layer_norm_args(x, gamma, beta, eps):
    x = np.asarray(x, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if gamma.ndim == 0 or gamma.shape != x.shape[x.ndim - gamma.ndim:]:
        raise ValueError(f"gamma must have the shape of x's last axes, got "
                         f"{gamma.shape} for x of shape {x.shape}")
    if beta.shape != gamma.shape:
        raise ValueError(f"beta must have shape {gamma.shape}, got {beta.shape}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    axes = tuple(range(x.ndim - gamma.ndim, x.ndim))   # the normalised axes
    return x, gamma, beta, axes
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class LayerNormFunction(torch.autograd.Function):
    """Layer norm over the last weight.dim() axes, with the hand-derived backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = list(range(x.dim() - weight.dim(), x.dim()))
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, unbiased=False, keepdim=True)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - mean) * inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.dims = dims
        return weight * x_hat + bias

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight = ctx.saved_tensors
        dims = ctx.dims
        lead = list(range(x_hat.dim() - weight.dim()))
        H = weight.numel()
        g = dy * weight
        g_sum = g.sum(dim=dims, keepdim=True)
        gx_sum = (g * x_hat).sum(dim=dims, keepdim=True)
        dx = inv_std / H * (H * g - g_sum - x_hat * gx_sum)
        dweight = (dy * x_hat).sum(dim=lead) if lead else dy * x_hat
        dbias = dy.sum(dim=lead) if lead else dy
        return dx, dweight, dbias, None


def layer_norm_torch(x, weight, bias, eps=1e-5):
    """Like F.layer_norm(x, weight.shape, weight, bias, eps)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if weight.dim() == 0 or tuple(x.shape[x.dim() - weight.dim():]) != weight.shape:
        raise ValueError("weight must have the shape of x's last axes, got "
                         f"{tuple(weight.shape)} for x of shape {tuple(x.shape)}")
    if bias.shape != weight.shape:
        raise ValueError(f"bias must have shape {tuple(weight.shape)}")
    return LayerNormFunction.apply(x, weight, bias, eps)
# --8<-- [end:torch]


if __name__ == "__main__":
    x = np.random.default_rng(0).standard_normal((2, 3, 8)) * 4 + 1
    y, _ = layer_norm_forward(x, np.ones(8), np.zeros(8))
    print("per-token mean", y.mean(axis=-1).round(12))
    print("per-token var ", y.var(axis=-1).round(6))
