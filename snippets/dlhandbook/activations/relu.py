r"""The rectified linear unit and its derivative.

$$\mathrm{ReLU}(z) = \max(0, z), \qquad
\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z < 0 \end{cases}$$

ReLU is not differentiable at $z = 0$; like PyTorch we use the subgradient 0 there. Its
gradient is exactly 1 for positive inputs (no saturation on that side) and exactly 0 for
negative inputs, which is how a unit "dies" when its pre-activation is negative on every
input.

Reference: Nair & Hinton (2010), *Rectified Linear Units Improve Restricted Boltzmann
Machines*.
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
    """max(0, z), elementwise, as a float64 array of z's shape."""
    return np.maximum(_as_real_array(z), 0.0)


def relu_grad(z):
    """d ReLU / dz: 0 where z <= 0 (the subgradient 0 at z = 0), else 1.

    At a NaN input the slope is 1, as in PyTorch, whose backward blocks the gradient
    only where z <= 0: a NaN upstream gradient then flows on instead of being hidden.
    """
    return np.where(_as_real_array(z) <= 0, 0.0, 1.0)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)
# --8<-- [end:checks]


# --8<-- [start:torch]
class ReLUFunction(torch.autograd.Function):
    """ReLU with a hand-written backward: pass the gradient where z > 0, block it
    elsewhere."""

    @staticmethod
    def forward(ctx, z):
        blocked = z <= 0                      # NaN is not blocked, as in torch.relu
        ctx.save_for_backward(blocked)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (blocked,) = ctx.saved_tensors
        return grad_out.masked_fill(blocked, 0.0)   # exactly 0 for z <= 0


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
