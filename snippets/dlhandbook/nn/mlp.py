r"""A multilayer perceptron with an explicit forward pass (that caches activations) and
an explicit backward pass: backpropagation written out layer by layer.

Rows are examples and weights are (out, in), as in ``torch.nn.Linear``. With $a^{(0)} =
X$:

$$z^{(l)} = a^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad a^{(l)} = \phi\bigl(z^{(l)}\bigr),
\qquad
\hat y = z^{(L)} \ \text{(linear output)}.$$

Backward, from $\delta^{(L)} = \partial J / \partial z^{(L)}$ (given by the loss):

$$\frac{\partial J}{\partial W^{(l)}} = \delta^{(l)\top} a^{(l-1)}, \qquad
\frac{\partial J}{\partial b^{(l)}} = \sum_{n} \delta^{(l)}_{n}, \qquad
\delta^{(l-1)} = \bigl(\delta^{(l)} W^{(l)}\bigr) \odot \phi'\bigl(z^{(l-1)}\bigr).$$

For the mean squared error $\delta^{(L)} = 2(\hat y - y)/\text{size}$; for softmax
cross-entropy $\delta^{(L)} = (\operatorname{softmax}(z^{(L)}) -
\operatorname{onehot}(y)) / N$.

Reference: Rumelhart, Hinton & Williams (1986), *Learning representations by
back-propagating errors*, Nature 323.
"""

# --8<-- [start:imports]
from itertools import pairwise

# --8<-- [end:imports]

# isort: split
# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch
from torch import nn

# --8<-- [end:imports_torch]


# --8<-- [start:helpers]
ACTIVATIONS = ("tanh", "relu", "sigmoid")
LOSSES = ("mse", "cross_entropy")
# --8<-- [end:helpers]


