r"""The rectified linear unit and its derivative.

$$\mathrm{ReLU}(z) = \max(0, z), \qquad
\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z < 0 \end{cases}$$

ReLU is not differentiable at $z = 0$; like PyTorch we use the subgradient 0 there. Its gradient
is exactly 1 for positive inputs (no saturation on that side) and exactly 0 for negative inputs,
which is how a unit "dies" when its pre-activation is negative on every input.

Reference: Nair & Hinton (2010), *Rectified Linear Units Improve Restricted Boltzmann Machines*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def relu(z):
    """max(0, z), elementwise.

    Args:
        z: real array-like of any shape.
    Returns:
        float64 array of z's shape with values in [0, inf).
    """
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return np.maximum(z.astype(np.float64), 0.0)


def relu_grad(z):
    """d ReLU / dz: 1 where z > 0, else 0 (the subgradient 0 at z = 0, as in PyTorch)."""
    return (relu(z) > 0).astype(np.float64)   # relu(z) > 0 exactly where z > 0
# --8<-- [end:numpy]


# --8<-- [start:torch]
class ReLUFunction(torch.autograd.Function):
    """ReLU with a hand-written backward: pass the gradient where z > 0, block it elsewhere."""

    @staticmethod
    def forward(ctx, z):
        mask = z > 0
        ctx.save_for_backward(mask)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved_tensors
        return grad_out * mask                # exactly 0 for z <= 0


def relu_torch(z: torch.Tensor) -> torch.Tensor:
    """ReLU of a floating-point tensor, differentiable through ``ReLUFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return ReLUFunction.apply(z)
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    print(relu(z), relu_grad(z))
    print(relu_torch(torch.tensor(z, requires_grad=True)))
