r"""Rosenblatt's perceptron and its learning rule, with Novikoff's mistake bound.

Labels are $y_i \in \{-1, +1\}$ and the prediction is
$\operatorname{sign}(w^\top x + b)$. Visiting the examples in turn, on every mistake
($y_i (w^\top x_i + b) \le 0$) the rule adds the example to the weights:

$$w \leftarrow w + \eta\, y_i x_i, \qquad b \leftarrow b + \eta\, y_i .$$

Write $\tilde x = (x, 1)$ and $\tilde w = (w, b)$. If some unit vector $\tilde w^*$
separates the data with margin $\gamma = \min_i y_i \tilde w^{*\top} \tilde x_i > 0$ and
$R = \max_i \lVert \tilde x_i \rVert$, then from $\tilde w = 0$ the rule makes at most

$$\left(\frac{R}{\gamma}\right)^2$$

updates, whatever the order and $\eta > 0$ (Novikoff 1962). On data that no hyperplane
separates, such as XOR, some example is misclassified in every epoch, so it never stops.

Reference: Rosenblatt (1958), *The perceptron*, Psychological Review 65;
Novikoff (1962), *On convergence proofs on perceptrons*, Symposium on the Mathematical
Theory of Automata.
"""

# --8<-- [start:imports]
from typing import NamedTuple

# --8<-- [end:imports]

# isort: split
# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
class PerceptronResult(NamedTuple):
    w: np.ndarray               # (d,)
    b: float
    n_updates: int              # total number of mistakes corrected
    mistakes: list              # mistakes in each epoch
    converged: bool             # an epoch ended with no mistake
    history: list               # (w, b) after every update


def perceptron_train(X, y, max_epochs=100, lr=1.0):
    """Rosenblatt's rule from w = 0, b = 0, visiting the rows of X in order.

    Stops after the first epoch without a mistake, or after max_epochs.
    """
    X, y = _check_data(X, y)
    _check_positive(max_epochs=max_epochs, lr=lr)
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes, history = [], []
    for _ in range(max_epochs):
        errors = 0
        for x_i, y_i in zip(X, y, strict=True):
            if y_i * (x_i @ w + b) <= 0:          # wrong side, or on the boundary
                w = w + lr * y_i * x_i
                b = b + lr * y_i
                errors += 1
                history.append((w.copy(), b))
        mistakes.append(errors)
        if errors == 0:
            break
    return PerceptronResult(w, b, len(history), mistakes, mistakes[-1] == 0, history)


def novikoff_bound(X, y, w, b):
    """(R / gamma)^2 for the separator (w, b), in the augmented space (x, 1)."""
    X, y = _check_data(X, y)
    w_aug = np.append(np.asarray(w, dtype=float), float(b))       # (d + 1,)
    X_aug = np.hstack([X, np.ones((X.shape[0], 1))])              # (N, d + 1)
    gamma = (y * (X_aug @ w_aug)).min() / np.linalg.norm(w_aug)
    if gamma <= 0:
        raise ValueError("(w, b) does not separate (X, y) with a positive margin")
    R = np.linalg.norm(X_aug, axis=1).max()
    return float((R / gamma) ** 2)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_data(X, y):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.isin(y, (-1, 1)).all():
        raise ValueError(f"y must hold labels in {{-1, +1}}, got {np.unique(y)}")
    return X, y.astype(float)


def _check_positive(**kwargs):
    for name, value in kwargs.items():
        if not value > 0 or (name == "max_epochs" and not isinstance(value, int)):
            raise ValueError(
                f"{name} must be positive (an int for epochs), got {value!r}")
# --8<-- [end:checks]


# --8<-- [start:torch]
def perceptron_train_torch(X, y, max_epochs=100, lr=1.0):
    """The same rule on tensors X (N, d) and y (N,) in {-1, +1}.

    Returns (w, b, mistakes per epoch).
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"X must be (N, d) and y (N,), got {tuple(X.shape)} and {tuple(y.shape)}")
    if not torch.isin(y, torch.tensor([-1, 1], device=y.device, dtype=y.dtype)).all():
        raise ValueError("y must hold labels in {-1, +1}")
    if not isinstance(max_epochs, int) or max_epochs < 1 or not lr > 0:
        raise ValueError("max_epochs must be a positive int and lr positive")
    y = y.to(X.dtype)
    w, b = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device), X.new_zeros(())
    mistakes = []
    for _ in range(max_epochs):
        errors = 0
        for x_i, y_i in zip(X, y, strict=True):
            if y_i * (x_i @ w + b) <= 0:
                w = w + lr * y_i * x_i
                b = b + lr * y_i
                errors += 1
        mistakes.append(errors)
        if errors == 0:
            break
    return w, b, mistakes
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    score = X @ np.array([1.0, -2.0]) + 0.3
    keep = np.abs(score) > 0.2                     # leave a margin around the line
    X, y = X[keep], np.sign(score[keep])
    result = perceptron_train(X, y)
    print("updates", result.n_updates, "bound", novikoff_bound(X, y, [1.0, -2.0], 0.3))
    xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    print("XOR mistakes per epoch", perceptron_train(xor, [-1, 1, 1, -1], 10).mistakes)
