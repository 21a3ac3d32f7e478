r"""The hyperbolic tangent and its derivative.

$$\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}} = 2\,\sigma(2z) - 1, \qquad
\tanh'(z) = 1 - \tanh^2(z) \le 1$$

tanh is a rescaled sigmoid: same S shape, but centred on zero with range $(-1, 1)$ and a
derivative that peaks at 1 instead of 1/4. It still saturates on both sides.

Reference: LeCun, Bottou, Orr & Müller (1998), *Efficient BackProp*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def tanh(z):
    """tanh(z), elementwise; np.tanh never overflows (it saturates to +-1).

    Args:
        z: real array-like of any shape.
    Returns:
        float64 array of z's shape with values in [-1, 1].
    """
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return np.tanh(z.astype(np.float64))


def tanh_grad(z):
    """d tanh / dz = 1 - tanh(z)^2, elementwise; equal to 1 at z = 0 and below 1
    elsewhere."""
    t = tanh(z)
    return 1.0 - t * t
# --8<-- [end:numpy]


# --8<-- [start:torch]
class TanhFunction(torch.autograd.Function):
    """tanh with a hand-written backward that reuses the saved output."""

    @staticmethod
    def forward(ctx, z):
        t = torch.tanh(z)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad_out):
        (t,) = ctx.saved_tensors
        return grad_out * (1 - t * t)         # tanh' = 1 - tanh^2


def tanh_torch(z: torch.Tensor) -> torch.Tensor:
    """tanh of a floating-point tensor, differentiable through ``TanhFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return TanhFunction.apply(z)
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    print(tanh(z), tanh_grad(z))
    print(tanh_torch(torch.tensor(z, requires_grad=True)))
