r"""Cross-entropy against squared error on softmax, from a confidently wrong start.

A linear softmax classifier $q = \operatorname{softmax}(W [x; 1])$ on three Gaussian
blobs is started with every example's true class given the lowest score, then trained by
full-batch gradient descent on either loss:

$$\nabla_z\,\mathrm{CE} = q - e_y, \qquad
\nabla_z\,\mathrm{SE} = J^\top 2(q - e_y), \quad
J = \operatorname{diag}(q) - q q^\top .$$

The squared-error gradient carries the softmax Jacobian, whose entries are products of
probabilities and are tiny when the model is confidently wrong.

Reference: Golik, Doetsch & Ney (2013), *Cross-Entropy vs. Squared Error Training: a
Theoretical and Experimental Comparison*, Interspeech.
"""

# --8<-- [start:imports]
import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
def logit_gradient(z, y, loss):
    """Mean gradient of "ce" or "se" (squared error on softmax) in the logits (N, K)."""
    q = np.exp(z - z.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)                          # softmax, (N, K)
    err = q - np.eye(z.shape[1])[y]                            # q - onehot
    if loss == "ce":
        return err / len(y)
    g = 2 * err                                                # d SE / d q
    return q * (g - (g * q).sum(axis=1, keepdims=True)) / len(y)   # J^T g


def train(X, y, W0, loss, lr, steps):
    """Full-batch gradient descent; returns the training accuracy after each step."""
    Xb = np.hstack([X, np.ones((len(X), 1))])                  # (N, D + 1) with bias
    W = W0.copy()                                              # (K, D + 1)
    acc = np.empty(steps)
    for t in range(steps):
        W -= lr * logit_gradient(Xb @ W.T, y, loss).T @ Xb     # chain rule z = Xb W^T
        acc[t] = np.mean((Xb @ W.T).argmax(axis=1) == y)
    return acc


def steps_to_reach(acc, target):
    """The step after which accuracy stays >= target; None if it is below at the end.

    acc[t] is the accuracy after step t + 1.
    """
    below = np.flatnonzero(acc < target)
    if len(below) == 0:
        return 1
    last = int(below[-1])
    return None if last == len(acc) - 1 else last + 2
# --8<-- [end:numpy]


# --8<-- [start:helpers]
def make_blobs(n_per_class=100, radius=3.0, seed=0):
    """Three unit-variance Gaussian blobs centred on a circle; returns X, y, centres."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(3) / 3
    C = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)    # (3, 2)
    y = np.repeat(np.arange(3), n_per_class)
    X = C[y] + rng.standard_normal((len(y), 2))
    return X, y, C


def confidently_wrong_init(C, scale=1.0):
    """Weights that score each class by minus its centre: the true class ranks last."""
    return np.hstack([-scale * C, np.zeros((len(C), 1))])     # (K, D + 1)
# --8<-- [end:helpers]


if __name__ == "__main__":
    X, y, C = make_blobs()
    W0 = confidently_wrong_init(C)
    for loss in ("ce", "se"):
        acc = train(X, y, W0, loss, lr=1.0, steps=300)
        print(loss, acc[0], acc[-1], steps_to_reach(acc, 0.95))
