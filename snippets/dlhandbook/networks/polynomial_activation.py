r"""A polynomial activation cannot approximate: with $\phi(z) = z^2$ a net is a
quadratic.

$$\hat y(x) = \sum_j v_j\,(w_j x + b_j)^2 + c
= \Bigl(\sum_j v_j w_j^2\Bigr)x^2 + \Bigl(2\sum_j v_j w_j b_j\Bigr)x
+ \Bigl(\sum_j v_j b_j^2 + c\Bigr)$$

However wide the hidden layer, a one-hidden-layer net with a degree-$p$ polynomial
activation is a polynomial of degree at most $p$ in each input, so it cannot approximate
a general continuous function. Leshno et al. proved the converse too: a one-hidden-layer
net with a continuous activation is a universal approximator exactly when the activation
is not a polynomial.

Reference: Leshno, Lin, Pinkus & Schocken (1993), *Multilayer Feedforward Networks with
a Nonpolynomial Activation Function Can Approximate Any Function*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch
from torch import nn

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def square_net_coefficients(w, b, v, c):
    """The quadratic that a 1-hidden-layer net with phi(z) = z^2 computes.

    Args:
        w, b: hidden weights and biases, shape (H,) each (one input).
        v: output weights, shape (H,); c: output bias (a float).
    Returns:
        (a2, a1, a0) with y_hat(x) = a2 x^2 + a1 x + a0 for every x.
    """
    w, b, v = (np.asarray(t, dtype=np.float64) for t in (w, b, v))
    if not (w.ndim == 1 and w.shape == b.shape == v.shape):
        raise ValueError(
            f"w, b and v must be 1-D of one shape, got {w.shape}, {b.shape}, {v.shape}")
    return float(v @ w**2), float(2 * v @ (w * b)), float(v @ b**2 + c)


def best_polynomial_mse(x, y, degree):
    """Mean squared error of the least-squares polynomial of the given degree (a lower
    bound)."""
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be a non-negative int, got {degree!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D of one shape, got {x.shape} and {y.shape}")
    coef = np.polynomial.polynomial.polyfit(x, y, degree)
    return float(np.mean((np.polynomial.polynomial.polyval(x, coef) - y) ** 2))
# --8<-- [end:numpy]


# --8<-- [start:torch]
class Square(nn.Module):
    """The polynomial activation phi(z) = z^2."""

    def forward(self, z):
        return z * z


def fit_regression(activation: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   hidden: int = 64,
                   steps: int = 300, lr: float = 0.02) -> tuple[nn.Sequential, float]:
    """Fit a 1-hidden-1 net to (x, y) with full-batch Adam on the MSE. Returns (model,
    final MSE).

    Shapes: x and y are (n,) float tensors. Seed torch beforehand for a reproducible
    fit.
    """
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D of one shape, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps}")
    model = nn.Sequential(nn.Linear(1, hidden), activation, nn.Linear(hidden, 1))
    model = model.to(x.dtype).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    X = x.unsqueeze(-1)                                   # (n, 1)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(X).squeeze(-1) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return model, ((model(X).squeeze(-1) - y) ** 2).mean().item()
# --8<-- [end:torch]


if __name__ == "__main__":
    x = torch.linspace(-1, 1, 101, dtype=torch.float64)
    y = torch.sin(3 * x).abs()
    print("best quadratic:", best_polynomial_mse(x.numpy(), y.numpy(), 2))
    for act in (Square(), nn.Tanh()):
        torch.manual_seed(0)
        print(type(act).__name__, fit_regression(act, x, y)[1])
