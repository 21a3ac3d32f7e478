r"""A neuron and a network's forward pass: an affine map, then an activation.

A neuron with weights $w$ and bias $b$ maps an input $x \in \mathbb R^d$ to

$$z = w^\top x + b, \qquad a = \phi(z),$$

and a network stacks layers of such neurons. With $h^{(0)} = x$ and rows as examples,

$$h^{(l)} = \phi\bigl(h^{(l-1)} W^{(l)\top} + b^{(l)}\bigr) \quad (l < L), \qquad
\hat y = h^{(L-1)} W^{(L)\top} + b^{(L)},$$

with $W^{(l)}$ of shape (out, in) as in ``torch.nn.Linear``. Layer $l$ has
$(n_{l-1} + 1)\, n_l$ parameters.

Reference: Rosenblatt (1958), *The perceptron: a probabilistic model for information
storage and organization in the brain*, Psychological Review 65.
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
PHI = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),   # cannot overflow
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def neuron(X, w, b, activation="sigmoid"):
    """One neuron on a batch: X (N, d), w (d,), b a number -> activations (N,)."""
    X, w = _check_neuron(X, w, b, activation)
    z = X @ w + b                 # pre-activation, (N,)
    return PHI[activation](z)


def network_forward(X, weights, biases, activation="relu"):
    """Forward pass of a fully connected network, linear output.

    weights[l] has shape (out, in) and biases[l] shape (out,); the activation
    follows every layer but the last. X (N, d_in) -> y_hat (N, d_out).
    """
    h = _check_network(X, weights, biases, activation)
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ W.T + b           # (N, out)
        if l < len(weights) - 1:
            h = PHI[activation](h)
    return h


def count_params(sizes):
    """Weights and biases of a network with layer widths [d_in, h_1, ..., d_out]."""
    _check_sizes(sizes)
    pairs = zip(sizes[:-1], sizes[1:], strict=True)      # (n_in, n_out) per layer
    return sum((n_in + 1) * n_out for n_in, n_out in pairs)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_activation(activation):
    if activation not in PHI:
        raise ValueError(
            f"activation must be one of {sorted(PHI)}, got {activation!r}")


def _check_neuron(X, w, b, activation):
    _check_activation(activation)
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d), got shape {X.shape}")
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},) to match X, got {w.shape}")
    if np.ndim(b) != 0:
        raise ValueError(f"b must be a scalar, got shape {np.shape(b)}")
    return X, w


def _check_network(X, weights, biases, activation):
    _check_activation(activation)
    h = np.asarray(X, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d_in), got shape {h.shape}")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(
            f"weights and biases must be non-empty and of equal length, got "
            f"{len(weights)} and {len(biases)}")
    n_in = h.shape[1]
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        if np.ndim(W) != 2 or np.shape(W)[1] != n_in:
            raise ValueError(
                f"weights[{l}] must have shape (out, {n_in}), got {np.shape(W)}")
        if np.shape(b) != (np.shape(W)[0],):
            raise ValueError(
                f"biases[{l}] must have shape ({np.shape(W)[0]},), got {np.shape(b)}")
        n_in = np.shape(W)[0]
    return h


def _check_sizes(sizes):
    if len(sizes) < 2 or not all(
            isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")
# --8<-- [end:checks]


# --8<-- [start:torch]
TORCH_PHI = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
             "relu": nn.ReLU}


def neuron_torch(w, b, activation="sigmoid", dtype=torch.float64):
    """A neuron as nn.Linear(d, 1) holding w and b, then the activation."""
    if activation not in TORCH_PHI:
        raise ValueError(
            f"activation must be one of {sorted(TORCH_PHI)}, got {activation!r}")
    w = torch.as_tensor(w, dtype=dtype)
    if w.ndim != 1:
        raise ValueError(f"w must be 1-D (d,), got shape {tuple(w.shape)}")
    linear = nn.Linear(w.numel(), 1, dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(w[None, :])          # (1, d)
        linear.bias.fill_(float(b))
    return nn.Sequential(linear, TORCH_PHI[activation]())


def sequential_from_weights(weights, biases, activation="relu", dtype=torch.float64):
    """nn.Sequential of Linear layers holding copies of weights[l] (out, in) and
    biases[l] (out,), with the activation between them (none after the last)."""
    if activation not in TORCH_PHI:
        raise ValueError(
            f"activation must be one of {sorted(TORCH_PHI)}, got {activation!r}")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty and of equal length")
    layers = []
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        W, b = torch.as_tensor(W, dtype=dtype), torch.as_tensor(b, dtype=dtype)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(
                f"weights[{l}] must be (out, in) and biases[{l}] (out,), got "
                f"{tuple(W.shape)} and {tuple(b.shape)}")
        if l > 0 and W.shape[1] != layers[-2].out_features:
            raise ValueError(
                f"weights[{l}] must have {layers[-2].out_features} columns, got "
                f"{W.shape[1]}")
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        layers += [linear, TORCH_PHI[activation]()]
    return nn.Sequential(*layers[:-1])           # linear output
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    w, b = np.array([1.0, -2.0, 0.5]), 0.3
    print(neuron(X, w, b))
    print(neuron_torch(w, b)(torch.from_numpy(X)).squeeze(-1))
    sizes = [3, 4, 2]
    Ws = [rng.standard_normal((o, i)) for i, o in zip(sizes, sizes[1:], strict=False)]
    bs = [rng.standard_normal(o) for o in sizes[1:]]
    print(network_forward(X, Ws, bs), count_params(sizes))
    print(sequential_from_weights(Ws, bs)(torch.from_numpy(X)))
