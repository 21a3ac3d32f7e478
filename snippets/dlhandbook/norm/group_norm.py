r"""Group normalization: standardise each sample over groups of channels.

The $C$ channels of a sample are split into $G$ groups of $C/G$; each group is
standardised over its channels and spatial positions, then each channel gets its own
$\gamma_c, \beta_c$:

$$\hat x = \frac{x - \mu_{n,g}}{\sqrt{\sigma^2_{n,g}+\epsilon}},\qquad
y = \gamma_c\,\hat x + \beta_c .$$

$G = 1$ is layer norm over $(C, H, W)$; $G = C$ is instance norm. No statistic is shared
between samples, so it works the same for any batch size.

Reference: Wu & He (2018), *Group Normalization*, ECCV.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def group_norm_forward(x, num_groups, gamma, beta, eps=1e-5):
    """Group norm of x, shape (N, C, *spatial). Returns (y, cache)."""
    x = _check_group_norm_args(x, num_groups, gamma, beta, eps)
    N, C = x.shape[:2]
    shape = (1, C) + (1,) * (x.ndim - 2)                # broadcasts (C,) against x
    xg = x.reshape(N, num_groups, -1)                   # (N, G, C/G * spatial)
    mean = xg.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(xg.var(axis=2, keepdims=True) + eps)
    x_hat = ((xg - mean) * inv_std).reshape(x.shape)    # back to (N, C, *spatial)
    y = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    return y, (x_hat, inv_std, gamma, num_groups, shape)


def group_norm_backward(dy, cache):
    """Gradients (dx, dgamma, dbeta) given dy = dL/dy."""
    x_hat, inv_std, gamma, num_groups, shape = cache
    dy = np.asarray(dy, dtype=np.float64)
    if dy.shape != x_hat.shape:
        raise ValueError(f"dy must have shape {x_hat.shape}, got {dy.shape}")
    axes = (0,) + tuple(range(2, dy.ndim))              # all but the channel
    dgamma, dbeta = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)
    N = dy.shape[0]
    g = (dy * gamma.reshape(shape)).reshape(N, num_groups, -1)
    xh = x_hat.reshape(N, num_groups, -1)               # (N, G, C/G * spatial)
    m = g.shape[2]                                      # values per group
    dx = inv_std / m * (m * g - g.sum(axis=2, keepdims=True)
                        - xh * (g * xh).sum(axis=2, keepdims=True))
    return dx.reshape(dy.shape), dgamma, dbeta
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_group_norm_args(x, num_groups, gamma, beta, eps):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C, ...), got {x.shape}")
    C = x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int):
        raise TypeError("num_groups must be an int")
    if num_groups < 1 or C % num_groups:
        raise ValueError(f"num_groups must divide the {C} channels, got {num_groups}")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if np.shape(p) != (C,):
            raise ValueError(f"{name} must have shape ({C},), got {np.shape(p)}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    return x
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class GroupNormFunction(torch.autograd.Function):
    """Group norm with the hand-derived backward."""

    @staticmethod
    def forward(ctx, x, num_groups, weight, bias, eps):
        N, C = x.shape[:2]
        shape = [1, C] + [1] * (x.dim() - 2)
        xg = x.reshape(N, num_groups, -1)               # (N, G, C/G * spatial)
        mean = xg.mean(dim=2, keepdim=True)
        inv_std = torch.rsqrt(xg.var(dim=2, unbiased=False, keepdim=True) + eps)
        x_hat = ((xg - mean) * inv_std).reshape(x.shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.num_groups, ctx.shape = num_groups, shape
        return weight.view(shape) * x_hat + bias.view(shape)

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight = ctx.saved_tensors
        N, G = dy.shape[0], ctx.num_groups
        axes = [0] + list(range(2, dy.dim()))
        g = (dy * weight.view(ctx.shape)).reshape(N, G, -1)
        xh = x_hat.reshape(N, G, -1)
        m = g.shape[2]
        dx = inv_std / m * (m * g - g.sum(dim=2, keepdim=True)
                            - xh * (g * xh).sum(dim=2, keepdim=True))
        dweight, dbias = (dy * x_hat).sum(dim=axes), dy.sum(dim=axes)
        return dx.reshape(dy.shape), None, dweight, dbias, None


def group_norm_torch(x, num_groups, weight, bias, eps=1e-5):
    """Like F.group_norm(x, num_groups, weight, bias, eps)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if x.dim() < 2 or isinstance(num_groups, bool) or not isinstance(num_groups, int):
        raise TypeError("x must be (N, C, ...) and num_groups an int")
    if num_groups < 1 or x.shape[1] % num_groups:
        raise ValueError(f"num_groups must divide the {x.shape[1]} channels, "
                         f"got {num_groups}")
    return GroupNormFunction.apply(x, num_groups, weight, bias, eps)
# --8<-- [end:torch]


if __name__ == "__main__":
    x = np.random.default_rng(0).standard_normal((2, 6, 4, 4)) + 3
    y, _ = group_norm_forward(x, 3, np.ones(6), np.zeros(6))
    print("per-group mean", y.reshape(2, 3, -1).mean(axis=2).round(12))
