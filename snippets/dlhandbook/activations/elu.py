r"""The exponential linear unit (ELU) and its derivative.

$$\mathrm{ELU}(z) = \begin{cases} z & z > 0 \\ \alpha\,(e^{z} - 1) & z \le 0
\end{cases}, \qquad
\mathrm{ELU}'(z) = \begin{cases} 1 & z > 0 \\ \alpha\,e^{z} & z \le 0 \end{cases}$$

For $\alpha = 1$ ELU is continuously differentiable (only C1: the second derivative
jumps from 1 to 0 at $z = 0$). It is the identity for positive inputs and saturates to
$-\alpha$ for very negative ones, which pushes mean activations towards zero. Its
gradient on the negative side is positive but decays like $e^{z}$. As in PyTorch, the
derivative at $z = 0$ is $\alpha$, any finite real $\alpha$ is accepted ($\alpha > 0$ is
usual), and at a NaN input the backward passes the upstream gradient through unchanged.

Reference: Clevert, Unterthiner & Hochreiter (2016), *Fast and Accurate Deep Network
Learning by Exponential Linear Units (ELUs)*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def elu(z, alpha=1.0):
    """z where z > 0, alpha * (exp(z) - 1) elsewhere, elementwise, with no overflow.

    Args:
        z: real array-like of any shape.
        alpha: the negative saturation value is -alpha (a finite real number).
    Returns:
        float64 array of z's shape.
    """
    alpha = _check_alpha(alpha)
    z = _as_real_array(z)
    neg = np.minimum(z, 0.0)                  # exp only ever sees z <= 0: no overflow
    return np.where(z > 0, z, alpha * np.expm1(neg))   # expm1 is exact near 0


def elu_grad(z, alpha=1.0):
    """d ELU / dz: alpha * exp(z) where z <= 0, else 1 (also at NaN, as in torch)."""
    alpha = _check_alpha(alpha)
    z = _as_real_array(z)
    return np.where(z <= 0, alpha * np.exp(np.minimum(z, 0.0)), 1.0)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_alpha(alpha):
    real = (int, float, np.integer, np.floating)
    if isinstance(alpha, bool) or not isinstance(alpha, real):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    if not np.isfinite(alpha):
        raise ValueError(f"alpha must be finite, got {alpha}")
    return float(alpha)


def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)
# --8<-- [end:checks]


# --8<-- [start:torch]
class ELUFunction(torch.autograd.Function):
    """ELU with a hand-written backward."""

    @staticmethod
    def forward(ctx, z, alpha):
        ctx.save_for_backward(z)
        ctx.alpha = alpha
        return torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0)))

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        negative = ctx.alpha * torch.exp(z.clamp(max=0))
        slope = torch.where(z <= 0, negative, torch.ones_like(z))   # NaN: pass through
        return grad_out * slope, None


def elu_torch(z: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """ELU of a floating-point tensor, differentiable through ``ELUFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return ELUFunction.apply(z, _check_alpha(alpha))
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    print(elu(z), elu_grad(z))
    print(elu_torch(torch.tensor(z, requires_grad=True)))
