r"""SiLU (Swish with $\beta = 1$) and its derivative, stable for any input.

$$\mathrm{SiLU}(z) = z\,\sigma(z), \qquad
\mathrm{SiLU}'(z) = \sigma(z)\,\bigl(1 + z\,(1 - \sigma(z))\bigr)$$

SiLU is smooth and non-monotonic: it dips to a minimum of about $-0.28$ near $z \approx
-1.28$ and then returns to 0 from below. It is linear for large positive $z$ and is used
(inside SwiGLU) in the feed-forward blocks of many recent Transformers.

References: Hendrycks & Gimpel (2016), *Gaussian Error Linear Units (GELUs)*; Elfwing,
Uchibe & Doya (2018), *Sigmoid-Weighted Linear Units for Neural Network Function
Approximation in Reinforcement Learning*; Ramachandran, Zoph & Le (2017), *Searching for
Activation Functions*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))                    # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)


def silu(z):
    """z * sigmoid(z), elementwise, with no overflow at any z.

    Args:
        z: real array-like of any shape.
    Returns:
        float64 array of z's shape.
    """
    z = _as_real_array(z)
    return z * _stable_sigmoid(z)


def silu_grad(z):
    """d SiLU / dz = s (1 + z (1 - s)) with s = sigmoid(z); negative for z below about
    -1.28."""
    z = _as_real_array(z)
    s = _stable_sigmoid(z)
    return s * (1.0 + z * (1.0 - s))
# --8<-- [end:numpy]


# --8<-- [start:torch]
class SiLUFunction(torch.autograd.Function):
    """SiLU with a hand-written backward."""

    @staticmethod
    def forward(ctx, z):
        s = torch.sigmoid(z)
        ctx.save_for_backward(z, s)
        return z * s

    @staticmethod
    def backward(ctx, grad_out):
        z, s = ctx.saved_tensors
        return grad_out * s * (1 + z * (1 - s))


def silu_torch(z: torch.Tensor) -> torch.Tensor:
    """SiLU of a floating-point tensor, differentiable through ``SiLUFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return SiLUFunction.apply(z)
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    print(silu(z), silu_grad(z))
    print(silu_torch(torch.tensor(z, requires_grad=True)))
