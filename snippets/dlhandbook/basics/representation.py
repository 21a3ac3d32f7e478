r"""Representation learning, honestly: where learned features win, and where hand-made
ones do.

A linear classifier on features $\varphi(x)$ predicts
$\operatorname{sign}(w^\top \varphi(x) + b)$ and is fitted by logistic regression,
minimising the mean of
$\log(1 + e^{-y\,(w^\top \varphi(x) + b)})$ over labels $y \in \{-1, +1\}$. A network
learns $\varphi$ itself: its hidden layer is a feature map trained together with the
linear read-out.

*Concentric circles.* No linear function of the raw $(x_1, x_2)$ separates the rings; a
small network learns a separating feature; so does the single hand-made feature
$x_1^2 + x_2^2$.

*Checkerboard.* Labels $\operatorname{sign}(\sin(\pi c\, x_1) \sin(\pi c\, x_2))$ on
$[0, 1]^2$. Products of sines of frequencies $1..K$ (a Fourier basis, chosen because the
task is periodic) make it nearly linear; a small network trained on a few hundred
points with the same data does worse.

Reference: Bengio, Courville & Vincent (2013), *Representation learning: a review and
new perspectives*, IEEE TPAMI 35.
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
def make_circles(n, noise=0.1, factor=0.5, seed=0):
    """n points on two noisy concentric circles: X (n, 2), y (n,) in {-1, +1}."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)          # +1: outer circle
    radius = np.where(y > 0, 1.0, factor)
    angle = rng.uniform(0, 2 * np.pi, n)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return X + noise * rng.standard_normal((n, 2)), y


def make_checkerboard(n, cells=4, seed=0):
    """n uniform points in [0, 1]^2 labelled by a cells x cells checkerboard."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 2))
    s = np.sin(np.pi * cells * X[:, 0]) * np.sin(np.pi * cells * X[:, 1])
    return X, np.where(s > 0, 1.0, -1.0)


def radius_feature(X):
    """The hand-made feature for the circles: x1^2 + x2^2, shape (n, 1)."""
    return (X**2).sum(axis=1, keepdims=True)


def fourier_features(X, max_freq=4):
    """sin(pi j x1) sin(pi k x2) for j, k = 1..max_freq: (n, max_freq^2) features."""
    freqs = np.pi * np.arange(1, max_freq + 1)
    s1, s2 = np.sin(X[:, :1] * freqs), np.sin(X[:, 1:2] * freqs)   # (n, K) each
    return (s1[:, :, None] * s2[:, None, :]).reshape(len(X), -1)   # (n, K * K)


def fit_logistic(F, y, lr=0.5, steps=2000):
    """Logistic regression by full-batch gradient descent on standardised features.

    Returns predict(F_new) -> labels in {-1, +1}.
    """
    F, y = _check_features(F, y)
    mu, sd = F.mean(axis=0), F.std(axis=0) + 1e-12
    Z = (F - mu) / sd
    w, b = np.zeros(F.shape[1]), 0.0
    for _ in range(steps):
        margin = y * (Z @ w + b)
        # d loss / d score = -y sigmoid(-margin)
        g = -y * 0.5 * (1.0 - np.tanh(0.5 * margin))
        w -= lr * Z.T @ g / len(y)
        b -= lr * g.mean()

    def predict(F_new):
        F_new = np.asarray(F_new, dtype=float)
        if F_new.ndim != 2 or F_new.shape[1] != len(w):
            raise ValueError(f"F_new must be (n, {len(w)}), got shape {F_new.shape}")
        return np.where(((F_new - mu) / sd) @ w + b > 0, 1.0, -1.0)

    return predict


def accuracy(y_hat, y):
    return float(np.mean(np.asarray(y_hat) == np.asarray(y)))
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_features(F, y):
    F, y = np.asarray(F, dtype=float), np.asarray(y, dtype=float)
    if F.ndim != 2:
        raise ValueError(f"F must be 2-D (n, features), got shape {F.shape}")
    if y.shape != (F.shape[0],):
        raise ValueError(f"y must have shape ({F.shape[0]},) to match F, got {y.shape}")
    if not np.isin(y, (-1.0, 1.0)).all():
        raise ValueError("y must hold labels in {-1, +1}")
    return F, y
# --8<-- [end:checks]


# --8<-- [start:torch]
def train_mlp_classifier(X, y, width=32, steps=1000, lr=0.01, seed=0):
    """A 2-layer ReLU network on the raw inputs, full-batch Adam on the logistic loss.

    X (n, d) and y (n,) in {-1, +1} as tensors. Returns predict(X_new) -> labels.
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"X must be (n, d) and y (n,), got {tuple(X.shape)} and {tuple(y.shape)}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(X.shape[1], width), nn.ReLU(), nn.Linear(width, 1))
    model = model.to(dtype=X.dtype, device=X.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    for _ in range(steps):
        optimizer.zero_grad()
        score = model(X).squeeze(-1)                          # (n,)
        loss = nn.functional.softplus(-y * score).mean()      # log(1 + e^(-y s))
        loss.backward()
        optimizer.step()

    def predict(X_new):
        with torch.no_grad():
            return torch.where(model(X_new).squeeze(-1) > 0, 1.0, -1.0)

    return predict
# --8<-- [end:torch]


if __name__ == "__main__":
    X, y = make_circles(400, seed=0)
    Xt, yt = make_circles(400, seed=1)
    print("circles, linear on raw", accuracy(fit_logistic(X, y)(Xt), yt))
    print("circles, linear on r^2",
          accuracy(fit_logistic(radius_feature(X), y)(radius_feature(Xt)), yt))
    mlp = train_mlp_classifier(torch.from_numpy(X), torch.from_numpy(y))
    print("circles, MLP on raw", accuracy(mlp(torch.from_numpy(Xt)).numpy(), yt))
