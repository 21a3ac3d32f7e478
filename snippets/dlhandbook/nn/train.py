r"""Training a network: forward pass, loss, backward pass, then one update of every
parameter, over mini-batches and epochs.

One step on a mini-batch $B$ of examples:

$$J_B(\theta) = \frac{1}{|B|} \sum_{n \in B} \ell\bigl(f_\theta(x_n), y_n\bigr), \qquad
g = \nabla_\theta J_B(\theta) \ \text{(backpropagation)}, \qquad
\theta \leftarrow \theta - \eta\, g \ \text{(gradient descent)}.$$

An epoch is one pass over a fresh shuffle of the training set, $\lceil N / |B| \rceil$
steps.

Reference: Rumelhart, Hinton & Williams (1986), *Learning representations by
back-propagating errors*; Bottou, Curtis & Nocedal (2018), *Optimization methods for
large-scale machine learning*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def sgd_step(params, grads, lr):
    """theta <- theta - lr * g for every parameter, in place, once all gradients
    exist."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if params.keys() != grads.keys():
        raise ValueError("grads must have exactly the keys of params")
    for name in params:
        params[name] -= lr * grads[name]


def minibatches(n, batch_size, rng):
    """Index arrays that cover range(n) once in a fresh random order (the last may be
    short).

    batch_size=None gives one full batch, in order (full-batch gradient descent).
    """
    if batch_size is None:
        yield np.arange(n)
        return
    if not (isinstance(batch_size, (int, np.integer)) and batch_size > 0):
        raise ValueError(
            f"batch_size must be a positive int or None, got {batch_size!r}")
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def train(params, X, y, loss_and_grads, *, lr, epochs, batch_size=None, seed=0):
    """Mini-batch SGD. ``loss_and_grads(params, X_batch, y_batch) -> (J, grads)`` runs
    the forward pass, the loss and the backward pass; this loop only decides what to
    feed it and applies the update. Updates params in place; returns the loss of every
    step.
    """
    if not (isinstance(epochs, int) and epochs >= 0):
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same length, got {len(X)} and {len(y)}")
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for idx in minibatches(len(X), batch_size, rng):
            J, grads = loss_and_grads(params, X[idx], y[idx])  # forward, loss, backward
            # then update, all layers at once
            sgd_step(params, grads, lr)
            losses.append(J)
    return losses
# --8<-- [end:numpy]


# --8<-- [start:torch]
def train_torch(model, loader, loss_fn, *, lr, epochs):
    """The standard PyTorch loop. ``loader`` yields (X_batch, y_batch), e.g. a
    DataLoader with
    shuffle=True. Returns the loss of every step."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not (isinstance(epochs, int) and epochs >= 0):
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(epochs):
        for X_batch, y_batch in loader:
            # .grad accumulates: clear last step's gradients
            optimizer.zero_grad()
            loss = loss_fn(model(X_batch), y_batch)  # forward pass and loss
            # backpropagation: fills p.grad, changes no weight
            loss.backward()
            # gradient descent: p -= lr * p.grad, for every p
            optimizer.step()
            losses.append(loss.item())
    return losses
# --8<-- [end:torch]


# --8<-- [start:data]
def make_moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles in 2-D: X (n, 2) float64 and labels y (n,) in {0,
    1}."""
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])  # (n, 2)
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    return X + noise * rng.standard_normal(X.shape), y
# --8<-- [end:data]


if __name__ == "__main__":
    # Linear regression as the model, so that this file runs on its own.
    def linear_mse(params, X, y):
        r = X @ params["w"] + params["b"] - y                  # residuals, (N,)
        grads = {"w": 2 * X.T @ r / len(y), "b": 2 * r.mean(keepdims=True)}
        return float(np.mean(r**2)), grads

    X, labels = make_moons(200, seed=0)
    params = {"w": np.zeros(2), "b": np.zeros(1)}
    losses = train(params, X, labels.astype(float), linear_mse, lr=0.1, epochs=20,
                   batch_size=32)
    print(f"{len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}")
