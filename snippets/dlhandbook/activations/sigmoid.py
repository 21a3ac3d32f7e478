r"""The logistic sigmoid and its derivative, stable for any input.

$$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) \le \tfrac14$$

The derivative peaks at $z = 0$ with value $1/4$ and decays like $e^{-|z|}$: the sigmoid
saturates on both sides, which is why deep sigmoid networks lose their gradient (Q14).

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
def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), elementwise, with no overflow at any z.

    Args:
        z: real array-like of any shape.
    Returns:
        float64 array of z's shape with values in [0, 1].
    """
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    z = z.astype(np.float64)
    # in (0, 1]: exp never sees a positive argument
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z):
    """d sigma / dz = sigma(z) * (1 - sigma(z)), elementwise; at most 1/4."""
    s = sigmoid(z)
    return s * (1.0 - s)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class SigmoidFunction(torch.autograd.Function):
    """Sigmoid with a hand-written backward that reuses the saved output."""

    @staticmethod
    def forward(ctx, z):
        # PyTorch's own kernel is already overflow-safe
        s = torch.sigmoid(z)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out * s * (1 - s)         # sigma' = sigma (1 - sigma)


def sigmoid_torch(z: torch.Tensor) -> torch.Tensor:
    """Sigmoid of a floating-point tensor, differentiable through
    ``SigmoidFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return SigmoidFunction.apply(z)
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    print(sigmoid(z), sigmoid_grad(z))
    print(sigmoid_torch(torch.tensor(z, requires_grad=True)))
