r"""Regression losses: squared error, absolute error and Huber, with their gradients.

$$\mathrm{MSE} = \frac1N\sum_i (\hat y_i - y_i)^2, \quad
\mathrm{MAE} = \frac1N\sum_i |\hat y_i - y_i|, \quad
h_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
\delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}$$

The gradients in the residual $r = \hat y - y$ are $2r$, $\operatorname{sign}(r)$ and
$\operatorname{clip}(r, -\delta, \delta)$: Huber is quadratic near zero and linear,
with a bounded gradient, beyond $\delta$. The constant that minimises MSE over a
sample is its mean, the one that minimises MAE its median.

Reference: Huber (1964), *Robust Estimation of a Location Parameter*, Annals of
Mathematical Statistics.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def mse_loss(y_hat, y, reduction="mean"):
    r = _residual(y_hat, y, reduction)
    return _reduce(r**2, reduction)


def mse_loss_grad(y_hat, y, reduction="mean"):
    r = _residual(y_hat, y, reduction)
    return 2 * r / (r.size if reduction == "mean" else 1)


def l1_loss(y_hat, y, reduction="mean"):
    r = _residual(y_hat, y, reduction)
    return _reduce(np.abs(r), reduction)


def l1_loss_grad(y_hat, y, reduction="mean"):
    r = _residual(y_hat, y, reduction)
    return np.sign(r) / (r.size if reduction == "mean" else 1)  # 0 at r = 0


def huber_loss(y_hat, y, reduction="mean", delta=1.0):
    r = _residual(y_hat, y, reduction)
    _check_delta(delta)
    a = np.abs(r)
    loss = np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def huber_loss_grad(y_hat, y, reduction="mean", delta=1.0):
    r = _residual(y_hat, y, reduction)
    _check_delta(delta)
    return np.clip(r, -delta, delta) / (r.size if reduction == "mean" else 1)
# --8<-- [end:numpy]


# --8<-- [start:helpers_numpy]
def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def fit_constant(y, loss_grad, lr=0.5, steps=2000):
    """The constant c minimising mean loss(c, y), by (sub)gradient descent from 0.

    The step shrinks like 1/sqrt(t) so that subgradient descent on MAE settles.
    """
    y = np.asarray(y, dtype=np.float64)
    c = np.zeros(1)
    for t in range(1, steps + 1):
        g = loss_grad(np.full(y.shape, c[0]), y).sum()        # d mean / d c
        c = c - lr / np.sqrt(t) * g
    return float(c[0])
# --8<-- [end:helpers_numpy]


# --8<-- [start:checks_numpy]
def _residual(y_hat, y, reduction):
    y_hat, y = np.asarray(y_hat), np.asarray(y)
    if not np.issubdtype(y_hat.dtype, np.floating):
        raise TypeError(f"y_hat must be a floating-point array, got {y_hat.dtype}")
    if y.shape != y_hat.shape:
        raise ValueError(f"y must have y_hat's shape {y_hat.shape}, got {y.shape}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    return y_hat.astype(np.float64) - y


def _check_delta(delta):
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class HuberFunction(torch.autograd.Function):
    """Elementwise Huber loss of the residual with the gradient clip(r, -d, d)."""

    @staticmethod
    def forward(ctx, r, delta):
        ctx.save_for_backward(r)
        ctx.delta = delta
        a = r.abs()
        return torch.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad_out):
        (r,) = ctx.saved_tensors
        return grad_out * r.clamp(-ctx.delta, ctx.delta), None


def huber_loss_torch(input, target, reduction="mean", delta=1.0):
    """Same arguments and result as torch.nn.functional.huber_loss."""
    if not isinstance(input, torch.Tensor) or not input.is_floating_point():
        raise TypeError("input must be a floating-point torch.Tensor")
    if not isinstance(target, torch.Tensor) or target.shape != input.shape:
        raise ValueError(f"target must be a tensor of shape {tuple(input.shape)}")
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    loss = HuberFunction.apply(input - target, float(delta))
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
# --8<-- [end:torch]


if __name__ == "__main__":
    y = np.r_[np.linspace(0, 1, 99), 100.0]                 # one outlier
    for name, grad in [("MSE", mse_loss_grad), ("MAE", l1_loss_grad),
                       ("Huber", huber_loss_grad)]:
        print(name, fit_constant(y, grad))
    print(huber_loss_torch(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
