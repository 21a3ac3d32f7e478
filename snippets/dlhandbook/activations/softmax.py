r"""Softmax over one axis, and its backward pass as a vector-Jacobian product.

$$s_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}},\quad m = \max_j z_j, \qquad
\frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j), \qquad
\bar z = J^\top \bar s = s \odot \bigl(\bar s - \langle \bar s, s\rangle\bigr)$$

Softmax is not elementwise: each output depends on the whole vector. Subtracting the
maximum changes nothing (softmax is shift-invariant) and keeps every exponent $\le 0$,
so it never overflows. The backward pass never forms the $K\times K$ Jacobian $J =
\operatorname{diag}(s) - s s^\top$; it costs $O(K)$ per vector.

Reference: Bridle (1990), *Probabilistic Interpretation of Feedforward Classification
Network Outputs, with Relationships to Statistical Pattern Recognition*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    if z.ndim == 0:
        raise ValueError("z must have at least one dimension")
    return z.astype(np.float64)


def _check_axis(axis, ndim, name="axis"):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}={axis} is out of range for an input with {ndim} dimensions")
    return int(axis)


def softmax(z, axis=-1):
    """exp(z) / sum(exp(z)) along ``axis``, computed without overflow.

    Args:
        z: real array-like with at least one dimension (logits).
        axis: the axis that sums to 1.
    Returns:
        float64 array of z's shape; non-negative, summing to 1 along ``axis``.
    """
    z = _as_real_array(z)
    axis = _check_axis(axis, z.ndim)
    e = np.exp(z - z.max(axis=axis, keepdims=True))     # every exponent <= 0
    return e / e.sum(axis=axis, keepdims=True)


def softmax_grad(z, grad_out, axis=-1):
    """Backward pass: the gradient of sum(grad_out * softmax(z)) with respect to z.

    Shapes: z and grad_out have the same shape; so does the result.
    """
    s = softmax(z, axis)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if grad_out.shape != s.shape:
        raise ValueError(f"grad_out must have shape {s.shape}, got {grad_out.shape}")
    return s * (grad_out - (grad_out * s).sum(axis=axis, keepdims=True))


def softmax_jacobian(z):
    """The full K x K Jacobian diag(s) - s s^T of a single logit vector z (for
    teaching)."""
    z = _as_real_array(z)
    if z.ndim != 1:
        raise ValueError(f"z must be one-dimensional, got shape {z.shape}")
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class SoftmaxFunction(torch.autograd.Function):
    """Softmax along ``dim`` with a hand-written vector-Jacobian-product backward."""

    @staticmethod
    def forward(ctx, z, dim):
        e = torch.exp(z - z.amax(dim=dim, keepdim=True))
        s = e / e.sum(dim=dim, keepdim=True)
        ctx.save_for_backward(s)
        ctx.dim = dim
        return s

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        # <grad_out, s> per vector
        inner = (grad_out * s).sum(dim=ctx.dim, keepdim=True)
        return s * (grad_out - inner), None


def softmax_torch(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of a floating-point tensor along ``dim``, through ``SoftmaxFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    if z.dim() == 0:
        raise ValueError("z must have at least one dimension")
    return SoftmaxFunction.apply(z, _check_axis(dim, z.dim(), name="dim"))
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    print(softmax(z, axis=1))
    print(softmax_torch(torch.tensor(z, requires_grad=True), dim=1))
