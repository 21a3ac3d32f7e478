r"""Batch normalization: standardise each channel with the batch's statistics.

For a channel with values $x_i$ over the $m$ positions of a batch (the batch axis, and
the spatial axes of a convolution),

$$\mu_B = \frac1m\sum_i x_i,\qquad \sigma_B^2 = \frac1m\sum_i (x_i-\mu_B)^2,\qquad
\hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\qquad
y_i = \gamma\,\hat x_i + \beta .$$

Training mode normalises with $\mu_B, \sigma_B^2$ and updates the running estimates
$\hat\mu \leftarrow (1-\alpha)\hat\mu + \alpha\mu_B$ and
$\hat\sigma^2 \leftarrow (1-\alpha)\hat\sigma^2 + \alpha\,\frac{m}{m-1}\sigma_B^2$
(the unbiased variance, as torch does, with momentum $\alpha = 0.1$); evaluation mode
normalises with $\hat\mu, \hat\sigma^2$. The backward pass in training mode, with
$g_i = \gamma\,\partial L/\partial y_i$:

$$\frac{\partial L}{\partial x_i} = \frac{1}{m\sqrt{\sigma_B^2+\epsilon}}
\Bigl(m\,g_i - \sum_j g_j - \hat x_i \sum_j g_j \hat x_j\Bigr).$$

Reference: Ioffe & Szegedy (2015), *Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift*, ICML.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training=True,
                       momentum=0.1, eps=1e-5):
    """Batch norm of x, shape (N, C) or (N, C, *spatial); statistics per channel C.

    Returns (y, running_mean, running_var, cache): the new running statistics
    (updated in training mode, unchanged in eval mode) and what backward needs.
    """
    x, axes, shape = _check_batch_norm_args(x, gamma, beta, running_mean,
                                            running_var, training, momentum, eps)
    if training:
        m = x.size // x.shape[1]                     # values per channel
        mean = x.mean(axis=axes)                     # (C,)
        var = x.var(axis=axes)                       # (C,) biased: divides by m
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)               # (C,)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    y = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    cache = (x_hat, inv_std, gamma, axes, shape, training)
    return y, running_mean, running_var, cache


def batch_norm_backward(dy, cache):
    """Gradients (dx, dgamma, dbeta) of the loss, given dy = dL/dy."""
    x_hat, inv_std, gamma, axes, shape, training = cache
    dy = np.asarray(dy, dtype=np.float64)
    if dy.shape != x_hat.shape:
        raise ValueError(f"dy must have shape {x_hat.shape}, got {dy.shape}")
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * x_hat).sum(axis=axes)
    g = dy * gamma.reshape(shape)                    # dL/dx_hat
    if not training:                                 # fixed statistics: affine map
        return g * inv_std.reshape(shape), dgamma, dbeta
    m = x_hat.size // x_hat.shape[1]
    g_sum = g.sum(axis=axes, keepdims=True)
    gx_sum = (g * x_hat).sum(axis=axes, keepdims=True)
    dx = inv_std.reshape(shape) / m * (m * g - g_sum - x_hat * gx_sum)
    return dx, dgamma, dbeta
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_batch_norm_args(x, gamma, beta, running_mean, running_var, training,
                           momentum, eps):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C, ...), got shape {x.shape}")
    C = x.shape[1]
    for name, p in (("gamma", gamma), ("beta", beta),
                    ("running_mean", running_mean), ("running_var", running_var)):
        if np.shape(p) != (C,):
            raise ValueError(f"{name} must have shape ({C},), got {np.shape(p)}")
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {type(training).__name__}")
    for name, v in (("momentum", momentum), ("eps", eps)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    if training and x.size // C < 2:
        raise ValueError("x must have more than 1 value per channel in training "
                         f"mode, got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))            # all axes but the channel
    shape = (1, C) + (1,) * (x.ndim - 2)             # broadcasts (C,) against x
    return x, axes, shape
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class BatchNormFunction(torch.autograd.Function):
    """Training-mode batch norm with the hand-derived backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        axes = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, unbiased=False, keepdim=True)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - mean) * inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.shape = axes, shape
        return weight.view(shape) * x_hat + bias.view(shape)

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        m = x_hat.numel() // x_hat.shape[1]
        g = dy * weight.view(shape)
        g_sum = g.sum(dim=axes, keepdim=True)
        gx_sum = (g * x_hat).sum(dim=axes, keepdim=True)
        dx = inv_std / m * (m * g - g_sum - x_hat * gx_sum)
        return dx, (dy * x_hat).sum(dim=axes), dy.sum(dim=axes), None


