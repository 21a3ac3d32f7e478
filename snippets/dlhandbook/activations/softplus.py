r"""Softplus, a smooth ReLU, and its derivative, stable for any input.

$$\mathrm{softplus}_\beta(z) = \frac{1}{\beta}\log\bigl(1 + e^{\beta z}\bigr), \qquad
\mathrm{softplus}_\beta'(z) = \sigma(\beta z)$$

Softplus is positive everywhere, so it suits outputs that must be positive (a variance,
a rate). Its derivative is the sigmoid, so it saturates on the negative side just as the
sigmoid does. As in ``torch.nn.functional.softplus``, inputs with $\beta z >$
``threshold`` return $z$ itself (the two differ by less than
$e^{-\text{threshold}}/\beta$). We compute $\log(1+e^{x}) = \max(x, 0) + \log(1 +
e^{-|x|})$, which never overflows. Unlike PyTorch we require $\beta > 0$: a non-positive
$\beta$ does not give a smooth ReLU.

Reference: Dugas, Bengio, Bélisle, Nadeau & Garcia (2001), *Incorporating Second-Order
Functional Knowledge for Better Option Pricing*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def _check_params(beta, threshold):
    for name, value in (("beta", beta), ("threshold", threshold)):
        real = (int, float, np.integer, np.floating)
        if isinstance(value, bool) or not isinstance(value, real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    return float(beta), float(threshold)


def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)


def softplus(z, beta=1.0, threshold=20.0):
    """(1 / beta) log(1 + exp(beta z)), elementwise; z itself where beta z > threshold.

    Args:
        z: real array-like of any shape.
        beta: sharpness (> 0); large beta approaches ReLU.
        threshold: above this value of beta z the function is treated as linear.
    Returns:
        float64 array of z's shape with positive values.
    """
    beta, threshold = _check_params(beta, threshold)
    z = _as_real_array(z)
    x = beta * z
    # exp sees only x <= 0
    log1p_exp = np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return np.where(x > threshold, z, log1p_exp / beta)


def softplus_grad(z, beta=1.0, threshold=20.0):
    """d softplus / dz = sigmoid(beta z); exactly 1 where beta z > threshold."""
    beta, threshold = _check_params(beta, threshold)
    z = _as_real_array(z)
    x = beta * z
    e = np.exp(-np.abs(x))
    sigmoid = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return np.where(x > threshold, 1.0, sigmoid)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class SoftplusFunction(torch.autograd.Function):
    """Softplus with a hand-written backward: the gradient is sigmoid(beta z)."""

    @staticmethod
    def forward(ctx, z, beta, threshold):
        x = beta * z
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        log1p_exp = x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))
        return torch.where(x > threshold, z, log1p_exp / beta)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        slope = torch.where(x > ctx.threshold, torch.ones_like(x), torch.sigmoid(x))
        return grad_out * slope, None, None


def softplus_torch(z: torch.Tensor, beta: float = 1.0,
                   threshold: float = 20.0) -> torch.Tensor:
    """Softplus of a floating-point tensor, differentiable through
    ``SoftplusFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return SoftplusFunction.apply(z, *_check_params(beta, threshold))
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    print(softplus(z), softplus_grad(z))
    print(softplus_torch(torch.tensor(z, requires_grad=True)))
