r"""GELU, exact (erf) and tanh-approximated, with derivatives.

$$\mathrm{GELU}(z) = z\,\Phi(z)
= \frac{z}{2}\Bigl(1 + \operatorname{erf}\frac{z}{\sqrt2}\Bigr), \qquad
\mathrm{GELU}'(z) = \Phi(z) + z\,\varphi(z)$$

$$\mathrm{GELU}_{\tanh}(z) = \frac{z}{2}\Bigl(1 + \tanh u\Bigr),\quad
u = \sqrt{2/\pi}\,\bigl(z + 0.044715\,z^{3}\bigr)$$

$\Phi$ and $\varphi$ are the standard normal CDF and density. GELU weights its input by
the probability that a standard normal variable is below it; it is smooth, dips slightly
below zero for negative $z$, and is the activation of BERT and GPT-2.
``approximate="none"|"tanh"`` chooses the form, as in ``torch.nn.functional.gelu``.

Reference: Hendrycks & Gimpel (2016), *Gaussian Error Linear Units (GELUs)*.
"""

# --8<-- [start:imports]
import math

# --8<-- [end:imports]

# isort: split
# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:helpers]
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
KAPPA = 0.044715


def _check_approximate(approximate):
    if not isinstance(approximate, str):
        raise TypeError(f"approximate must be a str, got {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate
# --8<-- [end:helpers]


# --8<-- [start:numpy]
# NumPy has no erf; the stdlib's, applied element by element, is exact but slow on
# large arrays
# (scipy.special.erfc is the fast drop-in replacement where SciPy is available).
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def gelu(z, approximate="none"):
    """z * Phi(z) (exact) or its tanh approximation, elementwise, with no overflow.

    Args:
        z: real array-like of any shape.
        approximate: "none" for the erf form, "tanh" for the tanh approximation.
    Returns:
        float64 array of z's shape.
    """
    approximate = _check_approximate(approximate)
    z = _as_real_array(z)
    if approximate == "none":
        # erfc keeps precision for z << 0
        Phi = 0.5 * _erfc(-z / math.sqrt(2.0))
        return z * Phi
    # tanh(u) is already +-1 there; no z^3 overflow
    zc = np.clip(z, -100.0, 100.0)
    u = SQRT_2_OVER_PI * (zc + KAPPA * zc**3)
    return 0.5 * z * (1.0 + np.tanh(u))


def gelu_grad(z, approximate="none"):
    """d GELU / dz: Phi(z) + z phi(z) (exact) or the derivative of the tanh form."""
    approximate = _check_approximate(approximate)
    z = _as_real_array(z)
    # beyond |z| = 40 the density is 0.0 anyway
    zc = np.clip(z, -100.0, 100.0)
    if approximate == "none":
        Phi = 0.5 * _erfc(-z / math.sqrt(2.0))
        phi = np.exp(-0.5 * zc * zc) / math.sqrt(2.0 * math.pi)
        return Phi + zc * phi
    t = np.tanh(SQRT_2_OVER_PI * (zc + KAPPA * zc**3))
    du_dz = SQRT_2_OVER_PI * (1.0 + 3.0 * KAPPA * zc * zc)
    return 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * du_dz
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _as_real_array(z):
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise TypeError(f"z must be a real numeric array, got dtype {z.dtype}")
    return z.astype(np.float64)
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class GELUFunction(torch.autograd.Function):
    """GELU (exact or tanh form) with a hand-written backward."""

    @staticmethod
    def forward(ctx, z, approximate):
        ctx.save_for_backward(z)
        ctx.approximate = approximate
        if approximate == "none":
            return z * 0.5 * torch.erfc(-z / math.sqrt(2.0))
        u = SQRT_2_OVER_PI * (z + KAPPA * z**3)
        return 0.5 * z * (1 + torch.tanh(u))

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        if ctx.approximate == "none":
            Phi = 0.5 * torch.erfc(-z / math.sqrt(2.0))
            phi = torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
            return grad_out * (Phi + z * phi), None
        t = torch.tanh(SQRT_2_OVER_PI * (z + KAPPA * z**3))
        du_dz = SQRT_2_OVER_PI * (1 + 3 * KAPPA * z * z)
        return grad_out * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du_dz), None


def gelu_torch(z: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """GELU of a floating-point tensor, differentiable through ``GELUFunction``."""
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError("z must be a floating-point torch.Tensor")
    return GELUFunction.apply(z, _check_approximate(approximate))
# --8<-- [end:torch]


if __name__ == "__main__":
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    print(gelu(z), gelu_grad(z))
    print(gelu(z, approximate="tanh"), gelu_grad(z, approximate="tanh"))
    print(gelu_torch(torch.tensor(z, requires_grad=True)))