class BatchNorm(torch.nn.Module):
    """torch.nn.BatchNorm1d/2d/3d with their defaults; input (N, C) or (N, C, ...)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None,
                 dtype=None):
        super().__init__()
        _check_batch_norm_module_args(num_features, eps, momentum)
        kw = {"device": device, "dtype": dtype}
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features, **kw))
        self.bias = torch.nn.Parameter(torch.zeros(num_features, **kw))
        self.register_buffer("running_mean", torch.zeros(num_features, **kw))
        self.register_buffer("running_var", torch.ones(num_features, **kw))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, x):
        _check_batch_norm_input(x, self.num_features, self.training)
        shape = [1, -1] + [1] * (x.dim() - 2)
        if not self.training:                        # fixed statistics
            inv_std = torch.rsqrt(self.running_var + self.eps).view(shape)
            x_hat = (x - self.running_mean.view(shape)) * inv_std
            return self.weight.view(shape) * x_hat + self.bias.view(shape)
        with torch.no_grad():                        # running statistics
            axes = [0] + list(range(2, x.dim()))
            var = x.var(dim=axes, unbiased=True)     # unbiased for the estimate
            self.running_mean.lerp_(x.mean(dim=axes), self.momentum)
            self.running_var.lerp_(var, self.momentum)
            self.num_batches_tracked += 1
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_batch_norm_module_args(num_features, eps, momentum):
    if isinstance(num_features, bool) or not isinstance(num_features, int):
        raise TypeError("num_features must be an int")
    if num_features < 1:
        raise ValueError(f"num_features must be positive, got {num_features}")
    for name, v in (("momentum", momentum), ("eps", eps)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be non-negative, got {eps}")


def _check_batch_norm_input(x, num_features, training):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if x.dim() < 2 or x.shape[1] != num_features:
        raise ValueError(f"x must have shape (N, {num_features}, ...), "
                         f"got {tuple(x.shape)}")
    if training and x.numel() // num_features < 2:
        raise ValueError("x must have more than 1 value per channel in training "
                         f"mode, got shape {tuple(x.shape)}")
# --8<-- [end:checks_torch]


# --8<-- [start:profile]
def activation_std_profile(depth, width=256, weight_std=0.5, use_bn=False,
                           batch=512, seed=0):
    """Std of each layer's pre-activation in a deep tanh MLP, with or without BN.

    Weights are Gaussian with std weight_std / sqrt(width); BN (gamma=1, beta=0,
    training mode) is applied to each pre-activation before tanh.
    """
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))
    ones, zeros = np.ones(width), np.zeros(width)
    stds = []
    for _ in range(depth):
        W = rng.standard_normal((width, width)) * weight_std / np.sqrt(width)
        z = h @ W
        if use_bn:
            z = batch_norm_forward(z, ones, zeros, zeros, ones)[0]
        stds.append(float(z.std()))
        h = np.tanh(z)
    return np.array(stds)
# --8<-- [end:profile]


if __name__ == "__main__":
    x = np.random.default_rng(0).standard_normal((8, 3, 4, 4)) * 5 + 2
    C = x.shape[1]
    y, rm, rv, cache = batch_norm_forward(x, np.ones(C), np.zeros(C),
                                          np.zeros(C), np.ones(C))
    print("per-channel mean", y.mean(axis=(0, 2, 3)).round(12))
    print("per-channel var ", y.var(axis=(0, 2, 3)).round(6))
    print("running mean, var", rm.round(3), rv.round(3))
    bn = BatchNorm(C).double()
    print(bn(torch.tensor(x)).mean().item())
