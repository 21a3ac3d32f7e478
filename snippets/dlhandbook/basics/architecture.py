r"""A fully connected network, layer by layer: shapes, parameter count, output heads.

For layer widths $n_0 = d_{in}, n_1, \dots, n_L = d_{out}$ and a batch $X$ of shape
$(N, n_0)$,

$$H_l = \phi(H_{l-1} W_l^\top + b_l) \in \mathbb R^{N \times n_l} \quad (l < L), \qquad
\hat Y = \psi(H_{L-1} W_L^\top + b_L),$$

with $W_l \in \mathbb R^{n_l \times n_{l-1}}$ and $b_l \in \mathbb R^{n_l}$, so the
network has $\sum_l (n_{l-1} + 1)\, n_l$ parameters. The output head $\psi$ is chosen
with the loss: identity with squared error (regression), sigmoid with binary
cross-entropy, softmax with cross-entropy.

Reference: Goodfellow, Bengio & Courville (2016), *Deep Learning*, section 6.2.2, MIT
Press.
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
HEADS = ("identity", "sigmoid", "softmax")


def init_network(sizes, seed=0):
    """Weights (n_l, n_{l-1}) and biases (n_l,) ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    PyTorch's default for nn.Linear."""
    _check_sizes(sizes)
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
        biases.append(rng.uniform(-bound, bound, fan_out))
    return weights, biases


def forward(X, weights, biases, head="identity"):
    """ReLU hidden layers, then the output head. X (N, n_0) -> Y_hat (N, n_L)."""
    H = _check_forward(X, weights, biases, head)
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        H = np.maximum(H @ W.T + b, 0.0)             # (N, n_l)
    Z = H @ weights[-1].T + biases[-1]               # logits or values, (N, n_L)
    if head == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * Z))
    if head == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))  # no overflow
        return E / E.sum(axis=1, keepdims=True)
    return Z


def layer_shapes(sizes, batch):
    """(weight shape, activation shape) of every layer for a batch of `batch` rows."""
    _check_sizes(sizes)
    return [((n_out, n_in), (batch, n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]


def count_params(sizes):
    _check_sizes(sizes)
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:],
                                                         strict=True))
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_sizes(sizes):
    if len(sizes) < 2 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
            for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")


def _check_forward(X, weights, biases, head):
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, n_0), got shape {X.shape}")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("weights and biases must be non-empty and of equal length")
    n_in = X.shape[1]
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        if np.ndim(W) != 2 or np.shape(W)[1] != n_in or np.shape(b) != W.shape[:1]:
            raise ValueError(
                f"weights[{l}] must be (out, {n_in}) and biases[{l}] (out,), got "
                f"{np.shape(W)} and {np.shape(b)}")
        n_in = W.shape[0]
    return X
# --8<-- [end:checks]


# --8<-- [start:torch]
TORCH_HEADS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid,
               "softmax": lambda: nn.Softmax(dim=-1)}


def make_network(sizes, head="identity"):
    """nn.Sequential: Linear, ReLU, ..., Linear, then the head.

    To train with BCEWithLogitsLoss or CrossEntropyLoss, use head="identity":
    those losses apply the sigmoid or softmax themselves, to the logits.
    """
    if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")
    if head not in TORCH_HEADS:
        raise ValueError(f"head must be one of {sorted(TORCH_HEADS)}, got {head!r}")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1], TORCH_HEADS[head]())


def load_weights(model, weights, biases):
    """Copy weights[l] (out, in) and biases[l] (out,) into the model's Linear layers."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    if len(linears) != len(weights) or len(weights) != len(biases):
        raise ValueError(
            f"the model has {len(linears)} Linear layers, got {len(weights)} weights "
            f"and {len(biases)} biases")
    with torch.no_grad():
        for l, (layer, W, b) in enumerate(zip(linears, weights, biases, strict=True)):
            W, b = torch.as_tensor(W), torch.as_tensor(b)
            if W.shape != layer.weight.shape or b.shape != layer.bias.shape:
                raise ValueError(
                    f"weights[{l}] and biases[{l}] must have shapes "
                    f"{tuple(layer.weight.shape)} and {tuple(layer.bias.shape)}")
            layer.weight.copy_(W)
            layer.bias.copy_(b)
    return model
# --8<-- [end:torch]


if __name__ == "__main__":
    sizes = [4, 3, 1]                                # a toy house-price network
    weights, biases = init_network(sizes)
    X = np.random.default_rng(1).standard_normal((5, 4))
    print(forward(X, weights, biases), count_params(sizes), layer_shapes(sizes, 5))
    model = load_weights(make_network(sizes).double(), weights, biases)
    print(model(torch.from_numpy(X)), sum(p.numel() for p in model.parameters()))
