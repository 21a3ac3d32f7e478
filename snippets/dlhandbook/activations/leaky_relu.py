r"""Leaky ReLU and its derivative.

$$\mathrm{LeakyReLU}(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases},
\qquad
\mathrm{LeakyReLU}'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}$$

The negative side is a line of slope $\alpha$ (``negative_slope``, 0.01 by default), not
the constant $\alpha$: at $z = -5$ the output is $-0.05$. The point of the leak is the
nonzero gradient $\alpha$ for negative inputs, so a unit can recover from a negative
pre-activation.

Like ``torch.nn.functional.leaky_relu`` we accept any finite real slope: $\alpha = 1$ is
the identity (a linear "activation"), $\alpha < 0$ makes the function non-monotonic, and
PReLU learns $\alpha$. The derivative at $z = 0$ is taken to be $\alpha$, as in PyTorch.

Reference: Maas, Hannun & Ng (2013), *Rectifier Nonlinearities Improve Neural Network
Acoustic Models*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:helpers]
def _check_slope(negative_slope):
    real = (int, float, np.integer, np.floating)
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, real):
        raise TypeError(
            "negative_slope must be a real number, got "
            f"{type(negative_slope).__name__}")
    if not np.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope}")
    return float(negative_slope)
# --8<-- [end:helpers]


# --8<-- [start:numpy]
def leaky_relu(z, negative_slope=0.01):
    """z where z > 0, negative_slope * z elsewhere, elementwise.

    Args:
        z: real array-like of any shape.
        negative_slope: the slope alpha of the negative side (a finite real number).
    Returns:
        float64 array of z's shape.
    """
    alpha = _check_slope(negative_slope)
    z = _as_real_array(z)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, negative_slope=0.01):
    """d LeakyReLU / dz: 1 where z > 0, negative_slope elsewhere (never 0 unless alpha
    is)."""
    alpha = _check_slope(negative_slope)
    z = _as_real_array(z)
    return np.where(z > 0, 1.0, alpha)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class LeakyReLUFunction(torch.autograd.Function):
    """Leaky ReLU with a hand-written backward: gradient 1 for z > 0, alpha
    elsewhere."""

    @staticmethod
    def forward(ctx, z, negative_slope):
        positive = z > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return torch.where(positive, z, negative_slope * z)

    @staticmethod
    def backward(ctx, grad_out):
        (positive,) = ctx.saved_tensors
        grad_z = torch.where(positive, grad_out, ctx.negative_slope * grad_out)
        return grad_z, None                   # no gradient for the fixed slope


def leaky_relu_torch(z: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU of a floating-point tensor, differentiable through
    ``LeakyReLUFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return LeakyReLUFunction.apply(z, _check_slope(negative_slope))
# --8<-- [end:torch]


if __name__ == "__main__":
    print(leaky_relu(-5.0), leaky_relu_grad(-5.0))   # -0.05 and 0.01, not 0.01 and 0
    print(leaky_relu_torch(torch.tensor([-5.0, 3.0], requires_grad=True)))
