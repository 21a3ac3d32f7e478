r"""XOR: the smallest problem that no linear model solves, and a tiny MLP that does.

$$\text{XOR}:\ (0,0)\mapsto 0,\ (0,1)\mapsto 1,\ (1,0)\mapsto 1,\ (1,1)\mapsto 0$$

A linear classifier $\mathbb 1[w^\top x + b > 0]$ labels at most three of the four
points correctly: $w^\top x + b$ at the two class-1 points sums to the same value as at
the two class-0 points, so both cannot be above zero while both others are below it. The
least-squares linear fit is the constant $1/2$ with mean squared error $1/4$. One hidden
layer with a nonlinearity (ReLU here) separates the classes.

Reference: Minsky & Papert (1969), *Perceptrons*; Rumelhart, Hinton & Williams (1986),
*Learning Representations by Back-Propagating Errors*.
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
def make_xor():
    """The four XOR points. Returns X of shape (4, 2) and labels y of shape (4,), in {0,
    1}."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return X, y


def fit_linear_least_squares(X, y):
    """Best affine fit y_hat = X w + b in squared error. Returns (w, b, mse).

    Shapes: X (n, d), y (n,); w (d,), b a float.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    # (n, d + 1): a column of ones for b
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    y_hat = A @ theta
    return theta[:-1], float(theta[-1]), float(np.mean((y_hat - y) ** 2))
# --8<-- [end:numpy]


# --8<-- [start:torch]
def make_mlp(sizes, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation()`` between them (none after
    the last).

    Pass ``activation=nn.Identity`` to build the same network with no nonlinearity.
    """
    if len(sizes) < 2 or not all(isinstance(n, int) and n > 0 for n in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes}")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), activation()]
    # logits out: no activation at the end
    return nn.Sequential(*layers[:-1])


def train_classifier(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                     steps: int = 500, lr: float = 0.05) -> float:
    """Full-batch Adam on the binary cross-entropy of the logits. Returns the final
    accuracy."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        # (n,) logits against (n,) labels
        loss = loss_fn(model(X).squeeze(-1), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        y_hat = (model(X).squeeze(-1) > 0).to(y.dtype)
    return (y_hat == y).to(torch.float64).mean().item()
# --8<-- [end:torch]


if __name__ == "__main__":
    X, y = make_xor()
    print("least squares (w, b, mse):", fit_linear_least_squares(X, y))
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for act in (nn.Identity, nn.ReLU):
        torch.manual_seed(0)
        print(act.__name__, train_classifier(make_mlp([2, 8, 1], act).double(), Xt, yt))