# --8<-- [start:numpy]
def init_mlp(sizes, seed=0):
    """Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for
    Linear.

    Args:
        sizes: layer widths [d_in, h_1, ..., d_out], at least two positive ints.
        seed: seed of the NumPy generator.
    Returns:
        dict {"W1": (h_1, d_in), "b1": (h_1,), ..., "WL": (d_out, h_{L-1}), "bL":
        (d_out,)}.
    """
    if len(sizes) < 2 or not all(
            isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")
    rng = np.random.default_rng(seed)
    params = {}
    for l, (fan_in, fan_out) in enumerate(pairwise(sizes), start=1):
        bound = 1.0 / np.sqrt(fan_in)
        params[f"W{l}"] = rng.uniform(-bound, bound, size=(fan_out, fan_in))
        params[f"b{l}"] = rng.uniform(-bound, bound, size=fan_out)
    return params


def _phi(z, activation):
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    # sigmoid, written so that it cannot overflow
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _phi_grad(z, a, activation):
    if activation == "tanh":
        return 1.0 - a**2                      # uses the cached output a = tanh(z)
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    return a * (1.0 - a)


def _check(params, X, activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if not isinstance(params, dict) or "W1" not in params:
        raise TypeError(
            "params must be a dict with keys W1, b1, ..., as made by init_mlp")
    X = np.asarray(X)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"X must be a 2-D float array (N, d_in), got shape {X.shape}, {X.dtype}")
    if X.shape[1] != params["W1"].shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but W1 expects {params['W1'].shape[1]}")
    return X


def mlp_forward(params, X, activation="tanh"):
    """Forward pass. Returns (y_hat, cache); the cache holds what the backward pass
    needs.

    Shapes: X (N, d_in) -> y_hat (N, d_out). cache["A"][l] = a^(l) for l < L,
    cache["Z"][l-1] = z^(l).
    """
    X = _check(params, X, activation)
    L = len(params) // 2
    A, Z = [X], []
    for l in range(1, L + 1):
        z = A[-1] @ params[f"W{l}"].T + params[f"b{l}"]    # (N, out)
        Z.append(z)
        if l < L:
            A.append(_phi(z, activation))
    return Z[-1], {"A": A, "Z": Z}


def mse_loss(y_hat, y):
    """J = mean((y_hat - y)^2) over every entry (torch.nn.MSELoss). Returns (J,
    dJ/dy_hat)."""
    y = np.asarray(y, dtype=np.float64)
    if y.shape != y_hat.shape:
        raise ValueError(f"y must have y_hat's shape {y_hat.shape}, got {y.shape}")
    diff = y_hat - y
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def cross_entropy_loss(logits, y):
    """J = mean_n -log softmax(logits_n)[y_n] (torch.nn.CrossEntropyLoss). Returns (J,
    dJ/dlogits).

    y holds integer class labels, shape (N,).
    """
    y = np.asarray(y)
    N = logits.shape[0]
    if y.shape != (N,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"y must be N={N} integer class labels, got shape {y.shape}, {y.dtype}")
    if y.min() < 0 or y.max() >= logits.shape[1]:
        raise ValueError(
            f"y must lie in [0, {logits.shape[1]}), got range [{y.min()}, {y.max()}]")
    # no overflow in exp
    shifted = logits - logits.max(axis=1, keepdims=True)
    # log softmax, (N, C)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1.0                                     # p - onehot(y)
    return float(-log_p[np.arange(N), y].mean()), dlogits / N


def mlp_backward(params, cache, d_out, activation="tanh"):
    """Backward pass: every dJ/dW and dJ/db from delta^(L) = d_out = dJ/dy_hat. Changes
    nothing.

    Returns a dict with the keys and shapes of params.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    A, Z = cache["A"], cache["Z"]
    if d_out.shape != Z[-1].shape:
        raise ValueError(
            f"d_out must have y_hat's shape {Z[-1].shape}, got {d_out.shape}")
    # delta^(L) = dJ/dz^(L), (N, d_out)
    grads, delta = {}, d_out
    for l in range(len(Z), 0, -1):
        grads[f"W{l}"] = delta.T @ A[l - 1]                   # (out, in)
        grads[f"b{l}"] = delta.sum(axis=0)                    # (out,)
        if l > 1:
            dA = delta @ params[f"W{l}"]                      # dJ/da^(l-1), (N, in)
            delta = dA * _phi_grad(Z[l - 2], A[l - 1], activation)
    return grads


def loss_and_grads(params, X, y, activation="tanh", loss="mse"):
    """Forward pass, loss and backward pass in one call. Returns (J, grads)."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    y_hat, cache = mlp_forward(params, X, activation)
    J, d_out = mse_loss(y_hat, y) if loss == "mse" else cross_entropy_loss(y_hat, y)
    return J, mlp_backward(params, cache, d_out, activation)
# --8<-- [end:numpy]


# --8<-- [start:layerwise]
def backward_with_layerwise_updates(params, cache, d_out, lr, activation="tanh"):
    """NOT backpropagation: the "update the last layer, then move to the layer before"
    reading.

    Each W^(l) is updated as soon as its gradient is known, and the error is then sent
    back through the *updated* W^(l). Every layer below the top therefore gets the
    gradient of a different network from the one the forward pass ran. Updates params in
    place and returns the gradients it used, for comparison with ``mlp_backward``.
    """
    A, Z = cache["A"], cache["Z"]
    grads, delta = {}, d_out
    for l in range(len(Z), 0, -1):
        grads[f"W{l}"] = delta.T @ A[l - 1]
        grads[f"b{l}"] = delta.sum(axis=0)
        # too early: W^(l) is still needed
        params[f"W{l}"] -= lr * grads[f"W{l}"]
        params[f"b{l}"] -= lr * grads[f"b{l}"]
        if l > 1:
            # the updated weights: wrong
            dA = delta @ params[f"W{l}"]
            delta = dA * _phi_grad(Z[l - 2], A[l - 1], activation)
    return grads
# --8<-- [end:layerwise]


# --8<-- [start:torch]
class MLP(nn.Module):
    """Linear layers with a hidden activation and a linear output (logits or regression
    values).

    Args:
        sizes: layer widths [d_in, h_1, ..., d_out].
        activation: "tanh", "relu" or "sigmoid", applied after every hidden layer.
    """

    def __init__(self, sizes, activation="tanh"):
        super().__init__()
        if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(sizes))
        self.phi = {"tanh": torch.tanh, "relu": torch.relu,
                    "sigmoid": torch.sigmoid}[activation]

    def forward(self, X: torch.Tensor) -> torch.Tensor:        # (N, d_in) -> (N, d_out)
        for layer in self.layers[:-1]:
            X = self.phi(layer(X))
        return self.layers[-1](X)


LOSS_FNS = {"mse": nn.MSELoss(), "cross_entropy": nn.CrossEntropyLoss()}
# --8<-- [end:torch]


# --8<-- [start:bridge]
def mlp_from_numpy(params, activation="tanh", device="cpu"):
    """A float64 ``MLP`` holding copies of NumPy ``params`` (for side-by-side
    comparisons)."""
    L = len(params) // 2
    sizes = [params["W1"].shape[1]]
    sizes += [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
    model = MLP([int(s) for s in sizes], activation)
    model = model.to(device=device, dtype=torch.float64)
    with torch.no_grad():
        for l, layer in enumerate(model.layers, start=1):
            layer.weight.copy_(torch.from_numpy(params[f"W{l}"]))
            layer.bias.copy_(torch.from_numpy(params[f"b{l}"]))
    return model


def grads_from_torch(model):
    """The ``.grad`` of each layer as a NumPy dict keyed like ``params``."""
    grads = {}
    for l, layer in enumerate(model.layers, start=1):
        grads[f"W{l}"] = layer.weight.grad.detach().cpu().numpy()
        grads[f"b{l}"] = layer.bias.grad.detach().cpu().numpy()
    return grads
# --8<-- [end:bridge]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 4, size=8)
    params = init_mlp([3, 5, 5, 4])
    J, grads = loss_and_grads(params, X, y, "tanh", "cross_entropy")

    model = mlp_from_numpy(params, "tanh")
    loss = LOSS_FNS["cross_entropy"](model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    torch_grads = grads_from_torch(model)
    print(J, max(np.abs(grads[k] - g).max() for k, g in torch_grads.items()))
